using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using Mezzo.Cli.Client;
using static Mezzo.Cli.Client.ClientVerb;

namespace Mezzo.Cli.Commands;

/// <summary><c>mezzo framework list|teardown</c> through the operator API (GET_STATE, TEARDOWN).</summary>
public static class FrameworkVerbs
{
    public static Command Create()
    {
        var master = MasterOption();
        master.Recursive = true;
        var json = JsonOption();
        json.Recursive = true;

        var completed = new Option<bool>("--completed") { Description = "Include frameworks that were torn down or timed out" };
        var list = new Command("list", "List frameworks: name, roles, state, tasks, resources, web UI") { completed };
        SetMasterAction(list, master, async (parsed, api, token) =>
        {
            var state = await api.GetStateAsync(token);
            var frameworks = Items(state["get_frameworks"]?["frameworks"]).Select(f => (Framework: f, Completed: false))
                .Concat(parsed.GetValue(completed) ? Items(state["get_frameworks"]?["completed_frameworks"]).Select(f => (Framework: f, Completed: true)) : [])
                .ToList();
            if (parsed.GetValue(json))
            {
                Output.Json(new JsonArray([.. frameworks.Select(f => f.Framework.DeepClone())]));
                return ExitCodes.Ok;
            }

            Output.Table(["ID", "NAME", "ROLES", "STATE", "TASKS", "CPUS", "MEM", "WEB UI"], frameworks.Select(entry =>
            {
                var (f, done) = entry;
                var info = f["framework_info"];
                var id = Id(info?["id"]);
                var roles = Items(info?["roles"]).Select(Text).ToList();
                return (IReadOnlyList<string>)
                [
                    id, Text(info?["name"]), roles.Count > 0 ? string.Join(",", roles) : Text(info?["role"]) is { Length: > 0 } role ? role : "*",
                    done ? "completed" : f["connected"]?.GetValue<bool>() == false ? "disconnected" : f["active"]?.GetValue<bool>() == false ? "inactive" : "active",
                    Items(state["get_tasks"]?["tasks"]).Count(t => Id(t["framework_id"]) == id).ToString(CultureInfo.InvariantCulture),
                    Output.Number(Scalar(f["allocated_resources"], "cpus")), Output.Number(Scalar(f["allocated_resources"], "mem")),
                    Text(info?["webui_url"]),
                ];
            }));
            return ExitCodes.Ok;
        });

        var id = new Argument<string>("framework-id") { Description = "The framework's ID (see `mezzo framework list`)" };
        var teardown = new Command("teardown", "End a framework: all of its tasks are killed and it cannot resubscribe with this ID") { id };
        SetMasterAction(teardown, master, async (parsed, api, token) =>
        {
            var frameworkId = parsed.GetValue(id)!;
            await api.CallAsync(MasterApi.Call("TEARDOWN", "teardown", new JsonObject { ["framework_id"] = new JsonObject { ["value"] = frameworkId } }), token);
            if (parsed.GetValue(json))
            {
                Output.Json(new JsonObject { ["framework_id"] = frameworkId, ["torn_down"] = true });
            }
            else
            {
                Output.Line($"Framework {frameworkId} torn down");
            }

            return ExitCodes.Ok;
        });

        return new Command("framework", "Frameworks registered with the master: list, teardown") { master, json, list, teardown };
    }
}
