using System.Text;
using System.Text.Json.Nodes;
using AwesomeAssertions;
using Mezzo.Agent.Recovery;
using Mezzo.Core.Tasks;
using Mezzo.Protocol;
using Mezzo.Protocol.V1;

namespace Mezzo.Agent.Tests.Recovery;

public sealed class ExecutorCheckpointTests : IDisposable
{
    private readonly string _workDir = Directory.CreateTempSubdirectory("mezzo-executor-checkpoint-").FullName;

    public void Dispose() => Directory.Delete(_workDir, recursive: true);

    private static ExecutorCheckpoint Sample(string containerId = "c-1") => new(
        new FrameworkInfo { Id = new FrameworkID { Value = "fw-1" }, Name = "spark", User = "root", Checkpoint = true },
        new ExecutorInfo { ExecutorId = new ExecutorID { Value = "exec-1" }, Type = ExecutorInfoType.CUSTOM, Command = new CommandInfo { Value = "./executor" } },
        containerId,
        "/var/lib/mezzo/slaves/a-1/frameworks/fw-1/executors/exec-1/runs/" + containerId,
        4242,
        "123456",
        Terminated: false,
        [
            new ExecutorTaskCheckpoint(
                new TaskInfo { TaskId = new TaskID { Value = "t-1" }, Name = "t-1" },
                TaskState.TASK_RUNNING,
                Killing: true,
                new TaskStatus { TaskId = new TaskID { Value = "t-1" }, State = TaskState.TASK_RUNNING },
                [new TaskStatus { TaskId = new TaskID { Value = "t-1" }, State = TaskState.TASK_RUNNING, Uuid = [1, 2, 3] }]),
        ]);

    [Fact]
    public void An_executor_checkpoint_round_trips_through_json()
    {
        var sample = Sample();

        var back = ExecutorCheckpoint.FromJson(sample.ToJson());

        back.ContainerId.Should().Be("c-1");
        back.SupervisorPid.Should().Be(4242);
        back.SupervisorStart.Should().Be("123456");
        back.Terminated.Should().BeFalse();
        MesosJson.Serialize(back.Framework).Should().Be(MesosJson.Serialize(sample.Framework));
        MesosJson.Serialize(back.Executor).Should().Be(MesosJson.Serialize(sample.Executor));
        var task = back.Tasks.Should().ContainSingle().Subject;
        task.State.Should().Be(TaskState.TASK_RUNNING);
        task.Killing.Should().BeTrue();
        task.PendingUpdates.Should().ContainSingle().Which.Uuid.Should().Equal(1, 2, 3);
    }

    [Fact]
    public void A_default_executor_task_keeps_its_own_container_supervisor_and_group()
    {
        var sample = Sample() with
        {
            Tasks = [new ExecutorTaskCheckpoint(new TaskInfo { TaskId = new TaskID { Value = "g-1" } }, TaskState.TASK_RUNNING, false, null, [], "c-task", "/sandbox/tasks/g-1", 77, "999", Group: 2)],
        };

        var task = ExecutorCheckpoint.FromJson(sample.ToJson()).Tasks.Single();

        task.ContainerId.Should().Be("c-task");
        task.Sandbox.Should().Be("/sandbox/tasks/g-1");
        task.SupervisorPid.Should().Be(77);
        task.SupervisorStart.Should().Be("999");
        task.Group.Should().Be(2);
        ExecutorCheckpoint.FromJson(Sample().ToJson()).Tasks.Single().Group.Should().BeNull("a custom executor's tasks have no group");
    }

    [Theory]
    [InlineData("framework", "'framework' is missing")]
    [InlineData("executor", "'executor' is missing")]
    [InlineData("tasks", "'tasks' is missing")]
    [InlineData("sandbox", "'sandbox' is missing")]
    [InlineData("supervisor_pid", "'supervisor_pid' is missing")]
    public void A_checkpoint_without_a_required_field_names_it(string field, string message)
    {
        var json = JsonNode.Parse(Sample().ToJson())!.AsObject();
        json.Remove(field);

        ((Action)(() => ExecutorCheckpoint.FromJson(Encoding.UTF8.GetBytes(json.ToJsonString())))).Should().Throw<FormatException>().WithMessage(message);
    }

    [Theory]
    [InlineData("state", "\"TASK_NONSENSE\"", "'tasks[].state' is not a task state: 'TASK_NONSENSE'")]
    [InlineData("pending_updates", "[null]", "'tasks[].pending_updates' holds a null")]
    [InlineData("task", "{\"name\":\"no id\"}", "'tasks[].task.task_id' is missing")]
    public void A_bad_task_in_the_checkpoint_is_named(string field, string value, string message)
    {
        var json = JsonNode.Parse(Sample().ToJson())!.AsObject();
        json["tasks"]![0]![field] = JsonNode.Parse(value);

        ((Action)(() => ExecutorCheckpoint.FromJson(Encoding.UTF8.GetBytes(json.ToJsonString())))).Should().Throw<FormatException>().WithMessage(message);
    }

    [Theory]
    [InlineData("[]")]
    [InlineData("not json")]
    [InlineData("{\"executor\": 3}")]
    public void Garbage_is_a_format_error(string text) =>
        ((Action)(() => ExecutorCheckpoint.FromJson(Encoding.UTF8.GetBytes(text)))).Should().Throw<FormatException>();

    [Fact]
    public void The_store_keeps_executor_runs_apart_from_task_runs()
    {
        var store = new CheckpointStore(_workDir);
        store.CreateRunDir("c-1");
        store.SaveExecutor("c-1", Sample());
        store.CreateRunDir("plain");

        var executors = store.LoadExecutors(null);
        var runs = store.LoadRuns(null);

        executors.Should().ContainSingle().Which.ContainerId.Should().Be("c-1");
        runs.Select(r => r.ContainerId).Should().Equal(["plain"], "an executor's run is not a task without a checkpoint (which would be deleted)");
    }

    [Fact]
    public void A_corrupt_or_misplaced_executor_checkpoint_is_reported_not_loaded()
    {
        var store = new CheckpointStore(_workDir);
        store.CreateRunDir("c-1");
        store.SaveExecutor("c-1", Sample("elsewhere"));
        store.CreateRunDir("c-2");
        var file = Path.Combine(store.RunDir("c-2"), CheckpointStore.ExecutorFile);
        store.SaveExecutor("c-2", Sample("c-2"));
        var bytes = File.ReadAllBytes(file);
        File.WriteAllBytes(file, bytes[..^5]);

        var problems = new List<CheckpointCorruptException>();
        store.LoadExecutors(problems).Should().BeEmpty();

        problems.Select(p => p.Reason).Should().Equal("it names container 'elsewhere' but lies in 'c-1'", problems[1].Reason);
        problems[1].Path.Should().Be(file);
        problems[1].Reason.Should().Contain("truncated");
        ((Action)(() => store.LoadExecutors(null))).Should().Throw<CheckpointCorruptException>("a strict agent stops at the first bad checkpoint");
    }
}
