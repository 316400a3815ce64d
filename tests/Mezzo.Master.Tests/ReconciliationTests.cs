using Mezzo.Core.Tasks;
using Mezzo.Master.Scheduler;
using Mezzo.Protocol.Agents;
using Mezzo.Protocol.V1;
using static Mezzo.Master.Tests.PartitionTests;

namespace Mezzo.Master.Tests;

/// <summary>RECONCILE answered from the master's memory, case by case as Mesos 1.11's master answers it.</summary>
public sealed class ReconciliationTests
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Explicit_reconciliation_answers_every_case_of_the_table(bool partitionAware)
    {
        await using var harness = NewHarness();
        // Agents join one at a time so that each launch has a fresh offer of its own.
        var (frameworkId, scheduler) = await harness.SubscribeAsync(partitionAware: partitionAware);
        var (registered, registeredConnection) = await harness.AddAgentAsync(hostname: "registered");
        await harness.LaunchAsync(frameworkId, scheduler, registered, registeredConnection, "running", cpus: 1);
        var (silent, silentConnection) = await harness.AddAgentAsync(hostname: "silent");
        await harness.LaunchAsync(frameworkId, scheduler, silent, silentConnection, "away", cpus: 1);
        var (gone, _) = await harness.AddAgentAsync(hostname: "gone");

        // The agent's own update carries a message, data and a reason; reconciliation repeats none of them.
        await harness.Actor.Ask(() => harness.Actor.AgentStatusUpdates(registered, registeredConnection.StreamId, [new AgentUpdate
        {
            FrameworkId = new FrameworkID { Value = frameworkId },
            Status = new TaskStatus
            {
                TaskId = new TaskID { Value = "running" },
                AgentId = new AgentID { Value = registered },
                ExecutorId = new ExecutorID { Value = "running" },
                State = TaskState.TASK_RUNNING,
                Source = TaskStatusSource.SOURCE_EXECUTOR,
                Reason = TaskStatusReason.REASON_TASK_HEALTH_CHECK_STATUS_UPDATED,
                Message = "healthy now",
                Data = [1, 2, 3],
                Healthy = true,
                Uuid = Guid.NewGuid().ToByteArray(),
            },
        }]));
        (await harness.Actor.Ask(() => harness.Actor.MarkAgentGone(gone))).StatusCode.Should().Be(200);
        await harness.AdvanceKeepingAliveAsync(TimeSpan.FromSeconds(2.5), (registered, registeredConnection));
        var unreachableSince = (await MasterHarness.NextAsync(scheduler, e => e.Type == EventType.UPDATE && e.Update!.Status!.TaskId!.Value == "away"
            && e.Update.Status.Source == TaskStatusSource.SOURCE_MASTER)).Update!.Status!.UnreachableTime!.Nanoseconds;
        MasterHarness.Drain(scheduler, EventType.UPDATE);

        await ReconcileAsync(harness, frameworkId, scheduler,
            ("running", null),
            ("away", null),
            ("ghost", registered),
            ("ghost", silent),
            ("ghost", gone),
            ("ghost", "no-such-agent"),
            ("ghost", null));
        var answers = await NextUpdatesAsync(scheduler, 7);

        string Lost(string state) => partitionAware ? state : "TASK_LOST";
        answers.Select(a => (a.TaskId!.Value, a.State.ToString(), a.AgentId?.Value, a.Message)).Should().Equal(
            ("running", "TASK_RUNNING", registered, "Reconciliation: Latest task state"),
            ("away", Lost("TASK_UNREACHABLE"), silent, "Reconciliation: Task is unreachable"),
            ("ghost", Lost("TASK_GONE"), registered, "Reconciliation: Task is unknown to the agent"),
            ("ghost", Lost("TASK_UNREACHABLE"), silent, "Reconciliation: Task is unreachable"),
            ("ghost", Lost("TASK_GONE_BY_OPERATOR"), gone, "Reconciliation: Task is gone"),
            ("ghost", Lost("TASK_UNKNOWN"), "no-such-agent", "Reconciliation: Task is unknown"),
            ("ghost", Lost("TASK_UNKNOWN"), null, "Reconciliation: Task is unknown"));
        answers.Should().AllSatisfy(a =>
        {
            a.Source.Should().Be(TaskStatusSource.SOURCE_MASTER);
            a.Reason.Should().Be(TaskStatusReason.REASON_RECONCILIATION);
            a.Uuid.Should().BeNull("reconciliation answers are not acknowledged");
            a.Data.Should().BeNull();
            a.Timestamp.Should().NotBeNull();
        });
        answers[0].Healthy.Should().BeTrue();
        answers[0].ExecutorId!.Value.Should().Be("running");
        answers[1].UnreachableTime!.Nanoseconds.Should().Be(unreachableSince);
        answers[3].UnreachableTime!.Nanoseconds.Should().Be(unreachableSince);
        answers.Where((_, i) => i is not 1 and not 3).Should().AllSatisfy(a => a.UnreachableTime.Should().BeNull());
    }

    [Fact]
    public async Task Implicit_reconciliation_sends_the_latest_state_of_every_task_but_not_those_on_unreachable_agents()
    {
        await using var harness = NewHarness();
        var (frameworkId, scheduler) = await harness.SubscribeAsync(partitionAware: true);
        var (one, oneConnection) = await harness.AddAgentAsync(hostname: "one");
        await harness.LaunchAsync(frameworkId, scheduler, one, oneConnection, "staging", cpus: 1);
        var (two, twoConnection) = await harness.AddAgentAsync(hostname: "two");
        await harness.LaunchAsync(frameworkId, scheduler, two, twoConnection, "running", cpus: 1);
        var (lost, lostConnection) = await harness.AddAgentAsync(hostname: "lost");
        await harness.LaunchAsync(frameworkId, scheduler, lost, lostConnection, "away", cpus: 1);
        await harness.AgentUpdateAsync(two, twoConnection, frameworkId, "running", TaskState.TASK_RUNNING);
        await harness.AdvanceKeepingAliveAsync(TimeSpan.FromSeconds(2.5), (one, oneConnection), (two, twoConnection));
        MasterHarness.Drain(scheduler, EventType.UPDATE);

        (await harness.CallAsync(frameworkId, scheduler, new Call { Type = CallType.RECONCILE, Reconcile = new CallReconcile() })).StatusCode.Should().Be(202);

        var answers = MasterHarness.Drain(scheduler, EventType.UPDATE).Select(e => e.Update!.Status!).ToList();
        answers.Select(a => (a.TaskId!.Value, a.State)).Should().BeEquivalentTo(
            [("staging", TaskState.TASK_STAGING), ("running", TaskState.TASK_RUNNING)]);
        answers.Should().AllSatisfy(a => a.Reason.Should().Be(TaskStatusReason.REASON_RECONCILIATION));
    }

    [Fact]
    public async Task After_a_master_restart_unknown_tasks_are_not_answered_until_their_agent_is_back()
    {
        var dir = Path.Combine(Path.GetTempPath(), "mezzo-reconcile-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            string away;
            await using (var first = new MasterHarness(workDir: dir))
            {
                (away, _) = await first.AddAgentAsync(hostname: "away");
            }

            await using var harness = new MasterHarness(workDir: dir);
            var (back, _) = await harness.AddAgentAsync(hostname: "back");
            var (frameworkId, scheduler) = await harness.SubscribeAsync(partitionAware: true);
            MasterHarness.Drain(scheduler, EventType.UPDATE);

            // Named on the recovered agent, or on no agent while one is recovered: no answer. Then an answered one.
            await ReconcileAsync(harness, frameworkId, scheduler, ("t1", away), ("t2", null), ("t3", back));
            var answered = (await MasterHarness.NextAsync(scheduler, e => e.Type == EventType.UPDATE)).Update!.Status!;
            answered.TaskId!.Value.Should().Be("t3");
            answered.State.Should().Be(TaskState.TASK_GONE);
            MasterHarness.Drain(scheduler, EventType.UPDATE).Should().BeEmpty();

            var connection = await harness.ReturnAgentAsync(away, [], hostname: "away");
            (await MasterHarness.NextAsync(connection, _ => true)).Type.Should().Be(AgentEventType.SUBSCRIBED);
            await ReconcileAsync(harness, frameworkId, scheduler, ("t1", away), ("t2", null));
            var answers = await NextUpdatesAsync(scheduler, 2);
            answers.Select(a => (a.TaskId!.Value, a.State)).Should().Equal(("t1", TaskState.TASK_GONE), ("t2", TaskState.TASK_UNKNOWN));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task A_recovered_agent_that_never_returns_is_marked_unreachable_and_then_answered_for()
    {
        var dir = Path.Combine(Path.GetTempPath(), "mezzo-reconcile-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            string away;
            await using (var first = new MasterHarness(workDir: dir))
            {
                (away, _) = await first.AddAgentAsync(hostname: "away");
            }

            await using var harness = new MasterHarness(
                o =>
                {
                    o.AgentPingTimeout = TimeSpan.FromSeconds(1);
                    o.MaxAgentPingTimeouts = 2;
                    o.AgentReregisterTimeout = TimeSpan.FromSeconds(2);
                },
                workDir: dir);
            var (frameworkId, scheduler) = await harness.SubscribeAsync();
            await ReconcileAsync(harness, frameworkId, scheduler, ("t", away));
            await harness.AdvanceAsync(TimeSpan.FromSeconds(2.5));
            harness.Registry.LoadAgents().Single().State.Should().Be(Storage.Registry.AgentRegistryState.Unreachable);
            MasterHarness.Drain(scheduler, EventType.UPDATE).Should().BeEmpty("the query came while the agent was still expected back");

            await ReconcileAsync(harness, frameworkId, scheduler, ("t", away));
            var answer = (await NextUpdatesAsync(scheduler, 1))[0];
            answer.State.Should().Be(TaskState.TASK_LOST, "the framework is not partition-aware");
            answer.UnreachableTime.Should().NotBeNull();
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task Killing_an_unknown_task_answers_with_its_reconciliation()
    {
        await using var harness = NewHarness();
        var (agentId, _) = await harness.AddAgentAsync();
        var (frameworkId, scheduler) = await harness.SubscribeAsync(partitionAware: true);

        (await harness.CallAsync(frameworkId, scheduler, new Call
        {
            Type = CallType.KILL,
            Kill = new CallKill { TaskId = new TaskID { Value = "nope" }, AgentId = new AgentID { Value = agentId } },
        })).StatusCode.Should().Be(202);

        var answer = (await NextUpdatesAsync(scheduler, 1))[0];
        answer.State.Should().Be(TaskState.TASK_GONE);
        answer.Reason.Should().Be(TaskStatusReason.REASON_RECONCILIATION);
    }
}
