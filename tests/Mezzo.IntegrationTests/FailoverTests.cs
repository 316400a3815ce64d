using System.Net;
using System.Text.Json.Nodes;
using AwesomeAssertions;
using Mezzo.Agent.Tasks;
using Mezzo.IntegrationTests.Infrastructure;

namespace Mezzo.IntegrationTests;

public sealed class FailoverTests
{
    [Fact]
    public async Task Framework_that_resubscribes_within_failover_timeout_keeps_its_tasks()
    {
        await using var cluster = await InProcessCluster.StartAsync();
        string frameworkId;
        await using (var first = new RawScheduler(cluster.MasterUrl) { AutoAcknowledge = false })
        {
            await first.SubscribeAsync(RawScheduler.FrameworkInfo(failoverTimeout: 60));
            frameworkId = first.FrameworkId!;
            var offer = await first.NextOfferAsync();
            await first.LaunchAsync(offer, "survivor", "sleep 1000");
            await first.AcknowledgeAsync(await first.WaitForUpdateAsync("survivor", "TASK_STARTING"));
            await first.AcknowledgeAsync(await first.WaitForUpdateAsync("survivor", "TASK_RUNNING"));
            await first.DisconnectAsync();
        }

        await Poll.UntilAsync(async () => (await MasterState(cluster))["frameworks"]![0]!["connected"]!.GetValue<bool>() == false, "the master to see the disconnect");

        await using var second = new RawScheduler(cluster.MasterUrl);
        await second.SubscribeAsync(RawScheduler.FrameworkInfo(failoverTimeout: 60, id: frameworkId), frameworkId);
        second.FrameworkId.Should().Be(frameworkId);
        await second.ReconcileAsync("survivor");
        await second.WaitForUpdateAsync("survivor", "TASK_RUNNING");
        OrphanReaper.FindTaskProcesses(cluster.SandboxRoot).Should().NotBeEmpty("the task kept running through the failover");
        await second.KillAsync("survivor");
        await second.WaitForUpdateAsync("survivor", "TASK_KILLED");
    }

    [Fact]
    public async Task Framework_gone_longer_than_failover_timeout_is_torn_down_and_its_tasks_killed()
    {
        await using var cluster = await InProcessCluster.StartAsync();
        string frameworkId;
        await using (var scheduler = new RawScheduler(cluster.MasterUrl))
        {
            await scheduler.SubscribeAsync(RawScheduler.FrameworkInfo(failoverTimeout: 1));
            frameworkId = scheduler.FrameworkId!;
            var offer = await scheduler.NextOfferAsync();
            await scheduler.LaunchAsync(offer, "orphan", "sleep 1000");
            await scheduler.WaitForUpdateAsync("orphan", "TASK_RUNNING");
            await scheduler.DisconnectAsync();
        }

        await Poll.UntilAsync(async () => (await MasterState(cluster))["completed_frameworks"]!.AsArray().Any(f => (string?)f!["id"] == frameworkId), "the framework to be removed");
        await Poll.UntilAsync(() => OrphanReaper.FindTaskProcesses(cluster.SandboxRoot).Count == 0, "its task to be killed");

        // A removed framework can't come back under the same id.
        await using var again = new RawScheduler(cluster.MasterUrl);
        await again.SubscribeAsync(RawScheduler.FrameworkInfo(id: frameworkId), frameworkId);
        var error = again.Events.Single(e => (string?)e["type"] == "ERROR");
        ((string?)error["error"]!["message"]).Should().Be("Framework has been removed");
    }

    [Fact]
    public async Task Killed_agent_becomes_unreachable_and_its_tasks_are_reported()
    {
        await using var cluster = await InProcessCluster.StartAsync(
            m =>
            {
                m.AgentPingTimeout = TimeSpan.FromMilliseconds(500);
                m.MaxAgentPingTimeouts = 2;
            },
            withAgent: false);
        await using var agent = MezzoProcess.Start("agent", "--master", cluster.MasterAddress, "--port", "0", "--ip", "127.0.0.1",
            "--hostname", "127.0.0.1", "--work-dir", Path.Combine(cluster.WorkDir, "agent"), "--resources", "cpus:2;mem:1024;disk:1000;ports:[31000-31010]", "--allow-root-tasks");
        await agent.WaitForUrlAsync();

        await using var aware = new RawScheduler(cluster.MasterUrl);
        await aware.SubscribeAsync(RawScheduler.FrameworkInfo("aware", partitionAware: true));
        var offer = await aware.NextOfferAsync();
        // The ACCEPT's filter keeps the rest of this agent away from "aware", so it is offered to "plain".
        await aware.LaunchAsync(offer, "pa-task", "sleep 1000", """[{"name":"cpus","type":"SCALAR","scalar":{"value":1}},{"name":"mem","type":"SCALAR","scalar":{"value":32}}]""", refuseSeconds: 3600);
        await aware.WaitForUpdateAsync("pa-task", "TASK_RUNNING");

        await using var plain = new RawScheduler(cluster.MasterUrl);
        await plain.SubscribeAsync(RawScheduler.FrameworkInfo("plain"));
        var offer2 = await plain.NextOfferAsync();
        await plain.LaunchAsync(offer2, "plain-task", "sleep 1000");
        await plain.WaitForUpdateAsync("plain-task", "TASK_RUNNING");

        agent.Kill9();

        var unreachable = await aware.WaitForUpdateAsync("pa-task", "TASK_UNREACHABLE");
        ((string?)unreachable["update"]!["status"]!["reason"]).Should().Be("REASON_AGENT_REMOVED");
        await plain.WaitForUpdateAsync("plain-task", "TASK_LOST");
        var metrics = JsonNode.Parse(await cluster.Http.GetStringAsync(new Uri(cluster.MasterUrl, "metrics/snapshot")))!;
        ((double?)metrics["master/slaves_unreachable"]).Should().Be(1);
        // kill -9 of the agent does not take its tasks with it (they run in their own sessions); clean them up here.
        OrphanReaper.KillTasksUnder(cluster.WorkDir).Should().BeGreaterThanOrEqualTo(2, "both tasks (a shell and its sleep each, unless the shell execs) outlive the agent");
    }

    private static async Task<JsonNode> MasterState(InProcessCluster cluster) =>
        JsonNode.Parse(await cluster.Http.GetStringAsync(new Uri(cluster.MasterUrl, "master/state")))!;
}
