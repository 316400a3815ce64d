using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using Mezzo.Cli.Client;
using static Mezzo.Cli.Client.ClientVerb;

namespace Mezzo.Cli.Commands;

/// <summary><c>mezzo state</c>: the leading master's <c>/master/state</c>, summarised (or whole with <c>--json</c>).</summary>
public static class StateVerb
{
    public static Command Create()
    {
        var master = MasterOption();
        var json = new Option<bool>("--json") { Description = "Print the leading master's /master/state as is" };
        var command = new Command("state", "Summary of the cluster: leader, agents, frameworks, tasks by state, resources used/total") { master, json };
        SetMasterAction(command, master, async (parsed, api, token) =>
        {
            var state = await api.MasterStateAsync(token);
            if (parsed.GetValue(json))
            {
                Output.Json(state);
                return ExitCodes.Ok;
            }

            var agents = Items(state["slaves"]).ToList();
            var frameworks = Items(state["frameworks"]).ToList();
            var tasks = frameworks.SelectMany(f => Items(f["tasks"]).Concat(Items(f["unreachable_tasks"]))).ToList();
            string Count(int n) => n.ToString(CultureInfo.InvariantCulture);
            string Resource(string name) =>
                $"{Output.Number(agents.Sum(a => a["used_resources"]?[name]?.GetValue<double>() ?? 0))} / {Output.Number(agents.Sum(a => a["resources"]?[name]?.GetValue<double>() ?? 0))}";
            Output.Fields(
            [
                ("MASTER", $"{Text(state["hostname"])} ({Text(state["pid"])})"),
                ("LEADER", Text(state["leader"])),
                ("VERSION", $"{Text(state["mezzo_version"])} (Mesos {Text(state["version"])})"),
                ("CLUSTER", Text(state["cluster"])),
                ("AGENTS", $"{Count(agents.Count(a => a["active"]?.GetValue<bool>() == true))} active, {Text(state["deactivated_slaves"])} deactivated, {Text(state["unreachable_slaves"])} unreachable"),
                ("FRAMEWORKS", $"{Count(frameworks.Count)} registered, {Count(Items(state["completed_frameworks"]).Count())} completed"),
                ("TASKS", tasks.Count == 0 ? "none" : string.Join(", ", tasks.GroupBy(t => Text(t["state"])).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => $"{Count(g.Count())} {g.Key}"))),
                ("CPUS", Resource("cpus")),
                ("MEM", Resource("mem")),
                ("DISK", Resource("disk")),
            ]);
            return ExitCodes.Ok;
        });
        return command;
    }
}
