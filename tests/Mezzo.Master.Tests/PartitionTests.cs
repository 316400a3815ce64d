using System.Text.Json.Nodes;
using Mezzo.Core.Tasks;
using Mezzo.Master.Agents;
using Mezzo.Master.Scheduler;
using Mezzo.Protocol.Agents;
using Mezzo.Protocol.V1;
using Mezzo.Storage.Registry;

namespace Mezzo.Master.Tests;

/// <summary>
/// Partitioned agents as Mesos 1.11 handles them: unreachable after missed pings, back on re-registration, forgotten
/// by registry GC, or marked gone by the operator.
/// </summary>
public sealed class PartitionTests
{
    private static readonly TimeSpan Silence = TimeSpan.FromSeconds(2.5);

    [Fact]
    public async Task Silent_agent_turns_tasks_unreachable_or_lost_with_unreachable_time_and_its_resources_leave_the_allocator()
    {
        await using var harness = NewHarness();
        var setup = await TwoFrameworksOnOneAgentAsync(harness);
        var markedAt = harness.Time.GetUtcNow();

        await harness.AdvanceAsync(Silence);

        var unreachable = (await MasterHarness.NextAsync(setup.Aware, e => e.Type == EventType.UPDATE)).Update!.Status!;
        unreachable.TaskId!.Value.Should().Be("pa");
        unreachable.State.Should().Be(TaskState.TASK_UNREACHABLE);
        unreachable.Reason.Should().Be(TaskStatusReason.REASON_AGENT_REMOVED);
        unreachable.Source.Should().Be(TaskStatusSource.SOURCE_MASTER);
        unreachable.AgentId!.Value.Should().Be(setup.AgentId);
        unreachable.Uuid.Should().BeNull("master-generated updates need no acknowledgement");
        var nanos = unreachable.UnreachableTime!.Nanoseconds!.Value;
        nanos.Should().BeGreaterThan(markedAt.ToUnixTimeMilliseconds() * 1_000_000)
            .And.BeLessThanOrEqualTo(harness.Time.GetUtcNow().ToUnixTimeMilliseconds() * 1_000_000);

        var lost = (await MasterHarness.NextAsync(setup.Plain, e => e.Type == EventType.UPDATE)).Update!.Status!;
        lost.TaskId!.Value.Should().Be("plain");
        lost.State.Should().Be(TaskState.TASK_LOST);
        lost.Reason.Should().Be(TaskStatusReason.REASON_AGENT_REMOVED);
        lost.UnreachableTime!.Nanoseconds.Should().Be(nanos, "both frameworks hear the same unreachable time");

        harness.Registry.LoadAgents().Single().State.Should().Be(AgentRegistryState.Unreachable);
        var snapshot = await harness.Actor.GetSnapshotAsync();
        snapshot.Metrics["master/tasks_unreachable"].Should().Be(1);
        snapshot.Metrics["master/tasks_lost"].Should().Be(1);
        snapshot.Metrics["master/cpus_total"].Should().Be(0, "an unreachable agent contributes nothing");
        var state = JsonNode.Parse(snapshot.StateJson)!;
        state["slaves"]!.AsArray().Should().BeEmpty();
        var aware = state["frameworks"]!.AsArray().Single(f => f!["id"]!.GetValue<string>() == setup.AwareId)!;
        aware["tasks"]!.AsArray().Should().BeEmpty();
        aware["unreachable_tasks"]!.AsArray().Single()!["state"]!.GetValue<string>().Should().Be("TASK_UNREACHABLE");
        aware["used_resources"]!["cpus"]!.GetValue<double>().Should().Be(0, "unreachable tasks give their resources back");

        var (_, third) = await harness.SubscribeAsync();
        (await harness.OffersAfterAsync(third)).Should().BeEmpty("the unreachable agent's resources left the allocator");
    }

    [Fact]
    public async Task Returning_agent_brings_partition_aware_tasks_back_and_kills_the_tasks_of_frameworks_told_TASK_LOST()
    {
        await using var harness = NewHarness();
        var setup = await TwoFrameworksOnOneAgentAsync(harness);
        await harness.AdvanceAsync(Silence);
        (await MasterHarness.NextAsync(setup.Aware, e => e.Type == EventType.UPDATE)).Update!.Status!.State.Should().Be(TaskState.TASK_UNREACHABLE);
        (await MasterHarness.NextAsync(setup.Plain, e => e.Type == EventType.UPDATE)).Update!.Status!.State.Should().Be(TaskState.TASK_LOST);

        var back = await harness.ReturnAgentAsync(setup.AgentId,
            [(setup.AwareId, "pa", TaskState.TASK_RUNNING), (setup.PlainId, "plain", TaskState.TASK_RUNNING)]);

        var running = (await MasterHarness.NextAsync(setup.Aware, e => e.Type == EventType.UPDATE)).Update!.Status!;
        running.TaskId!.Value.Should().Be("pa");
        running.State.Should().Be(TaskState.TASK_RUNNING);
        running.Reason.Should().Be(TaskStatusReason.REASON_AGENT_REREGISTERED);
        running.Source.Should().Be(TaskStatusSource.SOURCE_MASTER);
        running.Uuid.Should().BeNull();

        // The framework that was told TASK_LOST may have replaced the task already: the returning copy is killed.
        var events = new List<AgentEvent>();
        while (back.Reader.TryRead(out var item))
        {
            events.Add(item);
        }

        events.Select(e => e.Type).Should().BeEquivalentTo([AgentEventType.SUBSCRIBED, AgentEventType.KILL_TASK]);
        var kill = events.Single(e => e.Type == AgentEventType.KILL_TASK).KillTask!;
        kill.TaskId!.Value.Should().Be("plain");
        kill.FrameworkId!.Value.Should().Be(setup.PlainId);
        harness.Registry.LoadAgents().Single().State.Should().Be(AgentRegistryState.Admitted);
        var snapshot = await harness.Actor.GetSnapshotAsync();
        snapshot.Metrics["master/tasks_unreachable"].Should().Be(0);
        snapshot.Metrics["master/cpus_used"].Should().Be(2, "the killed task holds its resources until the agent reports it ended");
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_task_id_relaunched_elsewhere_is_killed_on_the_returning_agent_so_it_never_runs_twice(bool partitionAware)
    {
        await using var harness = NewHarness();
        var (first, firstConnection) = await harness.AddAgentAsync(hostname: "h1");
        var (frameworkId, scheduler) = await harness.SubscribeAsync(partitionAware: partitionAware);
        await harness.LaunchAsync(frameworkId, scheduler, first, firstConnection, "t");
        await harness.AgentUpdateAsync(first, firstConnection, frameworkId, "t", TaskState.TASK_RUNNING);

        await harness.AdvanceAsync(Silence);
        (await MasterHarness.NextAsync(scheduler, e => e.Type == EventType.UPDATE && e.Update!.Status!.Source == TaskStatusSource.SOURCE_MASTER))
            .Update!.Status!.State.Should().Be(partitionAware ? TaskState.TASK_UNREACHABLE : TaskState.TASK_LOST);

        var (second, secondConnection) = await harness.AddAgentAsync(hostname: "h2");
        await harness.LaunchAsync(frameworkId, scheduler, second, secondConnection, "t");
        await harness.AgentUpdateAsync(second, secondConnection, frameworkId, "t", TaskState.TASK_RUNNING);

        var back = await harness.ReturnAgentAsync(first, [(frameworkId, "t", TaskState.TASK_RUNNING)]);
        var kill = await MasterHarness.NextAsync(back, e => e.Type == AgentEventType.KILL_TASK);
        kill.KillTask!.TaskId!.Value.Should().Be("t");
        secondConnection.Reader.TryRead(out var other).Should().BeFalse($"the relaunch keeps running, got {other?.Type}");

        // The killed copy's terminal update does not touch the relaunched task.
        MasterHarness.Drain(scheduler, EventType.UPDATE);
        await harness.AgentUpdateAsync(first, back, frameworkId, "t", TaskState.TASK_KILLED);
        await harness.CallAsync(frameworkId, scheduler, new Call
        {
            Type = CallType.RECONCILE,
            Reconcile = new CallReconcile { Tasks = [new CallReconcileTask { TaskId = new TaskID { Value = "t" } }] },
        });
        var updates = MasterHarness.Drain(scheduler, EventType.UPDATE).Select(e => e.Update!.Status!).ToList();
        updates.Should().HaveCount(2);
        updates[0].State.Should().Be(TaskState.TASK_KILLED);
        updates[0].AgentId!.Value.Should().Be(first);
        updates[1].State.Should().Be(TaskState.TASK_RUNNING);
        updates[1].AgentId!.Value.Should().Be(second);
        (await harness.Actor.GetSnapshotAsync()).Metrics["master/tasks_running"].Should().Be(1);
    }

    [Fact]
    public async Task Unreachable_tasks_the_returning_agent_no_longer_runs_are_gone()
    {
        await using var harness = NewHarness();
        var (agentId, agent) = await harness.AddAgentAsync();
        var (frameworkId, scheduler) = await harness.SubscribeAsync(partitionAware: true);
        await harness.LaunchAsync(frameworkId, scheduler, agentId, agent, "t");
        await harness.AgentUpdateAsync(agentId, agent, frameworkId, "t", TaskState.TASK_RUNNING);
        await harness.AdvanceAsync(Silence);
        (await MasterHarness.NextAsync(scheduler, e => e.Type == EventType.UPDATE && e.Update!.Status!.State == TaskState.TASK_UNREACHABLE)).Should().NotBeNull();

        await harness.ReturnAgentAsync(agentId, []);

        var gone = (await MasterHarness.NextAsync(scheduler, e => e.Type == EventType.UPDATE)).Update!.Status!;
        gone.State.Should().Be(TaskState.TASK_GONE);
        gone.Reason.Should().Be(TaskStatusReason.REASON_AGENT_REREGISTERED);
        var framework = JsonNode.Parse((await harness.Actor.GetSnapshotAsync()).StateJson)!["frameworks"]![0]!;
        framework["unreachable_tasks"]!.AsArray().Should().BeEmpty();
        framework["completed_tasks"]!.AsArray().Single()!["state"]!.GetValue<string>().Should().Be("TASK_GONE");
    }

    [Fact]
    public async Task Registry_gc_forgets_the_oldest_unreachable_agents_beyond_the_count_and_all_beyond_the_age()
    {
        await using var harness = NewHarness(o =>
        {
            o.RegistryGcInterval = TimeSpan.FromSeconds(1);
            o.RegistryMaxAgentCount = 1;
            o.RegistryMaxAgentAge = TimeSpan.FromSeconds(30);
        });
        var (a, aConnection) = await harness.AddAgentAsync(hostname: "a");
        var (b, bConnection) = await harness.AddAgentAsync(hostname: "b");
        var (c, cConnection) = await harness.AddAgentAsync(hostname: "c");
        var (frameworkId, scheduler) = await harness.SubscribeAsync(partitionAware: true);
        await harness.LaunchAsync(frameworkId, scheduler, a, aConnection, "on-a");
        await harness.AgentUpdateAsync(a, aConnection, frameworkId, "on-a", TaskState.TASK_RUNNING);

        // a falls silent first, b five seconds later; c is marked gone and must never be forgotten.
        await harness.AdvanceKeepingAliveAsync(TimeSpan.FromSeconds(5), (b, bConnection), (c, cConnection));
        (await harness.Actor.Ask(() => harness.Actor.MarkAgentGone(c))).StatusCode.Should().Be(200);
        await harness.AdvanceAsync(Silence + TimeSpan.FromSeconds(2)); // b unreachable, then at least one GC pass

        StateOf(harness, a).Should().BeNull("only the newest unreachable agent fits in a count of 1");
        StateOf(harness, b).Should().Be(AgentRegistryState.Unreachable);
        StateOf(harness, c).Should().Be(AgentRegistryState.Gone);

        // The forgotten agent's task is unknown now; the remembered agent still answers TASK_UNREACHABLE.
        MasterHarness.Drain(scheduler, EventType.UPDATE);
        await ReconcileAsync(harness, frameworkId, scheduler, ("on-a", null), ("x", b));
        var answers = await NextUpdatesAsync(scheduler, 2);
        answers[0].State.Should().Be(TaskState.TASK_UNKNOWN);
        answers[1].State.Should().Be(TaskState.TASK_UNREACHABLE);
        answers[1].UnreachableTime.Should().NotBeNull();

        await harness.AdvanceAsync(TimeSpan.FromSeconds(31));
        StateOf(harness, b).Should().BeNull("it has been unreachable longer than the max age");
        StateOf(harness, c).Should().Be(AgentRegistryState.Gone);
        harness.Registry.LoadAgents().Should().ContainSingle();

        // A forgotten agent coming back is admitted as one never seen, with its task; a gone one is shut down.
        var aBack = await harness.ReturnAgentAsync(a, [(frameworkId, "on-a", TaskState.TASK_RUNNING)], hostname: "a");
        (await MasterHarness.NextAsync(aBack, _ => true)).Type.Should().Be(AgentEventType.SUBSCRIBED);
        StateOf(harness, a).Should().Be(AgentRegistryState.Admitted);
        await ReconcileAsync(harness, frameworkId, scheduler, ("on-a", null));
        (await NextUpdatesAsync(scheduler, 1))[0].State.Should().Be(TaskState.TASK_RUNNING);

        var cBack = await harness.ReturnAgentAsync(c, [], hostname: "c");
        (await MasterHarness.NextAsync(cBack, _ => true)).Type.Should().Be(AgentEventType.SHUTDOWN);
        cBack.IsClosed.Should().BeTrue();
    }

    [Fact]
    public async Task Registry_gc_that_cannot_write_forgets_nothing_and_tries_again()
    {
        FailingRemovals? registry = null;
        await using var harness = new MasterHarness(
            o =>
            {
                o.AgentPingTimeout = TimeSpan.FromSeconds(1);
                o.MaxAgentPingTimeouts = 2;
                o.RegistryGcInterval = TimeSpan.FromSeconds(1);
                o.RegistryMaxAgentAge = TimeSpan.Zero;
            },
            wrapRegistry: inner => registry = new FailingRemovals(inner));
        var (agentId, _) = await harness.AddAgentAsync();
        await harness.AdvanceAsync(Silence + TimeSpan.FromSeconds(2));

        registry!.Attempts.Should().BePositive();
        StateOf(harness, agentId).Should().Be(AgentRegistryState.Unreachable);
        (await harness.Actor.GetSnapshotAsync()).Metrics["master/slaves_unreachable"].Should().Be(1, "the failed write forgot nothing");

        registry.Failing = false;
        await harness.AdvanceAsync(TimeSpan.FromSeconds(2));
        StateOf(harness, agentId).Should().BeNull();
        (await harness.Actor.GetSnapshotAsync()).Metrics["master/slaves_unreachable"].Should().Be(0);
    }

    [Fact]
    public async Task A_new_agent_at_a_registered_agents_address_replaces_it_and_its_tasks_are_gone()
    {
        await using var harness = NewHarness();
        var setup = await TwoFrameworksOnOneAgentAsync(harness);

        // The same host and port, but no agent id: the agent's host rebooted (a new boot id) and it starts afresh.
        var (newId, _) = await harness.AddAgentAsync();

        newId.Should().NotBe(setup.AgentId);
        var gone = (await MasterHarness.NextAsync(setup.Aware, e => e.Type == EventType.UPDATE)).Update!.Status!;
        gone.State.Should().Be(TaskState.TASK_GONE);
        gone.Reason.Should().Be(TaskStatusReason.REASON_AGENT_REMOVED);
        gone.AgentId!.Value.Should().Be(setup.AgentId);
        gone.Message.Should().Contain("replaced by a new agent");
        var lost = (await MasterHarness.NextAsync(setup.Plain, e => e.Type == EventType.UPDATE)).Update!.Status!;
        lost.State.Should().Be(TaskState.TASK_LOST);
        lost.Reason.Should().Be(TaskStatusReason.REASON_AGENT_REMOVED);
        StateOf(harness, setup.AgentId).Should().Be(AgentRegistryState.Gone);
        (await MasterHarness.NextAsync(setup.Connection, e => e.Type == AgentEventType.SHUTDOWN)).Shutdown!.Message.Should().Contain("replaced");

        // An agent at another address is no replacement.
        var (otherId, _) = await harness.AddAgentAsync(hostname: "h2");
        StateOf(harness, newId).Should().Be(AgentRegistryState.Admitted);
        StateOf(harness, otherId).Should().Be(AgentRegistryState.Admitted);
    }

    [Fact]
    public async Task Marking_an_unreachable_agent_gone_turns_its_tasks_gone_and_it_is_shut_down_when_it_returns()
    {
        await using var harness = NewHarness();
        var setup = await TwoFrameworksOnOneAgentAsync(harness);
        await harness.AdvanceAsync(Silence);
        MasterHarness.Drain(setup.Aware, EventType.UPDATE);
        MasterHarness.Drain(setup.Plain, EventType.UPDATE);

        (await harness.Actor.Ask(() => harness.Actor.MarkAgentGone(setup.AgentId))).StatusCode.Should().Be(200);

        var gone = (await MasterHarness.NextAsync(setup.Aware, e => e.Type == EventType.UPDATE)).Update!.Status!;
        gone.State.Should().Be(TaskState.TASK_GONE_BY_OPERATOR);
        gone.Reason.Should().Be(TaskStatusReason.REASON_AGENT_REMOVED_BY_OPERATOR);
        var lost = (await MasterHarness.NextAsync(setup.Plain, e => e.Type == EventType.UPDATE)).Update!.Status!;
        lost.State.Should().Be(TaskState.TASK_LOST);
        lost.Reason.Should().Be(TaskStatusReason.REASON_AGENT_REMOVED);
        StateOf(harness, setup.AgentId).Should().Be(AgentRegistryState.Gone);

        var back = await harness.ReturnAgentAsync(setup.AgentId,
            [(setup.AwareId, "pa", TaskState.TASK_RUNNING), (setup.PlainId, "plain", TaskState.TASK_RUNNING)]);
        var shutdown = await MasterHarness.NextAsync(back, _ => true);
        shutdown.Type.Should().Be(AgentEventType.SHUTDOWN, "the agent kills all its tasks on SHUTDOWN");
        back.IsClosed.Should().BeTrue();
        MasterHarness.Drain(setup.Aware, EventType.UPDATE).Should().BeEmpty("a gone agent's report changes nothing");
        (await harness.Actor.GetSnapshotAsync()).Metrics["master/tasks_running"].Should().Be(0);
    }

    [Fact]
    public async Task Marking_a_connected_agent_gone_shuts_it_down_and_reports_its_tasks_gone()
    {
        await using var harness = NewHarness();
        var setup = await TwoFrameworksOnOneAgentAsync(harness);

        (await harness.Actor.Ask(() => harness.Actor.MarkAgentGone(setup.AgentId))).StatusCode.Should().Be(200);

        (await MasterHarness.NextAsync(setup.Connection, e => e.Type == AgentEventType.SHUTDOWN)).Shutdown!.Message.Should().Be("Agent has been marked gone");
        setup.Connection.IsClosed.Should().BeTrue();
        var gone = (await MasterHarness.NextAsync(setup.Aware, e => e.Type == EventType.UPDATE)).Update!.Status!;
        gone.State.Should().Be(TaskState.TASK_GONE_BY_OPERATOR);
        gone.Reason.Should().Be(TaskStatusReason.REASON_AGENT_REMOVED_BY_OPERATOR);
        gone.UnreachableTime.Should().BeNull();
        (await MasterHarness.NextAsync(setup.Plain, e => e.Type == EventType.UPDATE)).Update!.Status!.State.Should().Be(TaskState.TASK_LOST);
        (await harness.Actor.Ask(() => harness.Actor.MarkAgentGone(setup.AgentId))).StatusCode.Should().Be(200, "marking gone again is idempotent");
        MasterHarness.Drain(setup.Aware, EventType.UPDATE).Should().BeEmpty();
    }

    [Fact]
    public async Task After_a_restart_too_many_missing_agents_are_held_rather_than_marked_unreachable()
    {
        var dir = Path.Combine(Path.GetTempPath(), "mezzo-removal-limit-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            var ids = new List<string>();
            await using (var first = new MasterHarness(workDir: dir))
            {
                foreach (var host in (string[])["a", "b", "c", "d"])
                {
                    ids.Add((await first.AddAgentAsync(hostname: host)).AgentId);
                }
            }

            await using var harness = new MasterHarness(
                o =>
                {
                    // A ping window far beyond the test: only the re-register timeout can mark the missing agents.
                    o.AgentPingTimeout = TimeSpan.FromSeconds(1);
                    o.MaxAgentPingTimeouts = 100;
                    o.RecoveryAgentRemovalLimitPercent = 50;
                    o.AgentReregisterTimeout = TimeSpan.FromSeconds(2);
                },
                workDir: dir);
            var a = await harness.ReturnAgentAsync(ids[0], [], hostname: "a");

            // Three of four (75 %) missing is beyond the 50 % limit: nobody is marked unreachable.
            await harness.AdvanceKeepingAliveAsync(TimeSpan.FromSeconds(3), (ids[0], a));
            harness.Registry.LoadAgents().Should().AllSatisfy(r => r.State.Should().Be(AgentRegistryState.Admitted));

            // Once two more are back, one missing of four (25 %) is within it, and that one is marked.
            var b = await harness.ReturnAgentAsync(ids[1], [], hostname: "b");
            var c = await harness.ReturnAgentAsync(ids[2], [], hostname: "c");
            await harness.AdvanceKeepingAliveAsync(TimeSpan.FromSeconds(1), (ids[0], a), (ids[1], b), (ids[2], c));
            StateOf(harness, ids[3]).Should().Be(AgentRegistryState.Unreachable);
            harness.Registry.LoadAgents().Count(r => r.State == AgentRegistryState.Admitted).Should().Be(3);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    internal static MasterHarness NewHarness(Action<MasterOptions>? configure = null) => new(o =>
    {
        o.AgentPingTimeout = TimeSpan.FromSeconds(1);
        o.MaxAgentPingTimeouts = 2;
        configure?.Invoke(o);
    });

    internal sealed record Setup(string AgentId, AgentConnection Connection, string AwareId, SchedulerConnection Aware, string PlainId, SchedulerConnection Plain);

    /// <summary>One agent running "pa" of a PARTITION_AWARE framework and "plain" of one that is not.</summary>
    internal static async Task<Setup> TwoFrameworksOnOneAgentAsync(MasterHarness harness)
    {
        var (agentId, agent) = await harness.AddAgentAsync();
        var (awareId, aware) = await harness.SubscribeAsync(partitionAware: true);
        await harness.LaunchAsync(awareId, aware, agentId, agent, "pa", cpus: 1);
        var (plainId, plain) = await harness.SubscribeAsync();
        await harness.LaunchAsync(plainId, plain, agentId, agent, "plain", cpus: 1);
        await harness.AgentUpdateAsync(agentId, agent, awareId, "pa", TaskState.TASK_RUNNING);
        await harness.AgentUpdateAsync(agentId, agent, plainId, "plain", TaskState.TASK_RUNNING);
        MasterHarness.Drain(aware, EventType.UPDATE);
        MasterHarness.Drain(plain, EventType.UPDATE);
        return new Setup(agentId, agent, awareId, aware, plainId, plain);
    }

    internal static Task<Actor.CallResult> ReconcileAsync(MasterHarness harness, string frameworkId, SchedulerConnection scheduler, params (string TaskId, string? AgentId)[] tasks) =>
        harness.CallAsync(frameworkId, scheduler, new Call
        {
            Type = CallType.RECONCILE,
            Reconcile = new CallReconcile
            {
                Tasks = [.. tasks.Select(t => new CallReconcileTask
                {
                    TaskId = new TaskID { Value = t.TaskId },
                    AgentId = t.AgentId is null ? null : new AgentID { Value = t.AgentId },
                })],
            },
        });

    internal static async Task<List<TaskStatus>> NextUpdatesAsync(SchedulerConnection scheduler, int count)
    {
        var updates = new List<TaskStatus>();
        while (updates.Count < count)
        {
            updates.Add((await MasterHarness.NextAsync(scheduler, e => e.Type == EventType.UPDATE)).Update!.Status!);
        }

        return updates;
    }

    /// <summary>A registry whose agent removals fail (a lost etcd quorum, a full disk) until told otherwise.</summary>
    private sealed class FailingRemovals(IRegistryStore inner) : IRegistryStore
    {
        public bool Failing { get; set; } = true;

        public int Attempts { get; private set; }

        public IReadOnlyList<AgentRecord> LoadAgents() => inner.LoadAgents();

        public IReadOnlyList<FrameworkRecord> LoadFrameworks() => inner.LoadFrameworks();

        public void UpsertAgent(AgentRecord agent) => inner.UpsertAgent(agent);

        public void SetAgentState(string agentId, AgentRegistryState state, DateTimeOffset changedAt) => inner.SetAgentState(agentId, state, changedAt);

        public void UpsertFramework(FrameworkRecord framework) => inner.UpsertFramework(framework);

        public void RemoveAgents(IReadOnlyCollection<string> agentIds)
        {
            Attempts++;
            if (Failing)
            {
                throw new IOException("registry unavailable");
            }

            inner.RemoveAgents(agentIds);
        }

        public string? GetValue(string key) => inner.GetValue(key);

        public void SetValue(string key, string value) => inner.SetValue(key, value);

        public void Dispose()
        {
        }
    }

    private static AgentRegistryState? StateOf(MasterHarness harness, string agentId) =>
        harness.Registry.LoadAgents().SingleOrDefault(r => r.AgentId == agentId)?.State;
}
