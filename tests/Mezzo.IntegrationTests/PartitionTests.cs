using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using AwesomeAssertions;
using Mezzo.Agent.Tasks;
using Mezzo.IntegrationTests.Infrastructure;

namespace Mezzo.IntegrationTests;

/// <summary>
/// Partitions on a real cluster: the agent process runs in a network namespace of its own, joined to the master's host
/// by a veth pair, and the partition is that link going down (packets dropped, connections hanging, as on a cut
/// network); healing brings it back up. The link is restored in a finally and deleted with the test.
/// </summary>
public sealed class PartitionTests
{
    private const string OneCpu = """[{"name":"cpus","type":"SCALAR","scalar":{"value":1}},{"name":"mem","type":"SCALAR","scalar":{"value":32}}]""";

    [Fact]
    public async Task Partitioned_agent_comes_back_with_the_partition_aware_task_still_running_and_the_lost_one_killed()
    {
        await using var net = await NetworkPartition.CreateAsync();
        await using var cluster = await StartAsync(net);
        await using var agent = await StartAgentProcessAsync(cluster, net);
        try
        {
            await using var aware = new RawScheduler(cluster.MasterUrl);
            await aware.SubscribeAsync(RawScheduler.FrameworkInfo("aware", partitionAware: true));
            await aware.LaunchAsync(await aware.NextOfferAsync(), "pa-task", "sleep 1000", OneCpu, refuseSeconds: 3600);
            await aware.WaitForUpdateAsync("pa-task", "TASK_RUNNING");
            await using var plain = new RawScheduler(cluster.MasterUrl);
            await plain.SubscribeAsync(RawScheduler.FrameworkInfo("plain"));
            await plain.LaunchAsync(await plain.NextOfferAsync(), "plain-task", "sleep 1000", OneCpu, refuseSeconds: 3600);
            await plain.WaitForUpdateAsync("plain-task", "TASK_RUNNING");
            var pids = (await TaskPids.WhenRunningAsync(cluster.SandboxRoot, count: 2)).Order().ToList();

            await net.CutAsync();
            var unreachable = await aware.WaitForUpdateAsync("pa-task", "TASK_UNREACHABLE");
            ((string?)unreachable["update"]!["status"]!["reason"]).Should().Be("REASON_AGENT_REMOVED");
            unreachable["update"]!["status"]!["unreachable_time"]!["nanoseconds"]!.GetValue<long>().Should().BePositive();
            var lost = await plain.WaitForUpdateAsync("plain-task", "TASK_LOST");
            lost["update"]!["status"]!["unreachable_time"].Should().NotBeNull();
            var awareMark = aware.Events.Count;
            var plainMark = plain.Events.Count;

            await net.HealAsync();
            var back = await aware.WaitForAfterAsync(awareMark, e => IsUpdate(e, "pa-task", "TASK_RUNNING"), "pa-task running again", TimeSpan.FromSeconds(30));
            ((string?)back["update"]!["status"]!["reason"]).Should().Be("REASON_AGENT_REREGISTERED");

            // Told TASK_LOST, the plain framework may have replaced its task: the copy that comes back is killed.
            await plain.WaitForAfterAsync(plainMark, e => IsUpdate(e, "plain-task", "TASK_KILLED"), "plain-task killed on return", TimeSpan.FromSeconds(30));
            plain.Updates("plain-task").Should().NotContain(u => (string?)u["update"]!["status"]!["state"] == "TASK_RUNNING" && (string?)u["update"]!["status"]!["reason"] == "REASON_AGENT_REREGISTERED");
            var remaining = await Poll.UntilAsync(() => Task.FromResult(OrphanReaper.FindTaskProcesses(cluster.SandboxRoot).Order().ToList() is { } now && now.Count < pids.Count ? now : null), "the lost task's processes to end");
            remaining.Should().NotBeEmpty().And.OnlyContain(pid => pids.Contains(pid), "the partition-aware task's processes ran through the partition untouched");

            await aware.KillAsync("pa-task");
            await aware.WaitForUpdateAsync("pa-task", "TASK_KILLED");
        }
        finally
        {
            await net.HealAsync();
            OrphanReaper.KillTasksUnder(cluster.SandboxRoot);
        }
    }

    [Fact]
    public async Task A_task_relaunched_elsewhere_during_a_partition_runs_once_the_returning_copy_is_killed()
    {
        await using var net = await NetworkPartition.CreateAsync();
        await using var cluster = await StartAsync(net);
        await using var agent = await StartAgentProcessAsync(cluster, net);
        var firstRoot = cluster.SandboxRoot;
        var secondRoot = Path.Combine(cluster.WorkDir, "agent-b", "slaves");
        try
        {
            await using var plain = new RawScheduler(cluster.MasterUrl);
            await plain.SubscribeAsync(RawScheduler.FrameworkInfo("plain"));
            await plain.LaunchAsync(await plain.NextOfferAsync(), "t", "sleep 1000", OneCpu);
            await plain.WaitForUpdateAsync("t", "TASK_RUNNING");

            await net.CutAsync();
            await plain.WaitForUpdateAsync("t", "TASK_LOST");
            var mark = plain.Events.Count;
            await cluster.StartAgentAsync(o => o.WorkDir = Path.Combine(cluster.WorkDir, "agent-b"));
            var secondId = await Poll.UntilAsync(
                async () => (string?)(await cluster.StateAsync())["slaves"]!.AsArray().FirstOrDefault(a => (bool?)a!["active"] == true)?["id"], "the second agent");
            var offer = await plain.NextOfferAsync(e => (string?)e["offers"]!["offers"]![0]!["agent_id"]!["value"] == secondId);
            (await plain.LaunchAsync(offer, "t", "sleep 1000", OneCpu)).Status.Should().Be(HttpStatusCode.Accepted, "TASK_LOST let the framework reuse the id");
            await plain.WaitForAfterAsync(mark, e => IsUpdate(e, "t", "TASK_RUNNING"), "the relaunch running");
            OrphanReaper.FindTaskProcesses(secondRoot).Should().NotBeEmpty();
            mark = plain.Events.Count;

            await net.HealAsync();
            var killed = await plain.WaitForAfterAsync(mark, e => IsUpdate(e, "t", "TASK_KILLED"), "the returning copy to be killed", TimeSpan.FromSeconds(30));
            ((string?)killed["update"]!["status"]!["agent_id"]!["value"]).Should().NotBe(secondId, "the copy on the returning agent is the one killed");
            await Poll.UntilAsync(() => Task.FromResult(OrphanReaper.FindTaskProcesses(firstRoot).Count == 0), "the returning copy's process to end");
            OrphanReaper.FindTaskProcesses(secondRoot).Should().NotBeEmpty("the relaunch keeps running");

            mark = plain.Events.Count;
            await plain.ReconcileAsync("t");
            var answer = await plain.WaitForAfterAsync(mark, e => IsUpdate(e, "t", null), "the reconciliation answer");
            ((string?)answer["update"]!["status"]!["state"]).Should().Be("TASK_RUNNING");
            ((string?)answer["update"]!["status"]!["agent_id"]!["value"]).Should().Be(secondId);
            await plain.KillAsync("t");
            await plain.WaitForAfterAsync(mark, e => IsUpdate(e, "t", "TASK_KILLED"), "the relaunch killed");
        }
        finally
        {
            await net.HealAsync();
            OrphanReaper.KillTasksUnder(firstRoot);
            OrphanReaper.KillTasksUnder(secondRoot);
        }
    }

    [Fact]
    public async Task Agent_marked_gone_while_partitioned_is_shut_down_on_return_and_its_tasks_are_killed()
    {
        await using var net = await NetworkPartition.CreateAsync();
        await using var cluster = await StartAsync(net);
        await using var agent = await StartAgentProcessAsync(cluster, net);
        try
        {
            var agentId = await Poll.UntilAsync(async () => (string?)(await cluster.StateAsync())["slaves"]!.AsArray().FirstOrDefault()?["id"], "the agent to register");
            await using var aware = new RawScheduler(cluster.MasterUrl);
            await aware.SubscribeAsync(RawScheduler.FrameworkInfo("aware", partitionAware: true));
            await aware.LaunchAsync(await aware.NextOfferAsync(), "doomed", "sleep 1000", OneCpu);
            await aware.WaitForUpdateAsync("doomed", "TASK_RUNNING");
            OrphanReaper.FindTaskProcesses(cluster.SandboxRoot).Should().NotBeEmpty();

            await net.CutAsync();
            await aware.WaitForUpdateAsync("doomed", "TASK_UNREACHABLE");
            var (status, body) = await cluster.PostJsonAsync($$"""{"type":"MARK_AGENT_GONE","mark_agent_gone":{"agent_id":{"value":"{{agentId}}"} } }""");
            status.Should().Be(HttpStatusCode.OK, body);
            var gone = await aware.WaitForUpdateAsync("doomed", "TASK_GONE_BY_OPERATOR");
            ((string?)gone["update"]!["status"]!["reason"]).Should().Be("REASON_AGENT_REMOVED_BY_OPERATOR");

            await net.HealAsync();
            await Poll.UntilAsync(() => Task.FromResult(OrphanReaper.FindTaskProcesses(cluster.SandboxRoot).Count == 0), "the gone agent to kill its task when told to shut down");
            await agent.WaitForExitAsync(TimeSpan.FromSeconds(30));
            ((string?)(await cluster.StateAsync())["slaves"]!.AsArray().FirstOrDefault()?["id"]).Should().BeNull("a gone agent is not let back in");
        }
        finally
        {
            await net.HealAsync();
            OrphanReaper.KillTasksUnder(cluster.SandboxRoot);
        }
    }

    [Fact]
    public async Task Drain_caps_a_long_kill_grace_period_and_mark_gone_removes_the_drained_agent()
    {
        await using var cluster = await InProcessCluster.StartAsync();
        var agentId = await Poll.UntilAsync(async () => (string?)(await cluster.StateAsync())["slaves"]!.AsArray().FirstOrDefault()?["id"], "the agent to register");
        await using var scheduler = new RawScheduler(cluster.MasterUrl);
        await scheduler.SubscribeAsync(RawScheduler.FrameworkInfo());
        // Ignores SIGTERM: only the SIGKILL at the end of the grace period ends it.
        await scheduler.LaunchAsync(await scheduler.NextOfferAsync(), "stubborn", "trap '' TERM; while true; do sleep 0.2; done",
            extra: """ "kill_policy": {"grace_period": {"nanoseconds": 120000000000}}, """);
        await scheduler.WaitForUpdateAsync("stubborn", "TASK_RUNNING");

        var watch = Stopwatch.StartNew();
        var (status, body) = await cluster.PostJsonAsync($$"""
            {"type":"DRAIN_AGENT","drain_agent":{"agent_id":{"value":"{{agentId}}"},"max_grace_period":{"nanoseconds":1000000000},"mark_gone":true} }
            """);
        status.Should().Be(HttpStatusCode.OK, body);
        ((string?)(await cluster.StateAsync())["slaves"]![0]!["drain_info"]!["state"]).Should().Be("DRAINING");

        await scheduler.WaitForUpdateAsync("stubborn", "TASK_KILLED", TimeSpan.FromSeconds(30));
        watch.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(20), "the 120 s grace period was capped at the drain's 1 s");
        await Poll.UntilAsync(async () => (await cluster.StateAsync())["slaves"]!.AsArray().Count == 0, "the drained agent to be marked gone");
        var metrics = JsonNode.Parse(await cluster.Http.GetStringAsync(new Uri(cluster.MasterUrl, "metrics/snapshot")))!;
        ((double?)metrics["master/slaves_active"]).Should().Be(0);
        OrphanReaper.FindTaskProcesses(cluster.SandboxRoot).Should().BeEmpty();
    }

    private static bool IsUpdate(JsonObject e, string taskId, string? state) =>
        (string?)e["type"] == "UPDATE" && (string?)e["update"]?["status"]?["task_id"]?["value"] == taskId
        && (state is null || (string?)e["update"]!["status"]!["state"] == state);

    /// <param name="net">When given, the master listens on the host's end of the partition's link (reachable from the host too).</param>
    private static Task<InProcessCluster> StartAsync(NetworkPartition? net = null) => InProcessCluster.StartAsync(
        m =>
        {
            m.AgentPingTimeout = TimeSpan.FromMilliseconds(500);
            m.MaxAgentPingTimeouts = 2;
            if (net is not null)
            {
                m.Ip = net.HostIp;
                m.Hostname = net.HostIp;
            }
        },
        withAgent: false);

    /// <summary>An agent process; with <paramref name="net"/>, inside its namespace, reaching the master over the link.</summary>
    private static async Task<MezzoProcess> StartAgentProcessAsync(InProcessCluster cluster, NetworkPartition? net = null)
    {
        var ip = net?.InnerIp ?? "127.0.0.1";
        var agent = MezzoProcess.StartIn(net?.Command ?? [], null, "agent", "--master", cluster.MasterAddress, "--port", "0", "--ip", ip,
            "--hostname", ip, "--work-dir", Path.Combine(cluster.WorkDir, "agent"), "--resources", "cpus:2;mem:1024;disk:1000;ports:[31000-31010]", "--allow-root-tasks");
        await agent.WaitForUrlAsync();
        return agent;
    }
}
