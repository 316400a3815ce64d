using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using Mezzo.Cli.Client;
using Mezzo.Cli.Flags;
using static Mezzo.Cli.Client.ClientVerb;

namespace Mezzo.Cli.Commands;

/// <summary>
/// <c>mezzo task list|show|log|kill</c>. The master knows every task; logs are read from the task's agent
/// (<c>/files/read</c>); a kill goes to the framework that owns the task, because Mesos's operator API has no call to
/// kill a single task (only TEARDOWN of a whole framework): the services (Marathon) and jobs (Chronos) frameworks
/// are asked through their own APIs.
/// </summary>
public static class TaskVerbs
{
    private static readonly string[] Lists = ["pending_tasks", "tasks", "unreachable_tasks", "completed_tasks"];

    private static readonly HashSet<string> TerminalStates =
        ["TASK_FINISHED", "TASK_FAILED", "TASK_KILLED", "TASK_ERROR", "TASK_LOST", "TASK_DROPPED", "TASK_GONE", "TASK_GONE_BY_OPERATOR"];

    public static Command Create()
    {
        var master = MasterOption();
        master.Recursive = true;
        var json = JsonOption();
        json.Recursive = true;
        var id = new Argument<string>("task-id") { Description = "The task's ID (see `mezzo task list`)" };

        var framework = new Option<string?>("--framework") { Description = "Only tasks of this framework (ID or name)" };
        var state = new Option<string?>("--state") { Description = "Only tasks in this state, e.g. running or TASK_FAILED (terminal states include completed tasks)" };
        state.Validators.Add(result =>
        {
            var value = result.GetValueOrDefault<string?>();
            if (value is not null && !Enum.TryParse<Mezzo.Core.Tasks.TaskState>(Normalize(value), out _))
            {
                result.AddError($"--state: unknown task state '{value}' (e.g. running, TASK_STAGING, failed)");
            }
        });
        var completed = new Option<bool>("--completed") { Description = "Include completed (terminal) tasks" };
        var list = new Command("list", "List tasks: active ones, with --completed also those that ended") { framework, state, completed };
        SetMasterAction(list, master, async (parsed, api, token) =>
        {
            var cluster = await api.GetStateAsync(token);
            var wanted = parsed.GetValue(state) is { } s ? Normalize(s) : null;
            var includeCompleted = parsed.GetValue(completed) || (wanted is not null && TerminalStates.Contains(wanted));
            var frameworkFilter = parsed.GetValue(framework);
            var tasks = AllTasks(cluster)
                .Where(t => includeCompleted || t.List != "completed_tasks")
                .Select(t => t.Task)
                .Where(t => wanted is null || Text(t["state"]) == wanted)
                .Where(t => frameworkFilter is null || Id(t["framework_id"]) == frameworkFilter || FrameworkName(cluster, Id(t["framework_id"])) == frameworkFilter)
                .ToList();
            if (parsed.GetValue(json))
            {
                Output.Json(new JsonArray([.. tasks.Select(t => t.DeepClone())]));
                return ExitCodes.Ok;
            }

            PrintTasks(cluster, tasks);
            return ExitCodes.Ok;
        });

        var show = new Command("show", "Show a task: framework, agent, resources and its status history") { id };
        SetMasterAction(show, master, async (parsed, api, token) =>
        {
            var cluster = await api.GetStateAsync(token);
            var task = Find(cluster, parsed.GetValue(id)!);
            if (parsed.GetValue(json))
            {
                Output.Json(task.DeepClone());
                return ExitCodes.Ok;
            }

            var frameworkId = Id(task["framework_id"]);
            var agentId = Id(task["agent_id"]);
            Output.Fields(
            [
                ("ID", Id(task["task_id"])),
                ("NAME", Text(task["name"])),
                ("STATE", Text(task["state"])),
                ("FRAMEWORK", $"{frameworkId} ({FrameworkName(cluster, frameworkId)})"),
                ("AGENT", $"{agentId} ({AgentHost(cluster, agentId)})"),
                ("EXECUTOR", Id(task["executor_id"])),
                ("CPUS", Output.Number(Scalar(task["resources"], "cpus"))),
                ("MEM", Output.Number(Scalar(task["resources"], "mem"))),
                ("DISK", Output.Number(Scalar(task["resources"], "disk"))),
            ]);
            Output.Heading("Status updates");
            Output.Table(["TIME", "STATE", "SOURCE", "REASON", "MESSAGE"], Items(task["statuses"]).Select(s => (IReadOnlyList<string>)
            [
                s["timestamp"]?.GetValue<double>() is { } seconds ? DateTimeOffset.FromUnixTimeMilliseconds((long)(seconds * 1000)).ToString("yyyy-MM-dd HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture) : "",
                Text(s["state"]), Text(s["source"]), Text(s["reason"]), Text(s["message"]),
            ]));
            return ExitCodes.Ok;
        });

        var follow = new Option<bool>("--follow", "-f") { Description = "Keep printing new output until the task ends (or Ctrl-C)" };
        var stderr = new Option<bool>("--stderr") { Description = "The task's stderr instead of its stdout" };
        var log = new Command("log", "Print a task's stdout (or --stderr) from its sandbox on the agent; -f follows it") { id, follow, stderr };
        SetMasterAction(log, master, (parsed, api, token) => LogAsync(api, parsed.GetValue(id)!, parsed.GetValue(follow), parsed.GetValue(stderr), token));

        var services = new Option<string?>("--services") { Description = "The services (Marathon) API, for its tasks [env: MEZZO_SERVICES; config: services; default: the framework's web UI URL]" };
        var jobs = new Option<string?>("--jobs") { Description = "The jobs (Chronos) API, for its tasks [env: MEZZO_JOBS; config: jobs; default: the framework's web UI URL]" };
        var scale = new Option<bool>("--scale") { Description = "Services tasks: also lower the app's instance count, so the task is not replaced" };
        var kill = new Command("kill", "Kill a task through the framework that owns it (services: the instance is replaced unless --scale; jobs: the job's running tasks are killed)") { id, services, jobs, scale };
        SetMasterAction(kill, master, async (parsed, api, token) =>
        {
            var cluster = await api.GetStateAsync(token);
            var taskId = parsed.GetValue(id)!;
            var task = Find(cluster, taskId);
            var frameworkId = Id(task["framework_id"]);
            if (TerminalStates.Contains(Text(task["state"])))
            {
                throw new CliException(ExitCodes.Refused, $"Task {taskId} has already ended ({Text(task["state"])})");
            }

            var info = Items(cluster["get_frameworks"]?["frameworks"]).FirstOrDefault(f => Id(f["framework_info"]?["id"]) == frameworkId)?["framework_info"];
            var name = Text(info?["name"]);
            var webui = Text(info?["webui_url"]);
            string result;
            if (name == "marathon")
            {
                using var http = FrameworkApi(api, Endpoint(parsed.GetValue(services), "services", webui), "services API");
                var body = new JsonObject { ["ids"] = new JsonArray(taskId) }.ToJsonString();
                await http.JsonAsync(HttpMethod.Post, "v2/tasks/delete" + (parsed.GetValue(scale) ? "?scale=true" : ""), body, token);
                result = parsed.GetValue(scale) ? "killed; its app was scaled down" : "killed; its app will replace it";
            }
            else if (name == "chronos" && taskId.Split(':') is ["ct", _, _, var jobName, ..])
            {
                using var http = FrameworkApi(api, Endpoint(parsed.GetValue(jobs), "jobs", webui), "jobs API");
                using var response = await http.SendAsync(HttpMethod.Delete, "v1/scheduler/task/kill/" + Uri.EscapeDataString(jobName), null, token);
                if (!response.IsSuccessStatusCode)
                {
                    throw http.Refusal(response, await response.Content.ReadAsStringAsync(token));
                }

                result = $"killed, with every running task of job '{jobName}' (Chronos kills per job)";
            }
            else
            {
                throw new CliException(ExitCodes.Refused,
                    $"Task {taskId} belongs to framework {frameworkId} ('{name}'), which only its own scheduler can ask to kill a task: Mesos's operator API kills tasks only by tearing down the whole framework (`mezzo framework teardown {frameworkId}`)");
            }

            if (parsed.GetValue(json))
            {
                Output.Json(new JsonObject { ["task_id"] = taskId, ["framework_id"] = frameworkId, ["killed"] = true });
            }
            else
            {
                Output.Line($"Task {taskId} {result}");
            }

            return ExitCodes.Ok;
        });

        return new Command("task", "Tasks on the cluster: list, show, log, kill") { master, json, list, show, log, kill };
    }

    /// <summary>
    /// A framework's API, logged in as the master's caller when the user named it (flag, environment, config) or it
    /// is on the master's host: a URL the framework registered itself is not trusted with the secret.
    /// </summary>
    private static HttpApi FrameworkApi(MasterApi master, ClientConfig.Endpoint endpoint, string what)
    {
        var trusted = endpoint.Source != "default"
            || ClientConfig.BaseUris(endpoint).All(uri => string.Equals(uri.IdnHost, master.Http.BaseUri.IdnHost, StringComparison.OrdinalIgnoreCase));
        return new HttpApi(endpoint, what, credential: trusted ? master.Http.Credential : null);
    }

    private static ClientConfig.Endpoint Endpoint(string? flag, string key, string webui)
    {
        var endpoint = ClientConfig.Resolve(flag, key, webui);
        return endpoint.Explicit || webui.Length > 0
            ? endpoint
            : throw new CliException(ExitCodes.Usage, $"The {key} framework registered no web UI URL; give --{key} (or MEZZO_{key.ToUpperInvariant()})");
    }

    private static async Task<int> LogAsync(MasterApi api, string taskId, bool follow, bool stderr, CancellationToken token)
    {
        var cluster = await api.GetStateAsync(token);
        var task = Find(cluster, taskId);
        var agentId = Id(task["agent_id"]);
        var agent = Items(cluster["get_agents"]?["agents"]).FirstOrDefault(a => Id(a["agent_info"]?["id"]) == agentId)
            ?? throw new CliException(ExitCodes.Refused, $"Task {taskId} ran on agent {agentId}, which the master no longer knows: its sandbox cannot be read");
        var host = Text(agent["agent_info"]?["hostname"]);
        var port = agent["agent_info"]?["port"]?.GetValue<int>() ?? 5051;
        // Agents of a TLS cluster serve HTTPS as its master does.
        var agentUri = new Uri($"{api.Http.BaseUri.Scheme}://{host}:{port.ToString(CultureInfo.InvariantCulture)}/");
        var file = stderr ? "stderr" : "stdout";
        // The agents are the ones the master the user named vouches for: the operator's login reads their sandboxes.
        var login = api.Http.Credential?.Credential;
        using var shutdown = new Shutdown(token);
        try
        {
            var sandbox = await SandboxTail.FindTaskSandboxAsync(agentUri, Id(task["framework_id"]), taskId, login, shutdown.Token);
            while (sandbox is null && follow && !shutdown.Token.IsCancellationRequested)
            {
                // Not launched yet (staging): -f waits for the sandbox to appear.
                await Task.Delay(TimeSpan.FromMilliseconds(250), shutdown.Token);
                sandbox = await SandboxTail.FindTaskSandboxAsync(agentUri, Id(task["framework_id"]), taskId, login, shutdown.Token);
            }

            if (sandbox is null)
            {
                throw new CliException(ExitCodes.Refused, $"Agent {agentUri} has no sandbox for task {taskId} (not launched yet, or garbage collected)");
            }

            if (!follow)
            {
                await SandboxTail.CopyFileAsync(agentUri, sandbox + "/" + file, 0, Console.Out, login, shutdown.Token);
                return ExitCodes.Ok;
            }

            // Follows until the task ends or Ctrl-C; a last read after either catches what was written meanwhile.
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(shutdown.Token);
            var tail = SandboxTail.FollowFileAsync(agentUri, sandbox + "/" + file, Console.Out, login, stop.Token);
            while (!stop.IsCancellationRequested)
            {
                var current = Find(await api.GetStateAsync(shutdown.Token), taskId);
                if (TerminalStates.Contains(Text(current["state"])))
                {
                    break;
                }

                await Task.Delay(TimeSpan.FromMilliseconds(500), shutdown.Token);
            }

            await stop.CancelAsync();
            await tail;
            return ExitCodes.Ok;
        }
        catch (OperationCanceledException) when (shutdown.Token.IsCancellationRequested)
        {
            return ExitCodes.Ok;
        }
        catch (HttpRequestException ex) when (ex.StatusCode is { } status)
        {
            throw new CliException(ExitCodes.Refused, $"Agent {agentUri} refused to serve the sandbox of task {taskId}: {(int)status} {ex.Message}");
        }
        catch (HttpRequestException ex)
        {
            throw new CliException(ExitCodes.Unreachable, $"Cannot reach agent {agentId} at {agentUri} to read the sandbox of task {taskId}: {ex.Message}");
        }
    }

    public static void PrintTasks(JsonNode cluster, IEnumerable<JsonNode> tasks) =>
        Output.Table(["ID", "NAME", "STATE", "FRAMEWORK", "AGENT", "CPUS", "MEM"], tasks.Select(t => (IReadOnlyList<string>)
        [
            Id(t["task_id"]), Text(t["name"]), Text(t["state"]), FrameworkName(cluster, Id(t["framework_id"])),
            AgentHost(cluster, Id(t["agent_id"])), Output.Number(Scalar(t["resources"], "cpus")), Output.Number(Scalar(t["resources"], "mem")),
        ]));

    public static JsonNode Find(JsonNode cluster, string taskId) =>
        AllTasks(cluster).Select(t => t.Task).FirstOrDefault(t => Id(t["task_id"]) == taskId)
        ?? throw new CliException(ExitCodes.Refused, $"No task with ID '{taskId}' (see `mezzo task list --completed`)");

    private static IEnumerable<(string List, JsonNode Task)> AllTasks(JsonNode cluster) =>
        Lists.SelectMany(list => Items(cluster["get_tasks"]?[list]).Select(t => (list, t)));

    private static string Normalize(string state)
    {
        var upper = state.Trim().ToUpperInvariant();
        return upper.StartsWith("TASK_", StringComparison.Ordinal) ? upper : "TASK_" + upper;
    }

    private static string FrameworkName(JsonNode cluster, string frameworkId) =>
        Text(Items(cluster["get_frameworks"]?["frameworks"]).Concat(Items(cluster["get_frameworks"]?["completed_frameworks"]))
            .FirstOrDefault(f => Id(f["framework_info"]?["id"]) == frameworkId)?["framework_info"]?["name"]);

    private static string AgentHost(JsonNode cluster, string agentId) =>
        Text(Items(cluster["get_agents"]?["agents"]).FirstOrDefault(a => Id(a["agent_info"]?["id"]) == agentId)?["agent_info"]?["hostname"]);
}
