using System.Text.Json.Nodes;
using Mezzo.Core.Tasks;
using Mezzo.Master.Agents;
using Mezzo.Master.Scheduler;
using Mezzo.Protocol.Agents;
using Mezzo.Protocol.V1;
using Mezzo.Storage.Registry;

namespace Mezzo.Master.Tests;

/// <summary>
/// A master restarted on its registry: frameworks get their failover_timeout and agents --agent-reregister-timeout,
/// both counted from the recovery, to come back; /state lists the agents still awaited as recovered_slaves.
/// </summary>
public sealed class RestartTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "mezzo-restart-" + Guid.NewGuid().ToString("N")[..8]);

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_framework_that_does_not_resubscribe_within_its_failover_timeout_after_a_restart_is_removed_and_its_tasks_killed(bool agentBackFirst)
    {
        var (agentId, frameworkId) = await FirstRunAsync(failoverTimeout: 30);

        await using var harness = new MasterHarness(workDir: _dir);
        var framework = (await StateAsync(harness))["frameworks"]!.AsArray().Single()!;
        ((string?)framework["id"]).Should().Be(frameworkId);
        ((bool)framework["recovered"]!).Should().BeTrue();
        ((double)framework["failover_timeout"]!).Should().Be(30, "the FrameworkInfo comes back from the registry");

        AgentConnection? agent = null;
        if (agentBackFirst)
        {
            agent = await harness.ReturnAgentAsync(agentId, [(frameworkId, "t", TaskState.TASK_RUNNING)]);
        }

        await harness.AdvanceAsync(TimeSpan.FromSeconds(29));
        Removed(harness, frameworkId).Should().BeFalse("its failover timeout has not elapsed since the recovery");
        if (agent is not null)
        {
            Pending(agent).Should().NotContain(e => e.Type == AgentEventType.SHUTDOWN_FRAMEWORK || e.Type == AgentEventType.KILL_TASK);
        }

        await harness.AdvanceAsync(TimeSpan.FromSeconds(2));
        Removed(harness, frameworkId).Should().BeTrue();
        agent ??= await harness.ReturnAgentAsync(agentId, [(frameworkId, "t", TaskState.TASK_RUNNING)]);
        var shutdown = await MasterHarness.NextAsync(agent, e => e.Type == AgentEventType.SHUTDOWN_FRAMEWORK);
        shutdown.ShutdownFramework!.FrameworkId!.Value.Should().Be(frameworkId);

        var (connection, _) = await ResubscribeAsync(harness, frameworkId, failoverTimeout: 30);
        var error = await MasterHarness.NextAsync(connection, _ => true);
        error.Type.Should().Be(EventType.ERROR);
        error.Error!.Message.Should().Be("Framework has been removed");
    }

    [Fact]
    public async Task A_framework_that_resubscribes_in_time_after_a_restart_keeps_its_tasks()
    {
        var (agentId, frameworkId) = await FirstRunAsync(failoverTimeout: 30);

        await using var harness = new MasterHarness(workDir: _dir);
        var agent = await harness.ReturnAgentAsync(agentId, [(frameworkId, "t", TaskState.TASK_RUNNING)]);
        await harness.AdvanceAsync(TimeSpan.FromSeconds(20));
        var (scheduler, id) = await ResubscribeAsync(harness, frameworkId, failoverTimeout: 30);
        id.Should().Be(frameworkId);
        (await MasterHarness.NextAsync(scheduler, _ => true)).Type.Should().Be(EventType.SUBSCRIBED);

        await harness.AdvanceAsync(TimeSpan.FromSeconds(40));
        Removed(harness, frameworkId).Should().BeFalse();
        Pending(agent).Should().NotContain(e => e.Type == AgentEventType.SHUTDOWN_FRAMEWORK || e.Type == AgentEventType.KILL_TASK);
        var framework = (await StateAsync(harness))["frameworks"]!.AsArray().Single()!;
        ((bool)framework["recovered"]!).Should().BeFalse();
        framework["tasks"]!.AsArray().Select(t => ((string?)t!["id"], (string?)t["state"])).Should().Equal(("t", "TASK_RUNNING"));
    }

    [Fact]
    public async Task A_framework_with_no_failover_timeout_is_removed_as_soon_as_the_restarted_master_ticks()
    {
        var (_, frameworkId) = await FirstRunAsync(failoverTimeout: 0);

        await using var harness = new MasterHarness(workDir: _dir);
        // A few allocation intervals: the master's ticker starts on its own thread and may miss the very first advance.
        await harness.AdvanceAsync(TimeSpan.FromSeconds(1));
        Removed(harness, frameworkId).Should().BeTrue("a framework without failover timeout goes as soon as it is disconnected");
    }

    [Fact]
    public async Task Agents_that_do_not_reregister_within_the_reregister_timeout_are_marked_unreachable_and_their_tasks_answered_for()
    {
        string agentId, awareId, plainId;
        await using (var first = new MasterHarness(workDir: _dir))
        {
            AgentConnection agent;
            (agentId, agent) = await first.AddAgentAsync(attributes: "rack:r1;zone:2");
            SchedulerConnection aware, plain;
            (awareId, aware) = await first.SubscribeAsync(failoverTimeout: 600, partitionAware: true);
            await first.LaunchAsync(awareId, aware, agentId, agent, "pa", cpus: 1);
            (plainId, plain) = await first.SubscribeAsync(failoverTimeout: 600);
            await first.LaunchAsync(plainId, plain, agentId, agent, "plain", cpus: 1);
        }

        await using var harness = new MasterHarness(
            o =>
            {
                o.AgentPingTimeout = TimeSpan.FromSeconds(1);
                o.MaxAgentPingTimeouts = 2;
                o.AgentReregisterTimeout = TimeSpan.FromSeconds(60);
            },
            workDir: _dir);
        var state = await StateAsync(harness);
        var recovered = state["recovered_slaves"]!.AsArray().Single()!;
        ((string?)recovered["id"]).Should().Be(agentId);
        ((string?)recovered["hostname"]).Should().Be("h1");
        ((int)recovered["port"]!).Should().Be(5051);
        ((string?)recovered["attributes"]!["rack"]).Should().Be("r1", "the attributes come back from the registry");
        ((double)recovered["attributes"]!["zone"]!).Should().Be(2);
        state["slaves"]!.AsArray().Should().BeEmpty("a recovered agent is listed only as recovered until it re-registers");
        var (awareConnection, _) = await ResubscribeAsync(harness, awareId, failoverTimeout: 600, partitionAware: true);
        var (plainConnection, _) = await ResubscribeAsync(harness, plainId, failoverTimeout: 600);

        // Far beyond the 2 s ping window, but within the re-register timeout: still awaited.
        await harness.AdvanceAsync(TimeSpan.FromSeconds(59));
        harness.Registry.LoadAgents().Single().State.Should().Be(AgentRegistryState.Admitted);

        await harness.AdvanceAsync(TimeSpan.FromSeconds(1.5));
        harness.Registry.LoadAgents().Single().State.Should().Be(AgentRegistryState.Unreachable);
        state = await StateAsync(harness);
        state["recovered_slaves"]!.AsArray().Should().BeEmpty();
        ((int)state["unreachable_slaves"]!).Should().Be(1);

        MasterHarness.Drain(awareConnection, EventType.UPDATE);
        MasterHarness.Drain(plainConnection, EventType.UPDATE);
        await PartitionTests.ReconcileAsync(harness, awareId, awareConnection, ("pa", agentId));
        (await PartitionTests.NextUpdatesAsync(awareConnection, 1))[0].State.Should().Be(TaskState.TASK_UNREACHABLE);
        await PartitionTests.ReconcileAsync(harness, plainId, plainConnection, ("plain", agentId));
        var lost = (await PartitionTests.NextUpdatesAsync(plainConnection, 1))[0];
        lost.State.Should().Be(TaskState.TASK_LOST);
        lost.UnreachableTime.Should().NotBeNull();

        // Back after all: the task of the framework told TASK_LOST is killed, the partition-aware one runs on.
        var connection = await harness.ReturnAgentAsync(agentId, [(awareId, "pa", TaskState.TASK_RUNNING), (plainId, "plain", TaskState.TASK_RUNNING)]);
        var kill = await MasterHarness.NextAsync(connection, e => e.Type == AgentEventType.KILL_TASK);
        (kill.KillTask!.FrameworkId!.Value, kill.KillTask.TaskId!.Value).Should().Be((plainId, "plain"));
        Pending(connection).Should().NotContain(e => e.Type == AgentEventType.KILL_TASK || e.Type == AgentEventType.SHUTDOWN_FRAMEWORK);
        var running = (await PartitionTests.NextUpdatesAsync(awareConnection, 1))[0];
        (running.TaskId!.Value, running.State, running.Reason).Should().Be(("pa", TaskState.TASK_RUNNING, TaskStatusReason.REASON_AGENT_REREGISTERED));
    }

    [Fact]
    public async Task An_agent_that_reregisters_in_time_leaves_recovered_slaves_and_keeps_its_tasks()
    {
        var (agentId, frameworkId) = await FirstRunAsync(failoverTimeout: 600);

        await using var harness = new MasterHarness(o => o.AgentReregisterTimeout = TimeSpan.FromSeconds(5), workDir: _dir);
        var agent = await harness.ReturnAgentAsync(agentId, [(frameworkId, "t", TaskState.TASK_RUNNING)]);
        var state = await StateAsync(harness);
        state["recovered_slaves"]!.AsArray().Should().BeEmpty();
        state["slaves"]!.AsArray().Select(a => (string?)a!["id"]).Should().Equal(agentId);

        await harness.AdvanceKeepingAliveAsync(TimeSpan.FromSeconds(6), (agentId, agent));
        harness.Registry.LoadAgents().Single().State.Should().Be(AgentRegistryState.Admitted);
        Pending(agent).Should().NotContain(e => e.Type == AgentEventType.KILL_TASK || e.Type == AgentEventType.SHUTDOWN_FRAMEWORK);
    }

    [Fact]
    public async Task Unreadable_registry_records_do_not_stop_the_recovery_and_their_agent_and_tasks_are_taken_back()
    {
        await using (var first = new MasterHarness(workDir: _dir))
        {
            first.Registry.UpsertFramework(new FrameworkRecord("fw-bad", "{not json", Removed: false, first.Time.GetUtcNow()));
            first.Registry.UpsertAgent(new AgentRecord("agent-bad", "hb", 5051, "[1,2", AgentRegistryState.Admitted, first.Time.GetUtcNow()));
        }

        await using var harness = new MasterHarness(workDir: _dir);
        var state = await StateAsync(harness);
        state["frameworks"]!.AsArray().Should().BeEmpty("a framework record that cannot be read is not made up");
        var recovered = state["recovered_slaves"]!.AsArray().Single()!;
        ((string?)recovered["id"]).Should().Be("agent-bad");
        recovered["attributes"]!.AsObject().Should().BeEmpty();

        // The agent comes back with a task of that framework: it is adopted, not killed, and the framework may return.
        var agent = await harness.ReturnAgentAsync("agent-bad", [("fw-bad", "t", TaskState.TASK_RUNNING)], hostname: "hb");
        await harness.AdvanceAsync(TimeSpan.FromSeconds(1));
        Pending(agent).Should().NotContain(e => e.Type == AgentEventType.KILL_TASK || e.Type == AgentEventType.SHUTDOWN_FRAMEWORK);
        var (scheduler, id) = await ResubscribeAsync(harness, "fw-bad", failoverTimeout: 60);
        id.Should().Be("fw-bad");
        (await MasterHarness.NextAsync(scheduler, _ => true)).Type.Should().Be(EventType.SUBSCRIBED);
    }

    /// <summary>A master run with one agent and one framework running task "t"; the master then stops.</summary>
    private async Task<(string AgentId, string FrameworkId)> FirstRunAsync(double failoverTimeout)
    {
        await using var first = new MasterHarness(workDir: _dir);
        var (agentId, agent) = await first.AddAgentAsync();
        var (frameworkId, scheduler) = await first.SubscribeAsync(failoverTimeout: failoverTimeout);
        await first.LaunchAsync(frameworkId, scheduler, agentId, agent, "t");
        await first.AgentUpdateAsync(agentId, agent, frameworkId, "t", TaskState.TASK_RUNNING);
        return (agentId, frameworkId);
    }

    private static async Task<(SchedulerConnection Connection, string? FrameworkId)> ResubscribeAsync(
        MasterHarness harness, string frameworkId, double failoverTimeout, bool partitionAware = false)
    {
        var connection = new SchedulerConnection();
        var info = new FrameworkInfo { User = "u", Name = "f", FailoverTimeout = failoverTimeout, Id = new FrameworkID { Value = frameworkId } };
        if (partitionAware)
        {
            info.Capabilities = [new FrameworkInfoCapability { Type = FrameworkInfoCapabilityType.PARTITION_AWARE }];
        }

        var (result, id) = await harness.Actor.Ask(() => harness.Actor.Subscribe(new Call
        {
            Type = CallType.SUBSCRIBE,
            FrameworkId = new FrameworkID { Value = frameworkId },
            Subscribe = new CallSubscribe { FrameworkInfo = info },
        }, connection));
        result.IsSuccess.Should().BeTrue();
        return (connection, id);
    }

    private static bool Removed(MasterHarness harness, string frameworkId) =>
        harness.Registry.LoadFrameworks().Single(f => f.FrameworkId == frameworkId).Removed;

    private static async Task<JsonNode> StateAsync(MasterHarness harness) =>
        JsonNode.Parse((await harness.Actor.GetSnapshotAsync()).StateJson)!;

    private static List<AgentEvent> Pending(AgentConnection agent)
    {
        var events = new List<AgentEvent>();
        while (agent.Reader.TryRead(out var item))
        {
            events.Add(item);
        }

        return events;
    }

    public void Dispose()
    {
        if (Directory.Exists(_dir))
        {
            Directory.Delete(_dir, recursive: true);
        }
    }
}
