using Mezzo.Core.Tasks;
using Mezzo.Protocol.Agents;
using Mezzo.Protocol.V1;

namespace Mezzo.Protocol.Tests.Json;

/// <summary>Mezzo's own agent protocol uses the same JSON conventions as the public v1 APIs.</summary>
public sealed class AgentProtocolTests
{
    [Fact]
    public void SUBSCRIBE_call_is_snake_case_and_round_trips()
    {
        var call = new AgentCall
        {
            Type = AgentCallType.SUBSCRIBE,
            Subscribe = new AgentSubscribe
            {
                AgentId = new AgentID { Value = "a-1" },
                Hostname = "node1",
                Port = 5051,
                Version = "0.1.0",
                Tasks =
                [
                    new AgentTaskReport
                    {
                        FrameworkId = new FrameworkID { Value = "fw-1" },
                        Task = new TaskInfo { Name = "t", TaskId = new TaskID { Value = "t-1" } },
                        LatestStatus = new TaskStatus { State = TaskState.TASK_RUNNING, Uuid = [1, 2, 3] },
                    },
                ],
            },
        };

        var json = MesosJson.Serialize(call);

        json.Should().Be(JsonText.Compact("""
            {"type":"SUBSCRIBE","subscribe":{"agent_id":{"value":"a-1"},"hostname":"node1","port":5051,"version":"0.1.0",
            "tasks":[{"framework_id":{"value":"fw-1"},"task":{"name":"t","task_id":{"value":"t-1"}},
            "latest_status":{"state":"TASK_RUNNING","uuid":"AQID"}}]}}
            """));
        MesosJson.Serialize(MesosJson.Deserialize<AgentCall>(json)).Should().Be(json);
    }

    [Fact]
    public void Master_events_to_agents_are_snake_case()
    {
        MesosJson.Serialize(new AgentEvent
        {
            Type = AgentEventType.SUBSCRIBED,
            Subscribed = new AgentSubscribed { AgentId = new AgentID { Value = "a-1" }, PingIntervalSeconds = 10 },
        }).Should().Be("""{"type":"SUBSCRIBED","subscribed":{"agent_id":{"value":"a-1"},"ping_interval_seconds":10}}""");

        MesosJson.Serialize(new AgentEvent
        {
            Type = AgentEventType.KILL_TASK,
            KillTask = new AgentKillTask
            {
                FrameworkId = new FrameworkID { Value = "fw" },
                TaskId = new TaskID { Value = "t" },
                KillPolicy = new KillPolicy { GracePeriod = new DurationInfo { Nanoseconds = 5 } },
            },
        }).Should().Be("""{"type":"KILL_TASK","kill_task":{"framework_id":{"value":"fw"},"task_id":{"value":"t"},"kill_policy":{"grace_period":{"nanoseconds":5}}}}""");

        MesosJson.Serialize(new AgentEvent
        {
            Type = AgentEventType.SHUTDOWN_FRAMEWORK,
            ShutdownFramework = new AgentShutdownFramework { FrameworkId = new FrameworkID { Value = "fw" } },
        }).Should().Be("""{"type":"SHUTDOWN_FRAMEWORK","shutdown_framework":{"framework_id":{"value":"fw"}}}""");

        var ack = MesosJson.Deserialize<AgentEvent>("""{"type":"ACKNOWLEDGE","acknowledge":{"framework_id":{"value":"fw"},"task_id":{"value":"t"},"uuid":"AQID"}}""")!;
        ack.Acknowledge!.Uuid.Should().Equal(1, 2, 3);

        var run = MesosJson.Deserialize<AgentEvent>("""{"type":"RUN_TASK","run_task":{"framework":{"user":"u","name":"n"},"task":{"name":"t"}}}""")!;
        run.RunTask!.Framework!.User.Should().Be("u");
        run.RunTask.Task!.Name.Should().Be("t");
    }
}
