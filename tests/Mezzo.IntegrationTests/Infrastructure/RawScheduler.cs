using System.Net;
using System.Text;
using System.Text.Json.Nodes;

namespace Mezzo.IntegrationTests.Infrastructure;

/// <summary>
/// A scheduler speaking the v1 API with nothing but HttpClient and hand-parsed RecordIO, so compatibility is checked
/// independently of Mezzo's own SDK and protocol types.
/// </summary>
public sealed class RawScheduler : IAsyncDisposable
{
    private readonly HttpClient _http = new() { Timeout = Timeout.InfiniteTimeSpan };
    private readonly Uri _master;
    private readonly List<JsonObject> _events = [];
    private readonly CancellationTokenSource _stop = new();
    private HttpResponseMessage? _subscription;
    private Task? _reader;
    private int _offerCursor;

    public RawScheduler(Uri master) => _master = master;

    /// <summary>
    /// Speak application/x-protobuf instead of JSON: every call is encoded with the classes generated from Mesos's
    /// scheduler.proto (Google.Protobuf's own JSON parser, not Mezzo's POCOs) and every event decoded with them, so
    /// the bytes on the wire are what a Mesos protobuf client sends and expects.
    /// </summary>
    public bool Protobuf { get; init; }

    private static readonly Google.Protobuf.JsonParser ProtoParser = new(Google.Protobuf.JsonParser.Settings.Default);

    private static readonly Google.Protobuf.JsonFormatter ProtoFormatter =
        new(Google.Protobuf.JsonFormatter.Settings.Default.WithPreserveProtoFieldNames(true));

    private HttpContent Body(string json) => Protobuf
        ? new ByteArrayContent(Google.Protobuf.MessageExtensions.ToByteArray(ProtoParser.Parse<Mesos.V1.Scheduler.Call>(json)))
        {
            Headers = { ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/x-protobuf") },
        }
        : new StringContent(json, Encoding.UTF8, "application/json");

    private JsonObject ParseEvent(byte[] record) => Protobuf
        ? JsonNode.Parse(ProtoFormatter.Format(Mesos.V1.Scheduler.Event.Parser.ParseFrom(record)))!.AsObject()
        : JsonNode.Parse(record)!.AsObject();

    /// <summary>The Content-Type of the SUBSCRIBE response.</summary>
    public string? StreamContentType { get; private set; }

    /// <summary>Acknowledge each UPDATE as it arrives (default), or leave it to the test.</summary>
    public bool AutoAcknowledge { get; init; } = true;

    public string? StreamId { get; private set; }

    public string? FrameworkId { get; private set; }

    public HttpStatusCode SubscribeStatus { get; private set; }

    public bool StreamEnded { get; private set; }

    public IReadOnlyList<JsonObject> Events
    {
        get
        {
            lock (_events)
            {
                return [.. _events];
            }
        }
    }

    public static string FrameworkInfo(string name = "raw-test", double failoverTimeout = 0, bool partitionAware = false, string? id = null, bool checkpoint = false) =>
        new JsonObject
        {
            ["user"] = "root",
            ["name"] = name,
            ["failover_timeout"] = failoverTimeout,
            ["checkpoint"] = checkpoint ? true : null,
            ["id"] = id is null ? null : new JsonObject { ["value"] = id },
            ["capabilities"] = partitionAware ? new JsonArray(new JsonObject { ["type"] = "PARTITION_AWARE" }) : new JsonArray(),
        }.ToJsonString();

    /// <summary>POSTs a SUBSCRIBE and starts reading the RecordIO stream; waits for SUBSCRIBED.</summary>
    public async Task SubscribeAsync(string frameworkInfoJson, string? frameworkId = null)
    {
        var body = frameworkId is null
            ? $$"""{"type":"SUBSCRIBE","subscribe":{"framework_info":{{frameworkInfoJson}} } }"""
            : $$"""{"framework_id":{"value":"{{frameworkId}}"},"type":"SUBSCRIBE","subscribe":{"framework_info":{{frameworkInfoJson}} } }""";
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(_master, "api/v1/scheduler"))
        {
            Content = Body(body),
        };
        request.Headers.Add("Accept", Protobuf ? "application/x-protobuf" : "application/json");
        _subscription = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        SubscribeStatus = _subscription.StatusCode;
        if (_subscription.StatusCode != HttpStatusCode.OK)
        {
            return;
        }

        StreamId = _subscription.Headers.GetValues("Mesos-Stream-Id").Single();
        StreamContentType = _subscription.Content.Headers.ContentType?.MediaType;
        var stream = await _subscription.Content.ReadAsStreamAsync();
        _reader = Task.Run(() => ReadRecordsAsync(stream));
        var subscribed = await WaitForAsync(e => (string?)e["type"] == "SUBSCRIBED" || (string?)e["type"] == "ERROR", "SUBSCRIBED");
        FrameworkId = (string?)subscribed["subscribed"]?["framework_id"]?["value"];
    }

    private async Task ReadRecordsAsync(Stream stream)
    {
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                // RecordIO: "<length>\n<length bytes>" repeated.
                var length = 0;
                int b;
                var one = new byte[1];
                while ((b = await stream.ReadAsync(one, _stop.Token) == 0 ? -1 : one[0]) != '\n')
                {
                    if (b < 0)
                    {
                        return;
                    }

                    length = checked((length * 10) + (b - '0'));
                }

                var buffer = new byte[length];
                await stream.ReadExactlyAsync(buffer, _stop.Token);
                var ev = ParseEvent(buffer);
                lock (_events)
                {
                    _events.Add(ev);
                }

                // A well-behaved scheduler acknowledges every update that carries a uuid; the agent sends a task's
                // next update only after that, so tests that don't look at acks still see the whole sequence.
                if (AutoAcknowledge && (string?)ev["type"] == "UPDATE" && ev["update"]?["status"]?["uuid"] is not null)
                {
                    await AcknowledgeAsync(ev);
                }
            }
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or ObjectDisposedException or HttpRequestException)
        {
        }
        finally
        {
            StreamEnded = true;
        }
    }

    /// <summary>The first event (in arrival order) matching <paramref name="match"/>, waiting for it if needed.</summary>
    public Task<JsonObject> WaitForAsync(Func<JsonObject, bool> match, string what, TimeSpan? timeout = null) =>
        WaitForAfterAsync(0, match, what, timeout);

    /// <summary>Like <see cref="WaitForAsync"/>, ignoring the first <paramref name="mark"/> events (those seen before).</summary>
    public Task<JsonObject> WaitForAfterAsync(int mark, Func<JsonObject, bool> match, string what, TimeSpan? timeout = null) =>
        Poll.UntilAsync(() => Task.FromResult(Events.Skip(mark).FirstOrDefault(match)), what, timeout);

    public Task<JsonObject> WaitForUpdateAsync(string taskId, string state, TimeSpan? timeout = null) =>
        WaitForAsync(e => (string?)e["type"] == "UPDATE" && (string?)e["update"]?["status"]?["task_id"]?["value"] == taskId
            && (string?)e["update"]?["status"]?["state"] == state, $"{state} for {taskId}", timeout);

    public IEnumerable<JsonObject> Updates(string taskId) =>
        Events.Where(e => (string?)e["type"] == "UPDATE" && (string?)e["update"]?["status"]?["task_id"]?["value"] == taskId);

    /// <summary>
    /// The first OFFERS event this scheduler has not consumed yet (matching <paramref name="match"/>), whether it
    /// arrived before or after the call: offers often arrive right behind SUBSCRIBED.
    /// </summary>
    public async Task<JsonObject> NextOfferAsync(Func<JsonObject, bool>? match = null, TimeSpan? timeout = null)
    {
        var index = -1;
        var ev = await Poll.UntilAsync(
            () =>
            {
                var events = Events;
                for (var i = _offerCursor; i < events.Count; i++)
                {
                    if ((string?)events[i]["type"] == "OFFERS" && (match?.Invoke(events[i]) ?? true))
                    {
                        index = i;
                        return Task.FromResult<JsonObject?>(events[i]);
                    }
                }

                return Task.FromResult<JsonObject?>(null);
            },
            "an offer", timeout);
        _offerCursor = index + 1;
        return ev["offers"]!["offers"]![0]!.AsObject();
    }

    /// <summary>Any non-SUBSCRIBE call; returns status code and body.</summary>
    public async Task<(HttpStatusCode Status, string Body)> CallAsync(string json, string? streamId = null, string contentType = "application/json")
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(_master, "api/v1/scheduler"))
        {
            Content = Protobuf && contentType == "application/json" ? Body(json) : new StringContent(json, Encoding.UTF8, contentType),
        };
        request.Headers.Add("Mesos-Stream-Id", streamId ?? StreamId);
        using var response = await _http.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    /// <summary>ACCEPTs <paramref name="offer"/> with one offer operation (LAUNCH, LAUNCH_GROUP, ...).</summary>
    public Task<(HttpStatusCode Status, string Body)> AcceptAsync(JsonObject offer, JsonObject operation, int refuseSeconds = 0) =>
        CallAsync(new JsonObject
        {
            ["framework_id"] = new JsonObject { ["value"] = FrameworkId },
            ["type"] = "ACCEPT",
            ["accept"] = new JsonObject
            {
                ["offer_ids"] = new JsonArray(new JsonObject { ["value"] = (string?)offer["id"]!["value"] }),
                ["operations"] = new JsonArray(operation),
                ["filters"] = new JsonObject { ["refuse_seconds"] = refuseSeconds },
            },
        }.ToJsonString());

    public Task<(HttpStatusCode Status, string Body)> LaunchAsync(JsonObject offer, string taskId, string command, string resources = """[{"name":"cpus","type":"SCALAR","scalar":{"value":0.1}},{"name":"mem","type":"SCALAR","scalar":{"value":32}}]""", string? extra = null, int refuseSeconds = 0) =>
        CallAsync($$"""
            {
              "framework_id": {"value": "{{FrameworkId}}"},
              "type": "ACCEPT",
              "accept": {
                "offer_ids": [{"value": "{{offer["id"]!["value"]}}"}],
                "operations": [{
                  "type": "LAUNCH",
                  "launch": {"task_infos": [{
                    "name": "{{taskId}}",
                    "task_id": {"value": "{{taskId}}"},
                    "agent_id": {"value": "{{offer["agent_id"]!["value"]}}"},
                    "resources": {{resources}},
                    {{extra}}
                    "command": {"shell": true, "value": {{JsonValue.Create(command).ToJsonString()}} }
                  }]}
                }],
                "filters": {"refuse_seconds": {{refuseSeconds}}}
              }
            }
            """);

    public Task<(HttpStatusCode Status, string Body)> AcknowledgeAsync(JsonObject update)
    {
        var status = update["update"]!["status"]!;
        return CallAsync($$"""
            {"framework_id":{"value":"{{FrameworkId}}"},"type":"ACKNOWLEDGE",
             "acknowledge":{"agent_id":{{status["agent_id"]!.ToJsonString()}},"task_id":{{status["task_id"]!.ToJsonString()}},"uuid":"{{status["uuid"]}}"} }
            """);
    }

    /// <summary>Explicit reconciliation of the given tasks (none: implicit, every task the master knows of).</summary>
    public Task<(HttpStatusCode Status, string Body)> ReconcileAsync(params string[] taskIds) =>
        CallAsync(new JsonObject
        {
            ["framework_id"] = new JsonObject { ["value"] = FrameworkId },
            ["type"] = "RECONCILE",
            ["reconcile"] = new JsonObject
            {
                ["tasks"] = new JsonArray([.. taskIds.Select(id => (JsonNode)new JsonObject { ["task_id"] = new JsonObject { ["value"] = id } })]),
            },
        }.ToJsonString());

    public Task<(HttpStatusCode Status, string Body)> KillAsync(string taskId) =>
        CallAsync($$"""{"framework_id":{"value":"{{FrameworkId}}"},"type":"KILL","kill":{"task_id":{"value":"{{taskId}}"} } }""");

    /// <summary>Drops the subscription connection (the scheduler "crashes").</summary>
    public async Task DisconnectAsync()
    {
        await _stop.CancelAsync();
        _subscription?.Dispose();
        if (_reader is not null)
        {
            await _reader;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await DisconnectAsync();
        _http.Dispose();
        _stop.Dispose();
    }
}
