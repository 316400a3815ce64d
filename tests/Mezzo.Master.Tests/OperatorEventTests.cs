using Mezzo.Core.Tasks;
using Mezzo.Master.Actor;
using Mezzo.Protocol;
using Mezzo.Protocol.V1;

namespace Mezzo.Master.Tests;

/// <summary>The operator event stream and SET_LOGGING_LEVEL on the actor, with the clock in the test's hands.</summary>
public sealed class OperatorEventTests
{
    [Fact]
    public async Task Events_follow_SUBSCRIBED_in_the_order_the_actor_made_the_changes()
    {
        await using var harness = new MasterHarness(o => o.HeartbeatInterval = TimeSpan.FromSeconds(5));
        var (agentId, agent) = await harness.AddAgentAsync();
        var subscriber = await harness.Actor.Ask(harness.Actor.SubscribeOperator);

        var (frameworkId, scheduler) = await harness.SubscribeAsync();
        await harness.LaunchAsync(frameworkId, scheduler, agentId, agent, "t1");
        await harness.AgentUpdateAsync(agentId, agent, frameworkId, "t1", TaskState.TASK_RUNNING);
        // A retried update (or one that only changes health) changes no state: no second event, as in Mesos.
        await harness.AgentUpdateAsync(agentId, agent, frameworkId, "t1", TaskState.TASK_RUNNING);
        await harness.AdvanceAsync(TimeSpan.FromSeconds(5));

        var events = Drain(subscriber);
        events.Select(e => e.Type).Should().StartWith(
            [MasterEventType.SUBSCRIBED, MasterEventType.FRAMEWORK_ADDED, MasterEventType.TASK_ADDED, MasterEventType.TASK_UPDATED]);
        events.Should().Contain(e => e.Type == MasterEventType.HEARTBEAT);
        events.Should().ContainSingle(e => e.Type == MasterEventType.TASK_UPDATED);
        var state = events[0].Subscribed!;
        state.HeartbeatIntervalSeconds.Should().Be(5);
        state.GetState!.GetAgents!.Agents!.Single().AgentInfo!.Id!.Value.Should().Be(agentId);
        state.GetState.GetFrameworks!.Frameworks.Should().BeEmpty("the framework subscribed after the stream did");
        events[1].FrameworkAdded!.Framework!.FrameworkInfo!.Id!.Value.Should().Be(frameworkId);
        events[1].FrameworkAdded!.Framework!.Offers.Should().BeNull("offers are never reported through events");
        var added = events[2].TaskAdded!.Task!;
        (added.TaskId!.Value, added.FrameworkId!.Value, added.AgentId!.Value, added.State).Should().Be(("t1", frameworkId, agentId, TaskState.TASK_STAGING));
        var updated = events[3].TaskUpdated!;
        (updated.FrameworkId!.Value, updated.State, updated.Status!.State).Should().Be((frameworkId, TaskState.TASK_RUNNING, TaskState.TASK_RUNNING));
    }

    [Fact]
    public async Task A_thousand_tasks_each_show_added_running_finished_in_order()
    {
        const int count = 1000;
        await using var harness = new MasterHarness();
        var (agentId, agent) = await harness.AddAgentAsync();
        var (frameworkId, scheduler) = await harness.SubscribeAsync();
        var subscriber = await harness.Actor.Ask(harness.Actor.SubscribeOperator);
        await harness.AdvanceAsync(TimeSpan.FromMilliseconds(100));
        var offer = (await MasterHarness.NextAsync(scheduler, e => e.Type == EventType.OFFERS)).Offers!.Offers!.Single();
        var ids = Enumerable.Range(0, count).Select(i => $"t{i:D4}").ToList();
        var cpus = offer.Resources!.Single(r => r.Name == "cpus");
        var launch = await harness.CallAsync(frameworkId, scheduler, new Call
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
                        TaskInfos = [.. ids.Select(id =>
                        {
                            var share = MesosJson.Clone(cpus);
                            share.Scalar = new ValueScalar { Value = 0.001 };
                            return new TaskInfo
                            {
                                Name = id,
                                TaskId = new TaskID { Value = id },
                                AgentId = new AgentID { Value = agentId },
                                Resources = [share],
                                Command = new CommandInfo { Value = "true" },
                            };
                        })],
                    },
                }],
            },
        });
        launch.StatusCode.Should().Be(202, launch.Error);

        foreach (var state in (TaskState[])[TaskState.TASK_RUNNING, TaskState.TASK_FINISHED])
        {
            foreach (var batch in ids.Chunk(100))
            {
                var result = await harness.Actor.Ask(() => harness.Actor.AgentStatusUpdates(agentId, agent.StreamId, [.. batch.Select(id => new Mezzo.Protocol.Agents.AgentUpdate
                {
                    FrameworkId = new FrameworkID { Value = frameworkId },
                    Status = new TaskStatus
                    {
                        TaskId = new TaskID { Value = id },
                        AgentId = new AgentID { Value = agentId },
                        State = state,
                        Source = TaskStatusSource.SOURCE_EXECUTOR,
                        Uuid = Guid.NewGuid().ToByteArray(),
                    },
                })]));
                result.IsSuccess.Should().BeTrue(result.Error);
            }
        }

        var events = Drain(subscriber).Where(e => e.Type is MasterEventType.TASK_ADDED or MasterEventType.TASK_UPDATED).ToList();
        events.Should().HaveCount(3 * count);
        events.Take(count).Select(e => e.TaskAdded?.Task?.TaskId?.Value).Should().Equal(ids, "every task is added, in launch order");
        var position = events.Select((e, i) => (e, i)).Where(x => x.e.Type == MasterEventType.TASK_UPDATED)
            .ToLookup(x => x.e.TaskUpdated!.Status!.TaskId!.Value!, x => (x.e.TaskUpdated!.State, x.i));
        foreach (var id in ids)
        {
            position[id].Select(p => p.State).Should().Equal([TaskState.TASK_RUNNING, TaskState.TASK_FINISHED], id);
        }

        events.Skip(count).Take(count).Select(e => e.TaskUpdated!.State).Should().AllBeEquivalentTo(TaskState.TASK_RUNNING);
    }

    [Fact]
    public async Task A_subscriber_that_falls_behind_is_dropped_and_the_actor_does_not_wait_for_it()
    {
        await using var harness = new MasterHarness(o => o.OperatorEventQueueCapacity = 2);
        var slow = await harness.Actor.Ask(harness.Actor.SubscribeOperator);

        // SUBSCRIBED and AGENT_ADDED fill its queue; nobody reads, so the third event finds it full.
        await harness.AddAgentAsync(hostname: "h1");
        await harness.AddAgentAsync(hostname: "h2");
        await harness.AddAgentAsync(hostname: "h3");

        (await harness.Actor.Ask(() => harness.Actor.OperatorSubscriberCount)).Should().Be(0);
        Drain(slow).Select(e => e.Type).Should().Equal(MasterEventType.SUBSCRIBED, MasterEventType.AGENT_ADDED);
        slow.Events.Completion.IsCompleted.Should().BeTrue("its stream ends, so the client can subscribe again");
    }

    [Fact]
    public async Task Beyond_the_subscriber_limit_the_oldest_stream_is_closed()
    {
        await using var harness = new MasterHarness(o => o.MaxOperatorEventStreamSubscribers = 2);
        var first = await harness.Actor.Ask(harness.Actor.SubscribeOperator);
        var second = await harness.Actor.Ask(harness.Actor.SubscribeOperator);
        var third = await harness.Actor.Ask(harness.Actor.SubscribeOperator);

        Drain(first);
        first.Events.Completion.IsCompleted.Should().BeTrue();
        second.Events.Completion.IsCompleted.Should().BeFalse();
        third.Events.Completion.IsCompleted.Should().BeFalse();
        (await harness.Actor.GetSnapshotAsync()).Metrics["master/operator_event_stream_subscribers"].Should().Be(2);

        await harness.Actor.Ask(() =>
        {
            harness.Actor.UnsubscribeOperator(second);
            return true;
        });
        (await harness.Actor.Ask(() => harness.Actor.OperatorSubscriberCount)).Should().Be(1);
    }

    [Fact]
    public async Task Logging_level_reverts_after_its_duration_and_an_older_timer_does_not_undo_a_newer_level()
    {
        await using var harness = new MasterHarness();
        var verbosity = harness.Actor.Verbosity;
        verbosity.Level.Should().Be(0);
        verbosity.IsEnabled(Microsoft.Extensions.Logging.LogLevel.Debug).Should().BeFalse();

        await SetAsync(harness, 2, TimeSpan.FromSeconds(10));
        verbosity.IsEnabled(Microsoft.Extensions.Logging.LogLevel.Trace).Should().BeTrue();
        await harness.AdvanceAsync(TimeSpan.FromSeconds(5));
        await SetAsync(harness, 1, TimeSpan.FromSeconds(20));
        await harness.AdvanceAsync(TimeSpan.FromSeconds(6));
        verbosity.Level.Should().Be(1, "the first duration has passed, but the second call replaced it");
        verbosity.IsEnabled(Microsoft.Extensions.Logging.LogLevel.Debug).Should().BeTrue();
        verbosity.IsEnabled(Microsoft.Extensions.Logging.LogLevel.Trace).Should().BeFalse();

        await harness.AdvanceAsync(TimeSpan.FromSeconds(15));
        verbosity.Level.Should().Be(0);
        verbosity.IsEnabled(Microsoft.Extensions.Logging.LogLevel.Debug).Should().BeFalse();
    }

    [Fact]
    public async Task A_stopping_master_drops_its_raised_logging_level_and_closes_its_streams()
    {
        Mezzo.Hosting.Logging.LogVerbosity verbosity;
        MasterActor.OperatorSubscriber subscriber;
        await using (var harness = new MasterHarness())
        {
            verbosity = harness.Actor.Verbosity;
            subscriber = await harness.Actor.Ask(harness.Actor.SubscribeOperator);
            await SetAsync(harness, 2, TimeSpan.FromHours(1));
            verbosity.Level.Should().Be(2);
        }

        verbosity.Level.Should().Be(0, "the next term (or run) starts at 0");
        Drain(subscriber).Should().ContainSingle(e => e.Type == MasterEventType.SUBSCRIBED);
        subscriber.Events.Completion.IsCompleted.Should().BeTrue("a stream must not keep the server from stopping");
    }

    private static Task SetAsync(MasterHarness harness, uint level, TimeSpan duration) => harness.Actor.Ask(() =>
    {
        harness.Actor.SetLoggingLevel(level, duration);
        return true;
    });

    private static List<MasterEvent> Drain(MasterActor.OperatorSubscriber subscriber)
    {
        var events = new List<MasterEvent>();
        while (subscriber.Events.TryRead(out var e))
        {
            events.Add(e);
        }

        return events;
    }
}
