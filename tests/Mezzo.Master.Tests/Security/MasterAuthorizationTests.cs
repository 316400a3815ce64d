using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Mezzo.Protocol.V1;

namespace Mezzo.Master.Tests.Security;

/// <summary>
/// The master's per-action ACLs on a real master: schedulers may only use their roles and act as their own principal;
/// operators may only tear down, reserve, set quotas and weights, drain and mark gone what the ACLs allow. Every refusal
/// is a 403 naming principal, action and object, with nothing changed.
/// </summary>
public sealed class MasterAuthorizationTests
{
    private static async Task<string> BodyAsync(HttpResponseMessage response) =>
        await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);

    private static async Task AssertForbiddenAsync(HttpResponseMessage response, params string[] mentions)
    {
        var body = await BodyAsync(response);
        response.StatusCode.Should().Be(HttpStatusCode.Forbidden, body);
        foreach (var mention in mentions)
        {
            body.Should().Contain(mention);
        }
    }

    [Fact]
    public async Task A_framework_may_register_for_its_roles_only()
    {
        await using var master = await SecureMaster.StartAsync();

        var (_, allowed) = await master.SubscribeAsync(SecureMaster.As("team-a"), SecureMaster.FrameworkInfo("team-a", "a"));
        allowed!.FirstEvent["type"]!.GetValue<string>().Should().Be("SUBSCRIBED");

        // As Mesos refuses an HTTP subscription: an ERROR event on the stream, which then ends.
        var (response, refused) = await master.SubscribeAsync(SecureMaster.As("team-a"), SecureMaster.FrameworkInfo("team-a", "a", "b"));
        response.StatusCode.Should().Be(HttpStatusCode.OK);
        refused!.FirstEvent["type"]!.GetValue<string>().Should().Be("ERROR");
        refused.FirstEvent["error"]!["message"]!.GetValue<string>().Should().Contain("Not authorized to use roles 'b'").And.Contain("team-a");
        (await refused.Reader.ReadAsync(TestContext.Current.CancellationToken)).Should().BeNull("the stream closes after the error");
        var frameworks = await master.Server.Actor.Ask(master.Server.Actor.GetFrameworksResponse);
        frameworks.Frameworks.Should().ContainSingle("the refused framework was never added");
    }

    [Fact]
    public async Task Subscribing_needs_credentials_and_a_principal_that_may_register_somewhere()
    {
        await using var master = await SecureMaster.StartAsync();

        var (anonymous, _) = await master.SubscribeAsync(null, SecureMaster.FrameworkInfo("team-a", "a"));
        anonymous.StatusCode.Should().Be(HttpStatusCode.Unauthorized);

        var (nobody, _) = await master.SubscribeAsync(SecureMaster.As("nobody"), SecureMaster.FrameworkInfo("nobody", "a"));
        await AssertForbiddenAsync(nobody, "principal 'nobody'", "register_frameworks");
    }

    [Fact]
    public async Task The_framework_info_principal_must_be_the_authenticated_one()
    {
        await using var master = await SecureMaster.StartAsync();

        var (response, _) = await master.SubscribeAsync(SecureMaster.As("team-a"), SecureMaster.FrameworkInfo("team-b", "b"));

        response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await BodyAsync(response)).Should().Contain("Authenticated principal 'team-a' does not match principal 'team-b' set in `FrameworkInfo`");
    }

    [Fact]
    public async Task A_framework_without_a_principal_takes_the_authenticated_one()
    {
        await using var master = await SecureMaster.StartAsync();

        var (_, subscription) = await master.SubscribeAsync(SecureMaster.As("team-a"), SecureMaster.FrameworkInfo(null, "a"));

        subscription!.FirstEvent["type"]!.GetValue<string>().Should().Be("SUBSCRIBED");
        var frameworks = await master.Server.Actor.Ask(master.Server.Actor.GetFrameworksResponse);
        frameworks.Frameworks!.Single().FrameworkInfo!.Principal.Should().Be("team-a");
    }

    [Fact]
    public async Task One_principal_cannot_act_as_another_principals_framework()
    {
        await using var master = await SecureMaster.StartAsync();
        var (_, teamB) = await master.SubscribeAsync(SecureMaster.As("team-b"), SecureMaster.FrameworkInfo("team-b", "b"));
        var frameworkId = teamB!.FrameworkId!;

        // team-a knows the framework id and even the stream id: its calls are still not team-b's.
        using var revive = new HttpRequestMessage(HttpMethod.Post, "/api/v1/scheduler")
        {
            Content = SecureMaster.Json(new JsonObject { ["type"] = "REVIVE", ["framework_id"] = new JsonObject { ["value"] = frameworkId } }),
        };
        revive.Headers.Authorization = SecureMaster.As("team-a");
        revive.Headers.Add("Mesos-Stream-Id", teamB.StreamId);
        var response = await master.Client().SendAsync(revive, TestContext.Current.CancellationToken);
        response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await BodyAsync(response)).Should().Contain("Authenticated principal 'team-a' does not match principal 'team-b'");

        // Nor can it take the framework over by subscribing with its id.
        var takeover = SecureMaster.FrameworkInfo("team-a", "a");
        takeover["id"] = new JsonObject { ["value"] = frameworkId };
        var (_, refused) = await master.SubscribeAsync(SecureMaster.As("team-a"), takeover);
        refused!.FirstEvent["type"]!.GetValue<string>().Should().Be("ERROR");
        refused.FirstEvent["error"]!["message"]!.GetValue<string>().Should().Contain("Updating 'FrameworkInfo.principal' is unsupported");
        var frameworks = await master.Server.Actor.Ask(master.Server.Actor.GetFrameworksResponse);
        frameworks.Frameworks!.Single().FrameworkInfo!.Principal.Should().Be("team-b");
    }

    [Fact]
    public async Task Update_framework_may_not_add_a_role_the_principal_may_not_use()
    {
        await using var master = await SecureMaster.StartAsync();
        var (_, teamA) = await master.SubscribeAsync(SecureMaster.As("team-a"), SecureMaster.FrameworkInfo("team-a", "a"));
        var info = SecureMaster.FrameworkInfo("team-a", "a", "b");
        info["id"] = new JsonObject { ["value"] = teamA!.FrameworkId };

        using var update = new HttpRequestMessage(HttpMethod.Post, "/api/v1/scheduler")
        {
            Content = SecureMaster.Json(new JsonObject
            {
                ["type"] = "UPDATE_FRAMEWORK",
                ["framework_id"] = new JsonObject { ["value"] = teamA.FrameworkId },
                ["update_framework"] = new JsonObject { ["framework_info"] = info },
            }),
        };
        update.Headers.Authorization = SecureMaster.As("team-a");
        update.Headers.Add("Mesos-Stream-Id", teamA.StreamId);
        var response = await master.Client().SendAsync(update, TestContext.Current.CancellationToken);

        await AssertForbiddenAsync(response, "Not authorized to use roles 'b'", "principal 'team-a'");
        var frameworks = await master.Server.Actor.Ask(master.Server.Actor.GetFrameworksResponse);
        frameworks.Frameworks!.Single().FrameworkInfo!.Roles.Should().Equal("a");
    }

    [Fact]
    public async Task Teardown_of_another_principals_framework_is_refused_unless_the_acls_allow_it()
    {
        await using var master = await SecureMaster.StartAsync();
        var (_, teamB) = await master.SubscribeAsync(SecureMaster.As("team-b"), SecureMaster.FrameworkInfo("team-b", "b"));
        var teardown = new JsonObject { ["type"] = "TEARDOWN", ["teardown"] = new JsonObject { ["framework_id"] = new JsonObject { ["value"] = teamB!.FrameworkId } } };

        await AssertForbiddenAsync(await master.OperatorAsync("team-a", (JsonObject)teardown.DeepClone()),
            "Principal 'team-a'", "teardown_frameworks", "framework_principals 'team-b'");
        (await master.Server.Actor.Ask(master.Server.Actor.GetFrameworksResponse)).Frameworks.Should().ContainSingle("nothing was torn down");

        var allowed = await master.OperatorAsync("ops", teardown);
        allowed.StatusCode.Should().Be(HttpStatusCode.OK, await BodyAsync(allowed));
        (await master.Server.Actor.Ask(master.Server.Actor.GetFrameworksResponse)).Frameworks.Should().BeEmpty();
    }

    [Fact]
    public async Task Quota_is_set_and_seen_only_for_the_roles_the_acls_name()
    {
        await using var master = await SecureMaster.StartAsync();
        static JsonObject Quota(string role) => new()
        {
            ["type"] = "UPDATE_QUOTA",
            ["update_quota"] = new JsonObject
            {
                ["quota_configs"] = new JsonArray(new JsonObject { ["role"] = role, ["limits"] = new JsonObject { ["cpus"] = new JsonObject { ["value"] = 2 } } }),
            },
        };

        await AssertForbiddenAsync(await master.OperatorAsync("ops", Quota("hidden")), "Principal 'ops'", "update_quotas", "roles 'hidden'");
        (await master.OperatorAsync("ops", Quota("visible"))).StatusCode.Should().Be(HttpStatusCode.OK);
        (await master.Server.Actor.Ask(master.Server.Actor.GetQuotaStatus)).Configs!.Select(c => c.Role).Should().Equal("visible");

        await AssertForbiddenAsync(await master.SendAsync(HttpMethod.Post, "/quota", SecureMaster.As("ops"),
            SecureMaster.Json(new JsonObject { ["role"] = "hidden", ["guarantee"] = new JsonArray() })), "update_quotas", "roles 'hidden'");
        await AssertForbiddenAsync(await master.SendAsync(HttpMethod.Delete, "/quota/hidden", SecureMaster.As("ops")), "update_quotas", "roles 'hidden'");

        // A quota the principal may not see is left out of GET_QUOTA and GET /quota.
        var hidden = new QuotaConfig { Role = "hidden", Limits = new() { ["cpus"] = new ValueScalar { Value = 1 } } };
        (await master.Server.Actor.Ask(() => master.Server.Actor.UpdateQuota([hidden], force: true))).IsSuccess.Should().BeTrue();
        var getQuota = await master.OperatorAsync("ops", new JsonObject { ["type"] = "GET_QUOTA" });
        getQuota.StatusCode.Should().Be(HttpStatusCode.OK, await BodyAsync(getQuota));
        var seen = JsonNode.Parse(await BodyAsync(getQuota))!;
        seen["get_quota"]!["status"]!["configs"]!.AsArray().Select(c => (string?)c!["role"]).Should().Equal("visible");
        var getLegacy = await master.SendAsync(HttpMethod.Get, "/quota", SecureMaster.As("ops"));
        getLegacy.StatusCode.Should().Be(HttpStatusCode.OK, await BodyAsync(getLegacy));
        var legacy = JsonNode.Parse(await BodyAsync(getLegacy))!;
        legacy["configs"]!.AsArray().Select(c => (string?)c!["role"]).Should().Equal("visible");
    }

    [Fact]
    public async Task Weights_change_only_for_the_roles_the_acls_name()
    {
        await using var master = await SecureMaster.StartAsync();

        await AssertForbiddenAsync(await master.OperatorAsync("ops", new JsonObject
        {
            ["type"] = "UPDATE_WEIGHTS",
            ["update_weights"] = new JsonObject { ["weight_infos"] = new JsonArray(new JsonObject { ["role"] = "w", ["weight"] = 2 }, new JsonObject { ["role"] = "z", ["weight"] = 3 }) },
        }), "update_weights", "roles 'z'");
        await AssertForbiddenAsync(await master.SendAsync(HttpMethod.Put, "/weights", SecureMaster.As("ops"),
            SecureMaster.Json(new JsonArray(new JsonObject { ["role"] = "z", ["weight"] = 3 }))), "update_weights", "roles 'z'");
        (await master.Server.Actor.Ask(master.Server.Actor.GetWeights)).Should().BeEmpty("a refused call changes nothing, not even its allowed part");

        (await master.SendAsync(HttpMethod.Put, "/weights", SecureMaster.As("ops"),
            SecureMaster.Json(new JsonArray(new JsonObject { ["role"] = "w", ["weight"] = 2 })))).StatusCode.Should().Be(HttpStatusCode.OK);
        (await master.Server.Actor.Ask(master.Server.Actor.GetWeights)).Select(w => w.Role).Should().Equal("w");
    }

    [Fact]
    public async Task Reservations_agent_changes_and_maintenance_need_their_actions()
    {
        await using var master = await SecureMaster.StartAsync();
        var resources = new JsonArray(new JsonObject
        {
            ["name"] = "cpus",
            ["type"] = "SCALAR",
            ["scalar"] = new JsonObject { ["value"] = 1 },
            ["reservations"] = new JsonArray(new JsonObject { ["type"] = "DYNAMIC", ["role"] = "r", ["principal"] = "ops" }),
        });
        var agent = new JsonObject { ["value"] = "agent-1" };

        await AssertForbiddenAsync(await master.OperatorAsync("ops", new JsonObject
        {
            ["type"] = "RESERVE_RESOURCES",
            ["reserve_resources"] = new JsonObject { ["agent_id"] = agent.DeepClone(), ["resources"] = resources.DeepClone() },
        }), "Principal 'ops'", "reserve_resources", "roles 'r'");
        await AssertForbiddenAsync(await master.OperatorAsync("ops", new JsonObject
        {
            ["type"] = "UNRESERVE_RESOURCES",
            ["unreserve_resources"] = new JsonObject { ["agent_id"] = agent.DeepClone(), ["resources"] = resources.DeepClone() },
        }), "unreserve_resources", "reserver_principals 'ops'");
        var form = new FormUrlEncodedContent(new Dictionary<string, string> { ["slaveId"] = "agent-1", ["resources"] = resources.ToJsonString() });
        await AssertForbiddenAsync(await master.SendAsync(HttpMethod.Post, "/reserve", SecureMaster.As("ops"), form), "reserve_resources", "roles 'r'");

        foreach (var (type, field, action) in new[]
        {
            ("DRAIN_AGENT", "drain_agent", "drain_agents"),
            ("DEACTIVATE_AGENT", "deactivate_agent", "deactivate_agents"),
            ("REACTIVATE_AGENT", "reactivate_agent", "reactivate_agents"),
            ("MARK_AGENT_GONE", "mark_agent_gone", "mark_agents_gone"),
        })
        {
            await AssertForbiddenAsync(await master.OperatorAsync("ops", new JsonObject { ["type"] = type, [field] = new JsonObject { ["agent_id"] = agent.DeepClone() } }),
                "Principal 'ops'", action);
        }

        await AssertForbiddenAsync(await master.OperatorAsync("ops", new JsonObject { ["type"] = "GET_MAINTENANCE_STATUS" }), "get_maintenance_statuses");
        await AssertForbiddenAsync(await master.OperatorAsync("ops", new JsonObject { ["type"] = "GET_FLAGS" }), "view_flags");
        await AssertForbiddenAsync(await master.SendAsync(HttpMethod.Get, "/maintenance/schedule", SecureMaster.As("ops")), "get_maintenance_schedules");
        await AssertForbiddenAsync(await master.SendAsync(HttpMethod.Post, "/machine/down", SecureMaster.As("ops"),
            new StringContent("[]", Encoding.UTF8, "application/json")), "start_maintenances");
        var logging = await master.OperatorAsync("ops", new JsonObject
        {
            ["type"] = "SET_LOGGING_LEVEL",
            ["set_logging_level"] = new JsonObject { ["level"] = 1, ["duration"] = new JsonObject { ["nanoseconds"] = 1_000_000_000 } },
        });
        logging.StatusCode.Should().Be(HttpStatusCode.OK, "ops may set_log_level");
    }

    [Fact]
    public async Task An_operator_reserves_only_in_its_own_name()
    {
        await using var master = await SecureMaster.StartAsync("""
            {"permissive": false, "reserve_resources": [{"principals": {"values": ["ops"]}, "roles": {"type": "ANY"}}]}
            """);
        var resources = new JsonArray(new JsonObject
        {
            ["name"] = "cpus",
            ["type"] = "SCALAR",
            ["scalar"] = new JsonObject { ["value"] = 1 },
            ["reservations"] = new JsonArray(new JsonObject { ["type"] = "DYNAMIC", ["role"] = "r", ["principal"] = "team-a" }),
        });

        await AssertForbiddenAsync(await master.OperatorAsync("ops", new JsonObject
        {
            ["type"] = "RESERVE_RESOURCES",
            ["reserve_resources"] = new JsonObject { ["agent_id"] = new JsonObject { ["value"] = "agent-1" }, ["resources"] = resources },
        }), "principal 'ops' may not make a reservation in the name of principal 'team-a'");
    }
}
