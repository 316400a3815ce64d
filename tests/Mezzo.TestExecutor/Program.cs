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
//   "finish-on-file"    TASK_RUNNING, then TASK_FINISHED once a file "finish-<task id>" appears in the sandbox
// With MESOS_CHECKPOINT=1 it outlives its agent as Mesos's executor library does: when the SUBSCRIBE stream breaks it
// subscribes again (backoff up to MESOS_SUBSCRIPTION_BACKOFF_MAX, giving up after MESOS_RECOVERY_TIMEOUT) with the
// tasks and updates the agent has not acknowledged (its first SUBSCRIBE too is retried until the agent answers).
// TEST_EXECUTOR_NO_RECONNECT=1 makes it stay disconnected instead; TEST_EXECUTOR_WAIT_FOR=<file> makes it wait for that
// file in its sandbox before it first subscribes. TEST_EXECUTOR_PROTOBUF=1 makes it speak application/x-protobuf: its
// calls are encoded, and events decoded, with classes generated from Mesos's executor.proto (not Mezzo's types), and
// the SUBSCRIBE response's Content-Type is written to stream.txt in the sandbox.
var endpoint = Required("MESOS_AGENT_ENDPOINT");
var frameworkId = Required("MESOS_FRAMEWORK_ID");
var executorId = Required("MESOS_EXECUTOR_ID");
var sandbox = Required("MESOS_SANDBOX");
var checkpoint = Environment.GetEnvironmentVariable("MESOS_CHECKPOINT") == "1";
var reconnect = Environment.GetEnvironmentVariable("TEST_EXECUTOR_NO_RECONNECT") != "1";
var backoffMax = Duration(Environment.GetEnvironmentVariable("MESOS_SUBSCRIPTION_BACKOFF_MAX")) ?? TimeSpan.FromSeconds(2);
var protobuf = Environment.GetEnvironmentVariable("TEST_EXECUTOR_PROTOBUF") == "1";
var recoveryTimeout = Duration(Environment.GetEnvironmentVariable("MESOS_RECOVERY_TIMEOUT")) ?? TimeSpan.FromMinutes(15);
await File.WriteAllLinesAsync(
    Path.Combine(sandbox, "env.txt"),
    Environment.GetEnvironmentVariables().Keys.OfType<string>().Where(k => k.StartsWith("MESOS_", StringComparison.Ordinal)).Order(StringComparer.Ordinal)
        .Select(k => $"{k}={Environment.GetEnvironmentVariable(k)}"));
var api = new Uri($"http://{endpoint}/api/v1/executor");
using var http = new HttpClient { Timeout = Timeout.InfiniteTimeSpan };
// With --authenticate-http-executors the agent hands each executor its token; every call carries it (never logged).
if (Environment.GetEnvironmentVariable("MESOS_EXECUTOR_AUTHENTICATION_TOKEN") is { Length: > 0 } token)
{
    http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
}
var gate = new Lock();
var running = new HashSet<string>(StringComparer.Ordinal);
// What the agent has not acknowledged yet: sent again with a re-SUBSCRIBE (docs/executor-http-api.md).
var unacknowledgedTasks = new Dictionary<string, JsonNode>(StringComparer.Ordinal);
var unacknowledgedUpdates = new List<JsonObject>();
DateTimeOffset? disconnectedSince = checkpoint ? DateTimeOffset.UtcNow : null;
var backoff = TimeSpan.FromMilliseconds(50);
if (Environment.GetEnvironmentVariable("TEST_EXECUTOR_WAIT_FOR") is { Length: > 0 } waitFor)
{
    while (!File.Exists(Path.Combine(sandbox, waitFor)))
    {
        await Task.Delay(50);
    }
}

while (true)
{
    HttpResponseMessage? response = null;
    try
    {
        using var subscribe = new HttpRequestMessage(HttpMethod.Post, api) { Content = Json(Call("SUBSCRIBE", new JsonObject { ["subscribe"] = SubscribeBody() })) };
        subscribe.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(protobuf ? "application/x-protobuf" : "application/json"));
        response = await http.SendAsync(subscribe, HttpCompletionOption.ResponseHeadersRead);
    }
    catch (HttpRequestException) when (disconnectedSince is not null)
    {
        // The agent is not back yet.
    }

    var streamed = false;
    if (response is not null)
    {
        using (response)
        {
            if ((int)response.StatusCode >= 500 && disconnectedSince is not null)
            {
                // The agent is back but still recovering (503): try again, as for no agent at all.
                await Console.Error.WriteLineAsync($"SUBSCRIBE answered {(int)response.StatusCode}; retrying");
            }
            else if (!response.IsSuccessStatusCode)
            {
                await Console.Error.WriteLineAsync($"SUBSCRIBE answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
                return 2;
            }
            else
            {
                streamed = true;
                await File.WriteAllTextAsync(Path.Combine(sandbox, "stream.txt"), response.Content.Headers.ContentType?.MediaType);
                disconnectedSince = null;
                backoff = TimeSpan.FromMilliseconds(50);
                try
                {
                    if (await RunStreamAsync(await response.Content.ReadAsStreamAsync()))
                    {
                        return 0;
                    }
                }
                catch (Exception ex) when (ex is IOException or HttpRequestException)
                {
                    // The agent went away mid-stream.
                }
            }
        }
    }

    if (streamed)
    {
        if (!checkpoint)
        {
            return 0; // without checkpointing an executor does not outlive its agent
        }

        await File.AppendAllTextAsync(Path.Combine(sandbox, "events.log"), "{\"type\":\"DISCONNECTED\"}\n");
        if (!reconnect)
        {
            await Task.Delay(Timeout.Infinite);
        }

        disconnectedSince = DateTimeOffset.UtcNow;
    }

    if (DateTimeOffset.UtcNow - disconnectedSince > recoveryTimeout)
    {
        await Console.Error.WriteLineAsync($"The agent did not come back within MESOS_RECOVERY_TIMEOUT ({recoveryTimeout}); exiting");
        return 3;
    }

    await Task.Delay(backoff);
    backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, backoffMax.Ticks));
}

// Handles the events of one SUBSCRIBE stream; true once SHUTDOWN is done.
async Task<bool> RunStreamAsync(Stream stream)
{
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
                    lock (gate)
                    {
                        unacknowledgedTasks[TaskId(task!)] = task!.DeepClone();
                    }

                    await UpdateAsync(TaskId(task!), "TASK_RUNNING", null);
                    await UpdateAsync(TaskId(task!), "TASK_FINISHED", null);
                }

                break;
            case "KILL":
                var killed = (string)ev["kill"]!["task_id"]!["value"]!;
                bool wasRunning;
                lock (gate)
                {
                    wasRunning = running.Remove(killed);
                }

                if (wasRunning)
                {
                    await UpdateAsync(killed, "TASK_KILLED", "killed by the test executor");
                }

                break;
            case "MESSAGE":
                var data = Encoding.UTF8.GetString(Convert.FromBase64String((string)ev["message"]!["data"]!));
                await MessageAsync("echo:" + data);
                break;
            case "ACKNOWLEDGED":
                var acknowledged = (string?)ev["acknowledged"]!["task_id"]!["value"];
                var uuid = (string?)ev["acknowledged"]!["uuid"];
                lock (gate)
                {
                    unacknowledgedUpdates.RemoveAll(u => (string?)u["uuid"] == uuid);
                    unacknowledgedTasks.Remove(acknowledged ?? "");
                }

                await MessageAsync("acknowledged:" + acknowledged);
                break;
            case "SHUTDOWN":
                List<string> toKill;
                lock (gate)
                {
                    toKill = [.. running];
                    running.Clear();
                }

                foreach (var task in toKill)
                {
                    await UpdateAsync(task, "TASK_KILLED", "executor shut down");
                }

                return true;
            default:
                break;
        }
    }

    return false;
}

JsonObject SubscribeBody()
{
    lock (gate)
    {
        return new JsonObject
        {
            ["unacknowledged_tasks"] = new JsonArray([.. unacknowledgedTasks.Values.Select(t => t.DeepClone())]),
            ["unacknowledged_updates"] = new JsonArray([.. unacknowledgedUpdates.Select(u => (JsonNode)new JsonObject { ["status"] = u.DeepClone() })]),
        };
    }
}

async Task LaunchAsync(JsonNode task)
{
    var id = TaskId(task);
    var mode = task["data"] is { } data ? Encoding.UTF8.GetString(Convert.FromBase64String((string)data!)) : "finish";
    lock (gate)
    {
        unacknowledgedTasks[id] = task.DeepClone();
    }

    await UpdateAsync(id, "TASK_RUNNING", "pid " + Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
    switch (mode)
    {
        case "run":
            lock (gate)
            {
                running.Add(id);
            }

            break;
        case "finish-on-file":
            lock (gate)
            {
                running.Add(id);
            }

            _ = FinishOnFileAsync(id);
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

    lock (gate)
    {
        unacknowledgedUpdates.Add(status);
    }

    await PostAsync(Call("UPDATE", new JsonObject { ["update"] = new JsonObject { ["status"] = status.DeepClone() } }));
}

async Task FinishOnFileAsync(string taskId)
{
    var file = Path.Combine(sandbox, "finish-" + taskId);
    while (!File.Exists(file))
    {
        await Task.Delay(100);
    }

    bool wasRunning;
    lock (gate)
    {
        wasRunning = running.Remove(taskId);
    }

    if (wasRunning)
    {
        await UpdateAsync(taskId, "TASK_FINISHED", "finish file seen");
    }
}

Task MessageAsync(string text) =>
    PostAsync(Call("MESSAGE", new JsonObject { ["message"] = new JsonObject { ["data"] = Convert.ToBase64String(Encoding.UTF8.GetBytes(text)) } }));

async Task PostAsync(JsonObject call)
{
    HttpResponseMessage answer;
    try
    {
        answer = await http.PostAsync(api, Json(call));
    }
    catch (HttpRequestException ex) when (checkpoint)
    {
        // The agent is away: an UPDATE stays unacknowledged and goes with the next SUBSCRIBE.
        await Console.Error.WriteLineAsync($"{call["type"]} failed: {ex.Message}");
        return;
    }

    using (answer)
    {
        if ((int)answer.StatusCode != 202)
        {
            await Console.Error.WriteLineAsync($"{call["type"]} answered {(int)answer.StatusCode}: {await answer.Content.ReadAsStringAsync()}");
        }
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

HttpContent Json(JsonObject body) => protobuf
    ? new ByteArrayContent(Google.Protobuf.MessageExtensions.ToByteArray(
        new Google.Protobuf.JsonParser(Google.Protobuf.JsonParser.Settings.Default).Parse<Mesos.V1.Executor.Call>(body.ToJsonString())))
    {
        Headers = { ContentType = new MediaTypeHeaderValue("application/x-protobuf") },
    }
    : new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");

// Mesos's Duration text ("2secs", "15mins", "500ms").
static TimeSpan? Duration(string? text)
{
    if (string.IsNullOrEmpty(text))
    {
        return null;
    }

    var split = text.TakeWhile(c => char.IsDigit(c) || c == '.').Count();
    var value = double.Parse(text[..split], CultureInfo.InvariantCulture);
    return text[split..] switch
    {
        "ns" => TimeSpan.FromTicks((long)(value / 100)),
        "us" => TimeSpan.FromTicks((long)(value * 10)),
        "ms" => TimeSpan.FromMilliseconds(value),
        "secs" => TimeSpan.FromSeconds(value),
        "mins" => TimeSpan.FromMinutes(value),
        "hrs" => TimeSpan.FromHours(value),
        "days" => TimeSpan.FromDays(value),
        "weeks" => TimeSpan.FromDays(value * 7),
        var unit => throw new FormatException($"'{text}' is not a duration (unit '{unit}')"),
    };
}

static string Required(string name) =>
    Environment.GetEnvironmentVariable(name) is { Length: > 0 } value ? value : throw new InvalidOperationException($"{name} is not set");

// RecordIO: "<length>\n<length bytes of JSON>" repeated; null at the end of the stream.
async Task<JsonObject?> ReadRecordAsync(Stream stream)
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
    return protobuf
        ? JsonNode.Parse(new Google.Protobuf.JsonFormatter(Google.Protobuf.JsonFormatter.Settings.Default.WithPreserveProtoFieldNames(true))
            .Format(Mesos.V1.Executor.Event.Parser.ParseFrom(buffer)))!.AsObject()
        : JsonNode.Parse(buffer)!.AsObject();
}
