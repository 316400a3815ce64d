using Mezzo.Core.Tasks;
using Mezzo.Master.Scheduler;
using Mezzo.Protocol.Agents;
using Mezzo.Protocol.V1;

namespace Mezzo.Master.Tests.Limits;

/// <summary>
/// Issue 10 §4: --max-frameworks, --max-tasks-per-framework and --max-outstanding-offers-per-framework keep one client
/// from growing the master's state, and the master keeps serving everyone else when a client hits them.
/// </summary>
public sealed class MasterCapsTests
{
    private static Call Subscribe(string? frameworkId = null) => new()
    {
        Type = CallType.SUBSCRIBE,
        FrameworkId = frameworkId is null ? null : new FrameworkID { Value = frameworkId },
        Subscribe = new CallSubscribe
        {
            FrameworkInfo = new FrameworkInfo
            {
                User = "u",
                Name = "f",
                FailoverTimeout = 3600,
                Id = frameworkId is null ? null : new FrameworkID { Value = frameworkId },
            },
        },
    };

    [Fact]
    public async Task A_framework_beyond_max_frameworks_is_refused_with_503_while_failover_and_the_others_go_on()
    {
        await using var harness = new MasterHarness(o => o.MaxFrameworks = 2);
        var (first, firstConnection) = await harness.SubscribeAsync(failoverTimeout: 3600);
        var (_, secondConnection) = await harness.SubscribeAsync();

        var third = new SchedulerConnection();
        var (refused, id) = await harness.Actor.Ask(() => harness.Actor.Subscribe(Subscribe(), third));

        refused.StatusCode.Should().Be(503);
        refused.Error.Should().Contain("--max-frameworks=2").And.Contain("2 frameworks");
        id.Should().BeNull();
        (await harness.Actor.Ask(() => harness.Actor.GetFrameworksResponse())).Frameworks.Should().HaveCount(2, "the refused one left no trace");

        // A framework failing over keeps its place: it is not a new one.
        var failover = new SchedulerConnection();
        var (again, againId) = await harness.Actor.Ask(() => harness.Actor.Subscribe(Subscribe(first), failover));
        again.IsSuccess.Should().BeTrue();
        againId.Should().Be(first);

        // The master stays healthy: the frameworks it has get offers.
        await harness.AddAgentAsync("cpus:2;mem:1024");
        var offers = (await harness.OffersAfterAsync(failover)).Concat(await harness.OffersAfterAsync(secondConnection));
        offers.Should().NotBeEmpty();
        firstConnection.Should().NotBeNull();
    }

    [Fact]
    public async Task A_place_freed_by_a_teardown_can_be_taken()
    {
        await using var harness = new MasterHarness(o => o.MaxFrameworks = 1);
        var (first, connection) = await harness.SubscribeAsync();
        (await harness.Actor.Ask(() => harness.Actor.Subscribe(Subscribe(), new SchedulerConnection()))).Result.StatusCode.Should().Be(503);

        (await harness.CallAsync(first, connection, new Call { Type = CallType.TEARDOWN })).IsSuccess.Should().BeTrue();

        var (admitted, id) = await harness.Actor.Ask(() => harness.Actor.Subscribe(Subscribe(), new SchedulerConnection()));
        admitted.IsSuccess.Should().BeTrue();
        id.Should().NotBe(first);
    }

    [Fact]
    public async Task A_launch_beyond_max_tasks_per_framework_is_TASK_ERROR_and_a_finished_task_frees_its_place()
    {
        await using var harness = new MasterHarness(o => o.MaxTasksPerFramework = 2);
        var (agentId, agent) = await harness.AddAgentAsync("cpus:8;mem:4096");
        var (frameworkId, scheduler) = await harness.SubscribeAsync();
        await harness.LaunchAsync(frameworkId, scheduler, agentId, agent, "t1", cpus: 1);
        await PastRefusalAsync(harness);
        await harness.LaunchAsync(frameworkId, scheduler, agentId, agent, "t2", cpus: 1);
        await PastRefusalAsync(harness);

        await LaunchRefusedAsync(harness, frameworkId, scheduler, agentId, "t3");
        var error = await MasterHarness.NextAsync(scheduler, e => e.Type == EventType.UPDATE && e.Update!.Status!.TaskId!.Value == "t3");

        error.Update!.Status!.State.Should().Be(TaskState.TASK_ERROR);
        error.Update.Status.Reason.Should().Be(TaskStatusReason.REASON_TASK_INVALID);
        error.Update.Status.Message.Should().Be(
            $"Framework {frameworkId} has 2 tasks (active, or terminal and not yet acknowledged), the most the master keeps per framework (--max-tasks-per-framework=2)");
        MasterHarness.Drain(scheduler, EventType.UPDATE);
        while (agent.Reader.TryRead(out var sent))
        {
            (sent.Type == AgentEventType.RUN_TASK && sent.RunTask!.Task!.TaskId!.Value == "t3").Should().BeFalse("the refused task never reaches the agent");
        }

        var uuid = await harness.AgentUpdateAsync(agentId, agent, frameworkId, "t1", TaskState.TASK_FINISHED);
        (await harness.CallAsync(frameworkId, scheduler, new Call
        {
            Type = CallType.ACKNOWLEDGE,
            Acknowledge = new CallAcknowledge { AgentId = new AgentID { Value = agentId }, TaskId = new TaskID { Value = "t1" }, Uuid = uuid },
        })).IsSuccess.Should().BeTrue();
        await PastRefusalAsync(harness);
        await harness.LaunchAsync(frameworkId, scheduler, agentId, agent, "t4", cpus: 1);
    }

    [Fact]
    public async Task A_task_group_that_would_pass_max_tasks_per_framework_is_refused_whole()
    {
        await using var harness = new MasterHarness(o => o.MaxTasksPerFramework = 2);
        var (agentId, agent) = await harness.AddAgentAsync("cpus:8;mem:4096");
        var (frameworkId, scheduler) = await harness.SubscribeAsync();
        await harness.LaunchAsync(frameworkId, scheduler, agentId, agent, "t1", cpus: 1);
        await PastRefusalAsync(harness);
        var offer = (await MasterHarness.NextAsync(scheduler, e => e.Type == EventType.OFFERS)).Offers!.Offers![0];

        TaskInfo Member(string id) => new()
        {
            Name = id,
            TaskId = new TaskID { Value = id },
            AgentId = new AgentID { Value = agentId },
            Command = new CommandInfo { Value = "sleep 100" },
            Resources = [new Resource { Name = "cpus", Type = Protocol.V1.ValueType.SCALAR, Scalar = new ValueScalar { Value = 0.5 } }],
        };
        var result = await harness.CallAsync(frameworkId, scheduler, new Call
        {
            Type = CallType.ACCEPT,
            Accept = new CallAccept
            {
                OfferIds = [offer.Id!],
                Operations = [new OfferOperation
                {
                    Type = OfferOperationType.LAUNCH_GROUP,
                    LaunchGroup = new OfferOperationLaunchGroup
                    {
                        Executor = new ExecutorInfo
                        {
                            Type = ExecutorInfoType.DEFAULT,
                            ExecutorId = new ExecutorID { Value = "e" },
                            Resources = [new Resource { Name = "cpus", Type = Protocol.V1.ValueType.SCALAR, Scalar = new ValueScalar { Value = 0.1 } }, new Resource { Name = "mem", Type = Protocol.V1.ValueType.SCALAR, Scalar = new ValueScalar { Value = 32 } }],
                        },
                        TaskGroup = new TaskGroupInfo { Tasks = [Member("g1"), Member("g2")] },
                    },
                }],
            },
        });

        result.StatusCode.Should().Be(202);
        foreach (var id in (string[])["g1", "g2"])
        {
            var update = await MasterHarness.NextAsync(scheduler, e => e.Type == EventType.UPDATE && e.Update!.Status!.TaskId!.Value == id);
            update.Update!.Status!.State.Should().Be(TaskState.TASK_ERROR);
            update.Update.Status.Message.Should().Contain("--max-tasks-per-framework=2");
        }
    }

    [Fact]
    public async Task A_framework_holding_max_outstanding_offers_gets_no_more_until_it_answers_and_others_get_the_rest()
    {
        await using var harness = new MasterHarness(o => o.MaxOutstandingOffersPerFramework = 2);
        for (var i = 0; i < 5; i++)
        {
            await harness.AddAgentAsync("cpus:2;mem:1024", hostname: $"h{i}");
        }

        var (hoarder, hoarderConnection) = await harness.SubscribeAsync();
        var held = await harness.OffersAfterAsync(hoarderConnection, TimeSpan.FromMilliseconds(500));
        held.Should().HaveCount(2, "five agents could be offered, the cap is two");
        (await harness.OffersAfterAsync(hoarderConnection, TimeSpan.FromMilliseconds(500))).Should().BeEmpty("it has not answered");

        var (_, otherConnection) = await harness.SubscribeAsync();
        var others = await harness.OffersAfterAsync(otherConnection, TimeSpan.FromMilliseconds(500));
        others.Should().HaveCount(2, "another framework is served, up to its own cap");
        others.Select(o => o.AgentId!.Value).Should().NotIntersectWith(held.Select(o => o.AgentId!.Value));

        (await harness.CallAsync(hoarder, hoarderConnection, new Call
        {
            Type = CallType.DECLINE,
            Decline = new CallDecline { OfferIds = [held[0].Id!], Filters = new Filters { RefuseSeconds = 3600 } },
        })).IsSuccess.Should().BeTrue();

        var next = await harness.OffersAfterAsync(hoarderConnection, TimeSpan.FromMilliseconds(500));
        next.Should().ContainSingle("one answered, one more may be held");
        next[0].AgentId!.Value.Should().NotBe(held[0].AgentId!.Value, "that agent was declined");
    }

    /// <summary>An ACCEPT refuses the rest of its offer for Mesos's default 5 s: wait that out, dropping stale offers.</summary>
    private static async Task PastRefusalAsync(MasterHarness harness) => await harness.AdvanceAsync(TimeSpan.FromSeconds(6));

    private static async Task LaunchRefusedAsync(MasterHarness harness, string frameworkId, SchedulerConnection scheduler, string agentId, string taskId)
    {
        await harness.AdvanceAsync(TimeSpan.FromMilliseconds(100));
        var offer = (await MasterHarness.NextAsync(scheduler, e => e.Type == EventType.OFFERS)).Offers!.Offers![0];
        var result = await harness.CallAsync(frameworkId, scheduler, new Call
        {
            Type = CallType.ACCEPT,
            Accept = new CallAccept
            {
                OfferIds = [offer.Id!],
                Operations = [new OfferOperation
                {
                    Type = OfferOperationType.LAUNCH,
                    Launch = new OfferOperationLaunch
                    {
                        TaskInfos = [new TaskInfo
                        {
                            Name = taskId,
                            TaskId = new TaskID { Value = taskId },
                            AgentId = new AgentID { Value = agentId },
                            Command = new CommandInfo { Value = "sleep 100" },
                            Resources = [.. offer.Resources!.Where(r => r.Name == "cpus").Select(r => new Resource { Name = "cpus", Type = r.Type, Scalar = new ValueScalar { Value = 1 }, AllocationInfo = r.AllocationInfo })],
                        }],
                    },
                }],
            },
        });
        result.StatusCode.Should().Be(202);
    }
}
