using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Mezzo.Master.Views;

/// <summary>
/// The master's JSON views (<c>/state</c>, <c>/frameworks</c>, <c>/tasks</c>) cut down to what a principal may see.
/// They start from the immutable serialized snapshot: each filtered request parses its own copy, so readers never
/// touch the actor's state and a principal that sees everything is served the snapshot's bytes unchanged.
/// </summary>
public static class StateViews
{
    private static readonly string[] TaskLists = ["tasks", "unreachable_tasks", "completed_tasks"];

    private static readonly string[] ExecutorLists = ["executors", "completed_executors"];

    /// <summary><c>/state</c> as <paramref name="view"/> may see it: frameworks, their tasks and executors, reservations.</summary>
    public static byte[] State(byte[] stateJson, ViewFilter view)
    {
        ArgumentNullException.ThrowIfNull(view);
        var root = Parse(stateJson);
        Filter(root, view);
        return JsonSerializer.SerializeToUtf8Bytes(root);
    }

    /// <summary>
    /// Mesos's <c>/frameworks</c>: the frameworks of <c>/state</c> (optionally only <paramref name="frameworkId"/>),
    /// filtered by <paramref name="view"/> (null: everything).
    /// </summary>
    public static byte[] Frameworks(byte[] stateJson, ViewFilter? view, string? frameworkId)
    {
        var root = Parse(stateJson);
        if (view is not null)
        {
            Filter(root, view);
        }

        JsonArray Pick(string key)
        {
            var list = root[key] as JsonArray ?? [];
            root.Remove(key);
            if (frameworkId is not null)
            {
                RemoveWhere(list, f => Text(f, "id") != frameworkId);
            }

            return list;
        }

        return JsonSerializer.SerializeToUtf8Bytes(new JsonObject
        {
            ["frameworks"] = Pick("frameworks"),
            ["completed_frameworks"] = Pick("completed_frameworks"),
            ["unregistered_frameworks"] = new JsonArray(),
        });
    }

    /// <summary>
    /// Mesos's <c>/tasks</c>: every task of <c>/state</c> that <paramref name="view"/> may see (null: all), ordered by
    /// the time of its first status (<c>order</c> asc or desc, default desc), then <c>offset</c> and <c>limit</c>
    /// (default 100). A bad parameter is an error message naming it.
    /// </summary>
    public static (byte[]? Json, string? Error) Tasks(byte[] stateJson, ViewFilter? view, string? limit, string? offset, string? order)
    {
        var take = 100;
        var skip = 0;
        if (limit is not null && (!int.TryParse(limit, NumberStyles.None, CultureInfo.InvariantCulture, out take)))
        {
            return (null, $"Failed to parse 'limit': '{limit}' is not a non-negative integer");
        }

        if (offset is not null && (!int.TryParse(offset, NumberStyles.None, CultureInfo.InvariantCulture, out skip)))
        {
            return (null, $"Failed to parse 'offset': '{offset}' is not a non-negative integer");
        }

        if (order is not null and not ("asc" or "desc" or "des"))
        {
            return (null, $"Failed to parse 'order': '{order}' is not 'asc' or 'desc'");
        }

        var root = Parse(stateJson);
        if (view is not null)
        {
            Filter(root, view);
        }

        var tasks = new List<JsonNode>();
        foreach (var key in (string[])["frameworks", "completed_frameworks"])
        {
            foreach (var framework in root[key] as JsonArray ?? [])
            {
                foreach (var list in TaskLists)
                {
                    if (framework?[list] is JsonArray array)
                    {
                        var items = array.Where(t => t is not null).Select(t => t!).ToList();
                        array.Clear();
                        tasks.AddRange(items);
                    }
                }
            }
        }

        var sorted = order == "asc" ? tasks.OrderBy(StartTime) : tasks.OrderByDescending(StartTime);
        return (JsonSerializer.SerializeToUtf8Bytes(new JsonObject
        {
            ["tasks"] = new JsonArray([.. sorted.Skip(skip).Take(take)]),
        }), null);
    }

    private static readonly string[] SummaryStates =
    [
        "TASK_STAGING", "TASK_STARTING", "TASK_RUNNING", "TASK_KILLING", "TASK_FINISHED", "TASK_KILLED", "TASK_FAILED",
        "TASK_LOST", "TASK_ERROR", "TASK_UNREACHABLE",
    ];

    private static readonly string[] SummaryAgentFields =
    [
        "id", "pid", "hostname", "registered_time", "reregistered_time", "resources", "used_resources", "offered_resources",
        "reserved_resources", "unreserved_resources", "attributes", "active", "deactivated", "drain_info", "version", "capabilities",
    ];

    private static readonly string[] SummaryFrameworkFields =
    [
        "id", "name", "role", "roles", "used_resources", "offered_resources", "capabilities", "hostname", "webui_url", "active",
        "connected", "recovered",
    ];

    /// <summary>
    /// Mesos's <c>/state-summary</c>: agents and frameworks without their tasks, with task counts by state, the ids of
    /// the frameworks with tasks on each agent and of the agents each framework runs on. Counted over the tasks
    /// <paramref name="view"/> may see (null: all), so a summary shows no more than <c>/state</c> would.
    /// </summary>
    public static byte[] Summary(byte[] stateJson, ViewFilter? view)
    {
        var root = Parse(stateJson);
        if (view is not null)
        {
            Filter(root, view);
        }

        var byAgent = new Dictionary<string, (Dictionary<string, int> Counts, SortedSet<string> Frameworks)>(StringComparer.Ordinal);
        var frameworks = new JsonArray();
        foreach (var framework in root["frameworks"] as JsonArray ?? [])
        {
            var id = Text(framework, "id") ?? "";
            var counts = new Dictionary<string, int>(StringComparer.Ordinal);
            var agents = new SortedSet<string>(StringComparer.Ordinal);
            foreach (var list in TaskLists)
            {
                foreach (var task in framework?[list] as JsonArray ?? [])
                {
                    var state = Text(task, "state") ?? "";
                    var agent = Text(task, "slave_id") ?? "";
                    counts[state] = counts.GetValueOrDefault(state) + 1;
                    agents.Add(agent);
                    if (!byAgent.TryGetValue(agent, out var onAgent))
                    {
                        onAgent = (new Dictionary<string, int>(StringComparer.Ordinal), new SortedSet<string>(StringComparer.Ordinal));
                        byAgent[agent] = onAgent;
                    }

                    onAgent.Counts[state] = onAgent.Counts.GetValueOrDefault(state) + 1;
                    onAgent.Frameworks.Add(id);
                }
            }

            var summary = Copy(framework, SummaryFrameworkFields);
            AddCounts(summary, counts);
            summary["slave_ids"] = new JsonArray([.. agents.Select(a => (JsonNode)JsonValue.Create(a))]);
            frameworks.Add(summary);
        }

        var agentsSummary = new JsonArray();
        foreach (var agent in root["slaves"] as JsonArray ?? [])
        {
            var summary = Copy(agent, SummaryAgentFields);
            var found = byAgent.TryGetValue(Text(agent, "id") ?? "", out var onAgent);
            AddCounts(summary, found ? onAgent.Counts : []);
            summary["framework_ids"] = new JsonArray([.. (found ? onAgent.Frameworks : []).Select(f => (JsonNode)JsonValue.Create(f))]);
            agentsSummary.Add(summary);
        }

        return JsonSerializer.SerializeToUtf8Bytes(new JsonObject
        {
            ["hostname"] = root["hostname"]?.DeepClone(),
            ["cluster"] = root["cluster"]?.DeepClone(),
            ["slaves"] = agentsSummary,
            ["frameworks"] = frameworks,
        });
    }

    private static JsonObject Copy(JsonNode? from, string[] fields)
    {
        var copy = new JsonObject();
        foreach (var field in fields)
        {
            if (from?[field] is { } value)
            {
                copy[field] = value.DeepClone();
            }
        }

        return copy;
    }

    private static void AddCounts(JsonObject summary, Dictionary<string, int> counts)
    {
        foreach (var state in SummaryStates)
        {
            summary[state] = counts.GetValueOrDefault(state);
        }
    }

    private static JsonObject Parse(byte[] json)
    {
        ArgumentNullException.ThrowIfNull(json);
        return JsonNode.Parse(json)!.AsObject();
    }

    private static void Filter(JsonObject root, ViewFilter view)
    {
        foreach (var key in (string[])["frameworks", "completed_frameworks"])
        {
            if (root[key] is JsonArray frameworks)
            {
                RemoveWhere(frameworks, framework => !Visible(framework, view));
            }
        }

        if (!view.SeesAllRoles && root["slaves"] is JsonArray agents)
        {
            foreach (var agent in agents)
            {
                foreach (var key in (string[])["reserved_resources", "reserved_resources_full"])
                {
                    if (agent?[key] is JsonObject byRole)
                    {
                        foreach (var role in byRole.Select(kv => kv.Key).Where(role => !view.Role(role)).ToList())
                        {
                            byRole.Remove(role);
                        }
                    }
                }
            }
        }
    }

    /// <summary>Whether the framework may be seen; if so, its tasks and executors are trimmed to those that may.</summary>
    private static bool Visible(JsonNode? framework, ViewFilter view)
    {
        var user = Text(framework, "user");
        if (framework is null || !view.Framework(user))
        {
            return false;
        }

        foreach (var key in TaskLists)
        {
            if (framework[key] is JsonArray tasks)
            {
                RemoveWhere(tasks, task => !view.Task(Text(task, "user"), user));
            }
        }

        foreach (var key in ExecutorLists)
        {
            if (framework[key] is JsonArray executors)
            {
                RemoveWhere(executors, executor => !view.Executor(Text(executor?["command"], "user"), user));
            }
        }

        return true;
    }

    private static double StartTime(JsonNode task) =>
        task["statuses"] is JsonArray { Count: > 0 } statuses && statuses[0]?["timestamp"] is JsonValue value && value.TryGetValue<double>(out var time)
            ? time
            : 0;

    private static string? Text(JsonNode? node, string key) =>
        node?[key] is JsonValue value && value.TryGetValue<string>(out var text) ? text : null;

    private static void RemoveWhere(JsonArray array, Func<JsonNode?, bool> remove)
    {
        for (var i = array.Count - 1; i >= 0; i--)
        {
            if (remove(array[i]))
            {
                array.RemoveAt(i);
            }
        }
    }
}
