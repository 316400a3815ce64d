using AwesomeAssertions;
using Mezzo.Core.Security;
using Xunit;

namespace Mezzo.Core.Tests.Security;

/// <summary>
/// Mesos's local authorizer (<c>src/authorizer/local/authorizer.cpp</c>, docs/authorization.md): an ACL decides when
/// both its subject and object entities MATCH the request's, and then the request is allowed when both ALLOW it.
/// Request subject/object: SOME (a principal, an object), or ANY (unauthenticated, no particular object).
/// </summary>
public sealed class AclsTests
{
    private static Acls One(AclAction action, AclEntity principals, AclEntity objects, bool permissive) =>
        new(permissive, new Dictionary<AclAction, IReadOnlyList<AclRule>> { [action] = [new AclRule(principals, objects)] });

    private static AclEntity Entity(string kind) => kind switch
    {
        "ANY" => AclEntity.Any,
        "NONE" => AclEntity.None,
        "alice" => AclEntity.Of("alice"),
        "bob" => AclEntity.Of("bob"),
        "prod" => AclEntity.Of("prod"),
        "dev" => AclEntity.Of("dev"),
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    // The subject matrix, with the object ANY in the ACL (matches and allows every object). "permissive" shows when
    // the ACL did not match and the default decided: each row is run with permissive true and false.
    [Theory]
    [InlineData("alice", "ANY", "allow")]
    [InlineData("alice", "NONE", "deny")]
    [InlineData("alice", "alice", "allow")]
    [InlineData("alice", "bob", "permissive")]
    [InlineData(null, "ANY", "allow")]
    [InlineData(null, "NONE", "deny")]
    [InlineData(null, "alice", "permissive")]
    public void Subjects_follow_the_match_and_allow_matrices(string? principal, string aclSubject, string expected)
    {
        foreach (var permissive in new[] { true, false })
        {
            var acls = One(AclAction.RegisterFrameworks, Entity(aclSubject), AclEntity.Any, permissive);
            var want = expected switch { "allow" => true, "deny" => false, _ => permissive };
            acls.IsAllowed(AclAction.RegisterFrameworks, principal, "prod").Should().Be(want, $"principal {principal ?? "(none)"} against subject {aclSubject}, permissive {permissive}");
        }
    }

    [Theory]
    [InlineData("prod", "ANY", "allow")]
    [InlineData("prod", "NONE", "deny")]
    [InlineData("prod", "prod", "allow")]
    [InlineData("prod", "dev", "permissive")]
    [InlineData(null, "ANY", "allow")]
    [InlineData(null, "NONE", "deny")]
    [InlineData(null, "prod", "permissive")]
    public void Objects_follow_the_match_and_allow_matrices(string? role, string aclObject, string expected)
    {
        foreach (var permissive in new[] { true, false })
        {
            var acls = One(AclAction.RegisterFrameworks, AclEntity.Of("alice"), Entity(aclObject), permissive);
            var want = expected switch { "allow" => true, "deny" => false, _ => permissive };
            acls.IsAllowed(AclAction.RegisterFrameworks, "alice", role).Should().Be(want, $"object {role ?? "(ANY)"} against {aclObject}, permissive {permissive}");
        }
    }

    [Fact]
    public void The_first_matching_acl_decides_later_ones_are_not_consulted()
    {
        var acls = new Acls(true, new Dictionary<AclAction, IReadOnlyList<AclRule>>
        {
            [AclAction.RegisterFrameworks] =
            [
                new AclRule(AclEntity.Of("alice"), AclEntity.Of("prod")),
                new AclRule(AclEntity.Any, AclEntity.None),
                new AclRule(AclEntity.Of("alice"), AclEntity.Of("dev")),
            ],
        });

        acls.IsAllowed(AclAction.RegisterFrameworks, "alice", "prod").Should().BeTrue("the first ACL matches and allows");
        acls.IsAllowed(AclAction.RegisterFrameworks, "alice", "dev").Should().BeFalse("the second ACL (ANY, NONE) matches first and denies");
        acls.IsAllowed(AclAction.RegisterFrameworks, "bob", "prod").Should().BeFalse();
        acls.IsAllowed(AclAction.TeardownFrameworks, "bob", "x").Should().BeTrue("no ACL for the action: permissive decides");
    }

    [Fact]
    public void A_subject_entity_with_several_values_matches_each_of_them()
    {
        var acls = One(AclAction.RunTasks, AclEntity.Of("alice", "bob"), AclEntity.Of("www", "nobody"), permissive: false);

        acls.IsAllowed(AclAction.RunTasks, "bob", "nobody").Should().BeTrue();
        acls.IsAllowed(AclAction.RunTasks, "carol", "nobody").Should().BeFalse();
        acls.IsAllowed(AclAction.RunTasks, "alice", "root").Should().BeFalse();
    }

    [Fact]
    public void Values_compare_exactly_for_mesos_actions()
    {
        var acls = One(AclAction.RegisterFrameworks, AclEntity.Any, AclEntity.Of("eng"), permissive: false);

        acls.IsAllowed(AclAction.RegisterFrameworks, "alice", "eng").Should().BeTrue();
        acls.IsAllowed(AclAction.RegisterFrameworks, "alice", "eng/backend").Should().BeFalse("Mesos roles match exactly, not by prefix");
        acls.IsAllowed(AclAction.RegisterFrameworks, "alice", "Eng").Should().BeFalse();
    }

    [Theory]
    [InlineData("/team-a", true)]
    [InlineData("/team-a/web", true)]
    [InlineData("/team-a/web/deep", true)]
    [InlineData("/team-ab", false)]
    [InlineData("/team", false)]
    [InlineData("/other/team-a", false)]
    public void Mezzo_path_actions_match_on_slash_boundaries(string path, bool allowed)
    {
        foreach (var action in new[] { AclAction.ViewAppGroups, AclAction.UpdateAppGroups })
        {
            var acls = One(action, AclEntity.Of("alice"), AclEntity.Of("/team-a"), permissive: false);
            acls.IsAllowed(action, "alice", path).Should().Be(allowed, $"{AclActions.Key(action)} on {path}");
        }
    }

    [Fact]
    public void A_trailing_slash_and_the_root_prefix_cover_what_lies_below()
    {
        One(AclAction.ViewAppGroups, AclEntity.Any, AclEntity.Of("/team-a/"), false).IsAllowed(AclAction.ViewAppGroups, "x", "/team-a/web").Should().BeTrue();
        One(AclAction.ViewAppGroups, AclEntity.Any, AclEntity.Of("/"), false).IsAllowed(AclAction.ViewAppGroups, "x", "/anything/at/all").Should().BeTrue();
        One(AclAction.UpdateAppGroups, AclEntity.Any, AclEntity.Of("/etl"), false).IsAllowed(AclAction.UpdateAppGroups, "x", "/etl/nightly").Should().BeTrue();
        One(AclAction.UpdateAppGroups, AclEntity.Any, AclEntity.Of("/etl"), false).IsAllowed(AclAction.UpdateAppGroups, "x", "/etl-nightly").Should().BeFalse();
    }

    [Fact]
    public void Allow_all_allows_everything_to_everyone()
    {
        foreach (var action in Enum.GetValues<AclAction>())
        {
            Acls.AllowAll.IsAllowed(action, null, null).Should().BeTrue();
            Acls.AllowAll.IsAllowed(action, "p", "o").Should().BeTrue();
            Acls.AllowAll.MayEver(action, null).Should().BeTrue();
        }
    }

    [Fact]
    public void May_ever_is_true_when_some_object_could_be_allowed()
    {
        var acls = new Acls(false, new Dictionary<AclAction, IReadOnlyList<AclRule>>
        {
            [AclAction.ViewFrameworks] = [new AclRule(AclEntity.Of("alice"), AclEntity.Of("www"))],
            [AclAction.ViewTasks] = [new AclRule(AclEntity.Of("alice"), AclEntity.None), new AclRule(AclEntity.Any, AclEntity.Any)],
            [AclAction.TeardownFrameworks] = [new AclRule(AclEntity.Any, AclEntity.Any)],
            [AclAction.UpdateQuotas] = [new AclRule(AclEntity.None, AclEntity.Any)],
        });

        acls.MayEver(AclAction.ViewFrameworks, "alice").Should().BeTrue("alice may view frameworks of user www");
        acls.MayEver(AclAction.ViewFrameworks, "bob").Should().BeFalse("no ACL names bob and permissive is false");
        acls.MayEver(AclAction.ViewFrameworks, null).Should().BeFalse("an unauthenticated request never matches a SOME subject");
        acls.MayEver(AclAction.ViewTasks, "alice").Should().BeFalse("alice's first matching ACL refuses every object");
        acls.MayEver(AclAction.ViewTasks, "bob").Should().BeTrue();
        acls.MayEver(AclAction.TeardownFrameworks, null).Should().BeTrue();
        acls.MayEver(AclAction.UpdateQuotas, "alice").Should().BeFalse("a NONE subject matches everyone and allows no one");
        acls.MayEver(AclAction.GetQuotas, "alice").Should().BeFalse("no ACL: permissive false");
    }

    [Fact]
    public void May_ever_falls_through_a_some_object_acl_that_refuses_the_subject()
    {
        // alice's SOME-object ACL is not hers (subject bob); the permissive default is reached.
        var strict = One(AclAction.ViewRoles, AclEntity.Of("bob"), AclEntity.Of("prod"), permissive: false);
        var open = One(AclAction.ViewRoles, AclEntity.Of("bob"), AclEntity.Of("prod"), permissive: true);

        strict.MayEver(AclAction.ViewRoles, "alice").Should().BeFalse();
        open.MayEver(AclAction.ViewRoles, "alice").Should().BeTrue();
    }

    [Fact]
    public void Every_action_has_a_distinct_key_that_parses_back()
    {
        var keys = Enum.GetValues<AclAction>().Select(AclActions.Key).ToList();
        keys.Should().OnlyHaveUniqueItems();
        foreach (var action in Enum.GetValues<AclAction>())
        {
            AclActions.TryParse(AclActions.Key(action), out var parsed).Should().BeTrue();
            parsed.Should().Be(action);
        }

        AclActions.ObjectField(AclAction.RegisterFrameworks).Should().Be("roles");
        AclActions.ObjectField(AclAction.TeardownFrameworks).Should().Be("framework_principals");
        AclActions.ObjectField(AclAction.UnreserveResources).Should().Be("reserver_principals");
        AclActions.Match(AclAction.ViewJobs).Should().Be(AclObjectMatch.NamePattern);
        AclActions.Match(AclAction.ViewAppGroups).Should().Be(AclObjectMatch.PathPrefix);
        AclActions.Match(AclAction.RegisterFrameworks).Should().Be(AclObjectMatch.Exact);
        AclActions.TryParse("launch_rockets", out _).Should().BeFalse();
    }

    [Theory]
    [InlineData("team-a-nightly", true)]
    [InlineData("team-a-", true)]
    [InlineData("report", true)]
    [InlineData("team-ab", false)]
    [InlineData("reports", false)]
    [InlineData("team-b-nightly", false)]
    public void Job_acls_match_exact_names_and_trailing_star_prefixes(string job, bool allowed)
    {
        var acls = Acls.Parse("""
            {"permissive": false,
             "view_jobs": [{"principals": {"values": ["team-a"]}, "jobs": {"values": ["team-a-*", "report"]}}]}
            """);

        acls.IsAllowed(AclAction.ViewJobs, "team-a", job).Should().Be(allowed);
        acls.IsAllowed(AclAction.ViewJobs, "team-b", job).Should().BeFalse();
    }

    [Fact]
    public void A_star_is_literal_for_actions_that_match_exactly()
    {
        var acls = Acls.Parse("""
            {"permissive": false,
             "register_frameworks": [{"principals": {"values": ["a"]}, "roles": {"values": ["dev*"]}}]}
            """);

        acls.IsAllowed(AclAction.RegisterFrameworks, "a", "dev*").Should().BeTrue();
        acls.IsAllowed(AclAction.RegisterFrameworks, "a", "devops").Should().BeFalse();
    }
}
