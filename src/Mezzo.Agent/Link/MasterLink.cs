using System.Net;
using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Mezzo.Framework.Detection;
using Mezzo.Hosting.Tls;
using Mezzo.Protocol.Agents;
using Mezzo.Protocol.RecordIO;

namespace Mezzo.Agent.Link;

/// <summary>
/// The agent's HTTP conversation with the leading master: one subscription stream plus short calls. Which master
/// leads comes from a <see cref="MasterDetector"/> (one address, a list, or etcd://); standbys' 307s are followed.
/// </summary>
public sealed class MasterLink : IDisposable
{
    private const string AgentPath = "/internal/agent";
    private const int MaxRedirects = 5;
    private readonly HttpClient _http;
    private readonly MasterDetector _detector;
    private readonly TimeProvider _time;

    /// <summary>HTTP Basic of the agent's <c>--credential</c>, sent with every call to the master; null: none.</summary>
    private readonly AuthenticationHeaderValue? _authorization;

    /// <param name="tls">
    /// The agent's TLS: a master named without a scheme is called over HTTPS when the agent serves HTTPS, trusted
    /// only when it chains to <c>--tls-ca</c>, and the agent's certificate goes along (mutual TLS).
    /// </param>
    /// <param name="credential">What the agent presents to the master (<c>--credential</c>); null: nothing.</param>
    public MasterLink(string masters, TimeProvider? time = null, TlsContext? tls = null, Mezzo.Core.Security.Credential? credential = null)
    {
        _authorization = credential is null
            ? null
            : new AuthenticationHeaderValue("Basic", credential.BasicParameter());
        tls ??= TlsContext.None;
        _detector = MasterDetector.Create(masters, master => MasterAddress.Parse(master, tls.Scheme), tls.Scheme);
        _time = time ?? TimeProvider.System;
        _http = new HttpClient(tls.ConfigureClient(new SocketsHttpHandler
        {
            // Redirects are followed here, so the leader they name is remembered for every later call.
            AllowAutoRedirect = false,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
            ConnectTimeout = TimeSpan.FromSeconds(5),
            // The subscription holds one connection; UPDATEs (one in flight) and PINGs share the others.
            MaxConnectionsPerServer = 4,
        }))
        {
            Timeout = Timeout.InfiniteTimeSpan,
        };
    }

    public MasterLink(Uri master)
        : this(master.GetLeftPart(UriPartial.Authority))
    {
    }

    /// <summary>The master this link talks to now (the leader, once found).</summary>
    public Uri Master => _detector.Current;

    /// <summary>
    /// With several masters (a list or etcd), how long one <see cref="SubscribeAsync"/> keeps looking for a leader
    /// before it gives up to the caller's backoff: a failover takes about the leader lease TTL, and polling through
    /// it brings the agent back moments after the new leader serves.
    /// </summary>
    public TimeSpan LeaderSearchTimeout { get; init; } = TimeSpan.FromSeconds(15);

    public TimeSpan LeaderSearchInterval { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Opens the subscription; yields the stream id first, then events until the master ends the stream.</summary>
    public async Task<(string StreamId, IAsyncEnumerable<AgentEvent> Events, IDisposable Response)> SubscribeAsync(AgentSubscribe subscribe, CancellationToken cancellationToken)
    {
        var body = JsonSerializer.SerializeToUtf8Bytes(new AgentCall { Type = AgentCallType.SUBSCRIBE, Subscribe = subscribe }, MesosJsonContext.Default.AgentCall);
        var searchUntil = _time.GetUtcNow() + (_detector.IsHighlyAvailable ? LeaderSearchTimeout : TimeSpan.Zero);
        while (true)
        {
            try
            {
                var response = await SendAsync(body, streamId: null, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
                if (!response.IsSuccessStatusCode)
                {
                    var error = await response.Content.ReadAsStringAsync(cancellationToken);
                    var status = (int)response.StatusCode;
                    response.Dispose();
                    throw new HttpRequestException($"Master {Master} refused subscription ({status}): {error}", null, response.StatusCode);
                }

                var streamId = response.Headers.TryGetValues("Mesos-Stream-Id", out var values) ? values.First() : "";
                var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
                return (streamId, ReadEvents(stream, cancellationToken), response);
            }
            catch (Exception ex) when (IsNoLeader(ex) && _time.GetUtcNow() < searchUntil)
            {
                // A failover in progress: the old leader is gone and the new one not elected yet.
                await Task.Delay(LeaderSearchInterval, _time, cancellationToken);
            }
        }
    }

    private static bool IsNoLeader(Exception ex) => ex switch
    {
        MasterUnavailableException => true,
        HttpRequestException { StatusCode: HttpStatusCode.ServiceUnavailable } => true,
        HttpRequestException { StatusCode: null } => true,
        _ => false,
    };

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
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(10));
            using var response = await SendAsync(JsonSerializer.SerializeToUtf8Bytes(call, MesosJsonContext.Default.AgentCall), streamId, HttpCompletionOption.ResponseContentRead, timeout.Token);
            return (int)response.StatusCode;
        }
        catch (HttpRequestException)
        {
            return 0;
        }
        catch (MasterUnavailableException)
        {
            return 0;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return 0;
        }
    }

    /// <summary>
    /// One call to the leader: tries each candidate once (moving on when one cannot be reached) and follows
    /// redirects. Throws the last connection error when none answered.
    /// </summary>
    private async Task<HttpResponseMessage> SendAsync(byte[] body, string? streamId, HttpCompletionOption completion, CancellationToken cancellationToken)
    {
        var attempts = _detector.CandidateCount;
        for (var redirects = 0; ; redirects++)
        {
            var master = await _detector.ResolveAsync(cancellationToken);
            using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(master, AgentPath)) { Content = new ByteArrayContent(body) };
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
            request.Headers.Authorization = _authorization;
            if (streamId is not null)
            {
                request.Headers.Add("Mesos-Stream-Id", streamId);
            }

            HttpResponseMessage response;
            try
            {
                response = await _http.SendAsync(request, completion, cancellationToken);
            }
            catch (HttpRequestException) when (--attempts > 0)
            {
                _detector.Failed(master);
                continue;
            }
            catch (HttpRequestException)
            {
                _detector.Failed(master);
                throw;
            }

            if (response.StatusCode is HttpStatusCode.TemporaryRedirect or HttpStatusCode.PermanentRedirect
                && response.Headers.Location is { } location && redirects < MaxRedirects)
            {
                _detector.Follow(master, location);
                response.Dispose();
                continue;
            }

            if (response.StatusCode == HttpStatusCode.ServiceUnavailable)
            {
                // A standby with no leader to point at.
                _detector.Failed(master);
            }

            return response;
        }
    }

    public void Dispose()
    {
        _http.Dispose();
        _detector.Dispose();
    }
}
