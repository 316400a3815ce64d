using System.Collections.Immutable;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Mezzo.Framework;
using Mezzo.Protocol.Marathon;
using Mezzo.Services.Model;
using Mezzo.Services.Scheduling;
using Mezzo.Services.State;
using Microsoft.Extensions.Logging;

namespace Mezzo.Services.Engine;

/// <summary>
/// The one owner of the services framework's state: apps, tasks, deployments, launch delays. Every change runs as a
/// command on its inbox, in order, on one consumer; HTTP handlers and scheduler events post commands, long I/O (calls to
/// the master) runs off the actor and posts its result back, and readers get the immutable <see cref="Snapshot"/>.
/// </summary>
public sealed partial class ServicesActor : IAsyncDisposable
{
    private readonly ServicesOptions _options;
    private readonly IServicesStore _store;
    private readonly TimeProvider _time;
    private readonly ILogger _log;
    private readonly ILoggerFactory _loggers;
    private readonly Channel<Func<Task>> _inbox = Channel.CreateUnbounded<Func<Task>>(new UnboundedChannelOptions { SingleReader = true });
    private readonly CancellationTokenSource _stopping = new();
    private readonly List<Channel<ServicesEvent>> _subscribers = [];
    private ImmutableSortedDictionary<string, AppDefinition> _apps = ImmutableSortedDictionary.Create<string, AppDefinition>(StringComparer.Ordinal);
    private ImmutableDictionary<string, Instance> _instances = ImmutableDictionary<string, Instance>.Empty;
    private ImmutableDictionary<string, Deployment> _deployments = ImmutableDictionary<string, Deployment>.Empty;
    private ImmutableDictionary<string, LaunchDelay> _delays = ImmutableDictionary<string, LaunchDelay>.Empty;
    private ImmutableDictionary<string, TaskFailure> _failures = ImmutableDictionary<string, TaskFailure>.Empty;
    private ImmutableDictionary<string, QueueEntry> _queue = ImmutableDictionary<string, QueueEntry>.Empty;
    private volatile ServicesSnapshot _snapshot = ServicesSnapshot.Empty;
    private DateTimeOffset _lastVersion = DateTimeOffset.MinValue;
    private Task? _loop;
    private Task? _schedulerLoop;
    private ITimer? _ticker;
    private int _disposed;
    private readonly Hosting.Tls.TlsContext _tls;

    /// <param name="tls">The server's TLS: the scheme of its webui_url, and the trust and certificate towards the master.</param>
    public ServicesActor(ServicesOptions options, IServicesStore store, TimeProvider time, ILoggerFactory loggers, Hosting.Tls.TlsContext? tls = null)
    {
        _options = options;
        _tls = tls ?? Hosting.Tls.TlsContext.None;
        _store = store;
        _time = time;
        _loggers = loggers;
        _log = loggers.CreateLogger<ServicesActor>();
    }

    public ServicesSnapshot Snapshot => _snapshot;

    public ServicesOptions Options => _options;

    public IServicesStore Store => _store;

    public DateTimeOffset Now => _time.GetUtcNow();

    /// <summary>Loads the stored state, starts the inbox and the scheduler connection (which retries until a master answers).</summary>
    public void Start()
    {
        foreach (var app in _store.LoadApps())
        {
            _apps = _apps.SetItem(app.Id!, app);
        }

        foreach (var deployment in _store.LoadDeployments())
        {
            _deployments = _deployments.SetItem(deployment.Id, deployment);
        }

        foreach (var instance in _store.LoadInstances())
        {
            _instances = _instances.SetItem(instance.TaskId, instance);
        }

        _frameworkId = _store.FrameworkId;
        Log.Loaded(_log, _apps.Count, _instances.Count, _deployments.Count, _frameworkId ?? "(none)");
        StartHealthWorkers();
        StartCallbacks();
        Publish();
        _loop = Task.Run(RunAsync);
        _schedulerLoop = Task.Run(RunSchedulerAsync);
        _ticker = _time.CreateTimer(_ => Post(TickAsync), null, _options.TickInterval, _options.TickInterval);
    }

    private async Task RunAsync()
    {
        await foreach (var command in _inbox.Reader.ReadAllAsync().ConfigureAwait(false))
        {
            try
            {
                await command().ConfigureAwait(false);
            }
#pragma warning disable CA1031 // One failing command must not stop the actor; it is logged and the rest go on.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                Log.CommandFailed(_log, ex);
            }

            Publish();
        }
    }

    private void Post(Func<Task> command) => _inbox.Writer.TryWrite(command);

    /// <summary>Runs <paramref name="command"/> on the actor and returns its result.</summary>
    public Task<T> AskAsync<T>(Func<T> command)
    {
        var result = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_inbox.Writer.TryWrite(() =>
        {
            try
            {
                var value = command();
                // The caller reads the snapshot next: it must already show this change.
                Publish();
                result.TrySetResult(value);
            }
#pragma warning disable CA1031 // The caller gets the exception.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                result.TrySetException(ex);
            }

            return Task.CompletedTask;
        }))
        {
            result.TrySetException(new ObjectDisposedException(nameof(ServicesActor)));
        }

        return result.Task;
    }

    private void Publish() => _snapshot = new ServicesSnapshot
    {
        Apps = _apps,
        Instances = _instances,
        Deployments = _deployments,
        Delays = _delays,
        LastFailures = _failures,
        Queue = _queue,
        Health = _health,
        CallbackUrls = _callbackUrls,
        FrameworkId = _frameworkId,
        Subscribed = _client?.IsSubscribed == true,
        Counters = _counters,
    };

    /// <summary>A new version timestamp, strictly later than the last one (two changes in one millisecond stay distinct).</summary>
    private string NextVersion()
    {
        var now = _time.GetUtcNow();
        now = new DateTimeOffset(now.Ticks - (now.Ticks % TimeSpan.TicksPerMillisecond), TimeSpan.Zero);
        if (now <= _lastVersion)
        {
            now = _lastVersion.AddMilliseconds(1);
        }

        _lastVersion = now;
        return MarathonRender.Timestamp(now);
    }

    private Task TickAsync()
    {
        var now = _time.GetUtcNow();
        if (_client?.IsSubscribed == true && now - _lastReconcile >= _options.ReconcileInterval)
        {
            ReconcileKnownTasks(olderThan: TimeSpan.FromMinutes(1));
            RetryKills();
        }

        ExpungeUnreachable(now);
        RollBackOverdueDeployments(now);
        Evaluate();
        return Task.CompletedTask;
    }

    /// <summary>Forgets tasks unreachable for longer than their app's expungeAfterSeconds; one that comes back is killed as unknown.</summary>
    private void ExpungeUnreachable(DateTimeOffset now)
    {
        var expunged = _instances.Values.Where(i => Scheduling.DeploymentPlanner.IsExpunged(i, _apps.GetValueOrDefault(i.AppId), now)).ToList();
        if (expunged.Count == 0)
        {
            return;
        }

        _store.Write(batch => expunged.ForEach(i => batch.DeleteInstance(i.TaskId)));
        foreach (var instance in expunged)
        {
            _instances = _instances.Remove(instance.TaskId);
            Emit("instance_changed_event", Expunged(InstanceChanged(instance)));
        }
    }

    private static JsonObject Expunged(JsonObject json)
    {
        json["condition"] = "UnreachableInactive";
        json["goal"] = "Decommissioned";
        return json;
    }

    // ---- events ----

    /// <summary>A new event stream subscriber; events are dropped for it (oldest first) if it falls far behind.</summary>
    public Task<ChannelReader<ServicesEvent>> SubscribeEventsAsync(string remoteAddress, IReadOnlyList<string> eventTypes) => AskAsync(() =>
    {
        var channel = Channel.CreateBounded<ServicesEvent>(new BoundedChannelOptions(10_000) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true });
        _subscribers.Add(channel);
        Emit("event_stream_attached", new JsonObject { ["remoteAddress"] = remoteAddress });
        return channel.Reader;
    });

    public void UnsubscribeEvents(ChannelReader<ServicesEvent> reader, string remoteAddress) => Post(() =>
    {
        var channel = _subscribers.FirstOrDefault(c => c.Reader == reader);
        if (channel is not null)
        {
            _subscribers.Remove(channel);
            channel.Writer.TryComplete();
        }

        Emit("event_stream_detached", new JsonObject { ["remoteAddress"] = remoteAddress });
        return Task.CompletedTask;
    });

    private void Emit(string type, JsonObject data)
    {
        data["eventType"] = type;
        data["timestamp"] = MarathonRender.Timestamp(_time.GetUtcNow());
        var ev = new ServicesEvent(type, data.ToJsonString(Http.HttpJson.Options));
        foreach (var subscriber in _subscribers)
        {
            subscriber.Writer.TryWrite(ev);
        }

        DeliverToCallbacks(ev);
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        if (_ticker is not null)
        {
            await _ticker.DisposeAsync().ConfigureAwait(false);
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        if (_schedulerLoop is not null)
        {
            await _schedulerLoop.ConfigureAwait(false);
        }

        _inbox.Writer.TryComplete();
        if (_loop is not null)
        {
            await _loop.ConfigureAwait(false);
        }

        StopHealthChecks();
        await Task.WhenAll(_probeWorkers).ConfigureAwait(false);
        await StopCallbacksAsync().ConfigureAwait(false);

        foreach (var subscriber in _subscribers)
        {
            subscriber.Writer.TryComplete();
        }

        foreach (var probe in _probes.Values)
        {
            probe.Dispose();
        }

        if (_client is not null)
        {
            await _client.DisposeAsync().ConfigureAwait(false);
        }

        _stopping.Dispose();
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "Services state loaded: {Apps} apps, {Tasks} tasks, {Deployments} deployments, framework {FrameworkId}")]
        public static partial void Loaded(ILogger logger, int apps, int tasks, int deployments, string frameworkId);

        [LoggerMessage(Level = LogLevel.Error, Message = "A services command failed")]
        public static partial void CommandFailed(ILogger logger, Exception exception);
    }
}

/// <summary>One Marathon event for /v2/events: its type and its JSON.</summary>
public sealed record ServicesEvent(string Type, string Json);
