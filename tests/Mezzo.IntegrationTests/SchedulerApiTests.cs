using System.Net;
using System.Text.Json.Nodes;
using AwesomeAssertions;
using Mezzo.IntegrationTests.Infrastructure;

namespace Mezzo.IntegrationTests;

/// <summary>The v1 scheduler API driven with raw HTTP + RecordIO exactly as docs/scheduler-http-api.md shows.</summary>
public sealed class SchedulerApiTests
{
    [Fact]
    public async Task Subscribe_answers_200_with_stream_id_and_SUBSCRIBED_then_offers()
    {
        await using var cluster = await InProcessCluster.StartAsync();
        await using var scheduler = new RawScheduler(cluster.MasterUrl);
        await scheduler.SubscribeAsync(RawScheduler.FrameworkInfo());

        scheduler.SubscribeStatus.Should().Be(HttpStatusCode.OK);
        scheduler.StreamId.Should().NotBeNullOrEmpty();
        var subscribed = scheduler.Events[0];
        ((string?)subscribed["type"]).Should().Be("SUBSCRIBED");
        ((double?)subscribed["subscribed"]!["heartbeat_interval_seconds"]).Should().Be(15);
        ((string?)subscribed["subscribed"]!["master_info"]!["id"]).Should().NotBeNullOrEmpty();
        ((long?)subscribed["subscribed"]!["master_info"]!["ip"]).Should().Be(16777343, "127.0.0.1 as libprocess encodes it");
        ((string?)subscribed["subscribed"]!["master_info"]!["address"]!["ip"]).Should().Be("127.0.0.1");

        var offer = await scheduler.NextOfferAsync();
        ((string?)offer["framework_id"]!["value"]).Should().Be(scheduler.FrameworkId);
        ((string?)offer["hostname"]).Should().Be("127.0.0.1");
        var cpus = offer["resources"]!.AsArray().Single(r => (string?)r!["name"] == "cpus")!;
        ((string?)cpus["type"]).Should().Be("SCALAR");
        ((double?)cpus["scalar"]!["value"]).Should().Be(4);
        ((string?)cpus["allocation_info"]!["role"]).Should().Be("*");
        var ports = offer["resources"]!.AsArray().Single(r => (string?)r!["name"] == "ports")!;
        ((long?)ports["ranges"]!["range"]![0]!["begin"]).Should().Be(31000);
    }

    [Fact]
    public async Task Command_task_runs_to_TASK_FINISHED_and_its_stdout_is_readable()
    {
        await using var cluster = await InProcessCluster.StartAsync();
        await using var scheduler = new RawScheduler(cluster.MasterUrl) { AutoAcknowledge = false };
        await scheduler.SubscribeAsync(RawScheduler.FrameworkInfo());
        var offer = await scheduler.NextOfferAsync();

        var (status, _) = await scheduler.LaunchAsync(offer, "hello", "echo hi from $MESOS_TASK_ID");
        status.Should().Be(HttpStatusCode.Accepted);

        foreach (var expected in (string[])["TASK_STARTING", "TASK_RUNNING", "TASK_FINISHED"])
        {
            var update = await scheduler.WaitForUpdateAsync("hello", expected);
            var taskStatus = update["update"]!["status"]!;
            ((string?)taskStatus["source"]).Should().Be("SOURCE_EXECUTOR");
            ((string?)taskStatus["uuid"]).Should().NotBeNullOrEmpty();
            (await scheduler.AcknowledgeAsync(update)).Status.Should().Be(HttpStatusCode.Accepted);
        }

        var finished = await scheduler.WaitForUpdateAsync("hello", "TASK_FINISHED");
        var agentUrl = cluster.Agent!.Url;
        var state = JsonNode.Parse(await cluster.Http.GetStringAsync(new Uri(agentUrl, "state")))!;
        var directory = (string?)state["frameworks"]![0]!["completed_executors"]![0]!["directory"]
            ?? (string?)state["frameworks"]![0]!["executors"]![0]!["directory"];
        var read = JsonNode.Parse(await cluster.Http.GetStringAsync(new Uri(agentUrl, $"files/read?path={Uri.EscapeDataString(directory + "/stdout")}&offset=0")))!;
        ((string?)read["data"]).Should().Be("hi from hello\n");
        ((string?)finished["update"]!["status"]!["agent_id"]!["value"]).Should().Be((string?)offer["agent_id"]!["value"]);
    }

    [Fact]
    public async Task Failing_command_is_TASK_FAILED_with_its_exit_status()
    {
        await using var cluster = await InProcessCluster.StartAsync();
        await using var scheduler = new RawScheduler(cluster.MasterUrl);
        await scheduler.SubscribeAsync(RawScheduler.FrameworkInfo());
        var offer = await scheduler.NextOfferAsync();
        await scheduler.LaunchAsync(offer, "fails", "exit 3");

        var failed = await scheduler.WaitForUpdateAsync("fails", "TASK_FAILED");
        ((string?)failed["update"]!["status"]!["message"]).Should().Be("Command exited with status 3");
    }

    [Fact]
    public async Task Kill_sends_TERM_then_KILL_to_the_whole_group_and_reports_TASK_KILLED()
    {
        await using var cluster = await InProcessCluster.StartAsync(configureAgent: a => a.DefaultKillGracePeriod = TimeSpan.FromMilliseconds(300));
        await using var scheduler = new RawScheduler(cluster.MasterUrl);
        await scheduler.SubscribeAsync(RawScheduler.FrameworkInfo());
        var offer = await scheduler.NextOfferAsync();
        // Ignores SIGTERM and has a grandchild: only a group SIGKILL after the grace period ends both.
        await scheduler.LaunchAsync(offer, "stubborn", "trap '' TERM; sleep 1000 & sleep 1000");
        await scheduler.WaitForUpdateAsync("stubborn", "TASK_RUNNING");

        (await scheduler.KillAsync("stubborn")).Status.Should().Be(HttpStatusCode.Accepted);

        await scheduler.WaitForUpdateAsync("stubborn", "TASK_KILLED");
        await Poll.UntilAsync(() => Mezzo.Agent.Tasks.OrphanReaper.FindTaskProcesses(cluster.SandboxRoot).Count == 0, "the task's processes to be gone");
    }

    [Fact]
    public async Task Duplicate_task_id_is_TASK_ERROR()
    {
        await using var cluster = await InProcessCluster.StartAsync();
        await using var scheduler = new RawScheduler(cluster.MasterUrl);
        await scheduler.SubscribeAsync(RawScheduler.FrameworkInfo());
        var offer = await scheduler.NextOfferAsync();
        await scheduler.LaunchAsync(offer, "dup", "sleep 1000");
        await scheduler.WaitForUpdateAsync("dup", "TASK_RUNNING");

        var second = await scheduler.NextOfferAsync();
        await scheduler.LaunchAsync(second, "dup", "true");

        var error = await scheduler.WaitForUpdateAsync("dup", "TASK_ERROR");
        ((string?)error["update"]!["status"]!["message"]).Should().Contain("duplicate ID");
        ((string?)error["update"]!["status"]!["reason"]).Should().Be("REASON_TASK_INVALID");
        ((string?)error["update"]!["status"]!["source"]).Should().Be("SOURCE_MASTER");
        (await scheduler.KillAsync("dup")).Status.Should().Be(HttpStatusCode.Accepted);
        await scheduler.WaitForUpdateAsync("dup", "TASK_KILLED");
    }

    [Fact]
    public async Task Task_asking_for_more_than_the_offer_is_TASK_ERROR()
    {
        await using var cluster = await InProcessCluster.StartAsync();
        await using var scheduler = new RawScheduler(cluster.MasterUrl);
        await scheduler.SubscribeAsync(RawScheduler.FrameworkInfo());
        var offer = await scheduler.NextOfferAsync();
        await scheduler.LaunchAsync(offer, "greedy", "true", """[{"name":"cpus","type":"SCALAR","scalar":{"value":64}}]""");

        var error = await scheduler.WaitForUpdateAsync("greedy", "TASK_ERROR");
        ((string?)error["update"]!["status"]!["message"]).Should().Contain("more resources");
    }

    [Theory]
    [InlineData("""[{"name":"cpus","type":"SCALAR","scalar":{"value":-1}}]""")]
    [InlineData("""[{"name":"cpus","type":"SCALAR","scalar":{"value":"NaN"}}]""")]
    [InlineData("""[{"name":"cpus","type":"RANGES"}]""")]
    public async Task Invalid_task_resources_are_rejected_and_the_offer_is_reusable(string resources)
    {
        await using var cluster = await InProcessCluster.StartAsync();
        await using var scheduler = new RawScheduler(cluster.MasterUrl);
        await scheduler.SubscribeAsync(RawScheduler.FrameworkInfo());
        var offer = await scheduler.NextOfferAsync();
        var (status, body) = await scheduler.LaunchAsync(offer, "bad", "true", resources);

        // Either the JSON is refused outright (400) or the task is (TASK_ERROR); never a 500, never a launch.
        if (status == HttpStatusCode.Accepted)
        {
            await scheduler.WaitForUpdateAsync("bad", "TASK_ERROR");
        }
        else
        {
            status.Should().Be(HttpStatusCode.BadRequest, body);
        }

        // A refused call changes nothing, so the same offer is still ours; a TASK_ERROR gives its resources back.
        var again = status == HttpStatusCode.Accepted ? await scheduler.NextOfferAsync() : offer;
        (await scheduler.LaunchAsync(again, "good", "true")).Status.Should().Be(HttpStatusCode.Accepted);
        await scheduler.WaitForUpdateAsync("good", "TASK_FINISHED");
    }

    [Fact]
    public async Task Accepting_a_rescinded_offer_drops_the_task()
    {
        await using var cluster = await InProcessCluster.StartAsync(m => m.OfferTimeout = TimeSpan.FromMilliseconds(300));
        await using var scheduler = new RawScheduler(cluster.MasterUrl);
        await scheduler.SubscribeAsync(RawScheduler.FrameworkInfo());
        var offer = await scheduler.NextOfferAsync();
        var offerId = (string?)offer["id"]!["value"];
        await scheduler.WaitForAsync(e => (string?)e["type"] == "RESCIND" && (string?)e["rescind"]!["offer_id"]!["value"] == offerId, "the RESCIND");

        await scheduler.LaunchAsync(offer, "late", "true");

        var lost = await scheduler.WaitForUpdateAsync("late", "TASK_LOST");
        ((string?)lost["update"]!["status"]!["reason"]).Should().Be("REASON_INVALID_OFFERS");
        ((string?)lost["update"]!["status"]!["message"]).Should().Contain("no longer valid");
    }

    [Fact]
    public async Task Partition_aware_framework_gets_TASK_DROPPED_for_an_unknown_offer()
    {
        await using var cluster = await InProcessCluster.StartAsync();
        await using var scheduler = new RawScheduler(cluster.MasterUrl);
        await scheduler.SubscribeAsync(RawScheduler.FrameworkInfo(partitionAware: true));
        var offer = (await scheduler.NextOfferAsync()).DeepClone().AsObject();
        offer["id"] = new JsonObject { ["value"] = "no-such-offer" };

        await scheduler.LaunchAsync(offer, "ghost", "true");

        var dropped = await scheduler.WaitForUpdateAsync("ghost", "TASK_DROPPED");
        ((string?)dropped["update"]!["status"]!["reason"]).Should().Be("REASON_INVALID_OFFERS");
    }

    [Fact]
    public async Task Unacknowledged_updates_are_resent_until_acknowledged()
    {
        await using var cluster = await InProcessCluster.StartAsync(configureAgent: a => a.StatusUpdateRetryInterval = TimeSpan.FromMilliseconds(200));
        await using var scheduler = new RawScheduler(cluster.MasterUrl) { AutoAcknowledge = false };
        await scheduler.SubscribeAsync(RawScheduler.FrameworkInfo());
        var offer = await scheduler.NextOfferAsync();
        await scheduler.LaunchAsync(offer, "chatty", "sleep 1000");

        // Never acknowledged: the STARTING update comes again with the same uuid, and RUNNING waits behind it.
        await Poll.UntilAsync(() => scheduler.Updates("chatty").Count() >= 3, "the update to be resent");
        var updates = scheduler.Updates("chatty").ToList();
        updates.Select(u => (string?)u["update"]!["status"]!["state"]).Should().AllBe("TASK_STARTING");
        updates.Select(u => (string?)u["update"]!["status"]!["uuid"]).Distinct().Should().HaveCount(1);

        await scheduler.AcknowledgeAsync(updates[0]);
        await scheduler.WaitForUpdateAsync("chatty", "TASK_RUNNING");
        await scheduler.KillAsync("chatty");
        var running = await scheduler.WaitForUpdateAsync("chatty", "TASK_RUNNING");
        await scheduler.AcknowledgeAsync(running);
        await scheduler.WaitForUpdateAsync("chatty", "TASK_KILLED");
    }

    [Fact]
    public async Task Reconcile_answers_known_tasks_with_their_state_and_unknown_ones_as_lost()
    {
        await using var cluster = await InProcessCluster.StartAsync();
        await using var scheduler = new RawScheduler(cluster.MasterUrl);
        await scheduler.SubscribeAsync(RawScheduler.FrameworkInfo());
        var offer = await scheduler.NextOfferAsync();
        await scheduler.LaunchAsync(offer, "steady", "sleep 1000");
        await scheduler.WaitForUpdateAsync("steady", "TASK_RUNNING");
        var before = scheduler.Events.Count;

        var (status, _) = await scheduler.CallAsync($$"""
            {"framework_id":{"value":"{{scheduler.FrameworkId}}"},"type":"RECONCILE",
             "reconcile":{"tasks":[{"task_id":{"value":"steady"} },{"task_id":{"value":"never-launched"} }]} }
            """);
        status.Should().Be(HttpStatusCode.Accepted);

        var reconciled = await scheduler.WaitForAfterAsync(before, e => (string?)e["update"]?["status"]?["task_id"]?["value"] == "steady", "reconciliation of steady");
        ((string?)reconciled["update"]!["status"]!["reason"]).Should().Be("REASON_RECONCILIATION");
        var unknown = await scheduler.WaitForUpdateAsync("never-launched", "TASK_LOST");
        ((string?)unknown["update"]!["status"]!["uuid"]).Should().BeNull("master-generated updates need no acknowledgement");

        // Implicit: an empty list gets every known task.
        var mark = scheduler.Events.Count;
        await scheduler.ReconcileAsync();
        await scheduler.WaitForAfterAsync(mark, e => (string?)e["update"]?["status"]?["task_id"]?["value"] == "steady"
            && (string?)e["update"]?["status"]?["state"] == "TASK_RUNNING", "implicit reconciliation");
    }

    [Fact]
    public async Task Teardown_kills_the_frameworks_tasks()
    {
        await using var cluster = await InProcessCluster.StartAsync();
        await using var scheduler = new RawScheduler(cluster.MasterUrl);
        await scheduler.SubscribeAsync(RawScheduler.FrameworkInfo());
        var offer = await scheduler.NextOfferAsync();
        await scheduler.LaunchAsync(offer, "doomed", "sleep 1000");
        await scheduler.WaitForUpdateAsync("doomed", "TASK_RUNNING");

        (await scheduler.CallAsync($$"""{"framework_id":{"value":"{{scheduler.FrameworkId}}"},"type":"TEARDOWN"}""")).Status.Should().Be(HttpStatusCode.Accepted);

        await Poll.UntilAsync(() => Mezzo.Agent.Tasks.OrphanReaper.FindTaskProcesses(cluster.SandboxRoot).Count == 0, "the task to be killed");
        var state = JsonNode.Parse(await cluster.Http.GetStringAsync(new Uri(cluster.MasterUrl, "master/state")))!;
        state["completed_frameworks"]!.AsArray().Select(f => (string?)f!["id"]).Should().Contain(scheduler.FrameworkId);
        state["frameworks"]!.AsArray().Should().BeEmpty();
    }

    [Fact]
    public async Task Decline_with_a_long_filter_then_revive_brings_the_offer_back()
    {
        await using var cluster = await InProcessCluster.StartAsync();
        await using var scheduler = new RawScheduler(cluster.MasterUrl);
        await scheduler.SubscribeAsync(RawScheduler.FrameworkInfo());
        var offer = await scheduler.NextOfferAsync();

        var declined = await scheduler.CallAsync($$"""
            {"framework_id":{"value":"{{scheduler.FrameworkId}}"},"type":"DECLINE",
             "decline":{"offer_ids":[{"value":"{{offer["id"]!["value"]}}"}],"filters":{"refuse_seconds":3600} } }
            """);
        declined.Status.Should().Be(HttpStatusCode.Accepted, declined.Body);
        var suppressed = await scheduler.CallAsync($$"""{"framework_id":{"value":"{{scheduler.FrameworkId}}"},"type":"SUPPRESS"}""");
        suppressed.Status.Should().Be(HttpStatusCode.Accepted, suppressed.Body);

        // Only REVIVE lifts both the suppression and the hour-long filter (Mesos semantics).
        var revived = await scheduler.CallAsync($$"""{"framework_id":{"value":"{{scheduler.FrameworkId}}"},"type":"REVIVE"}""");
        revived.Status.Should().Be(HttpStatusCode.Accepted, revived.Body);
        var again = await scheduler.NextOfferAsync();
        ((string?)again["agent_id"]!["value"]).Should().Be((string?)offer["agent_id"]!["value"]);
        ((string?)again["id"]!["value"]).Should().NotBe((string?)offer["id"]!["value"]);
    }
}
