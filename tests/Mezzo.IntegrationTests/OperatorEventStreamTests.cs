using System.Net;
using System.Text.Json.Nodes;
using AwesomeAssertions;
using Mezzo.IntegrationTests.Infrastructure;

namespace Mezzo.IntegrationTests;

/// <summary>The operator API's SUBSCRIBE: a RecordIO stream read by a real HTTP client while the cluster changes.</summary>
public sealed class OperatorEventStreamTests
{
    [Fact]
    public async Task Stream_reports_frameworks_tasks_agents_and_heartbeats_in_order()
    {
        await using var cluster = await InProcessCluster.StartAsync(configureMaster: o =>
        {
            o.HeartbeatInterval = TimeSpan.FromMilliseconds(200);
            o.AgentPingTimeout = TimeSpan.FromMilliseconds(300);
            o.MaxAgentPingTimeouts = 2;
        });
        var agentId = (string)(await cluster.StateAsync())["slaves"]![0]!["id"]!;
        await using var stream = await OperatorStream.OpenAsync(cluster.MasterUrl);
        stream.Status.Should().Be(HttpStatusCode.OK);
        stream.ContentType.Should().Be("application/json");

        var subscribed = await stream.WaitForAsync(OperatorStream.Is("SUBSCRIBED"), "SUBSCRIBED");
        stream.Events[0].Should().BeSameAs(subscribed, "SUBSCRIBED comes first");
        subscribed["subscribed"]!["heartbeat_interval_seconds"]!.GetValue<double>().Should().Be(0.2);
        var state = subscribed["subscribed"]!["get_state"]!;
        ((string?)state["get_agents"]!["agents"]![0]!["agent_info"]!["id"]!["value"]).Should().Be(agentId);
        state["get_tasks"]!["tasks"]!.AsArray().Should().BeEmpty();

        await using (var scheduler = new RawScheduler(cluster.MasterUrl))
        {
            await scheduler.SubscribeAsync(RawScheduler.FrameworkInfo("watched"));
            var offer = await scheduler.NextOfferAsync();
            (await scheduler.LaunchAsync(offer, "t1", "sleep 60")).Status.Should().Be(HttpStatusCode.Accepted);
            await scheduler.WaitForUpdateAsync("t1", "TASK_RUNNING");
            (await scheduler.KillAsync("t1")).Status.Should().Be(HttpStatusCode.Accepted);
            await scheduler.WaitForUpdateAsync("t1", "TASK_KILLED");
            await stream.WaitForAsync(e => TaskState(e) == "TASK_KILLED", "TASK_UPDATED to TASK_KILLED");
            await scheduler.DisconnectAsync();
            await stream.WaitForAsync(OperatorStream.Is("FRAMEWORK_REMOVED"), "FRAMEWORK_REMOVED");

            var events = stream.Events;
            var frameworkAdded = Index(events, e => (string?)e["type"] == "FRAMEWORK_ADDED");
            var taskAdded = Index(events, e => (string?)e["type"] == "TASK_ADDED");
            var running = Index(events, e => TaskState(e) == "TASK_RUNNING");
            var killed = Index(events, e => TaskState(e) == "TASK_KILLED");
            var disconnected = Index(events, e => (string?)e["type"] == "FRAMEWORK_UPDATED" && (bool?)e["framework_updated"]!["framework"]!["connected"] == false);
            var removed = Index(events, e => (string?)e["type"] == "FRAMEWORK_REMOVED");
            new[] { frameworkAdded, taskAdded, running, killed, disconnected, removed }.Should().BeInAscendingOrder().And.OnlyHaveUniqueItems();
            frameworkAdded.Should().BeGreaterThan(0);

            var added = events[taskAdded]["task_added"]!["task"]!;
            ((string?)added["task_id"]!["value"]).Should().Be("t1");
            ((string?)added["framework_id"]!["value"]).Should().Be(scheduler.FrameworkId);
            ((string?)added["state"]).Should().Be("TASK_STAGING");
            var update = events[running]["task_updated"]!;
            ((string?)update["framework_id"]!["value"]).Should().Be(scheduler.FrameworkId);
            ((string?)update["status"]!["task_id"]!["value"]).Should().Be("t1");
            ((string?)update["status"]!["state"]).Should().Be("TASK_RUNNING");
            ((string?)events[removed]["framework_removed"]!["framework_info"]!["id"]!["value"]).Should().Be(scheduler.FrameworkId);
            (await stream.WaitForAsync(OperatorStream.Is("HEARTBEAT"), "a HEARTBEAT")).Count.Should().Be(1, "a heartbeat is a bare type");
        }

        // The agent goes silent: removed once unreachable; back with its id: added again.
        await cluster.Agent!.DisposeAsync();
        var agentRemoved = await stream.WaitForAsync(OperatorStream.Is("AGENT_REMOVED"), "AGENT_REMOVED");
        ((string?)agentRemoved["agent_removed"]!["agent_id"]!["value"]).Should().Be(agentId);
        var mark = stream.Events.Count;
        await cluster.StartAgentAsync();
        var agentAdded = await Poll.UntilAsync(() => Task.FromResult(stream.Events.Skip(mark).FirstOrDefault(OperatorStream.Is("AGENT_ADDED"))), "AGENT_ADDED");
        ((string?)agentAdded["agent_added"]!["agent"]!["agent_info"]!["id"]!["value"]).Should().Be(agentId);
        ((bool?)agentAdded["agent_added"]!["agent"]!["active"]).Should().BeTrue();
        stream.Ended.Should().BeFalse();
    }

    [Fact]
    public async Task The_oldest_stream_is_closed_when_a_subscriber_beyond_the_limit_arrives()
    {
        await using var cluster = await InProcessCluster.StartAsync(withAgent: false, configureMaster: o => o.MaxOperatorEventStreamSubscribers = 2);
        await using var first = await OperatorStream.OpenAsync(cluster.MasterUrl);
        await first.WaitForAsync(OperatorStream.Is("SUBSCRIBED"), "first SUBSCRIBED");
        await using var second = await OperatorStream.OpenAsync(cluster.MasterUrl);
        await second.WaitForAsync(OperatorStream.Is("SUBSCRIBED"), "second SUBSCRIBED");
        await using var third = await OperatorStream.OpenAsync(cluster.MasterUrl);
        await third.WaitForAsync(OperatorStream.Is("SUBSCRIBED"), "third SUBSCRIBED");

        await Poll.UntilAsync(() => first.Ended, "the oldest stream to end");
        second.Ended.Should().BeFalse();
        third.Ended.Should().BeFalse();
        var metrics = JsonNode.Parse(await cluster.Http.GetStringAsync(new Uri(cluster.MasterUrl, "metrics/snapshot")))!;
        metrics["master/operator_event_stream_subscribers"]!.GetValue<double>().Should().Be(2);
    }

    [Fact]
    public async Task A_client_that_goes_away_stops_counting_as_a_subscriber()
    {
        await using var cluster = await InProcessCluster.StartAsync(withAgent: false);
        var stream = await OperatorStream.OpenAsync(cluster.MasterUrl);
        await stream.WaitForAsync(OperatorStream.Is("SUBSCRIBED"), "SUBSCRIBED");
        (await Subscribers(cluster)).Should().Be(1);

        await stream.DisposeAsync();

        await Poll.UntilAsync(async () => await Subscribers(cluster) == 0, "the subscriber to be forgotten");
    }

    private static async Task<double> Subscribers(InProcessCluster cluster) =>
        JsonNode.Parse(await cluster.Http.GetStringAsync(new Uri(cluster.MasterUrl, "metrics/snapshot")))!["master/operator_event_stream_subscribers"]!.GetValue<double>();

    private static string? TaskState(JsonObject e) =>
        (string?)e["type"] == "TASK_UPDATED" && (string?)e["task_updated"]!["status"]!["task_id"]!["value"] == "t1" ? (string?)e["task_updated"]!["state"] : null;

    private static int Index(IReadOnlyList<JsonObject> events, Func<JsonObject, bool> match)
    {
        for (var i = 0; i < events.Count; i++)
        {
            if (match(events[i]))
            {
                return i;
            }
        }

        throw new InvalidOperationException("No such event in: " + string.Join(", ", events.Select(e => (string?)e["type"])));
    }
}
