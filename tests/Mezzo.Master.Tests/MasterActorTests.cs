using Mezzo.Core.Tasks;
using Mezzo.Master.Scheduler;
using Mezzo.Protocol.Agents;
using Mezzo.Protocol.V1;
using Mezzo.Storage.Registry;

namespace Mezzo.Master.Tests;

public sealed class MasterActorTests
{
    [Fact]
    public async Task Framework_gets_an_offer_for_the_whole_agent()
    {
        await using var harness = new MasterHarness();
        await harness.AddAgentAsync("cpus:4;mem:4096");
        var (_, scheduler) = await harness.SubscribeAsync();
        await harness.AdvanceAsync(TimeSpan.FromMilliseconds(100));

        var offers = await MasterHarness.NextAsync(scheduler, e => e.Type == EventType.OFFERS);
        var resources = ResourceConversion.ToCore(offers.Offers!.Offers![0].Resources!);
        resources.Cpus.Should().Be(4);
        resources.Mem.Should().Be(4096);
    }

    [Fact]
    public async Task Subscribed_frameworks_get_a_heartbeat_every_heartbeat_interval()
    {
        await using var harness = new MasterHarness();
        var (_, scheduler) = await harness.SubscribeAsync();
        var subscribed = await MasterHarness.NextAsync(scheduler, e => e.Type == EventType.SUBSCRIBED);
        subscribed.Subscribed!.HeartbeatIntervalSeconds.Should().Be(15);

        await harness.AdvanceAsync(TimeSpan.FromSeconds(14));
        scheduler.Reader.TryPeek(out var early).Should().BeFalse($"nothing is due before 15 s, got {early?.Type}");
        await harness.AdvanceAsync(TimeSpan.FromSeconds(2));
        (await MasterHarness.NextAsync(scheduler, _ => true)).Type.Should().Be(EventType.HEARTBEAT);
        await harness.AdvanceAsync(TimeSpan.FromSeconds(15));
        (await MasterHarness.NextAsync(scheduler, _ => true)).Type.Should().Be(EventType.HEARTBEAT);
    }

    [Fact]
    public async Task Declined_resources_are_not_offered_again_until_the_filter_expires()
    {
        await using var harness = new MasterHarness();
        await harness.AddAgentAsync();
        var (frameworkId, scheduler) = await harness.SubscribeAsync();
        await harness.AdvanceAsync(TimeSpan.FromMilliseconds(100));
        var offer = (await MasterHarness.NextAsync(scheduler, e => e.Type == EventType.OFFERS)).Offers!.Offers![0];

        var result = await harness.Actor.Ask(() => harness.Actor.HandleCall(new Call
        {
            Type = CallType.DECLINE,
            FrameworkId = new FrameworkID { Value = frameworkId },
            Decline = new CallDecline { OfferIds = [offer.Id!], Filters = new Filters { RefuseSeconds = 10 } },
        }, scheduler.StreamId));
        result.StatusCode.Should().Be(202);

        await harness.AdvanceAsync(TimeSpan.FromSeconds(9));
        scheduler.Reader.TryPeek(out var pending).Should().BeFalse($"no offer expected inside the filter, got {pending?.Type}");
        await harness.AdvanceAsync(TimeSpan.FromSeconds(2));
        (await MasterHarness.NextAsync(scheduler, e => e.Type == EventType.OFFERS)).Offers!.Offers.Should().HaveCount(1);
    }

    [Fact]
    public async Task Outstanding_offers_are_rescinded_after_the_offer_timeout()
    {
        await using var harness = new MasterHarness(o => o.OfferTimeout = TimeSpan.FromSeconds(5));
        await harness.AddAgentAsync();
        var (_, scheduler) = await harness.SubscribeAsync();
        await harness.AdvanceAsync(TimeSpan.FromMilliseconds(100));
        var offer = (await MasterHarness.NextAsync(scheduler, e => e.Type == EventType.OFFERS)).Offers!.Offers![0];

        await harness.AdvanceAsync(TimeSpan.FromSeconds(6));

        var rescind = await MasterHarness.NextAsync(scheduler, e => e.Type == EventType.RESCIND);
        rescind.Rescind!.OfferId!.Value.Should().Be(offer.Id!.Value);
    }

    [Fact]
    public async Task Silent_agent_becomes_unreachable_and_is_persisted_so()
    {
        await using var harness = new MasterHarness(o =>
        {
            o.AgentPingTimeout = TimeSpan.FromSeconds(1);
            o.MaxAgentPingTimeouts = 3;
        });
        var (agentId, agent) = await harness.AddAgentAsync();

        await harness.AdvanceAsync(TimeSpan.FromSeconds(2));
        harness.Registry.LoadAgents().Single().State.Should().Be(AgentRegistryState.Admitted);
        (await harness.Actor.Ask(() => harness.Actor.AgentPing(agentId, agent.StreamId))).StatusCode.Should().Be(202);
        await harness.AdvanceAsync(TimeSpan.FromSeconds(2.5));
        harness.Registry.LoadAgents().Single().State.Should().Be(AgentRegistryState.Admitted, "the ping reset the clock");

        await harness.AdvanceAsync(TimeSpan.FromSeconds(1));
        harness.Registry.LoadAgents().Single().State.Should().Be(AgentRegistryState.Unreachable);
        var snapshot = await harness.Actor.GetSnapshotAsync();
        snapshot.Metrics["master/slaves_unreachable"].Should().Be(1);
    }

    [Fact]
    public async Task Task_on_an_unreachable_agent_is_reported_by_capability()
    {
        await using var harness = new MasterHarness(o =>
        {
            o.AgentPingTimeout = TimeSpan.FromSeconds(1);
            o.MaxAgentPingTimeouts = 1;
        });
        var (agentId, agent) = await harness.AddAgentAsync();
        var (frameworkId, scheduler) = await harness.SubscribeAsync(partitionAware: true);
        await harness.AdvanceAsync(TimeSpan.FromMilliseconds(100));
        var offer = (await MasterHarness.NextAsync(scheduler, e => e.Type == EventType.OFFERS)).Offers!.Offers![0];
        await harness.Actor.Ask(() => harness.Actor.HandleCall(new Call
        {
            Type = CallType.ACCEPT,
            FrameworkId = new FrameworkID { Value = frameworkId },
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
                            Name = "t",
                            TaskId = new TaskID { Value = "t" },
                            AgentId = new AgentID { Value = agentId },
                            Resources = offer.Resources!.Where(r => r.Name == "cpus").ToList(),
                            Command = new CommandInfo { Value = "sleep 100" },
                        }],
                    },
                }],
            },
        }, scheduler.StreamId));
        (await MasterHarness.NextAsync(agent, e => e.Type == AgentEventType.RUN_TASK)).RunTask!.Task!.TaskId!.Value.Should().Be("t");

        await harness.AdvanceAsync(TimeSpan.FromSeconds(2));

        var update = await MasterHarness.NextAsync(scheduler, e => e.Type == EventType.UPDATE);
        update.Update!.Status!.State.Should().Be(TaskState.TASK_UNREACHABLE);
        update.Update.Status.Reason.Should().Be(TaskStatusReason.REASON_AGENT_REMOVED);
        update.Update.Status.Uuid.Should().BeNull();
    }

    [Fact]
    public async Task Disconnected_framework_is_removed_when_its_failover_timeout_passes()
    {
        await using var harness = new MasterHarness();
        await harness.AddAgentAsync();
        var (frameworkId, scheduler) = await harness.SubscribeAsync(failoverTimeout: 30);
        await harness.Actor.Ask(() =>
        {
            harness.Actor.SchedulerDisconnected(frameworkId, scheduler);
            return true;
        });

        await harness.AdvanceAsync(TimeSpan.FromSeconds(29));
        (await harness.Actor.GetSnapshotAsync()).Metrics["master/frameworks_disconnected"].Should().Be(1);
        await harness.AdvanceAsync(TimeSpan.FromSeconds(2));
        (await harness.Actor.GetSnapshotAsync()).Metrics["master/frameworks_disconnected"].Should().Be(0);
        harness.Registry.LoadFrameworks().Single().Removed.Should().BeTrue();
    }

    [Fact]
    public async Task Registry_survives_a_master_restart()
    {
        var workDir = Path.Combine(Path.GetTempPath(), "mezzo-restart-" + Guid.NewGuid().ToString("N")[..10]);
        try
        {
            string frameworkId;
            string agentId;
            await using (var first = new MasterHarness(workDir: workDir))
            {
                (agentId, _) = await first.AddAgentAsync();
                var (id, scheduler) = await first.SubscribeAsync();
                frameworkId = id;
                await first.Actor.Ask(() => first.Actor.HandleCall(new Call { Type = CallType.TEARDOWN, FrameworkId = new FrameworkID { Value = id } }, scheduler.StreamId));
            }

            await using var second = new MasterHarness(workDir: workDir);
            second.Registry.LoadAgents().Should().HaveCount(1);
            var connection = new SchedulerConnection();
            await second.Actor.Ask(() => second.Actor.Subscribe(new Call
            {
                Type = CallType.SUBSCRIBE,
                FrameworkId = new FrameworkID { Value = frameworkId },
                Subscribe = new CallSubscribe { FrameworkInfo = new FrameworkInfo { User = "u", Name = "f", Id = new FrameworkID { Value = frameworkId } } },
            }, connection));
            var error = await MasterHarness.NextAsync(connection, _ => true);
            error.Type.Should().Be(EventType.ERROR);
            error.Error!.Message.Should().Be("Framework has been removed");

            // Ids handed out after the restart never repeat the earlier run's.
            var (newAgentId, _) = await second.AddAgentAsync();
            var (newFrameworkId, _) = await second.SubscribeAsync();
            newAgentId.Should().NotBe(agentId);
            newFrameworkId.Should().NotBe(frameworkId);
            second.Registry.LoadAgents().Select(a => a.AgentId).Should().BeEquivalentTo([agentId, newAgentId]);
        }
        finally
        {
            Directory.Delete(workDir, recursive: true);
        }
    }
}
