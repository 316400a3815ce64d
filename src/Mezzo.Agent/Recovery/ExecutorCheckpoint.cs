using System.Text.Json;
using System.Text.Json.Nodes;
using Mezzo.Core.Tasks;
using Mezzo.Protocol.V1;

namespace Mezzo.Agent.Recovery;

/// <summary>
/// One task of a checkpointed executor: what a restarted agent needs to report it and resend its updates. A task of the
/// default executor runs as its own process: its container, sandbox, supervisor and task group (index) too.
/// </summary>
public sealed record ExecutorTaskCheckpoint(
    TaskInfo Task,
    TaskState State,
    bool Killing,
    TaskStatus? LatestStatus,
    IReadOnlyList<TaskStatus> PendingUpdates,
    string? ContainerId = null,
    string? Sandbox = null,
    int SupervisorPid = 0,
    string? SupervisorStart = null,
    int? Group = null);

/// <summary>
/// A custom executor of a checkpointing framework (file <c>executor</c> in its run dir): its framework and ExecutorInfo,
/// where it runs (container, sandbox, supervisor pid and start time), whether it had already terminated, and its tasks
/// that are live or still have unacknowledged updates. Rewritten whenever one of those tasks changes.
/// </summary>
public sealed record ExecutorCheckpoint(
    FrameworkInfo Framework,
    ExecutorInfo Executor,
    string ContainerId,
    string Sandbox,
    int SupervisorPid,
    string? SupervisorStart,
    bool Terminated,
    IReadOnlyList<ExecutorTaskCheckpoint> Tasks)
{
    public byte[] ToJson()
    {
        var json = new JsonObject
        {
            ["framework"] = Node(Framework),
            ["executor"] = Node(Executor),
            ["container_id"] = ContainerId,
            ["sandbox"] = Sandbox,
            ["supervisor_pid"] = SupervisorPid,
            ["supervisor_start"] = SupervisorStart,
            ["terminated"] = Terminated,
            ["tasks"] = new JsonArray([.. Tasks.Select(t => (JsonNode)new JsonObject
            {
                ["task"] = Node(t.Task),
                ["state"] = t.State.ToString(),
                ["killing"] = t.Killing,
                ["latest_status"] = t.LatestStatus is null ? null : Node(t.LatestStatus),
                ["pending_updates"] = new JsonArray([.. t.PendingUpdates.Select(Node)]),
                ["container_id"] = t.ContainerId,
                ["sandbox"] = t.Sandbox,
                ["supervisor_pid"] = t.SupervisorPid,
                ["supervisor_start"] = t.SupervisorStart,
                ["group"] = t.Group,
            })]),
        };
        return JsonSerializer.SerializeToUtf8Bytes(json);
    }

    /// <exception cref="FormatException">The JSON is not an executor checkpoint; the message names the field.</exception>
    public static ExecutorCheckpoint FromJson(byte[] utf8)
    {
        try
        {
            var json = JsonNode.Parse(utf8) as JsonObject ?? throw new FormatException("not a JSON object");
            var executor = Message<ExecutorInfo>(json, "executor") ?? throw Missing("executor");
            if (executor.ExecutorId?.Value is not { Length: > 0 })
            {
                throw new FormatException("'executor.executor_id' is missing");
            }

            var tasks = json["tasks"] as JsonArray ?? throw Missing("tasks");
            return new ExecutorCheckpoint(
                Message<FrameworkInfo>(json, "framework") ?? throw Missing("framework"),
                executor,
                Text(json, "container_id") ?? throw Missing("container_id"),
                Text(json, "sandbox") ?? throw Missing("sandbox"),
                json["supervisor_pid"]?.GetValue<int>() ?? throw Missing("supervisor_pid"),
                Text(json, "supervisor_start"),
                json["terminated"]?.GetValue<bool>() ?? false,
                [.. tasks.Select(ReadTask)]);
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            throw new FormatException(ex.Message, ex);
        }
    }

    private static ExecutorTaskCheckpoint ReadTask(JsonNode? node)
    {
        var json = node as JsonObject ?? throw new FormatException("'tasks' holds something other than an object");
        var task = Message<TaskInfo>(json, "task") ?? throw Missing("tasks[].task");
        if (task.TaskId?.Value is not { Length: > 0 })
        {
            throw new FormatException("'tasks[].task.task_id' is missing");
        }

        var stateText = Text(json, "state") ?? throw Missing("tasks[].state");
        if (!Enum.TryParse<TaskState>(stateText, out var state) || !Enum.IsDefined(state))
        {
            throw new FormatException($"'tasks[].state' is not a task state: '{stateText}'");
        }

        var pending = json["pending_updates"] as JsonArray ?? throw Missing("tasks[].pending_updates");
        return new ExecutorTaskCheckpoint(
            task,
            state,
            json["killing"]?.GetValue<bool>() ?? false,
            Message<TaskStatus>(json, "latest_status"),
            [.. pending.Select(p => p is null ? throw new FormatException("'tasks[].pending_updates' holds a null") : MesosJson.Deserialize<TaskStatus>(p.ToJsonString())!)],
            Text(json, "container_id"),
            Text(json, "sandbox"),
            json["supervisor_pid"]?.GetValue<int>() ?? 0,
            Text(json, "supervisor_start"),
            json["group"]?.GetValue<int>());
    }

    private static JsonNode Node<T>(T message) => JsonNode.Parse(MesosJson.SerializeToUtf8Bytes(message))!;

    private static T? Message<T>(JsonObject json, string name) where T : class =>
        json[name] is { } node ? MesosJson.Deserialize<T>(node.ToJsonString()) : null;

    private static string? Text(JsonObject json, string name) => json[name]?.GetValue<string>();

    private static FormatException Missing(string name) => new($"'{name}' is missing");
}
