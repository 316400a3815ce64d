using Mezzo.Core.Resources;
using Mezzo.Core.Tasks;
using Mezzo.Master.Scheduler;
using Mezzo.Protocol.Agents;
using Mezzo.Protocol.V1;

namespace Mezzo.Master.Tests;

/// <summary>The master's side of executors: resources held per executor, task groups all or nothing, messages relayed.</summary>
public sealed class ExecutorTests
{
    private static ExecutorInfo Custom(string id, string mem = "mem:100") => new()
    {
        ExecutorId = new ExecutorID { Value = id },
        Command = new CommandInfo { Value = "./executor" },
        Resources = ResourceConversion.ToWire(Resources.Parse("cpus:0.5;" + mem)),
    };

    private static TaskInfo Task(string id, string agentId, ExecutorInfo? executor, string resources = "cpus:0.5;mem:10") => new()
    {
        Name = id,
        TaskId = new TaskID { Value = id },
        AgentId = new AgentID { Value = agentId },
        Resources = ResourceConversion.ToWire(Resources.Parse(resources)),
        Executor = executor,
        Command = executor is null ? new CommandInfo { Value = "true" } : null,
    };

    private static async Task<Offer> OfferAsync(MasterHarness harness, Mezzo.Master.Streams.OutboundStream<Event> scheduler)
    {
        await harness.AdvanceAsync(TimeSpan.FromMilliseconds(100));
        return (await MasterHarness.NextAsync(scheduler, e => e.Type == EventType.OFFERS)).Offers!.Offers![0];
    }

    private static Task<Mezzo.Master.Actor.CallResult> AcceptAsync(MasterHarness harness, string frameworkId, SchedulerConnection scheduler, Offer offer, OfferOperation operation) =>
        harness.CallAsync(frameworkId, scheduler, new Call
        {
            Type = CallType.ACCEPT,
            Accept = new CallAccept { OfferIds = [offer.Id!], Operations = [operation], Filters = new Filters { RefuseSeconds = 0 } },
        });

    private static OfferOperation Launch(params TaskInfo[] tasks) =>
        new() { Type = OfferOperationType.LAUNCH, Launch = new OfferOperationLaunch { TaskInfos = [.. tasks] } };

    private static List<AgentEvent> Drain(Mezzo.Master.Agents.AgentConnection agent)
    {
        var events = new List<AgentEvent>();
        while (agent.Reader.TryRead(out var ev))
        {
            events.Add(ev);
        }

        return events;
    }

    private static async Task<double> UsedMemAsync(MasterHarness harness) =>
        System.Text.Json.Nodes.JsonNode.Parse((await harness.Actor.GetSnapshotAsync()).StateJson)!["frameworks"]![0]!["used_resources"]!["mem"]!.GetValue<double>();

    [Fact]
    public async Task Executor_resources_are_held_once_for_all_its_tasks_and_freed_when_it_exits()
    {
        await using var harness = new MasterHarness();
        var (agentId, agent) = await harness.AddAgentAsync("cpus:4;mem:4096");
        var (frameworkId, scheduler) = await harness.SubscribeAsync();

        var offer = await OfferAsync(harness, scheduler);
        (await AcceptAsync(harness, frameworkId, scheduler, offer, Launch(Task("a", agentId, Custom("e")), Task("b", agentId, Custom("e"))))).StatusCode.Should().Be(202);

        (await MasterHarness.NextAsync(agent, e => e.Type == AgentEventType.RUN_TASK)).RunTask!.Task!.Executor!.FrameworkId!.Value.Should().Be(frameworkId);
        (await UsedMemAsync(harness)).Should().Be(100 + 10 + 10);

        var exited = await harness.Actor.Ask(() => harness.Actor.AgentExecutorExited(agentId, agent.StreamId, new AgentExecutorExited
        {
            FrameworkId = new FrameworkID { Value = frameworkId },
            ExecutorId = new ExecutorID { Value = "e" },
            Status = 256,
        }));

        exited.StatusCode.Should().Be(202);
        (await UsedMemAsync(harness)).Should().Be(10 + 10, "the tasks still hold theirs until they are terminal");
        var failure = await MasterHarness.NextAsync(scheduler, e => e.Type == EventType.FAILURE);
        failure.Failure!.ExecutorId!.Value.Should().Be("e");
        failure.Failure.Status.Should().Be(256);
        failure.Failure.AgentId!.Value.Should().Be(agentId);
    }

    [Fact]
    public async Task Executor_resources_that_do_not_fit_beside_the_task_are_TASK_ERROR()
    {
        await using var harness = new MasterHarness();
        var (agentId, agent) = await harness.AddAgentAsync("cpus:4;mem:200");
        var (frameworkId, scheduler) = await harness.SubscribeAsync();
        var offer = await OfferAsync(harness, scheduler);

        await AcceptAsync(harness, frameworkId, scheduler, offer, Launch(Task("big", agentId, Custom("e", "mem:195"))));

        var error = await MasterHarness.NextAsync(scheduler, e => e.Type == EventType.UPDATE);
        error.Update!.Status!.State.Should().Be(TaskState.TASK_ERROR);
        error.Update.Status.Message.Should().StartWith("Executor uses more resources");
        Drain(agent).Should().NotContain(e => e.Type == AgentEventType.RUN_TASK, "nothing was sent to the agent");
    }

    [Fact]
    public async Task An_agent_that_no_longer_runs_an_executor_frees_its_resources_when_it_resubscribes()
    {
        await using var harness = new MasterHarness();
        var (agentId, _) = await harness.AddAgentAsync("cpus:4;mem:4096");
        var (frameworkId, scheduler) = await harness.SubscribeAsync();
        var offer = await OfferAsync(harness, scheduler);
        await AcceptAsync(harness, frameworkId, scheduler, offer, Launch(Task("a", agentId, Custom("e"))));
        (await UsedMemAsync(harness)).Should().Be(110);

        await harness.AddAgentAsync("cpus:4;mem:4096", agentId: agentId);

        (await UsedMemAsync(harness)).Should().Be(0, "the agent reported neither the task nor the executor");
    }

    [Fact]
    public async Task A_task_group_that_does_not_fit_is_refused_whole()
    {
        await using var harness = new MasterHarness();
        var (agentId, agent) = await harness.AddAgentAsync("cpus:4;mem:100");
        var (frameworkId, scheduler) = await harness.SubscribeAsync();
        var offer = await OfferAsync(harness, scheduler);
        var executor = new ExecutorInfo { Type = ExecutorInfoType.DEFAULT, ExecutorId = new ExecutorID { Value = "pod" } };

        await AcceptAsync(harness, frameworkId, scheduler, offer, new OfferOperation
        {
            Type = OfferOperationType.LAUNCH_GROUP,
            LaunchGroup = new OfferOperationLaunchGroup
            {
                Executor = executor,
                TaskGroup = new TaskGroupInfo { Tasks = [Task("fits", agentId, null, "cpus:1;mem:60"), Task("too-much", agentId, null, "cpus:1;mem:60")] },
            },
        });

        foreach (var taskId in (string[])["fits", "too-much"])
        {
            var update = await MasterHarness.NextAsync(scheduler, e => e.Type == EventType.UPDATE && e.Update!.Status!.TaskId!.Value == taskId);
            update.Update!.Status!.State.Should().Be(TaskState.TASK_ERROR);
            update.Update.Status.Reason.Should().Be(TaskStatusReason.REASON_TASK_GROUP_INVALID);
            update.Update.Status.Message.Should().Contain("Task 'too-much' is invalid");
        }

        Drain(agent).Should().NotContain(e => e.Type == AgentEventType.RUN_TASK_GROUP, "no task of the group reached the agent");
        (await UsedMemAsync(harness)).Should().Be(0);
    }

    [Fact]
    public async Task Messages_go_from_framework_to_agent_and_from_agent_to_framework()
    {
        await using var harness = new MasterHarness();
        var (agentId, agent) = await harness.AddAgentAsync();
        var (frameworkId, scheduler) = await harness.SubscribeAsync();

        var sent = await harness.CallAsync(frameworkId, scheduler, new Call
        {
            Type = CallType.MESSAGE,
            Message = new CallMessage { AgentId = new AgentID { Value = agentId }, ExecutorId = new ExecutorID { Value = "e" }, Data = [1, 2] },
        });
        var toUnknownAgent = await harness.CallAsync(frameworkId, scheduler, new Call
        {
            Type = CallType.MESSAGE,
            Message = new CallMessage { AgentId = new AgentID { Value = "nowhere" }, ExecutorId = new ExecutorID { Value = "e" }, Data = [1] },
        });
        var relayed = await harness.Actor.Ask(() => harness.Actor.AgentExecutorMessage(agentId, agent.StreamId, new AgentExecutorMessage
        {
            FrameworkId = new FrameworkID { Value = frameworkId },
            ExecutorId = new ExecutorID { Value = "e" },
            Data = [3],
        }));
        var staleStream = await harness.Actor.Ask(() => harness.Actor.AgentExecutorMessage(agentId, "old-stream", new AgentExecutorMessage
        {
            FrameworkId = new FrameworkID { Value = frameworkId },
            ExecutorId = new ExecutorID { Value = "e" },
            Data = [4],
        }));

        sent.StatusCode.Should().Be(202);
        toUnknownAgent.StatusCode.Should().Be(202, "Mesos drops a message for an unknown agent without an error");
        var toAgent = await MasterHarness.NextAsync(agent, e => e.Type == AgentEventType.FRAMEWORK_MESSAGE);
        toAgent.FrameworkMessage!.Data.Should().Equal(1, 2);
        toAgent.FrameworkMessage.FrameworkId!.Value.Should().Be(frameworkId);
        relayed.StatusCode.Should().Be(202);
        var toFramework = await MasterHarness.NextAsync(scheduler, e => e.Type == EventType.MESSAGE);
        toFramework.Message!.Data.Should().Equal(3);
        toFramework.Message.AgentId!.Value.Should().Be(agentId);
        staleStream.StatusCode.Should().Be(403);
    }
}
