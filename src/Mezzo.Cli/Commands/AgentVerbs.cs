using System.CommandLine;
using System.Text.Json.Nodes;
using Mezzo.Cli.Client;
using Spectre.Console;
using static Mezzo.Cli.Client.ClientVerb;

namespace Mezzo.Cli.Commands;

/// <summary>
/// <c>mezzo agent list|show|drain</c>: operator verbs beside the agent daemon. <c>mezzo agent --master ...</c> still runs
/// the daemon (the command's own action); a first word of <c>list</c>, <c>show</c> or <c>drain</c> picks a verb, whose
/// <c>--master</c> is the master to ask (a URL), not the one to register with.
/// </summary>
public static class AgentVerbs
{
    public static void AddTo(Command agent)
    {
        var id = new Argument<string>("agent-id") { Description = "The agent's ID (see `mezzo agent list`)" };

        var listMaster = MasterOption();
        var listJson = JsonOption();
        var list = new Command("list", "List agents: state (active, deactivated, draining, drained), resources used/total, tasks") { listMaster, listJson };
        SetMasterAction(list, listMaster, async (parsed, api, token) =>
        {
            var state = await api.GetStateAsync(token);
            var agents = Items(state["get_agents"]?["agents"]).ToList();
            if (parsed.GetValue(listJson))
            {
                Output.Json(new JsonArray([.. agents.Select(a => a.DeepClone())]));
                return ExitCodes.Ok;
            }

            Output.Table(["ID", "HOSTNAME", "STATE", "CPUS", "MEM", "DISK", "TASKS"], agents.Select(a =>
            {
                var agentId = Id(a["agent_info"]?["id"]);
                return (IReadOnlyList<string>)
                [
                    agentId, Text(a["agent_info"]?["hostname"]), StateOf(a),
                    Used(a, "cpus"), Used(a, "mem"), Used(a, "disk"),
                    TasksOn(state, agentId).Count().ToString(System.Globalization.CultureInfo.InvariantCulture),
                ];
            }));
            return ExitCodes.Ok;
        });

        var showMaster = MasterOption();
        var showJson = JsonOption();
        var show = new Command("show", "Show an agent: address, state, resources, attributes and its tasks") { id, showMaster, showJson };
        SetMasterAction(show, showMaster, async (parsed, api, token) =>
        {
            var state = await api.GetStateAsync(token);
            var agentId = parsed.GetValue(id)!;
            var agent = Find(state, agentId);
            if (parsed.GetValue(showJson))
            {
                Output.Json(agent.DeepClone());
                return ExitCodes.Ok;
            }

            var info = agent["agent_info"];
            Output.Fields(
            [
                ("ID", agentId),
                ("HOSTNAME", Text(info?["hostname"])),
                ("PORT", Text(info?["port"])),
                ("STATE", StateOf(agent)),
                ("VERSION", Text(agent["version"])),
                ("CPUS", Used(agent, "cpus")),
                ("MEM", Used(agent, "mem")),
                ("DISK", Used(agent, "disk")),
                ("ATTRIBUTES", string.Join(";", Items(info?["attributes"]).Select(Attribute))),
            ]);
            Output.Heading("Tasks");
            TaskVerbs.PrintTasks(state, TasksOn(state, agentId));
            return ExitCodes.Ok;
        });

        var drainMaster = MasterOption();
        var drainJson = JsonOption();
        var grace = DurationOption("--max-grace-period", "Cap on each task's kill grace period while draining");
        var markGone = new Option<bool>("--mark-gone") { Description = "Once drained, mark the agent gone: it is removed for good and may never rejoin" };
        var wait = new Option<bool>("--wait") { Description = "Wait until the agent is drained (its tasks are gone), showing progress" };
        var timeout = DurationOption("--timeout", "How long --wait waits before giving up (exit 4); default 10mins");
        var drain = new Command("drain", "Drain an agent: no new tasks, its tasks are killed; with --wait until none is left") { id, grace, markGone, wait, timeout, drainMaster, drainJson };
        SetMasterAction(drain, drainMaster, async (parsed, api, token) =>
        {
            var agentId = parsed.GetValue(id)!;
            var body = new JsonObject { ["agent_id"] = new JsonObject { ["value"] = agentId } };
            if (parsed.GetValue(grace) is { } period)
            {
                body["max_grace_period"] = new JsonObject { ["nanoseconds"] = period.Ticks * 100 };
            }

            if (parsed.GetValue(markGone))
            {
                body["mark_gone"] = true;
            }

            await api.CallAsync(MasterApi.Call("DRAIN_AGENT", "drain_agent", body), token);
            var final = parsed.GetValue(wait)
                ? await WaitDrainedAsync(api, agentId, parsed.GetValue(timeout) ?? TimeSpan.FromMinutes(10), token)
                : "DRAINING";
            if (parsed.GetValue(drainJson))
            {
                Output.Json(new JsonObject { ["agent_id"] = agentId, ["state"] = final });
            }
            else
            {
                Output.Line(final == "DRAINING" ? $"Agent {agentId} is draining" : $"Agent {agentId} is {final.ToLowerInvariant()}");
            }

            return ExitCodes.Ok;
        });

        agent.Subcommands.Add(list);
        agent.Subcommands.Add(show);
        agent.Subcommands.Add(drain);
    }

    /// <summary>Polls GET_STATE until the agent is DRAINED (or, with mark_gone, removed), with a spinner or progress lines on stderr.</summary>
    private static async Task<string> WaitDrainedAsync(MasterApi api, string agentId, TimeSpan timeout, CancellationToken token)
    {
        var deadline = DateTime.UtcNow + timeout;
        async Task<string> PollAsync(Action<string> report)
        {
            string? last = null;
            while (true)
            {
                var state = await api.GetStateAsync(token);
                var agent = Items(state["get_agents"]?["agents"]).FirstOrDefault(a => Id(a["agent_info"]?["id"]) == agentId);
                if (agent is null)
                {
                    return "GONE";
                }

                var drainState = Text(agent["drain_info"]?["state"]);
                if (drainState == "DRAINED")
                {
                    return drainState;
                }

                var left = TasksOn(state, agentId).Count();
                var tasksLeft = $"{left} task{(left == 1 ? "" : "s")} left";
                var line = $"Draining agent {agentId}: {tasksLeft}";
                if (line != last)
                {
                    report(line);
                    last = line;
                }

                if (DateTime.UtcNow >= deadline)
                {
                    throw new CliException(ExitCodes.TimedOut, $"Agent {agentId} was not drained within {timeout.TotalSeconds}s ({tasksLeft}); it keeps draining");
                }

                await Task.Delay(TimeSpan.FromMilliseconds(250), token);
            }
        }

        if (!Output.ErrInteractive)
        {
            return await PollAsync(Output.Note);
        }

        return await Output.Err.Status().Spinner(Spinner.Known.Dots).StartAsync($"Draining agent {agentId}", context =>
            PollAsync(line => context.Status(Markup.Escape(line))));
    }

    public static JsonNode Find(JsonNode state, string agentId) =>
        Items(state["get_agents"]?["agents"]).FirstOrDefault(a => Id(a["agent_info"]?["id"]) == agentId)
        ?? throw new CliException(ExitCodes.Refused, $"No agent with ID '{agentId}' (see `mezzo agent list`)");

    private static IEnumerable<JsonNode> TasksOn(JsonNode state, string agentId) =>
        Items(state["get_tasks"]?["tasks"]).Concat(Items(state["get_tasks"]?["pending_tasks"])).Where(t => Id(t["agent_id"]) == agentId);

    private static string StateOf(JsonNode agent) => Text(agent["drain_info"]?["state"]) switch
    {
        "DRAINING" => "draining",
        "DRAINED" => "drained",
        _ when agent["deactivated"]?.GetValue<bool>() == true => "deactivated",
        _ when agent["active"]?.GetValue<bool>() == false => "inactive",
        _ => "active",
    };

    private static string Used(JsonNode agent, string name) =>
        $"{Output.Number(Scalar(agent["allocated_resources"], name))}/{Output.Number(Scalar(agent["total_resources"] ?? agent["agent_info"]?["resources"], name))}";

    private static string Attribute(JsonNode attribute) =>
        $"{Text(attribute["name"])}:{Text(attribute["text"]?["value"] ?? attribute["scalar"]?["value"])}";
}
