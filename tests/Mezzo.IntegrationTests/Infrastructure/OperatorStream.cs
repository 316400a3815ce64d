using System.Net;
using System.Text;
using System.Text.Json.Nodes;

namespace Mezzo.IntegrationTests.Infrastructure;

/// <summary>A client of the operator API's SUBSCRIBE: reads the RecordIO stream of master events in the background.</summary>
public sealed class OperatorStream : IAsyncDisposable
{
    private readonly HttpClient _http = new() { Timeout = Timeout.InfiniteTimeSpan };
    private readonly CancellationTokenSource _stop = new();
    private readonly List<JsonObject> _events = [];
    private HttpResponseMessage? _response;
    private Task? _reader;

    public HttpStatusCode Status { get; private set; }

    public string? ContentType { get; private set; }

    public bool Ended { get; private set; }

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

    /// <summary>Subscribes; <paramref name="authorization"/> is sent as the Authorization header when given.</summary>
    public static async Task<OperatorStream> OpenAsync(Uri master, string? authorization = null)
    {
        var stream = new OperatorStream();
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(master, "api/v1"))
        {
            Content = new StringContent("""{"type":"SUBSCRIBE"}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("Accept", "application/json");
        if (authorization is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", authorization);
        }

        stream._response = await stream._http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        stream.Status = stream._response.StatusCode;
        stream.ContentType = stream._response.Content.Headers.ContentType?.MediaType;
        if (stream.Status == HttpStatusCode.OK)
        {
            var body = await stream._response.Content.ReadAsStreamAsync();
            stream._reader = Task.Run(() => stream.ReadAsync(body));
        }

        return stream;
    }

    public async Task<JsonObject> WaitForAsync(Func<JsonObject, bool> match, string what, TimeSpan? timeout = null) =>
        await Poll.UntilAsync(() => Task.FromResult(Events.FirstOrDefault(match)), what, timeout);

    public static Func<JsonObject, bool> Is(string type) => e => (string?)e["type"] == type;

    private async Task ReadAsync(Stream body)
    {
        try
        {
            var one = new byte[1];
            while (true)
            {
                var length = 0;
                while (true)
                {
                    if (await body.ReadAsync(one, _stop.Token) == 0)
                    {
                        return;
                    }

                    if (one[0] == '\n')
                    {
                        break;
                    }

                    length = checked((length * 10) + (one[0] - '0'));
                }

                var record = new byte[length];
                await body.ReadExactlyAsync(record, _stop.Token);
                lock (_events)
                {
                    _events.Add(JsonNode.Parse(record)!.AsObject());
                }
            }
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or ObjectDisposedException or HttpRequestException)
        {
        }
        finally
        {
            Ended = true;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _response?.Dispose();
        if (_reader is not null)
        {
            await _reader;
        }

        _http.Dispose();
        _stop.Dispose();
    }
}
