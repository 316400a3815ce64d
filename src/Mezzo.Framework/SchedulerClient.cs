using System.Net;
using System.Net.Http.Headers;
using System.Threading.Channels;
using Mezzo.Framework.Detection;
using Mezzo.Protocol.Protobuf;
using Mezzo.Protocol.RecordIO;
using Mezzo.Protocol.V1;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Mezzo.Framework;

/// <summary>
/// A Mesos v1 HTTP scheduler client. Keeps one SUBSCRIBE stream open (reconnecting with exponential backoff,
/// following leader redirects, resubscribing with the framework id it was given so tasks survive the reconnect),
/// and exposes events as a channel and calls as typed methods.
/// </summary>
public sealed partial class SchedulerClient : IAsyncDisposable
{
    private const string SchedulerPath = "/api/v1/scheduler";

    // Between two looks for the leader while several masters are known (a list, or etcd): the agent polls as often.
    private static readonly TimeSpan HighAvailabilityMaxBackoff = TimeSpan.FromMilliseconds(250);
    private readonly SchedulerOptions _options;
    private readonly ILogger _log;
    private readonly HttpClient _http;
    private readonly MasterDetector _detector;
    private readonly Channel<Event> _events = Channel.CreateUnbounded<Event>(new UnboundedChannelOptions { SingleWriter = true });
    private readonly CancellationTokenSource _stopping = new();

    // Built once: the same header goes on SUBSCRIBE and every call after it.
    private readonly AuthenticationHeaderValue? _authorization;
    private readonly TaskCompletionSource<string> _firstSubscription = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task? _loop;
    private volatile string? _streamId;
    private Uri _master;

    // The scheduler endpoint of _master, built once per master rather than parsed again for every call.
    private Uri _endpoint;
    private int _disposed;

    public SchedulerClient(SchedulerOptions options, ILogger<SchedulerClient>? log = null)
    {
        _options = options;
        _log = log ?? (ILogger)NullLogger.Instance;
        _detector = MasterDetector.Create(options.Master, master => MasterUri(master, options.DefaultScheme), options.DefaultScheme);
        _master = _detector.Current;
        _endpoint = new Uri(_master, SchedulerPath);
        // A bounded pool: fire-and-forget acknowledgements would otherwise open a connection each under load, and
        // every open connection is a descriptor the master (and each process its agents spawn) has to carry.
        var handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            ConnectTimeout = TimeSpan.FromSeconds(5),
            MaxConnectionsPerServer = options.MaxConnections,
        };
        options.ConfigureHttpHandler?.Invoke(handler);
        _http = new HttpClient(handler)
        {
            Timeout = Timeout.InfiniteTimeSpan,
        };
        FrameworkId = options.FrameworkInfo.Id?.Value;
        if (options.Credential is { } credential)
        {
            // The master checks the framework's principal against the credential it authenticated (and ACLs name it).
            options.FrameworkInfo.Principal ??= credential.Principal;
            _authorization = new AuthenticationHeaderValue(
                "Basic", credential.BasicParameter());
        }
    }

    /// <summary>Assigned by the master on the first SUBSCRIBED; reused for every resubscription.</summary>
    public string? FrameworkId { get; private set; }

    /// <summary>The leading master as last followed.</summary>
    public Uri Master => _master;

    /// <summary>Every event the master sends, in order, across reconnects (a new SUBSCRIBED marks a reconnect).</summary>
    public ChannelReader<Event> Events => _events.Reader;

    public bool IsSubscribed => _streamId is not null;

    /// <summary>Starts the subscription loop and waits for the first SUBSCRIBED.</summary>
    public async Task<string> SubscribeAsync(CancellationToken cancellationToken = default)
    {
        _loop ??= Task.Run(RunAsync, CancellationToken.None);
        using var registration = cancellationToken.Register(() => _firstSubscription.TrySetCanceled(cancellationToken));
        return await _firstSubscription.Task.ConfigureAwait(false);
    }

    private async Task RunAsync()
    {
        var backoff = _options.MinBackoff;
        while (!_stopping.IsCancellationRequested)
        {
            try
            {
                await SubscribeOnceAsync(() => backoff = _options.MinBackoff).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
            {
                break;
            }
            catch (SchedulerCallException ex) when (ex.StatusCode is >= 400 and < 500 and not 429)
            {
                // The master refused us outright (bad FrameworkInfo, removed framework): retrying can't help.
                Log.SubscribeRefused(_log, ex.Message);
                _firstSubscription.TrySetException(ex);
                _events.Writer.TryComplete(ex);
                return;
            }
            catch (Exception ex) when (ex is HttpRequestException or IOException or OperationCanceledException or SchedulerCallException or InvalidDataException or System.Text.Json.JsonException or ProtobufFormatException)
            {
                Log.Disconnected(_log, _master.ToString(), ex.Message);
                _detector.Failed(_master);
            }
            finally
            {
                _streamId = null;
            }

            if (_stopping.IsCancellationRequested)
            {
                break;
            }

            try
            {
                await Task.Delay(backoff, _stopping.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }

            // With several masters a failure usually means a failover in progress: look again soon, so the framework
            // is back within moments of the new leader serving, not after a long backoff.
            var cap = _detector.IsHighlyAvailable ? TimeSpan.FromTicks(Math.Min(_options.MaxBackoff.Ticks, HighAvailabilityMaxBackoff.Ticks)) : _options.MaxBackoff;
            backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, cap.Ticks));
        }

        _events.Writer.TryComplete();
    }

    private async Task SubscribeOnceAsync(Action onSubscribed)
    {
        var info = _options.FrameworkInfo;
        if (FrameworkId is not null)
        {
            info.Id = new FrameworkID { Value = FrameworkId };
        }

        var call = new Call
        {
            Type = CallType.SUBSCRIBE,
            FrameworkId = FrameworkId is null ? null : new FrameworkID { Value = FrameworkId },
            Subscribe = new CallSubscribe
            {
                FrameworkInfo = info,
                SuppressedRoles = _options.SuppressedRoles.Count > 0 ? [.. _options.SuppressedRoles] : null,
                OfferConstraints = _options.OfferConstraints,
            },
        };
        var master = await _detector.ResolveAsync(_stopping.Token).ConfigureAwait(false);
        if (master != _master)
        {
            _master = master;
            _endpoint = new Uri(_master, SchedulerPath);
        }

        using var response = await SendAsync(call, streamId: null, HttpCompletionOption.ResponseHeadersRead, _stopping.Token).ConfigureAwait(false);
        if (response.StatusCode != HttpStatusCode.OK)
        {
            var body = await response.Content.ReadAsStringAsync(_stopping.Token).ConfigureAwait(false);
            throw new SchedulerCallException((int)response.StatusCode, response.StatusCode switch
            {
                HttpStatusCode.Unauthorized => _options.Credential is { } credential
                    ? $"The master at {_master} refused the framework's credential (principal '{credential.Principal}'): {body}"
                    : $"The master at {_master} requires frameworks to authenticate: give the framework a credential ({body})",
                HttpStatusCode.Forbidden => $"The master at {_master} does not allow this framework to subscribe: {body}",
                _ => body,
            });
        }

        var streamId = response.Headers.TryGetValues("Mesos-Stream-Id", out var ids) ? ids.First() : "";
        await using var stream = await response.Content.ReadAsStreamAsync(_stopping.Token).ConfigureAwait(false);
        var heartbeat = TimeSpan.FromSeconds(15);
        using var watchdog = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
        watchdog.CancelAfter(heartbeat * _options.MaxMissedHeartbeats);
        var reader = new RecordIOReader(stream);
        await foreach (var record in reader.ReadAllAsync(watchdog.Token).ConfigureAwait(false))
        {
            watchdog.CancelAfter(heartbeat * _options.MaxMissedHeartbeats);
            var ev = MesosWire.Deserialize<Event>(_options.WireFormat, record.Span) ?? throw new InvalidDataException("Empty event");
            switch (ev.Type)
            {
                case EventType.SUBSCRIBED:
                    FrameworkId = ev.Subscribed!.FrameworkId!.Value;
                    heartbeat = TimeSpan.FromSeconds(ev.Subscribed.HeartbeatIntervalSeconds ?? 15);
                    _streamId = streamId;
                    onSubscribed();
                    Log.Subscribed(_log, FrameworkId!, _master.ToString());
                    _firstSubscription.TrySetResult(FrameworkId!);
                    break;
                case EventType.ERROR:
                    // Mesos sends ERROR when the framework is removed or failed over elsewhere: it is final.
                    var error = new SchedulerCallException(0, ev.Error?.Message ?? "framework error");
                    _events.Writer.TryWrite(ev);
                    _firstSubscription.TrySetException(error);
                    await _stopping.CancelAsync().ConfigureAwait(false);
                    return;
                default:
                    break;
            }

            _events.Writer.TryWrite(ev);
            if (ev.Type == EventType.UPDATE && _options.AutoAcknowledge && ev.Update?.Status is { Uuid: not null } status)
            {
                _ = AcknowledgeQuietlyAsync(status);
            }
        }
    }

    private async Task AcknowledgeQuietlyAsync(TaskStatus status)
    {
        try
        {
            await AcknowledgeAsync(status).ConfigureAwait(false);
        }
        catch (SchedulerCallException ex)
        {
            // The update will be resent by the agent and acknowledged then.
            Log.AckFailed(_log, status.TaskId?.Value ?? "", ex.Message);
        }
    }

    private async Task<HttpResponseMessage> SendAsync(Call call, string? streamId, HttpCompletionOption completion, CancellationToken cancellationToken)
    {
        for (var redirects = 0; ; redirects++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, _endpoint)
            {
                Content = new ByteArrayContent(MesosWire.Serialize(_options.WireFormat, call)),
            };
            var mediaType = ContentNegotiation.MediaType(_options.WireFormat);
            request.Content.Headers.ContentType = new MediaTypeHeaderValue(mediaType);
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(mediaType));
            if (streamId is not null)
            {
                request.Headers.Add("Mesos-Stream-Id", streamId);
            }

            request.Headers.Authorization = _authorization;

            var response = await _http.SendAsync(request, completion, cancellationToken).ConfigureAwait(false);
            if (response.StatusCode is HttpStatusCode.TemporaryRedirect or HttpStatusCode.PermanentRedirect && response.Headers.Location is { } location && redirects < 5)
            {
                // Non-leading masters point at the leader; follow and remember it for later calls.
                _master = _detector.Follow(_master, location);
                _endpoint = new Uri(_master, SchedulerPath);
                response.Dispose();
                continue;
            }

            return response;
        }
    }

    /// <summary>Sends a call on the current subscription; throws <see cref="SchedulerCallException"/> unless 202.</summary>
    public async Task CallAsync(Call call, CancellationToken cancellationToken = default)
    {
        var streamId = _streamId ?? throw new SchedulerCallException(0, "Not subscribed");
        call.FrameworkId ??= new FrameworkID { Value = FrameworkId };
        HttpResponseMessage response;
        try
        {
            response = await SendAsync(call, streamId, HttpCompletionOption.ResponseContentRead, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException ex)
        {
            throw new SchedulerCallException(0, ex.Message);
        }

        using (response)
        {
            // 202 for most calls; UPDATE_FRAMEWORK answers 200 once applied.
            if (response.StatusCode is not (HttpStatusCode.Accepted or HttpStatusCode.OK))
            {
                throw new SchedulerCallException((int)response.StatusCode, await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false));
            }
        }
    }

    public Task AcceptAsync(IEnumerable<OfferID> offerIds, IEnumerable<OfferOperation> operations, Filters? filters = null, CancellationToken cancellationToken = default) =>
        CallAsync(new Call
        {
            Type = CallType.ACCEPT,
            Accept = new CallAccept { OfferIds = [.. offerIds], Operations = [.. operations], Filters = filters },
        }, cancellationToken);

    /// <summary>ACCEPT with one LAUNCH of <paramref name="tasks"/> on one offer.</summary>
    public Task LaunchAsync(Offer offer, IEnumerable<TaskInfo> tasks, Filters? filters = null, CancellationToken cancellationToken = default) =>
        AcceptAsync([offer.Id!], [new OfferOperation { Type = OfferOperationType.LAUNCH, Launch = new OfferOperationLaunch { TaskInfos = [.. tasks] } }], filters, cancellationToken);

    /// <summary>ACCEPT with one LAUNCH_GROUP: <paramref name="tasks"/> run together under <paramref name="executor"/>
    /// (type DEFAULT for the agent's default executor), all of them or none.</summary>
    public Task LaunchGroupAsync(Offer offer, ExecutorInfo executor, IEnumerable<TaskInfo> tasks, Filters? filters = null, CancellationToken cancellationToken = default) =>
        AcceptAsync(
            [offer.Id!],
            [new OfferOperation
            {
                Type = OfferOperationType.LAUNCH_GROUP,
                LaunchGroup = new OfferOperationLaunchGroup { Executor = executor, TaskGroup = new TaskGroupInfo { Tasks = [.. tasks] } },
            }],
            filters,
            cancellationToken);

    /// <summary>MESSAGE: <paramref name="data"/> to an executor, as-is and without delivery guarantee (Mesos).</summary>
    public Task SendMessageAsync(string agentId, string executorId, byte[] data, CancellationToken cancellationToken = default) =>
        CallAsync(new Call
        {
            Type = CallType.MESSAGE,
            Message = new CallMessage { AgentId = new AgentID { Value = agentId }, ExecutorId = new ExecutorID { Value = executorId }, Data = data },
        }, cancellationToken);

    /// <summary>SHUTDOWN: the executor is told to end, and killed after its grace period if it does not.</summary>
    public Task ShutdownExecutorAsync(string agentId, string executorId, CancellationToken cancellationToken = default) =>
        CallAsync(new Call
        {
            Type = CallType.SHUTDOWN,
            Shutdown = new CallShutdown { AgentId = new AgentID { Value = agentId }, ExecutorId = new ExecutorID { Value = executorId } },
        }, cancellationToken);

    public Task DeclineAsync(IEnumerable<OfferID> offerIds, Filters? filters = null, CancellationToken cancellationToken = default) =>
        CallAsync(new Call { Type = CallType.DECLINE, Decline = new CallDecline { OfferIds = [.. offerIds], Filters = filters } }, cancellationToken);

    public Task ReviveAsync(CancellationToken cancellationToken = default) => ReviveAsync([], cancellationToken);

    /// <summary>REVIVE the given roles (all the framework's roles when empty); a resubscription keeps them revived.</summary>
    public async Task ReviveAsync(IReadOnlyList<string> roles, CancellationToken cancellationToken = default)
    {
        await CallAsync(new Call { Type = CallType.REVIVE, Revive = new CallRevive { Roles = roles.Count > 0 ? [.. roles] : null } }, cancellationToken).ConfigureAwait(false);
        _options.SuppressedRoles = roles.Count > 0 ? [.. _options.SuppressedRoles.Except(roles)] : [];
    }

    public Task SuppressAsync(CancellationToken cancellationToken = default) => SuppressAsync([], cancellationToken);

    /// <summary>SUPPRESS the given roles (all the framework's roles when empty); a resubscription keeps them suppressed.</summary>
    public async Task SuppressAsync(IReadOnlyList<string> roles, CancellationToken cancellationToken = default)
    {
        await CallAsync(new Call { Type = CallType.SUPPRESS, Suppress = new CallSuppress { Roles = roles.Count > 0 ? [.. roles] : null } }, cancellationToken).ConfigureAwait(false);
        _options.SuppressedRoles = [.. _options.SuppressedRoles.Union(roles.Count > 0 ? roles : RolesOf(_options.FrameworkInfo))];
    }

    /// <summary>
    /// UPDATE_FRAMEWORK: new roles, name, capabilities... (not user, principal or checkpoint), suppressed roles and offer
    /// constraints, applied by the master all or nothing; later resubscriptions send the updated values.
    /// </summary>
    public async Task UpdateFrameworkAsync(FrameworkInfo info, IReadOnlyList<string>? suppressedRoles = null, OfferConstraints? offerConstraints = null, CancellationToken cancellationToken = default)
    {
        info.Id = new FrameworkID { Value = FrameworkId };
        await CallAsync(new Call
        {
            Type = CallType.UPDATE_FRAMEWORK,
            UpdateFramework = new CallUpdateFramework
            {
                FrameworkInfo = info,
                SuppressedRoles = suppressedRoles is { Count: > 0 } ? [.. suppressedRoles] : null,
                OfferConstraints = offerConstraints,
            },
        }, cancellationToken).ConfigureAwait(false);
        _options.FrameworkInfo = info;
        _options.SuppressedRoles = suppressedRoles ?? [];
        _options.OfferConstraints = offerConstraints;
    }

    private static IReadOnlyList<string> RolesOf(FrameworkInfo info) =>
        info.Capabilities?.Any(c => c.Type == FrameworkInfoCapabilityType.MULTI_ROLE) == true ? info.Roles ?? [] : [info.Role ?? "*"];

    public Task KillAsync(string taskId, string? agentId = null, KillPolicy? killPolicy = null, CancellationToken cancellationToken = default) =>
        CallAsync(new Call
        {
            Type = CallType.KILL,
            Kill = new CallKill
            {
                TaskId = new TaskID { Value = taskId },
                AgentId = agentId is null ? null : new AgentID { Value = agentId },
                KillPolicy = killPolicy,
            },
        }, cancellationToken);

    /// <summary>Acknowledges an update; updates without a uuid (master-generated) need none and are skipped.</summary>
    public Task AcknowledgeAsync(TaskStatus status, CancellationToken cancellationToken = default)
    {
        if (status.Uuid is null || status.AgentId is null)
        {
            return Task.CompletedTask;
        }

        return CallAsync(new Call
        {
            Type = CallType.ACKNOWLEDGE,
            Acknowledge = new CallAcknowledge { AgentId = status.AgentId, TaskId = status.TaskId, Uuid = status.Uuid },
        }, cancellationToken);
    }

    /// <summary>Explicit reconciliation of the given tasks, or implicit (all tasks) when none are given.</summary>
    public Task ReconcileAsync(IEnumerable<(string TaskId, string? AgentId)>? tasks = null, CancellationToken cancellationToken = default) =>
        CallAsync(new Call
        {
            Type = CallType.RECONCILE,
            Reconcile = new CallReconcile
            {
                Tasks = [.. (tasks ?? []).Select(t => new CallReconcileTask
                {
                    TaskId = new TaskID { Value = t.TaskId },
                    AgentId = t.AgentId is null ? null : new AgentID { Value = t.AgentId },
                })],
            },
        }, cancellationToken);

    /// <summary>Ends the framework: the master kills all its tasks and forgets it.</summary>
    public Task TeardownAsync(CancellationToken cancellationToken = default) =>
        CallAsync(new Call { Type = CallType.TEARDOWN }, cancellationToken);

    /// <summary>Drops the connection without tearing down (the master starts the failover timeout).</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        if (_loop is not null)
        {
            await _loop.ConfigureAwait(false);
        }

        _http.Dispose();
        _detector.Dispose();
        _stopping.Dispose();
    }

    private static Uri MasterUri(string master, string defaultScheme)
    {
        var text = master.Contains("://", StringComparison.Ordinal) ? master : defaultScheme + "://" + master;
        return new Uri(text.TrimEnd('/') + "/");
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "Subscribed as framework {FrameworkId} at {Master}")]
        public static partial void Subscribed(ILogger logger, string frameworkId, string master);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Disconnected from {Master}: {Reason}; resubscribing")]
        public static partial void Disconnected(ILogger logger, string master, string reason);

        [LoggerMessage(Level = LogLevel.Error, Message = "Master refused SUBSCRIBE: {Reason}")]
        public static partial void SubscribeRefused(ILogger logger, string reason);

        [LoggerMessage(Level = LogLevel.Debug, Message = "Acknowledgement of {TaskId} failed: {Reason}")]
        public static partial void AckFailed(ILogger logger, string taskId, string reason);
    }
}
