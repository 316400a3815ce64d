using Mezzo.Core.Resources;

namespace Mezzo.Core.Roles;

/// <summary>Hierarchical role names (<c>eng/backend</c>) as Mesos defines them in <c>docs/roles.md</c>.</summary>
public static class RoleNames
{
    public const string Any = "*";

    /// <summary>Null when <paramref name="role"/> is a valid role name, else why not.</summary>
    public static string? Validate(string? role) => ResourceValidation.ValidateRole(role);

    /// <summary>The parent role, or null for a top-level role (and for "*").</summary>
    public static string? Parent(string role)
    {
        var slash = role.LastIndexOf('/');
        return slash < 0 ? null : role[..slash];
    }

    /// <summary>The strict ancestors of <paramref name="role"/>, outermost first: "a/b/c" gives "a", "a/b".</summary>
    public static IEnumerable<string> Ancestors(string role)
    {
        for (var i = role.IndexOf('/'); i >= 0; i = role.IndexOf('/', i + 1))
        {
            yield return role[..i];
        }
    }

    /// <summary>Whether <paramref name="role"/> is <paramref name="ancestor"/> or lies in its subtree.</summary>
    public static bool IsSelfOrDescendant(string role, string ancestor) =>
        role == ancestor
        || (role.Length > ancestor.Length && role[ancestor.Length] == '/' && role.StartsWith(ancestor, StringComparison.Ordinal));
}
