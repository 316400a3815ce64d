using Mezzo.Core.Resources;
using Mezzo.Core.Security;
using Mezzo.Core.Tasks;
using Mezzo.Master.Agents;
using Mezzo.Master.Scheduler;
using Mezzo.Protocol;
using Mezzo.Protocol.Agents;
using Mezzo.Protocol.V1;

namespace Mezzo.Master.Tests.Security;

/// <summary>
/// <c>run_tasks</c> at ACCEPT, as Mesos's master: a task whose user the framework's principal may not run as is
/// TASK_ERROR / REASON_TASK_UNAUTHORIZED naming the user and never reaches the agent; the ACCEPT's other tasks go on;
/// one such task in a LAUNCH_GROUP refuses the whole group (REASON_TASK_GROUP_UNAUTHORIZED).
/// </summary>
public sealed class RunTasksAuthorizationTests
{
    private const string RunAsAlice = """
    {
      "permissive": false,
      "register_frameworks": [{"principals": {"type": "ANY"}, "roles": {"type": "ANY"}}],
      "run_tasks": [
        {"principals": {"values": ["team-a"]}, "users": {"values": ["alice"]}},
        {"principals": {"type": "ANY"}, "users": {"type": "NONE"}}
      ]
    }
    """;

    private static async Task<(MasterHarness Harness, string FrameworkId, SchedulerConnection Scheduler, AgentConnection Agent, Offer Offer)> StartAsync(
        string? principal = "team-a", string user = "alice", string? acls = RunAsAlice)
    {
        var harness = new MasterHarness(o =>
        {
            if (acls is not null)
            {
                o.Security.Acls = Acls.Parse(acls);
            }
        });
        var (_, agent) = await harness.AddAgentAsync();
        var connection = new SchedulerConnection();
        var info = new FrameworkInfo { User = user, Name = "f", Principal = principal };
        var (result, id) = await harness.Actor.Ask(() => harness.Actor.Subscribe(new Call { Type = CallType.SUBSCRIBE, Subscribe = new CallSubscribe { FrameworkInfo = info } }, connection));
        result.IsSuccess.Should().BeTrue(result.Error);
        await harness.AdvanceAsync(TimeSpan.FromMilliseconds(100));
        var offer = (await MasterHarness.NextAsync(connection, e => e.Type == EventType.OFFERS)).Offers!.Offers![0];
        return (harness, id!, connection, agent, offer);
    }

    private static TaskInfo Task(string id, Offer offer, string? user = null, ExecutorInfo? executor = null) => new()
    {
        Name = id,
        TaskId = new TaskID { Value = id },
        AgentId = offer.AgentId,
        Resources = ResourceConversion.ToWire(Resources.Parse("cpus:0.1;mem:10")),
        Executor = executor,
        Command = new CommandInfo { Value = "true", User = user },
    };

    private static async Task AcceptAsync(MasterHarness harness, string frameworkId, SchedulerConnection scheduler, Offer offer, OfferOperation operation)
    {
        var result = await harness.CallAsync(frameworkId, scheduler, new Call
        {
            Type = CallType.ACCEPT,
            Accept = new CallAccept { OfferIds = [offer.Id!], Operations = [operation], Filters = new Filters { RefuseSeconds = 0 } },
        });
        result.StatusCode.Should().Be(202, result.Error);
    }

    private static List<AgentEvent> Drain(AgentConnection agent)
    {
        var events = new List<AgentEvent>();
        while (agent.Reader.TryRead(out var ev))
        {
            events.Add(ev);
        }

        return events;
    }

    private static Task<Event> UpdateOf(SchedulerConnection scheduler, string taskId) =>
        MasterHarness.NextAsync(scheduler, e => e.Type == EventType.UPDATE && e.Update!.Status!.TaskId!.Value == taskId);

    [Fact]
    public async Task A_task_as_a_user_the_principal_may_not_run_as_is_refused_and_the_others_of_the_accept_launch()
    {
        var (harness, frameworkId, scheduler, agent, offer) = await StartAsync();
        await using var _ = harness;

        await AcceptAsync(harness, frameworkId, scheduler, offer, new OfferOperation
        {
            Type = OfferOperationType.LAUNCH,
            Launch = new OfferOperationLaunch { TaskInfos = [Task("as-root", offer, user: "root"), Task("as-alice", offer), Task("explicit-alice", offer, user: "alice")] },
        });

        var refused = (await UpdateOf(scheduler, "as-root")).Update!.Status!;
        refused.State.Should().Be(TaskState.TASK_ERROR);
        refused.Reason.Should().Be(TaskStatusReason.REASON_TASK_UNAUTHORIZED);
        refused.Source.Should().Be(TaskStatusSource.SOURCE_MASTER);
        refused.Message.Should().Be("Not authorized to launch as user 'root'");
        Drain(agent).Where(e => e.Type == AgentEventType.RUN_TASK).Select(e => e.RunTask!.Task!.TaskId!.Value)
            .Should().Equal("as-alice", "explicit-alice");
        var tasks = await harness.Actor.Ask(harness.Actor.GetTasksResponse);
        tasks.Tasks!.Select(t => t.TaskId!.Value).Should().BeEquivalentTo(["as-alice", "explicit-alice"], "the refused task is not tracked");
    }

    [Fact]
    public async Task The_executors_user_decides_when_the_task_names_none()
    {
        var (harness, frameworkId, scheduler, agent, offer) = await StartAsync();
        await using var _ = harness;
        var executor = new ExecutorInfo
        {
            Type = ExecutorInfoType.CUSTOM,
            ExecutorId = new ExecutorID { Value = "e" },
            Command = new CommandInfo { Value = "exec", User = "mallory" },
            Resources = ResourceConversion.ToWire(Resources.Parse("cpus:0.1;mem:10")),
        };
        var task = Task("via-executor", offer, executor: executor);
        task.Command = null;

        await AcceptAsync(harness, frameworkId, scheduler, offer, new OfferOperation
        {
            Type = OfferOperationType.LAUNCH,
            Launch = new OfferOperationLaunch { TaskInfos = [task] },
        });

        var refused = (await UpdateOf(scheduler, "via-executor")).Update!.Status!;
        (refused.State, refused.Reason).Should().Be((TaskState.TASK_ERROR, TaskStatusReason.REASON_TASK_UNAUTHORIZED));
        refused.Message.Should().Contain("'mallory'");
        Drain(agent).Should().NotContain(e => e.Type == AgentEventType.RUN_TASK);
    }

    [Fact]
    public async Task A_framework_without_a_principal_is_the_subject_ANY_and_refused_here()
    {
        var (harness, frameworkId, scheduler, agent, offer) = await StartAsync(principal: null);
        await using var _ = harness;

        await AcceptAsync(harness, frameworkId, scheduler, offer, new OfferOperation
        {
            Type = OfferOperationType.LAUNCH,
            Launch = new OfferOperationLaunch { TaskInfos = [Task("anonymous", offer)] },
        });

        var refused = (await UpdateOf(scheduler, "anonymous")).Update!.Status!;
        (refused.Reason, refused.Message).Should().Be((TaskStatusReason.REASON_TASK_UNAUTHORIZED, "Not authorized to launch as user 'alice'"));
        Drain(agent).Should().NotContain(e => e.Type == AgentEventType.RUN_TASK);
    }

    [Fact]
    public async Task One_unauthorized_task_refuses_its_whole_group()
    {
        var (harness, frameworkId, scheduler, agent, offer) = await StartAsync();
        await using var _ = harness;
        var executor = new ExecutorInfo { Type = ExecutorInfoType.DEFAULT, ExecutorId = new ExecutorID { Value = "pod" } };

        await AcceptAsync(harness, frameworkId, scheduler, offer, new OfferOperation
        {
            Type = OfferOperationType.LAUNCH_GROUP,
            LaunchGroup = new OfferOperationLaunchGroup
            {
                Executor = executor,
                TaskGroup = new TaskGroupInfo { Tasks = [Task("fine", offer), Task("as-root", offer, user: "root")] },
            },
        });

        foreach (var taskId in (string[])["fine", "as-root"])
        {
            var status = (await UpdateOf(scheduler, taskId)).Update!.Status!;
            (status.State, status.Reason).Should().Be((TaskState.TASK_ERROR, TaskStatusReason.REASON_TASK_GROUP_UNAUTHORIZED));
            status.Message.Should().Contain("task 'as-root'").And.Contain("'root'");
        }

        Drain(agent).Should().NotContain(e => e.Type == AgentEventType.RUN_TASK_GROUP);
        (await harness.Actor.Ask(harness.Actor.GetTasksResponse)).Tasks.Should().BeEmpty();
    }

    [Fact]
    public async Task Without_acls_every_user_may_be_run_as()
    {
        var (harness, frameworkId, scheduler, agent, offer) = await StartAsync(principal: null, acls: null);
        await using var _ = harness;

        await AcceptAsync(harness, frameworkId, scheduler, offer, new OfferOperation
        {
            Type = OfferOperationType.LAUNCH,
            Launch = new OfferOperationLaunch { TaskInfos = [Task("as-root", offer, user: "root")] },
        });

        (await MasterHarness.NextAsync(agent, e => e.Type == AgentEventType.RUN_TASK)).RunTask!.Task!.TaskId!.Value.Should().Be("as-root");
    }
}
