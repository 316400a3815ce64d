using System.Text.Json;
using System.Text.Json.Nodes;
using Mezzo.Core.Security;
using Mezzo.Protocol.V1;

namespace Mezzo.Agent;

/// <summary>
/// Who is asking, for the views the agent filters by ACL (Mesos's view_frameworks, view_tasks, view_executors,
/// view_containers, view_flags, access_sandboxes). Each object is the Linux user the thing runs as.
/// </summary>
public sealed record AgentViewer(Acls Acls, string? Principal)
{
    /// <summary>Security off: no filtering, and no lookups of owners.</summary>
    public bool SeesEverything => ReferenceEquals(Acls, Acls.AllowAll);

    /// <summary>Whether the principal may <paramref name="action"/> on things run by <paramref name="user"/> (null: any user).</summary>
    public bool May(AclAction action, string? user) => SeesEverything || Acls.IsAllowed(action, Principal, user);
}

/// <summary>The Linux user behind each framework, executor and task the agent knows, for ACL checks off the actor.</summary>
public sealed record AgentOwners(
    IReadOnlyDictionary<string, string> Frameworks,
    IReadOnlyDictionary<(string FrameworkId, string ExecutorId), string> Executors,
    IReadOnlyDictionary<(string FrameworkId, string TaskId), string> Tasks)
{
    public string? Framework(string? frameworkId) => frameworkId is not null && Frameworks.TryGetValue(frameworkId, out var user) ? user : null;

    public string? Executor(string? frameworkId, string? executorId) =>
        frameworkId is not null && executorId is not null && Executors.TryGetValue((frameworkId, executorId), out var user) ? user : null;

    public string? Task(string? frameworkId, string? taskId) =>
        frameworkId is not null && taskId is not null && Tasks.TryGetValue((frameworkId, taskId), out var user) ? user : null;
}

public sealed partial class AgentService
{
    /// <summary>The user a command runs as in Mesos's terms: its own, else its framework's (an empty user is the agent's).</summary>
    internal static string UserOf(CommandInfo? command, FrameworkInfo framework) =>
        command?.User is { Length: > 0 } user ? user : framework.User ?? "";

    public Task<AgentOwners> GetOwnersAsync() => Ask(Owners);

    /// <summary>/state as <paramref name="viewer"/> may see it: frameworks, executors and tasks of users it may view, flags if it may.</summary>
    public async Task<byte[]> GetStateJsonAsync(AgentViewer viewer)
    {
        if (viewer.SeesEverything)
        {
            return await GetStateJsonAsync().ConfigureAwait(false);
        }

        var (state, owners) = await Ask(() => (BuildState(), Owners())).ConfigureAwait(false);
        FilterState(state, owners, viewer);
        return JsonSerializer.SerializeToUtf8Bytes(state);
    }

    /// <summary>/monitor/statistics of the containers whose users <paramref name="viewer"/> may view (view_containers).</summary>
    public async Task<List<MonitorStatisticsEntry>> GetStatisticsAsync(AgentViewer viewer)
    {
        var all = await GetStatisticsAsync().ConfigureAwait(false);
        if (viewer.SeesEverything)
        {
            return all;
        }

        var owners = await GetOwnersAsync().ConfigureAwait(false);
        return [.. all.Where(entry => viewer.May(AclAction.ViewContainers, owners.Executor(entry.FrameworkId, entry.ExecutorId)))];
    }

    private AgentOwners Owners()
    {
        var frameworks = new Dictionary<string, string>(StringComparer.Ordinal);
        var executors = new Dictionary<(string, string), string>();
        var tasks = new Dictionary<(string, string), string>();
        foreach (var executor in _executors.Values.Concat(_completedExecutors))
        {
            frameworks.TryAdd(executor.FrameworkId, executor.Framework.User ?? "");
            executors.TryAdd((executor.FrameworkId, executor.ExecutorId), UserOf(executor.Info.Command, executor.Framework));
        }

        foreach (var task in _tasks.Values.Concat(_completed))
        {
            frameworks.TryAdd(task.FrameworkId, task.Framework.User ?? "");
            var executorUser = task.Executor is { } executor ? UserOf(executor.Info.Command, executor.Framework) : null;
            tasks.TryAdd((task.FrameworkId, task.TaskId), task.Info.Command?.User is { Length: > 0 } own ? own : executorUser ?? UserOf(null, task.Framework));
            if (task.Executor is null)
            {
                executors.TryAdd((task.FrameworkId, task.ExecutorId), UserOf(task.Info.Command, task.Framework));
            }
        }

        return new AgentOwners(frameworks, executors, tasks);
    }

    private static void FilterState(JsonObject state, AgentOwners owners, AgentViewer viewer)
    {
        if (!viewer.May(AclAction.ViewFlags, null))
        {
            state.Remove("flags");
        }

        foreach (var name in (string[])["frameworks", "completed_frameworks"])
        {
            if (state[name] is not JsonArray frameworks)
            {
                continue;
            }

            RemoveWhere(frameworks, framework => !viewer.May(AclAction.ViewFrameworks, owners.Framework(Text(framework, "id"))));
            foreach (var framework in frameworks.OfType<JsonObject>())
            {
                var frameworkId = Text(framework, "id");
                foreach (var executorsName in (string[])["executors", "completed_executors"])
                {
                    if (framework[executorsName] is not JsonArray executors)
                    {
                        continue;
                    }

                    RemoveWhere(executors, executor => !viewer.May(AclAction.ViewExecutors, owners.Executor(frameworkId, Text(executor, "id"))));
                    foreach (var executor in executors.OfType<JsonObject>())
                    {
                        foreach (var tasksName in (string[])["tasks", "queued_tasks", "completed_tasks"])
                        {
                            if (executor[tasksName] is JsonArray list)
                            {
                                RemoveWhere(list, task => !viewer.May(AclAction.ViewTasks, owners.Task(frameworkId, Text(task, "id"))));
                            }
                        }
                    }
                }
            }
        }
    }

    private static string? Text(JsonNode? node, string property) =>
        node is JsonObject json && json[property] is JsonValue value && value.TryGetValue<string>(out var text) ? text : null;

    private static void RemoveWhere(JsonArray array, Func<JsonNode?, bool> refused)
    {
        for (var i = array.Count - 1; i >= 0; i--)
        {
            if (refused(array[i]))
            {
                array.RemoveAt(i);
            }
        }
    }
}
