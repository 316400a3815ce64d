using System.Text.Json;
using System.Text.Json.Nodes;
using Mezzo.Core.Tasks;
using Mezzo.Protocol.V1;

namespace Mezzo.Agent.Recovery;

/// <summary>
/// Everything a restarted agent needs to take a task back: what it is (framework, task), where it runs (container,
/// sandbox, supervisor pid and start time) and what the framework has not yet acknowledged. The messages are stored
/// in Mesos's JSON, so a checkpoint is readable with the same tools as the API.
/// </summary>
public sealed record TaskCheckpoint(
    FrameworkInfo Framework,
    TaskInfo Task,
    string ContainerId,
    string Sandbox,
    int SupervisorPid,
    string? SupervisorStart,
    TaskState State,
    bool Killing,
    TaskStatus? LatestStatus,
    IReadOnlyList<TaskStatus> PendingUpdates)
{
    public byte[] ToJson()
    {
        var json = new JsonObject
        {
            ["framework"] = Node(Framework),
            ["task"] = Node(Task),
            ["container_id"] = ContainerId,
            ["sandbox"] = Sandbox,
            ["supervisor_pid"] = SupervisorPid,
            ["supervisor_start"] = SupervisorStart,
            ["state"] = State.ToString(),
            ["killing"] = Killing,
            ["latest_status"] = LatestStatus is null ? null : Node(LatestStatus),
            ["pending_updates"] = new JsonArray([.. PendingUpdates.Select(Node)]),
        };
        return JsonSerializer.SerializeToUtf8Bytes(json);
    }

    /// <exception cref="FormatException">The JSON is not a task checkpoint; the message names the field.</exception>
    public static TaskCheckpoint FromJson(byte[] utf8)
    {
        try
        {
            var json = JsonNode.Parse(utf8) as JsonObject ?? throw new FormatException("not a JSON object");
            var framework = Message<FrameworkInfo>(json, "framework") ?? throw Missing("framework");
            var task = Message<TaskInfo>(json, "task") ?? throw Missing("task");
            if (task.TaskId?.Value is not { Length: > 0 })
            {
                throw new FormatException("'task.task_id' is missing");
            }

            var stateText = Text(json, "state") ?? throw Missing("state");
            if (!Enum.TryParse<TaskState>(stateText, out var state) || !Enum.IsDefined(state))
            {
                throw new FormatException($"'state' is not a task state: '{stateText}'");
            }

            var pending = json["pending_updates"] as JsonArray ?? throw Missing("pending_updates");
            return new TaskCheckpoint(
                framework,
                task,
                Text(json, "container_id") ?? throw Missing("container_id"),
                Text(json, "sandbox") ?? throw Missing("sandbox"),
                json["supervisor_pid"]?.GetValue<int>() ?? throw Missing("supervisor_pid"),
                Text(json, "supervisor_start"),
                state,
                json["killing"]?.GetValue<bool>() ?? false,
                Message<TaskStatus>(json, "latest_status"),
                [.. pending.Select(p => p is null ? throw new FormatException("'pending_updates' holds a null") : MesosJson.Deserialize<TaskStatus>(p.ToJsonString())!)]);
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            throw new FormatException(ex.Message, ex);
        }
    }

    private static JsonNode Node<T>(T message) => JsonNode.Parse(MesosJson.SerializeToUtf8Bytes(message))!;

    private static T? Message<T>(JsonObject json, string name) where T : class =>
        json[name] is { } node ? MesosJson.Deserialize<T>(node.ToJsonString()) : null;

    private static string? Text(JsonObject json, string name) => json[name]?.GetValue<string>();

    private static FormatException Missing(string name) => new($"'{name}' is missing");
}
