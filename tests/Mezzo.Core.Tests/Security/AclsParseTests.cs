using AwesomeAssertions;
using Mezzo.Core.Security;
using Xunit;

namespace Mezzo.Core.Tests.Security;

public sealed class AclsParseTests
{
    [Fact]
    public void Mesos_documentation_example_parses_in_order()
    {
        var acls = Acls.Parse("""
            {
              "permissive": false,
              "register_frameworks": [
                { "principals": { "values": ["foo", "bar"] }, "roles": { "values": ["analytics"] } },
                { "principals": { "type": "ANY" }, "roles": { "type": "NONE" } }
              ],
              "run_tasks": [ { "principals": { "values": ["foo"] }, "users": { "values": ["guest"] } } ],
              "teardown_frameworks": [ { "principals": { "values": ["ops"] }, "framework_principals": { "type": "ANY" } } ],
              "view_app_groups": [ { "principals": { "values": ["a"] }, "paths": { "values": ["/team-a"] } } ]
            }
            """);

        acls.Permissive.Should().BeFalse();
        acls.Rules(AclAction.RegisterFrameworks).Should().HaveCount(2);
        acls.Rules(AclAction.RegisterFrameworks)[0].Principals.Values.Should().Equal("foo", "bar");
        acls.Rules(AclAction.RegisterFrameworks)[1].Objects.Should().Be(AclEntity.None);
        acls.IsAllowed(AclAction.RegisterFrameworks, "bar", "analytics").Should().BeTrue();
        acls.IsAllowed(AclAction.RegisterFrameworks, "bar", "prod").Should().BeFalse();
        acls.IsAllowed(AclAction.TeardownFrameworks, "ops", "anyone").Should().BeTrue();
        acls.IsAllowed(AclAction.TeardownFrameworks, "dev", "anyone").Should().BeFalse();
        acls.IsAllowed(AclAction.ViewAppGroups, "a", "/team-a/web").Should().BeTrue();
    }

    [Fact]
    public void Permissive_defaults_to_true_and_an_empty_document_allows_all()
    {
        var acls = Acls.Parse("{}");
        acls.Permissive.Should().BeTrue();
        acls.IsAllowed(AclAction.UpdateQuotas, "x", "y").Should().BeTrue();
        Acls.Parse("""{"permissive": false}""").IsAllowed(AclAction.UpdateQuotas, "x", "y").Should().BeFalse();
    }

    [Fact]
    public void Mesos_actions_mezzo_does_not_enforce_are_accepted_so_a_mesos_file_loads()
    {
        var acls = Acls.Parse("""
            {"launch_nested_containers_as_user": [{"principals": {"type": "ANY"}, "users": {"type": "ANY"}}],
             "prune_images": [{"principals": {"type": "NONE"}, "images": {"type": "ANY"}}]}
            """);
        acls.Permissive.Should().BeTrue();
    }

    [Fact]
    public void An_explicit_some_type_with_values_is_accepted()
    {
        var acls = Acls.Parse("""{"update_quotas": [{"principals": {"type": "SOME", "values": ["ops"]}, "roles": {"type": "ANY"}}]}""");
        acls.Rules(AclAction.UpdateQuotas)[0].Principals.Should().BeEquivalentTo(AclEntity.Of("ops"));
    }

    [Theory]
    [InlineData("{", "ACLs are not valid JSON")]
    [InlineData("[]", "ACLs must be a JSON object, not an array")]
    [InlineData("\"x\"", "ACLs must be a JSON object, not a string")]
    [InlineData("""{"permissive": "no"}""", "ACLs: 'permissive' must be true or false, not a string")]
    [InlineData("""{"register_framework": []}""", "ACLs: unknown action 'register_framework'; known are: permissive, register_frameworks")]
    [InlineData("""{"register_frameworks": {}}""", "ACLs: 'register_frameworks' must be an array of ACLs, not an object")]
    [InlineData("""{"register_frameworks": [1]}""", "ACLs: register_frameworks[0] must be an object with 'principals' and 'roles', not a number")]
    [InlineData("""{"register_frameworks": [{"principals": {"type": "ANY"}, "users": {"type": "ANY"}}]}""", "ACLs: register_frameworks[0] has an unknown field 'users'; an ACL of this action has 'principals' and 'roles'")]
    [InlineData("""{"register_frameworks": [{"roles": {"type": "ANY"}}]}""", "ACLs: register_frameworks[0] lacks 'principals'")]
    [InlineData("""{"teardown_frameworks": [{"principals": {"type": "ANY"}}]}""", "ACLs: teardown_frameworks[0] lacks 'framework_principals'")]
    [InlineData("""{"run_tasks": [{"principals": "alice", "users": {"type": "ANY"}}]}""", "ACLs: run_tasks[0].principals must be an object like")]
    [InlineData("""{"run_tasks": [{"principals": {"type": "ALL"}, "users": {"type": "ANY"}}]}""", "ACLs: run_tasks[0].principals.type is 'ALL'; it must be SOME, ANY or NONE")]
    [InlineData("""{"run_tasks": [{"principals": {"type": 1}, "users": {"type": "ANY"}}]}""", "ACLs: run_tasks[0].principals.type must be a string (SOME, ANY or NONE)")]
    [InlineData("""{"run_tasks": [{"principals": {"values": "alice"}, "users": {"type": "ANY"}}]}""", "ACLs: run_tasks[0].principals.values must be an array of strings")]
    [InlineData("""{"run_tasks": [{"principals": {"values": [""]}, "users": {"type": "ANY"}}]}""", "ACLs: run_tasks[0].principals.values must hold non-empty strings")]
    [InlineData("""{"run_tasks": [{"principals": {"values": [3]}, "users": {"type": "ANY"}}]}""", "ACLs: run_tasks[0].principals.values must hold non-empty strings")]
    [InlineData("""{"run_tasks": [{"principals": {"values": []}, "users": {"type": "ANY"}}]}""", "ACLs: run_tasks[0].principals names no values")]
    [InlineData("""{"run_tasks": [{"principals": {"type": "ANY", "value": ["a"]}, "users": {"type": "ANY"}}]}""", "ACLs: run_tasks[0].principals has an unknown field 'value' (an entity has 'type' and 'values')")]
    [InlineData("""{"run_tasks": [], "run_tasks": []}""", "ACLs: 'run_tasks' is given twice")]
    public void Bad_documents_are_refused_naming_the_offending_part(string json, string message)
    {
        var act = () => Acls.Parse(json);
        act.Should().Throw<FormatException>().Which.Message.Should().Contain(message);
    }
}
