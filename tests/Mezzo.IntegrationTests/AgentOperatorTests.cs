using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using AwesomeAssertions;
using Mezzo.IntegrationTests.Infrastructure;

namespace Mezzo.IntegrationTests;

/// <summary>Reservations and agent draining through the operator API and the legacy endpoints, with a real agent.</summary>
public sealed class AgentOperatorTests
{
    private const string ReservedCpu = """[{"name":"cpus","type":"SCALAR","scalar":{"value":1},"reservations":[{"type":"DYNAMIC","role":"eng"}]}]""";

    [Fact]
    public async Task Reservations_made_by_the_operator_are_offered_only_to_their_role_and_survive_a_master_restart()
    {
        await using var cluster = await InProcessCluster.StartAsync(configureAgent: a => a.Resources = "cpus:4;mem:4096;cpus(ops):1");
        var agentId = await AgentIdAsync(cluster);

        var (status, body) = await cluster.PostJsonAsync("""
            {"type":"RESERVE_RESOURCES","reserve_resources":{"agent_id":{"value":"@AGENT@"},"resources":@RESOURCES@}}
            """.Replace("@AGENT@", agentId, StringComparison.Ordinal).Replace("@RESOURCES@", ReservedCpu, StringComparison.Ordinal));
        status.Should().Be(HttpStatusCode.Accepted, body);
        (await ReservedAsync(cluster))["eng"]!["cpus"]!.GetValue<double>().Should().Be(1);
        (await ReservedAsync(cluster))["ops"]!["cpus"]!.GetValue<double>().Should().Be(1, "the agent's static reservation");

        await cluster.RestartMasterAsync();
        // Until it re-registers the agent is listed under recovered_slaves only, as in Mesos.
        await Poll.UntilAsync(async () => (await cluster.StateAsync())["slaves"]!.AsArray().Any(s => (bool?)s!["active"] == true), "the agent to re-register");
        (await ReservedAsync(cluster))["eng"]!["cpus"]!.GetValue<double>().Should().Be(1);

        await using var scheduler = new RawScheduler(cluster.MasterUrl);
        await scheduler.SubscribeAsync(new JsonObject { ["user"] = "root", ["name"] = "web", ["role"] = "web" }.ToJsonString());
        var offer = await scheduler.NextOfferAsync();
        offer["resources"]!.AsArray().Where(r => (string?)r!["name"] == "cpus").Sum(r => r!["scalar"]!["value"]!.GetValue<double>())
            .Should().Be(3, "neither eng's nor ops's reserved cpu is offered to web");

        (await PostFormAsync(cluster, "master/unreserve", agentId, ReservedCpu)).Status.Should().Be(HttpStatusCode.Accepted);
        (await ReservedAsync(cluster)).ContainsKey("eng").Should().BeFalse();
    }

    public static TheoryData<string, HttpStatusCode, string> BadReserves => new()
    {
        { """{"type":"RESERVE_RESOURCES","reserve_resources":{"resources":[]}}""", HttpStatusCode.BadRequest, "'reserve_resources.agent_id'" },
        { """{"type":"RESERVE_RESOURCES","reserve_resources":{"agent_id":{"value":"@AGENT@"},"resources":[{"name":"cpus","type":"SCALAR","scalar":{"value":100},"reservations":[{"type":"DYNAMIC","role":"eng"}]}]}}""", HttpStatusCode.BadRequest, "does not have" },
        { """{"type":"RESERVE_RESOURCES","reserve_resources":{"agent_id":{"value":"@AGENT@"},"resources":[{"name":"cpus","type":"SCALAR","scalar":{"value":1}}]}}""", HttpStatusCode.BadRequest, "not dynamically reserved" },
        { """{"type":"RESERVE_RESOURCES","reserve_resources":{"agent_id":{"value":"@AGENT@"},"resources":[{"name":"cpus","type":"SCALAR","scalar":{"value":-1},"reservations":[{"type":"DYNAMIC","role":"eng"}]}]}}""", HttpStatusCode.BadRequest, "negative" },
        { """{"type":"RESERVE_RESOURCES","reserve_resources":{"agent_id":{"value":"@AGENT@"},"resources":[{"name":"cpus","type":"SCALAR","scalar":{"value":1},"reservations":[{"type":"DYNAMIC","role":"a//b"}]}]}}""", HttpStatusCode.BadRequest, "invalid role" },
        { """{"type":"RESERVE_RESOURCES","reserve_resources":{"agent_id":{"value":"nope"},"resources":[{"name":"cpus","type":"SCALAR","scalar":{"value":1},"reservations":[{"type":"DYNAMIC","role":"eng"}]}]}}""", HttpStatusCode.NotFound, "nope" },
        { """{"type":"UNRESERVE_RESOURCES","unreserve_resources":{"agent_id":{"value":"@AGENT@"},"resources":[{"name":"cpus","type":"SCALAR","scalar":{"value":1},"reservations":[{"type":"DYNAMIC","role":"eng"}]}]}}""", HttpStatusCode.BadRequest, "does not have" },
        { """{"type":"DRAIN_AGENT","drain_agent":{"agent_id":{"value":"@AGENT@"},"max_grace_period":{"nanoseconds":-5}}}""", HttpStatusCode.BadRequest, "max_grace_period" },
        { """{"type":"DRAIN_AGENT","drain_agent":{}}""", HttpStatusCode.BadRequest, "'drain_agent.agent_id'" },
        { """{"type":"REACTIVATE_AGENT","reactivate_agent":{"agent_id":{"value":"@AGENT@"}}}""", HttpStatusCode.BadRequest, "not deactivated" },
        { """{"type":"MARK_AGENT_GONE","mark_agent_gone":{"agent_id":{"value":"nope"}}}""", HttpStatusCode.NotFound, "nope" },
    };

    [Theory]
    [MemberData(nameof(BadReserves))]
    public async Task Bad_reservation_and_agent_calls_are_refused_and_change_nothing(string call, HttpStatusCode expected, string reason)
    {
        await using var cluster = await InProcessCluster.StartAsync(configureAgent: a => a.Resources = "cpus:4;mem:4096");
        var agentId = await AgentIdAsync(cluster);
        var before = (await cluster.StateAsync())["slaves"]!.ToJsonString();

        var (status, body) = await cluster.PostJsonAsync(call.Replace("@AGENT@", agentId, StringComparison.Ordinal));

        status.Should().Be(expected, body);
        body.Should().Contain(reason);
        (await cluster.StateAsync())["slaves"]!.ToJsonString().Should().Be(before);
    }

    [Fact]
    public async Task Legacy_reserve_needs_a_form_with_slaveId_and_resources()
    {
        await using var cluster = await InProcessCluster.StartAsync();
        var agentId = await AgentIdAsync(cluster);
        (await PostFormAsync(cluster, "master/reserve", null, ReservedCpu)).Status.Should().Be(HttpStatusCode.BadRequest);
        (await PostFormAsync(cluster, "master/reserve", agentId, "[{")).Body.Should().Contain("Error in parsing 'resources'");
        (await PostFormAsync(cluster, "reserve", agentId, ReservedCpu)).Status.Should().Be(HttpStatusCode.Accepted);
        (await ReservedAsync(cluster))["eng"]!["cpus"]!.GetValue<double>().Should().Be(1);
    }

    [Fact]
    public async Task Draining_an_agent_kills_its_tasks_and_stops_offers_until_it_is_reactivated()
    {
        await using var cluster = await InProcessCluster.StartAsync();
        var agentId = await AgentIdAsync(cluster);
        await using var scheduler = new RawScheduler(cluster.MasterUrl);
        await scheduler.SubscribeAsync(RawScheduler.FrameworkInfo());
        var offer = await scheduler.NextOfferAsync();
        (await scheduler.LaunchAsync(offer, "sleeper", "sleep 600")).Status.Should().Be(HttpStatusCode.Accepted);
        await scheduler.WaitForUpdateAsync("sleeper", "TASK_RUNNING");

        var (status, body) = await cluster.PostJsonAsync("""
            {"type":"DRAIN_AGENT","drain_agent":{"agent_id":{"value":"@AGENT@"},"max_grace_period":{"nanoseconds":1000000000}}}
            """.Replace("@AGENT@", agentId, StringComparison.Ordinal));
        status.Should().Be(HttpStatusCode.OK, body);

        await scheduler.WaitForUpdateAsync("sleeper", "TASK_KILLED");
        await Poll.UntilAsync(async () => (string?)(await cluster.StateAsync())["slaves"]![0]!["drain_info"]?["state"] == "DRAINED", "the agent to be DRAINED");
        var mark = scheduler.Events.Count;
        ((bool?)(await cluster.StateAsync())["slaves"]![0]!["active"]).Should().BeFalse();

        (await cluster.PostJsonAsync("""{"type":"REACTIVATE_AGENT","reactivate_agent":{"agent_id":{"value":"@AGENT@"}}}""".Replace("@AGENT@", agentId, StringComparison.Ordinal))).Status.Should().Be(HttpStatusCode.OK);
        await scheduler.WaitForAfterAsync(mark, e => (string?)e["type"] == "OFFERS", "an offer after reactivation");
    }

    private static async Task<string> AgentIdAsync(InProcessCluster cluster) =>
        await Poll.UntilAsync(async () => (string?)(await cluster.StateAsync())["slaves"]!.AsArray().FirstOrDefault()?["id"], "the agent to register");

    private static async Task<JsonObject> ReservedAsync(InProcessCluster cluster) =>
        (await cluster.StateAsync())["slaves"]![0]!["reserved_resources"]!.AsObject();

    private static async Task<(HttpStatusCode Status, string Body)> PostFormAsync(InProcessCluster cluster, string path, string? agentId, string resources)
    {
        var fields = new List<KeyValuePair<string, string>> { new("resources", resources) };
        if (agentId is not null)
        {
            fields.Add(new("slaveId", agentId));
        }

        using var content = new FormUrlEncodedContent(fields);
        using var response = await cluster.Http.PostAsync(new Uri(cluster.MasterUrl, path), content);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }
}
