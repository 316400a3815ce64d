using AwesomeAssertions;
using Mezzo.Core.Security;
using Xunit;

namespace Mezzo.Core.Tests.Security;

/// <summary><see cref="Acls.MayAlways"/>: true only when no object could be refused, as per-object checks would decide.</summary>
public sealed class AclsMayAlwaysTests
{
    private static Acls Views(string rules, bool permissive = false) =>
        Acls.Parse($$"""{"permissive": {{(permissive ? "true" : "false")}}, "view_tasks": [{{rules}}]}""");

    [Fact]
    public void Allow_all_and_permissive_without_rules_allow_always()
    {
        Acls.AllowAll.MayAlways(AclAction.ViewTasks, null).Should().BeTrue();
        Acls.Parse("""{"permissive": true}""").MayAlways(AclAction.ViewTasks, "p").Should().BeTrue();
        Acls.Parse("""{"permissive": false}""").MayAlways(AclAction.ViewTasks, "p").Should().BeFalse();
    }

    [Fact]
    public void An_ANY_object_rule_for_the_principal_decides_for_all_objects()
    {
        var acls = Views("""{"principals": {"values": ["ops"]}, "users": {"type": "ANY"}}""");
        acls.MayAlways(AclAction.ViewTasks, "ops").Should().BeTrue();
        acls.MayAlways(AclAction.ViewTasks, "dev").Should().BeFalse("no rule matches dev and permissive is false");
        acls.MayAlways(AclAction.ViewTasks, null).Should().BeFalse();
    }

    [Fact]
    public void Some_objects_allowed_leave_the_others_to_later_rules_and_permissive()
    {
        var some = """{"principals": {"values": ["dev"]}, "users": {"values": ["alice"]}}""";
        Views(some).MayAlways(AclAction.ViewTasks, "dev").Should().BeFalse();
        Views(some, permissive: true).MayAlways(AclAction.ViewTasks, "dev").Should().BeTrue("every other user falls through to permissive");
        Views(some + """,{"principals": {"values": ["dev"]}, "users": {"type": "NONE"}}""", permissive: true)
            .MayAlways(AclAction.ViewTasks, "dev").Should().BeFalse("the NONE rule refuses every other user");
    }

    [Fact]
    public void A_refusing_rule_for_some_objects_means_not_always()
    {
        Views("""{"principals": {"type": "NONE"}, "users": {"values": ["root"]}}""", permissive: true)
            .MayAlways(AclAction.ViewTasks, "dev").Should().BeFalse("root's tasks are refused to everyone");
        Views("""{"principals": {"values": ["dev"]}, "users": {"type": "NONE"}}""", permissive: true)
            .MayAlways(AclAction.ViewTasks, "dev").Should().BeFalse();
    }

    [Theory]
    [InlineData("dev", "alice")]
    [InlineData("dev", "bob")]
    [InlineData("ops", "root")]
    [InlineData(null, "alice")]
    public void When_always_is_claimed_every_object_is_allowed(string? principal, string user)
    {
        var acls = Views("""
            {"principals": {"values": ["dev"]}, "users": {"values": ["alice"]}},
            {"principals": {"values": ["ops"]}, "users": {"type": "ANY"}},
            {"principals": {"type": "ANY"}, "users": {"values": ["root"]}}
            """, permissive: true);
        if (acls.MayAlways(AclAction.ViewTasks, principal))
        {
            acls.IsAllowed(AclAction.ViewTasks, principal, user).Should().BeTrue();
        }

        acls.MayAlways(AclAction.ViewTasks, "ops").Should().BeTrue();
        acls.MayAlways(AclAction.ViewTasks, "dev").Should().BeTrue("alice is allowed, root is allowed to ANY, the rest is permissive");
    }
}
