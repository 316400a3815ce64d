using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;

// A custom executor driven by each task's 'data' (UTF-8 text):
//   "finish" (or none)  TASK_RUNNING, then TASK_FINISHED
//   "run"               TASK_RUNNING, then waits for KILL (answered TASK_KILLED) or SHUTDOWN
//   "crash"             TASK_RUNNING, then the executor exits with status 7
// A MESSAGE from the framework is echoed back as "echo:<data>"; every ACKNOWLEDGED is reported to the framework as
// "acknowledged:<task id>"; SHUTDOWN kills the running tasks (TASK_KILLED) and exits 0; LAUNCH_GROUP runs each task
// as "finish". Every event received is appended to events.log in the sandbox, and its MESOS_* environment is written to
// env.txt, for tests to inspect.
var endpoint = Required("MESOS_AGENT_ENDPOINT");
var frameworkId = Required("MESOS_FRAMEWORK_ID");
var executorId = Required("MESOS_EXECUTOR_ID");
var sandbox = Required("MESOS_SANDBOX");
await File.WriteAllLinesAsync(
    Path.Combine(sandbox, "env.txt"),
    Environment.GetEnvironmentVariables().Keys.OfType<string>().Where(k => k.StartsWith("MESOS_", StringComparison.Ordinal)).Order(StringComparer.Ordinal)
        .Select(k => $"{k}={Environment.GetEnvironmentVariable(k)}"));
var api = new Uri($"http://{endpoint}/api/v1/executor");
using var http = new HttpClient { Timeout = Timeout.InfiniteTimeSpan };
var running = new HashSet<string>(StringComparer.Ordinal);

using var subscribe = new HttpRequestMessage(HttpMethod.Post, api) { Content = Json(Call("SUBSCRIBE", new JsonObject { ["subscribe"] = new JsonObject() })) };
subscribe.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
using var response = await http.SendAsync(subscribe, HttpCompletionOption.ResponseHeadersRead);
if (!response.IsSuccessStatusCode)
{
    await Console.Error.WriteLineAsync($"SUBSCRIBE answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
    return 2;
}

var stream = await response.Content.ReadAsStreamAsync();
while (await ReadRecordAsync(stream) is { } ev)
{
    var type = (string?)ev["type"];
    await File.AppendAllTextAsync(Path.Combine(sandbox, "events.log"), ev.ToJsonString() + "\n");
    switch (type)
    {
        case "LAUNCH":
            await LaunchAsync(ev["launch"]!["task"]!);
            break;
        case "LAUNCH_GROUP":
            foreach (var task in ev["launch_group"]!["task_group"]!["tasks"]!.AsArray())
            {
                await UpdateAsync(TaskId(task!), "TASK_RUNNING", null);
                await UpdateAsync(TaskId(task!), "TASK_FINISHED", null);
            }

            break;
        case "KILL":
            var killed = (string)ev["kill"]!["task_id"]!["value"]!;
            if (running.Remove(killed))
            {
                await UpdateAsync(killed, "TASK_KILLED", "killed by the test executor");
            }

            break;
        case "MESSAGE":
            var data = Encoding.UTF8.GetString(Convert.FromBase64String((string)ev["message"]!["data"]!));
            await MessageAsync("echo:" + data);
            break;
        case "ACKNOWLEDGED":
            await MessageAsync("acknowledged:" + (string?)ev["acknowledged"]!["task_id"]!["value"]);
            break;
        case "SHUTDOWN":
            foreach (var task in running.ToList())
            {
                await UpdateAsync(task, "TASK_KILLED", "executor shut down");
            }

            return 0;
        default:
            break;
    }
}

return 0;

async Task LaunchAsync(JsonNode task)
{
    var id = TaskId(task);
    var mode = task["data"] is { } data ? Encoding.UTF8.GetString(Convert.FromBase64String((string)data!)) : "finish";
    await UpdateAsync(id, "TASK_RUNNING", "pid " + Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
    switch (mode)
    {
        case "run":
            running.Add(id);
            break;
        case "crash":
            Environment.Exit(7);
            break;
        default:
            await UpdateAsync(id, "TASK_FINISHED", "done");
            break;
    }
}

async Task UpdateAsync(string taskId, string state, string? message)
{
    var status = new JsonObject
    {
        ["task_id"] = new JsonObject { ["value"] = taskId },
        ["state"] = state,
        ["source"] = "SOURCE_EXECUTOR",
        ["executor_id"] = new JsonObject { ["value"] = executorId },
        ["uuid"] = Convert.ToBase64String(Guid.NewGuid().ToByteArray()),
    };
    if (message is not null)
    {
        status["message"] = message;
    }

    await PostAsync(Call("UPDATE", new JsonObject { ["update"] = new JsonObject { ["status"] = status } }));
}

Task MessageAsync(string text) =>
    PostAsync(Call("MESSAGE", new JsonObject { ["message"] = new JsonObject { ["data"] = Convert.ToBase64String(Encoding.UTF8.GetBytes(text)) } }));

async Task PostAsync(JsonObject call)
{
    using var answer = await http.PostAsync(api, Json(call));
    if ((int)answer.StatusCode != 202)
    {
        await Console.Error.WriteLineAsync($"{call["type"]} answered {(int)answer.StatusCode}: {await answer.Content.ReadAsStringAsync()}");
    }
}

JsonObject Call(string type, JsonObject body)
{
    body["type"] = type;
    body["framework_id"] = new JsonObject { ["value"] = frameworkId };
    body["executor_id"] = new JsonObject { ["value"] = executorId };
    return body;
}

static string TaskId(JsonNode task) => (string)task["task_id"]!["value"]!;

static StringContent Json(JsonObject body) => new(body.ToJsonString(), Encoding.UTF8, "application/json");

static string Required(string name) =>
    Environment.GetEnvironmentVariable(name) is { Length: > 0 } value ? value : throw new InvalidOperationException($"{name} is not set");

// RecordIO: "<length>\n<length bytes of JSON>" repeated; null at the end of the stream.
static async Task<JsonObject?> ReadRecordAsync(Stream stream)
{
    var length = 0;
    var one = new byte[1];
    while (true)
    {
        if (await stream.ReadAsync(one) == 0)
        {
            return null;
        }

        if (one[0] == '\n')
        {
            break;
        }

        length = checked((length * 10) + (one[0] - '0'));
    }

    var buffer = new byte[length];
    await stream.ReadExactlyAsync(buffer);
    return JsonNode.Parse(buffer)!.AsObject();
}
