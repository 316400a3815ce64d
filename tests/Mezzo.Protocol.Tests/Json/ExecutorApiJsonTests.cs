using Mezzo.Core.Tasks;
using Mezzo.Protocol.Agents;
using Mezzo.Protocol.V1;

namespace Mezzo.Protocol.Tests.Json;

/// <summary>The v1 executor API's JSON, checked against the examples of docs/executor-http-api.md.</summary>
public sealed class ExecutorApiJsonTests
{
    [Fact]
    public void SUBSCRIBE_call_of_the_docs_parses()
    {
        var call = MesosJson.Deserialize<ExecutorCall>("""
            {"type":"SUBSCRIBE","executor_id":{"value":"387aa966-8fc5-4428-a794-5a868a60d3eb"},
             "framework_id":{"value":"49154f1b-8cf6-4421-bf13-8bd11dccd1f1"},
             "subscribe":{"unacknowledged_tasks":[{"name":"dummy-task","task_id":{"value":"d40f3f3e"},
               "agent_id":{"value":"f1c9cdc5"},"command":{"value":"ls","arguments":["-l","\/tmp"]}}],
              "unacknowledged_updates":[{"status":{"source":"SOURCE_EXECUTOR","task_id":{"value":"d40f3f3e"},
               "state":"TASK_RUNNING","uuid":"ZDQwZjNmM2UtYmJlMy00NGFmLWEyMzAtNGNiMWVhZTcyZjY3Cg=="}}]}}
            """)!;

        call.Type.Should().Be(ExecutorCallType.SUBSCRIBE);
        call.ExecutorId!.Value.Should().Be("387aa966-8fc5-4428-a794-5a868a60d3eb");
        call.Subscribe!.UnacknowledgedTasks![0].Command!.Arguments.Should().Equal("-l", "/tmp");
        call.Subscribe.UnacknowledgedUpdates![0].Status!.State.Should().Be(TaskState.TASK_RUNNING);
    }

    [Fact]
    public void UPDATE_and_MESSAGE_calls_of_the_docs_parse()
    {
        var update = MesosJson.Deserialize<ExecutorCall>("""
            {"executor_id":{"value":"e"},"framework_id":{"value":"f"},"type":"UPDATE",
             "update":{"status":{"executor_id":{"value":"e"},"source":"SOURCE_EXECUTOR","state":"TASK_RUNNING",
             "task_id":{"value":"t"},"uuid":"ZDQwZjNmM2UtYmJlMy00NGFmLWEyMzAtNGNiMWVhZTcyZjY3Cg=="}}}
            """)!;
        var message = MesosJson.Deserialize<ExecutorCall>("""
            {"executor_id":{"value":"e"},"framework_id":{"value":"f"},"type":"MESSAGE","message":{"data":"t+Wonz5fRFKMzCnEptlv5A=="}}
            """)!;

        update.Update!.Status!.Source.Should().Be(TaskStatusSource.SOURCE_EXECUTOR);
        update.Update.Status.TaskId!.Value.Should().Be("t");
        message.Message!.Data.Should().HaveCount(16);
    }

    [Fact]
    public void Events_are_written_as_the_docs_show()
    {
        MesosJson.Serialize(new ExecutorEvent
        {
            Type = ExecutorEventType.ACKNOWLEDGED,
            Acknowledged = new ExecutorEventAcknowledged { TaskId = new TaskID { Value = "t" }, Uuid = [1, 2, 3] },
        }).Should().Be("""{"type":"ACKNOWLEDGED","acknowledged":{"task_id":{"value":"t"},"uuid":"AQID"}}""");
        MesosJson.Serialize(new ExecutorEvent { Type = ExecutorEventType.KILL, Kill = new ExecutorEventKill { TaskId = new TaskID { Value = "t" } } })
            .Should().Be("""{"type":"KILL","kill":{"task_id":{"value":"t"}}}""");
        MesosJson.Serialize(new ExecutorEvent { Type = ExecutorEventType.MESSAGE, Message = new ExecutorEventMessage { Data = "sample data"u8.ToArray() } })
            .Should().Be("""{"type":"MESSAGE","message":{"data":"c2FtcGxlIGRhdGE="}}""");
        MesosJson.Serialize(new ExecutorEvent { Type = ExecutorEventType.SHUTDOWN }).Should().Be("""{"type":"SHUTDOWN"}""");
        MesosJson.Serialize(new ExecutorEvent
        {
            Type = ExecutorEventType.SUBSCRIBED,
            Subscribed = new ExecutorEventSubscribed
            {
                ExecutorInfo = new ExecutorInfo { ExecutorId = new ExecutorID { Value = "e" } },
                AgentInfo = new AgentInfo { Hostname = "agenthost", Port = 5051 },
                ContainerId = new ContainerID { Value = "c" },
            },
        }).Should().Be("""
            {"type":"SUBSCRIBED","subscribed":{"executor_info":{"executor_id":{"value":"e"}},"agent_info":{"hostname":"agenthost","port":5051},"container_id":{"value":"c"}}}
            """);
    }

    [Fact]
    public void Unknown_call_type_is_a_parse_error()
    {
        var parse = () => MesosJson.Deserialize<ExecutorCall>("""{"type":"LAUNCH","executor_id":{"value":"e"},"framework_id":{"value":"f"}}""");

        parse.Should().Throw<System.Text.Json.JsonException>();
    }

    [Fact]
    public void Agent_protocol_executor_calls_and_events_round_trip()
    {
        var json = MesosJson.Serialize(new AgentCall
        {
            Type = AgentCallType.EXECUTOR_EXITED,
            AgentId = new AgentID { Value = "a" },
            ExecutorExited = new AgentExecutorExited { FrameworkId = new FrameworkID { Value = "f" }, ExecutorId = new ExecutorID { Value = "e" }, Status = 1792 },
        });
        var ev = MesosJson.Serialize(new AgentEvent
        {
            Type = AgentEventType.RUN_TASK_GROUP,
            RunTaskGroup = new AgentRunTaskGroup
            {
                Executor = new ExecutorInfo { Type = ExecutorInfoType.DEFAULT, ExecutorId = new ExecutorID { Value = "e" } },
                TaskGroup = new TaskGroupInfo { Tasks = [new TaskInfo { TaskId = new TaskID { Value = "t" } }] },
            },
        });

        json.Should().Be("""{"type":"EXECUTOR_EXITED","agent_id":{"value":"a"},"executor_exited":{"framework_id":{"value":"f"},"executor_id":{"value":"e"},"status":1792}}""");
        MesosJson.Serialize(MesosJson.Deserialize<AgentCall>(json)).Should().Be(json);
        ev.Should().Be("""{"type":"RUN_TASK_GROUP","run_task_group":{"executor":{"type":"DEFAULT","executor_id":{"value":"e"}},"task_group":{"tasks":[{"task_id":{"value":"t"}}]}}}""");
        MesosJson.Serialize(MesosJson.Deserialize<AgentEvent>(ev)).Should().Be(ev);
    }
}
