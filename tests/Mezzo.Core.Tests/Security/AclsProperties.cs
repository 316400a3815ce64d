using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Mezzo.Core.Security;

namespace Mezzo.Core.Tests.Security;

/// <summary>Invariants of the local authorizer over random ACL lists, principals and objects.</summary>
[Properties(Arbitrary = new[] { typeof(AclArbitraries) }, MaxTest = 300)]
public sealed class AclsProperties
{
    private static readonly AclAction[] Actions = Enum.GetValues<AclAction>();

    [Property]
    public bool Permissive_with_no_acls_allows_everything(AclAction action, Name? principal, Name? objectValue) =>
        new Acls(true, new Dictionary<AclAction, IReadOnlyList<AclRule>>()).IsAllowed(action, principal?.Value, objectValue?.Value);

    [Property]
    public bool Not_permissive_with_no_acls_allows_nothing(AclAction action, Name? principal, Name? objectValue) =>
        !new Acls(false, new Dictionary<AclAction, IReadOnlyList<AclRule>>()).IsAllowed(action, principal?.Value, objectValue?.Value)
        && !new Acls(false, new Dictionary<AclAction, IReadOnlyList<AclRule>>()).MayEver(action, principal?.Value);

    [Property]
    public bool A_leading_any_none_acl_denies_everyone_everything(AclRule[] rest, bool permissive, Name? principal, Name? objectValue)
    {
        var acls = new Acls(permissive, new Dictionary<AclAction, IReadOnlyList<AclRule>>
        {
            [AclAction.RegisterFrameworks] = [new AclRule(AclEntity.Any, AclEntity.None), .. rest],
        });
        return !acls.IsAllowed(AclAction.RegisterFrameworks, principal?.Value, objectValue?.Value)
            && !acls.MayEver(AclAction.RegisterFrameworks, principal?.Value);
    }

    [Property]
    public bool A_leading_any_any_acl_allows_everyone_everything(AclRule[] rest, bool permissive, Name? principal, Name? objectValue)
    {
        var acls = new Acls(permissive, new Dictionary<AclAction, IReadOnlyList<AclRule>>
        {
            [AclAction.ViewTasks] = [new AclRule(AclEntity.Any, AclEntity.Any), .. rest],
        });
        return acls.IsAllowed(AclAction.ViewTasks, principal?.Value, objectValue?.Value);
    }

    [Property]
    public bool The_first_matching_acl_decides(AclRule[] rules, bool permissive, Name? principal, Name? objectValue)
    {
        // A reference reading of Mesos's loop, spelled out on its own: the decision is the first ACL whose subject and
        // object match, and that ACL's allow verdict.
        var acls = new Acls(permissive, new Dictionary<AclAction, IReadOnlyList<AclRule>> { [AclAction.TeardownFrameworks] = rules });
        bool? expected = null;
        foreach (var rule in rules)
        {
            if (Matches(principal?.Value, rule.Principals) && Matches(objectValue?.Value, rule.Objects))
            {
                expected = Allows(principal?.Value, rule.Principals) && Allows(objectValue?.Value, rule.Objects);
                break;
            }
        }

        return acls.IsAllowed(AclAction.TeardownFrameworks, principal?.Value, objectValue?.Value) == (expected ?? permissive);
    }

    [Property]
    public bool Whatever_is_allowed_may_ever_be(AclRule[] rules, bool permissive, Name? principal, Name objectValue)
    {
        var acls = new Acls(permissive, new Dictionary<AclAction, IReadOnlyList<AclRule>> { [AclAction.UpdateWeights] = rules });
        return !acls.IsAllowed(AclAction.UpdateWeights, principal?.Value, objectValue.Value) || acls.MayEver(AclAction.UpdateWeights, principal?.Value);
    }

    [Property]
    public bool Rules_of_one_action_do_not_touch_another(AclRule[] rules, bool permissive, Name? principal, Name? objectValue)
    {
        var acls = new Acls(permissive, new Dictionary<AclAction, IReadOnlyList<AclRule>> { [AclAction.UpdateQuotas] = rules });
        return Actions.Where(a => a != AclAction.UpdateQuotas).All(a => acls.IsAllowed(a, principal?.Value, objectValue?.Value) == permissive);
    }

    private static bool Matches(string? request, AclEntity acl) =>
        acl.Type != AclEntityType.Some || (request is not null && acl.Values.Contains(request));

    private static bool Allows(string? request, AclEntity acl) =>
        acl.Type == AclEntityType.Any || (acl.Type == AclEntityType.Some && request is not null && acl.Values.Contains(request));
}

/// <summary>A principal or object from a small alphabet, so that random ACLs and requests often meet.</summary>
public sealed record Name(string Value)
{
    public override string ToString() => Value;
}

public static class AclArbitraries
{
    private static readonly string[] Names = ["alice", "bob", "carol", "prod", "dev"];

    public static Arbitrary<Name> Name() => Gen.Elements(Names).Select(n => new Name(n)).ToArbitrary();

    public static Arbitrary<AclEntity> Entity() => EntityGen.ToArbitrary();

    public static Arbitrary<AclRule> Rule() => Gen.Zip(EntityGen, EntityGen).Select(pair => new AclRule(pair.Item1, pair.Item2)).ToArbitrary();

    private static Gen<AclEntity> EntityGen => Gen.Frequency(
        (1, Gen.Constant(AclEntity.Any)),
        (1, Gen.Constant(AclEntity.None)),
        (3, Gen.NonEmptyListOf(Gen.Elements(Names)).Select(values => AclEntity.Of([.. values.Distinct()]))));
}
