using System.Threading.Channels;
using Mezzo.Framework;
using Mezzo.Protocol.V1;
using Microsoft.Extensions.Logging;
using NodaTime;

namespace Mezzo.Jobs.Engine;

/// <summary>
/// The one owner of the <see cref="JobsEngine"/>: HTTP calls, master events and clock ticks are posted to its inbox
/// and applied one at a time; after each, the step is persisted, a new snapshot published for readers, and the
/// effects handed to an outbox loop that talks to the master (results that matter come back through the inbox).
/// </summary>
public sealed partial class JobsActor : IAsyncDisposable
{
    private readonly Channel<Action<Instant>> _inbox = Channel.CreateUnbounded<Action<Instant>>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Channel<Effect> _outbox = Channel.CreateUnbounded<Effect>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
    private readonly JobsEngine _engine;
    private readonly TimeProvider _time;
    private readonly ILogger _log;
    private readonly TimeSpan _tickInterval;
    private SchedulerClient? _client;
    private ITimer? _timer;
    private Task? _loop;
    private Task? _sender;
    private Task? _events;
    private volatile JobsSnapshot _snapshot;

    public JobsActor(JobsEngine engine, TimeProvider time, TimeSpan tickInterval, ILogger log)
    {
        _engine = engine;
        _time = time;
        _tickInterval = tickInterval;
        _log = log;
        _snapshot = engine.Snapshot();
    }

    public JobsSnapshot Snapshot => _snapshot;

    private Instant Now => Instant.FromDateTimeOffset(_time.GetUtcNow());

    /// <summary>Starts the loop and the clock; with a client, also pumps its events and sends effects through it.</summary>
    public void Start(SchedulerClient? client)
    {
        _client = client;
        _loop = Task.Run(RunAsync);
        _sender = Task.Run(SendAsync);
        if (client is not null)
        {
            _events = Task.Run(() => PumpAsync(client));
        }

        _timer = _time.CreateTimer(_ => Post((engine, now) => engine.Tick(now)), null, TimeSpan.Zero, _tickInterval);
    }

    /// <summary>Applies <paramref name="step"/> on the actor and returns its result once it has been persisted.</summary>
    public Task<T> AskAsync<T>(Func<JobsEngine, Instant, T> step)
    {
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_inbox.Writer.TryWrite(now =>
            {
                try
                {
                    var result = step(_engine, now);
                    Commit(now);
                    done.TrySetResult(result);
                }
                catch (Exception ex)
                {
                    done.TrySetException(ex);
                    throw;
                }
            }))
        {
            done.TrySetException(new ObjectDisposedException(nameof(JobsActor)));
        }

        return done.Task;
    }

    public void Post(Action<JobsEngine, Instant> step) => _inbox.Writer.TryWrite(now =>
    {
        step(_engine, now);
        Commit(now);
    });

    private void Commit(Instant now)
    {
        var effects = _engine.Flush(out var changed);
        foreach (var effect in effects)
        {
            _outbox.Writer.TryWrite(effect);
        }

        // Most ticks change nothing: readers keep the snapshot they have.
        if (changed)
        {
            _snapshot = _engine.Snapshot();
        }
    }

    private async Task RunAsync()
    {
        await foreach (var step in _inbox.Reader.ReadAllAsync().ConfigureAwait(false))
        {
            try
            {
                step(Now);
            }
            catch (Exception ex)
            {
                // A failed step (a store write) is reported to its caller; the actor keeps serving.
                Log.StepFailed(_log, ex);
            }
        }
    }

    private async Task PumpAsync(SchedulerClient client)
    {
        try
        {
            await foreach (var ev in client.Events.ReadAllAsync().ConfigureAwait(false))
            {
                switch (ev.Type)
                {
                    case EventType.SUBSCRIBED:
                        var id = ev.Subscribed!.FrameworkId!.Value!;
                        Post((engine, _) => engine.OnSubscribed(id));
                        break;
                    case EventType.OFFERS when ev.Offers?.Offers is { Count: > 0 } offers:
                        Post((engine, now) => engine.OnOffers(offers, now));
                        break;
                    case EventType.UPDATE when ev.Update?.Status is { } status:
                        Post((engine, now) => engine.OnUpdate(status, now));
                        break;
                    default:
                        break;
                }
            }
        }
        catch (Exception ex) when (ex is SchedulerCallException or ChannelClosedException)
        {
            Log.EventsEnded(_log, ex.Message);
        }
    }

    private async Task SendAsync()
    {
        await foreach (var effect in _outbox.Reader.ReadAllAsync().ConfigureAwait(false))
        {
            if (_client is not { } client)
            {
                continue;
            }

            try
            {
                switch (effect)
                {
                    case LaunchEffect launch:
                        await client.LaunchAsync(launch.Offer, launch.Tasks, new Filters { RefuseSeconds = 1 }).ConfigureAwait(false);
                        foreach (var task in launch.Tasks)
                        {
                            Log.Launched(_log, task.TaskId!.Value!, launch.Offer.Hostname ?? "");
                        }

                        break;
                    case DeclineEffect decline:
                        await client.DeclineAsync(decline.Offers, new Filters { RefuseSeconds = decline.RefuseSeconds }).ConfigureAwait(false);
                        break;
                    case KillEffect kill:
                        await client.KillAsync(kill.TaskId, kill.AgentId).ConfigureAwait(false);
                        break;
                    case ReconcileEffect reconcile:
                        await client.ReconcileAsync(reconcile.Tasks).ConfigureAwait(false);
                        break;
                    case AcknowledgeEffect ack:
                        await client.AcknowledgeAsync(ack.Status).ConfigureAwait(false);
                        break;
                    case ReviveEffect:
                        await client.ReviveAsync().ConfigureAwait(false);
                        break;
                    case SuppressEffect:
                        await client.SuppressAsync().ConfigureAwait(false);
                        break;
                    default:
                        break;
                }
            }
            catch (SchedulerCallException ex)
            {
                Log.CallFailed(_log, effect.GetType().Name, ex.Message);
                if (effect is LaunchEffect launch)
                {
                    var ids = launch.Tasks.Select(t => t.TaskId!.Value!).ToList();
                    Post((engine, now) => engine.OnLaunchFailed(ids, ex.Message, now));
                }
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_timer is not null)
        {
            await _timer.DisposeAsync().ConfigureAwait(false);
        }

        _inbox.Writer.TryComplete();
        if (_loop is not null)
        {
            await _loop.ConfigureAwait(false);
        }

        _outbox.Writer.TryComplete();
        if (_sender is not null)
        {
            await _sender.ConfigureAwait(false);
        }

        if (_client is not null)
        {
            await _client.DisposeAsync().ConfigureAwait(false);
        }

        if (_events is not null)
        {
            await _events.ConfigureAwait(false);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Error, Message = "Jobs engine step failed")]
        public static partial void StepFailed(ILogger logger, Exception ex);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Master events ended: {Reason}")]
        public static partial void EventsEnded(ILogger logger, string reason);

        [LoggerMessage(Level = LogLevel.Warning, Message = "{Call} to the master failed: {Reason}")]
        public static partial void CallFailed(ILogger logger, string call, string reason);

        [LoggerMessage(Level = LogLevel.Information, Message = "Launched {TaskId} on {Host}")]
        public static partial void Launched(ILogger logger, string taskId, string host);
    }
}
