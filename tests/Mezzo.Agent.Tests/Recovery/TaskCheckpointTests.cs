using System.Text;
using System.Text.Json.Nodes;
using AwesomeAssertions;
using Mezzo.Agent.Recovery;
using Mezzo.Core.Tasks;
using Mezzo.Protocol;
using Mezzo.Protocol.V1;

namespace Mezzo.Agent.Tests.Recovery;

public sealed class TaskCheckpointTests
{
    private static TaskCheckpoint Sample() => new(
        new FrameworkInfo { Id = new FrameworkID { Value = "fw-1" }, Name = "marathon", User = "root", Checkpoint = true },
        new TaskInfo { TaskId = new TaskID { Value = "web.1" }, Name = "web", AgentId = new AgentID { Value = "a-1" }, Command = new CommandInfo { Value = "sleep 1000", Shell = true } },
        "c-1",
        "/var/lib/mezzo/slaves/a-1/frameworks/fw-1/executors/web.1/runs/c-1",
        4242,
        "123456",
        TaskState.TASK_RUNNING,
        Killing: false,
        new TaskStatus { TaskId = new TaskID { Value = "web.1" }, State = TaskState.TASK_RUNNING },
        [new TaskStatus { TaskId = new TaskID { Value = "web.1" }, State = TaskState.TASK_RUNNING, Uuid = [1, 2, 3] }]);

    [Fact]
    public void A_checkpoint_round_trips_through_json()
    {
        var sample = Sample();

        var back = TaskCheckpoint.FromJson(sample.ToJson());

        back.ContainerId.Should().Be("c-1");
        back.SupervisorPid.Should().Be(4242);
        back.SupervisorStart.Should().Be("123456");
        back.State.Should().Be(TaskState.TASK_RUNNING);
        MesosJson.Serialize(back.Framework).Should().Be(MesosJson.Serialize(sample.Framework));
        MesosJson.Serialize(back.Task).Should().Be(MesosJson.Serialize(sample.Task));
        back.PendingUpdates.Should().ContainSingle().Which.Uuid.Should().Equal(1, 2, 3);
    }

    [Theory]
    [InlineData("framework", "'framework' is missing")]
    [InlineData("task", "'task' is missing")]
    [InlineData("state", "'state' is missing")]
    [InlineData("pending_updates", "'pending_updates' is missing")]
    [InlineData("supervisor_pid", "'supervisor_pid' is missing")]
    public void A_checkpoint_without_a_required_field_names_it(string field, string message)
    {
        var json = JsonNode.Parse(Sample().ToJson())!.AsObject();
        json.Remove(field);

        ((Action)(() => TaskCheckpoint.FromJson(Encoding.UTF8.GetBytes(json.ToJsonString())))).Should().Throw<FormatException>().WithMessage(message);
    }

    [Theory]
    [InlineData("\"TASK_NONSENSE\"")]
    [InlineData("42")]
    public void A_checkpoint_with_a_bad_state_is_rejected(string state)
    {
        var json = JsonNode.Parse(Sample().ToJson())!.AsObject();
        json["state"] = JsonNode.Parse(state);

        ((Action)(() => TaskCheckpoint.FromJson(Encoding.UTF8.GetBytes(json.ToJsonString())))).Should().Throw<FormatException>();
    }

    [Theory]
    [InlineData("[]")]
    [InlineData("not json")]
    [InlineData("{\"framework\": 3}")]
    public void Garbage_is_a_format_error(string text) =>
        ((Action)(() => TaskCheckpoint.FromJson(Encoding.UTF8.GetBytes(text)))).Should().Throw<FormatException>();
}
