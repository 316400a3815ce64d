using System.Text.Json.Nodes;
using Mezzo.Core.Tasks;
using Mezzo.Master.Agents;
using Mezzo.Protocol.Agents;
using Mezzo.Protocol.V1;

namespace Mezzo.Master.Tests;

/// <summary>DRAIN_AGENT, DEACTIVATE_AGENT and REACTIVATE_AGENT as Mesos 1.11 docs/maintenance.md describes them.</summary>
public sealed class DrainTests
{
    [Theory]
    [InlineData(5L, 1L, 5L, 5L)]
    [InlineData(null, 1L, 10L, null)]
    public async Task Drain_kills_each_task_with_its_own_grace_capped_by_max_grace_period(long? maxSeconds, long? first, long? second, long? third)
    {
        await using var harness = new MasterHarness();
        var (agentId, agent) = await harness.AddAgentAsync();
        var (frameworkId, scheduler) = await harness.SubscribeAsync();
        await LaunchWithGraceAsync(harness, frameworkId, scheduler, agentId, agent, "short", 1);
        await LaunchWithGraceAsync(harness, frameworkId, scheduler, agentId, agent, "long", 10);
        await LaunchWithGraceAsync(harness, frameworkId, scheduler, agentId, agent, "default", null);

        var max = maxSeconds is { } m ? TimeSpan.FromSeconds(m) : (TimeSpan?)null;
        (await harness.Actor.Ask(() => harness.Actor.DrainAgent(agentId, max, markGone: false))).StatusCode.Should().Be(200);

        var kills = new Dictionary<string, long?>();
        while (kills.Count < 3)
        {
            var kill = (await MasterHarness.NextAsync(agent, e => e.Type == AgentEventType.KILL_TASK)).KillTask!;
            kills[kill.TaskId!.Value!] = kill.KillPolicy?.GracePeriod?.Nanoseconds / 1_000_000_000;
        }

        kills.Should().BeEquivalentTo(new Dictionary<string, long?> { ["short"] = first, ["long"] = second, ["default"] = third });
    }

    [Fact]
    public async Task Deactivation_keeps_tasks_running_and_a_drain_without_mark_gone_stays_deactivated_until_reactivated()
    {
        await using var harness = new MasterHarness();
        var (agentId, agent) = await harness.AddAgentAsync();
        var (frameworkId, scheduler) = await harness.SubscribeAsync();
        await harness.LaunchAsync(frameworkId, scheduler, agentId, agent, "t", cpus: 1);
        await harness.AgentUpdateAsync(agentId, agent, frameworkId, "t", TaskState.TASK_RUNNING);

        (await harness.Actor.Ask(() => harness.Actor.DeactivateAgent(agentId))).StatusCode.Should().Be(200);
        (await harness.OffersAfterAsync(scheduler, TimeSpan.FromSeconds(6))).Should().BeEmpty("a deactivated agent is not offered");
        agent.Reader.TryRead(out var sent).Should().BeFalse($"deactivation kills nothing, got {sent?.Type}");
        (await harness.Actor.GetSnapshotAsync()).Metrics["master/tasks_running"].Should().Be(1);

        (await harness.Actor.Ask(() => harness.Actor.DrainAgent(agentId, TimeSpan.FromSeconds(1), markGone: false))).StatusCode.Should().Be(200);
        (await MasterHarness.NextAsync(agent, e => e.Type == AgentEventType.KILL_TASK)).KillTask!.TaskId!.Value.Should().Be("t");
        var uuid = await harness.AgentUpdateAsync(agentId, agent, frameworkId, "t", TaskState.TASK_KILLED);
        await harness.CallAsync(frameworkId, scheduler, new Call
        {
            Type = CallType.ACKNOWLEDGE,
            Acknowledge = new CallAcknowledge { AgentId = new AgentID { Value = agentId }, TaskId = new TaskID { Value = "t" }, Uuid = uuid },
        });
        await harness.AdvanceAsync(TimeSpan.FromMilliseconds(100));

        var drained = await AgentJsonAsync(harness, agentId);
        drained["drain_info"]!["state"]!.GetValue<string>().Should().Be("DRAINED");
        drained["drain_info"]!["config"]!["mark_gone"]!.GetValue<bool>().Should().BeFalse();
        drained["deactivated"]!.GetValue<bool>().Should().BeTrue("a drained agent stays out of offers until reactivated");
        (await harness.OffersAfterAsync(scheduler, TimeSpan.FromSeconds(6))).Should().BeEmpty();

        (await harness.Actor.Ask(() => harness.Actor.ReactivateAgent(agentId))).StatusCode.Should().Be(200);
        var reactivated = await AgentJsonAsync(harness, agentId);
        reactivated["drain_info"].Should().BeNull();
        reactivated["active"]!.GetValue<bool>().Should().BeTrue();
        (await harness.OffersAfterAsync(scheduler)).Should().ContainSingle(o => o.AgentId!.Value == agentId);
    }

    [Fact]
    public async Task An_idle_agent_is_drained_at_once_and_with_mark_gone_is_gone_at_once()
    {
        await using var harness = new MasterHarness();
        var (idle, _) = await harness.AddAgentAsync(hostname: "idle");
        var (doomed, doomedConnection) = await harness.AddAgentAsync(hostname: "doomed");

        (await harness.Actor.Ask(() => harness.Actor.DrainAgent(idle, null, markGone: false))).StatusCode.Should().Be(200);
        (await AgentJsonAsync(harness, idle))["drain_info"]!["state"]!.GetValue<string>().Should().Be("DRAINED");

        (await harness.Actor.Ask(() => harness.Actor.DrainAgent(doomed, null, markGone: true))).StatusCode.Should().Be(200);
        (await MasterHarness.NextAsync(doomedConnection, e => e.Type == AgentEventType.SHUTDOWN)).Should().NotBeNull();
        harness.Registry.LoadAgents().Single(a => a.AgentId == doomed).State.Should().Be(Storage.Registry.AgentRegistryState.Gone);
        (await harness.Actor.Ask(() => harness.Actor.DrainAgent(doomed, null, markGone: false))).StatusCode.Should().Be(400, "a gone agent cannot be drained");
    }

    private static async Task LaunchWithGraceAsync(
        MasterHarness harness, string frameworkId, Mezzo.Master.Scheduler.SchedulerConnection scheduler, string agentId, AgentConnection agent, string taskId, long? graceSeconds)
    {
        // Each launch waits out the 5 s filter the previous ACCEPT put on the rest of the agent.
        await harness.AdvanceAsync(TimeSpan.FromSeconds(6));
        await harness.LaunchAsync(frameworkId, scheduler, agentId, agent, taskId, t =>
        {
            if (graceSeconds is { } seconds)
            {
                t.KillPolicy = new KillPolicy { GracePeriod = new DurationInfo { Nanoseconds = seconds * 1_000_000_000 } };
            }
        }, cpus: 1);
    }

    private static async Task<JsonObject> AgentJsonAsync(MasterHarness harness, string agentId)
    {
        var state = JsonNode.Parse((await harness.Actor.GetSnapshotAsync()).StateJson)!;
        return state["slaves"]!.AsArray().Single(a => a!["id"]!.GetValue<string>() == agentId)!.AsObject();
    }
}
