using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Mezzo.Protocol.Agents;
using Mezzo.Protocol.RecordIO;

namespace Mezzo.Agent.Link;

/// <summary>The agent's HTTP conversation with the master: one subscription stream plus short calls.</summary>
public sealed class MasterLink : IDisposable
{
    private const string AgentPath = "/internal/agent";
    private readonly HttpClient _http;
    private readonly Uri _endpoint;

    public MasterLink(Uri master)
    {
        Master = master;
        _endpoint = new Uri(master, AgentPath);
        _http = new HttpClient(new SocketsHttpHandler
        {
            AllowAutoRedirect = true,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
            ConnectTimeout = TimeSpan.FromSeconds(5),
            // The subscription holds one connection; UPDATEs (one in flight) and PINGs share the others.
            MaxConnectionsPerServer = 4,
        })
        {
            BaseAddress = master,
            Timeout = Timeout.InfiniteTimeSpan,
        };
    }

    public Uri Master { get; }

    /// <summary>Opens the subscription; yields the stream id first, then events until the master ends the stream.</summary>
    public async Task<(string StreamId, IAsyncEnumerable<AgentEvent> Events, IDisposable Response)> SubscribeAsync(AgentSubscribe subscribe, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, _endpoint)
        {
            Content = JsonContent(new AgentCall { Type = AgentCallType.SUBSCRIBE, Subscribe = subscribe }),
        };
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            var error = await response.Content.ReadAsStringAsync(cancellationToken);
            response.Dispose();
            throw new HttpRequestException($"Master refused subscription ({(int)response.StatusCode}): {error}");
        }

        var streamId = response.Headers.TryGetValues("Mesos-Stream-Id", out var values) ? values.First() : "";
        var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        return (streamId, ReadEvents(stream, cancellationToken), response);
    }

    private static async IAsyncEnumerable<AgentEvent> ReadEvents(Stream stream, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var reader = new RecordIOReader(stream);
        await foreach (var record in reader.ReadAllAsync(cancellationToken))
        {
            var ev = JsonSerializer.Deserialize(record.Span, MesosJsonContext.Default.AgentEvent);
            if (ev is not null)
            {
                yield return ev;
            }
        }
    }

    /// <summary>Sends an UPDATE or PING. Returns the HTTP status (0 when the master could not be reached).</summary>
    public async Task<int> CallAsync(AgentCall call, string streamId, CancellationToken cancellationToken)
    {
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, _endpoint) { Content = JsonContent(call) };
            request.Headers.Add("Mesos-Stream-Id", streamId);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(10));
            using var response = await _http.SendAsync(request, timeout.Token);
            return (int)response.StatusCode;
        }
        catch (HttpRequestException)
        {
            return 0;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return 0;
        }
    }

    private static ByteArrayContent JsonContent(AgentCall call)
    {
        var content = new ByteArrayContent(JsonSerializer.SerializeToUtf8Bytes(call, MesosJsonContext.Default.AgentCall));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return content;
    }

    public void Dispose() => _http.Dispose();
}
