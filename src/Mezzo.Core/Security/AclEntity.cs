namespace Mezzo.Core.Security;

/// <summary>The type of an <see cref="AclEntity"/>, as <c>ACL.Entity.Type</c>.</summary>
public enum AclEntityType
{
    Some = 0,
    Any = 1,
    None = 2,
}

/// <summary>
/// A subject or object of an ACL (<c>ACL.Entity</c>): some named values, anyone/anything (<c>ANY</c>) or
/// no one/nothing (<c>NONE</c>). In JSON: <c>{"values": ["a", "b"]}</c> or <c>{"type": "ANY"}</c>.
/// </summary>
public sealed record AclEntity(AclEntityType Type, IReadOnlyList<string> Values)
{
    public static readonly AclEntity Any = new(AclEntityType.Any, []);
    public static readonly AclEntity None = new(AclEntityType.None, []);

    public static AclEntity Of(params string[] values) => new(AclEntityType.Some, values);

    public override string ToString() => Type == AclEntityType.Some ? "[" + string.Join(", ", Values) + "]" : Type.ToString().ToUpperInvariant();
}

/// <summary>One ACL of an action: its subjects (principals) and its objects (roles, users, paths, ...).</summary>
public sealed record AclRule(AclEntity Principals, AclEntity Objects);
