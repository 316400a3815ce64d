using System.Text.Json.Nodes;
using Mezzo.Core.Tasks;
using Mezzo.Master.Actor;
using Mezzo.Master.Agents;
using Mezzo.Protocol.Agents;
using Mezzo.Protocol.V1;
using WireResource = Mezzo.Protocol.V1.Resource;

namespace Mezzo.Master.Tests;

/// <summary>Operator control of agents: deactivate, drain, reactivate, mark gone, and operator RESERVE/UNRESERVE.</summary>
public sealed class AgentAdministrationTests
{
    [Fact]
    public async Task Deactivated_agent_gets_no_offers_until_reactivated_and_that_survives_a_master_restart()
    {
        var dir = Path.Combine(Path.GetTempPath(), "mezzo-admin-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            string agentId;
            await using (var first = new MasterHarness(workDir: dir))
            {
                (agentId, _) = await first.AddAgentAsync();
                (await first.Actor.Ask(() => first.Actor.DeactivateAgent(agentId))).StatusCode.Should().Be(200);
                var (_, scheduler) = await first.SubscribeAsync();
                (await first.OffersAfterAsync(scheduler)).Should().BeEmpty();
            }

            await using var second = new MasterHarness(workDir: dir);
            await second.AddAgentAsync(agentId: agentId);
            var (_, again) = await second.SubscribeAsync();
            (await second.OffersAfterAsync(again)).Should().BeEmpty("the deactivation was persisted");
            (await AgentJsonAsync(second, agentId))["deactivated"]!.GetValue<bool>().Should().BeTrue();

            (await second.Actor.Ask(() => second.Actor.ReactivateAgent(agentId))).StatusCode.Should().Be(200);
            (await second.OffersAfterAsync(again)).Should().ContainSingle();
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task Draining_kills_tasks_with_the_capped_grace_period_and_ends_drained_then_gone()
    {
        await using var harness = new MasterHarness();
        var (agentId, agent) = await harness.AddAgentAsync();
        var (frameworkId, scheduler) = await harness.SubscribeAsync(partitionAware: true);
        await harness.LaunchAsync(frameworkId, scheduler, agentId, agent, "t1");
        await harness.AgentUpdateAsync(agentId, agent, frameworkId, "t1", TaskState.TASK_RUNNING);

        var drained = await harness.Actor.Ask(() => harness.Actor.DrainAgent(agentId, TimeSpan.FromSeconds(2), markGone: true));
        drained.StatusCode.Should().Be(200);

        var kill = await MasterHarness.NextAsync(agent, e => e.Type == AgentEventType.KILL_TASK);
        kill.KillTask!.TaskId!.Value.Should().Be("t1");
        kill.KillTask.KillPolicy!.GracePeriod!.Nanoseconds.Should().Be(2_000_000_000);
        (await AgentJsonAsync(harness, agentId))["drain_info"]!["state"]!.GetValue<string>().Should().Be("DRAINING");

        var uuid = await harness.AgentUpdateAsync(agentId, agent, frameworkId, "t1", TaskState.TASK_KILLED);
        await harness.AdvanceAsync(TimeSpan.FromMilliseconds(100));
        (await AgentJsonAsync(harness, agentId))["drain_info"]!["state"]!.GetValue<string>().Should().Be("DRAINING", "the terminal update is not acknowledged yet");

        await harness.CallAsync(frameworkId, scheduler, new Call
        {
            Type = CallType.ACKNOWLEDGE,
            Acknowledge = new CallAcknowledge { AgentId = new AgentID { Value = agentId }, TaskId = new TaskID { Value = "t1" }, Uuid = uuid },
        });
        await harness.AdvanceAsync(TimeSpan.FromMilliseconds(100));

        var snapshot = await harness.Actor.GetSnapshotAsync();
        snapshot.Metrics["master/slaves_active"].Should().Be(0);
        (await harness.Actor.Ask(() => harness.Actor.DeactivateAgent(agentId))).StatusCode.Should().Be(400, "a gone agent cannot be administered");
    }

    [Fact]
    public async Task A_draining_agent_that_was_away_gets_its_kills_when_it_comes_back()
    {
        await using var harness = new MasterHarness();
        var (agentId, agent) = await harness.AddAgentAsync();
        var (frameworkId, scheduler) = await harness.SubscribeAsync(partitionAware: true);
        await harness.LaunchAsync(frameworkId, scheduler, agentId, agent, "t1");
        await harness.AgentUpdateAsync(agentId, agent, frameworkId, "t1", TaskState.TASK_RUNNING);
        await harness.Actor.Ask(() =>
        {
            harness.Actor.AgentDisconnected(agentId, agent);
            return true;
        });

        (await harness.Actor.Ask(() => harness.Actor.DrainAgent(agentId, TimeSpan.FromSeconds(1), markGone: false))).StatusCode.Should().Be(200);

        var back = new AgentConnection();
        var subscribe = new AgentSubscribe
        {
            AgentId = new AgentID { Value = agentId },
            Hostname = "h1",
            Port = 5051,
            Resources = ResourceConversion.ToWire(Mezzo.Core.Resources.Resources.Parse("cpus:4;mem:4096")),
            Tasks = [new AgentTaskReport
            {
                FrameworkId = new FrameworkID { Value = frameworkId },
                Task = new TaskInfo { Name = "t1", TaskId = new TaskID { Value = "t1" }, AgentId = new AgentID { Value = agentId } },
                LatestStatus = new TaskStatus { TaskId = new TaskID { Value = "t1" }, State = TaskState.TASK_RUNNING },
            }],
        };
        await harness.Actor.Ask(() => harness.Actor.SubscribeAgent(subscribe, Mezzo.Core.Resources.Resources.Parse("cpus:4;mem:4096"), [], back));

        var kill = await MasterHarness.NextAsync(back, e => e.Type == AgentEventType.KILL_TASK);
        kill.KillTask!.TaskId!.Value.Should().Be("t1");
        kill.KillTask.KillPolicy!.GracePeriod!.Nanoseconds.Should().Be(1_000_000_000);
    }

    [Fact]
    public async Task Administering_an_unknown_agent_is_a_404_and_bad_input_is_a_400()
    {
        await using var harness = new MasterHarness();
        (await harness.Actor.Ask(() => harness.Actor.DrainAgent("nope", null, false))).StatusCode.Should().Be(404);
        (await harness.Actor.Ask(() => harness.Actor.ReactivateAgent("nope"))).StatusCode.Should().Be(404);
        (await harness.Actor.Ask(() => harness.Actor.MarkAgentGone("nope"))).StatusCode.Should().Be(404);
        var (agentId, _) = await harness.AddAgentAsync();
        (await harness.Actor.Ask(() => harness.Actor.DrainAgent(agentId, TimeSpan.FromSeconds(-1), false))).StatusCode.Should().Be(400);
        (await harness.Actor.Ask(() => harness.Actor.ReactivateAgent(agentId))).StatusCode.Should().Be(400, "it is not deactivated");
        (await AgentJsonAsync(harness, agentId))["active"]!.GetValue<bool>().Should().BeTrue();
    }

    [Fact]
    public async Task Operator_reserve_takes_back_offers_and_rejects_what_the_agent_does_not_have_or_tasks_hold()
    {
        await using var harness = new MasterHarness();
        var (agentId, agent) = await harness.AddAgentAsync("cpus:4;mem:4096");
        var (frameworkId, scheduler) = await harness.SubscribeAsync();
        var offer = (await harness.OffersAfterAsync(scheduler)).Single();

        CallResult Reserve(double cpus) => harness.Actor.ReserveResources(agentId, null, [Reserved("cpus", cpus, "eng")], principal: "ops");
        (await harness.Actor.Ask(() => Reserve(5))).StatusCode.Should().Be(400);
        (await harness.Actor.Ask(() => harness.Actor.ReserveResources("nope", null, [Reserved("cpus", 1, "eng")], null))).StatusCode.Should().Be(404);
        (await harness.Actor.Ask(() => harness.Actor.ReserveResources(agentId, null, [Reserved("cpus", 1, "*")], null))).StatusCode.Should().Be(400);
        (await harness.Actor.Ask(() => harness.Actor.ReserveResources(agentId, null, [], null))).StatusCode.Should().Be(400);
        (await ReservedAsync(harness, agentId)).Should().BeEmpty("rejected calls change nothing");

        (await harness.Actor.Ask(() => Reserve(1))).StatusCode.Should().Be(202);
        var rescind = await MasterHarness.NextAsync(scheduler, e => e.Type == EventType.RESCIND);
        rescind.Rescind!.OfferId!.Value.Should().Be(offer.Id!.Value);
        (await ReservedAsync(harness, agentId))["eng"]!["cpus"]!.GetValue<double>().Should().Be(1);

        // Tasks hold 3 unreserved cpus: reserving one of them is a conflict.
        await harness.LaunchAsync(frameworkId, scheduler, agentId, agent, "t1");
        (await harness.Actor.Ask(() => Reserve(1))).StatusCode.Should().Be(409);

        (await harness.Actor.Ask(() => harness.Actor.UnreserveResources(agentId, [Reserved("cpus", 2, "eng")]))).StatusCode.Should().Be(400);
        (await harness.Actor.Ask(() => harness.Actor.UnreserveResources(agentId, [Reserved("cpus", 1, "eng")]))).StatusCode.Should().Be(202);
        (await ReservedAsync(harness, agentId)).Should().BeEmpty();
    }

    [Fact]
    public async Task When_the_registry_cannot_be_written_reservations_and_deactivation_answer_503_and_change_nothing()
    {
        await using var harness = new MasterHarness();
        var (agentId, _) = await harness.AddAgentAsync("cpus:4;mem:4096");

        // Another process holding the registry's write lock: the master's write times out (busy_timeout) and fails.
        using (var locker = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(harness.WorkDir, "master", "registry.db")};Pooling=False"))
        {
            locker.Open();
            using (var begin = locker.CreateCommand())
            {
                begin.CommandText = "BEGIN EXCLUSIVE";
                begin.ExecuteNonQuery();
            }

            var reserve = await harness.Actor.Ask(() => harness.Actor.ReserveResources(agentId, null, [Reserved("cpus", 1, "eng")], null));
            reserve.StatusCode.Should().Be(503);
            reserve.Error.Should().Contain("registry");
            (await harness.Actor.Ask(() => harness.Actor.DeactivateAgent(agentId))).StatusCode.Should().Be(503);
        }

        var agent = await AgentJsonAsync(harness, agentId);
        agent["reserved_resources"]!.AsObject().Should().BeEmpty();
        agent["deactivated"]!.GetValue<bool>().Should().BeFalse();
        (await harness.Actor.Ask(() => harness.Actor.DeactivateAgent(agentId))).StatusCode.Should().Be(200, "the lock is gone");
    }

    private static WireResource Reserved(string name, double amount, string role) => new()
    {
        Name = name,
        Type = Mezzo.Protocol.V1.ValueType.SCALAR,
        Scalar = new ValueScalar { Value = amount },
        Reservations = [new ResourceReservationInfo { Type = ReservationInfoType.DYNAMIC, Role = role }],
    };

    private static async Task<JsonObject> AgentJsonAsync(MasterHarness harness, string agentId)
    {
        var state = JsonNode.Parse((await harness.Actor.GetSnapshotAsync()).StateJson)!;
        return state["slaves"]!.AsArray().Single(a => a!["id"]!.GetValue<string>() == agentId)!.AsObject();
    }

    private static async Task<JsonObject> ReservedAsync(MasterHarness harness, string agentId) =>
        (await AgentJsonAsync(harness, agentId))["reserved_resources"]!.AsObject();
}
