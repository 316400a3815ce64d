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
    // Steps applied together share one store commit (group commit): at most this many.
    private const int MaxBatch = 256;
    private readonly Channel<Step> _inbox = Channel.CreateUnbounded<Step>(new UnboundedChannelOptions { SingleReader = true });
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

    /// <summary>Told how long each scheduler tick took to decide (wall time, its commit not included), for /metrics.</summary>
    public Action<TimeSpan>? TickTimed { get; init; }

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

        _timer = _time.CreateTimer(_ => Post(Tick), null, TimeSpan.Zero, _tickInterval);
    }

    private void Tick(JobsEngine engine, Instant now)
    {
        var started = _time.GetTimestamp();
        engine.Tick(now);
        TickTimed?.Invoke(_time.GetElapsedTime(started));
    }

    /// <summary>Applies <paramref name="step"/> on the actor and returns its result once it has been persisted.</summary>
    public Task<T> AskAsync<T>(Func<JobsEngine, Instant, T> step)
    {
        var ask = new Ask<T>(step);
        if (!_inbox.Writer.TryWrite(ask))
        {
            ask.Fail(new ObjectDisposedException(nameof(JobsActor)));
        }

        return ask.Task;
    }

    public void Post(Action<JobsEngine, Instant> step) => _inbox.Writer.TryWrite(new Tell(step));

    /// <summary>A unit of work for the actor: applied, then completed once its batch is stored.</summary>
    private abstract class Step
    {
        public abstract void Apply(JobsEngine engine, Instant now);

        public virtual void Complete()
        {
        }

        public virtual void Fail(Exception ex)
        {
        }
    }

    private sealed class Tell(Action<JobsEngine, Instant> step) : Step
    {
        public override void Apply(JobsEngine engine, Instant now) => step(engine, now);
    }

    private sealed class Ask<T>(Func<JobsEngine, Instant, T> step) : Step
    {
        private readonly TaskCompletionSource<T> _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private T _result = default!;
        private Exception? _error;

        public Task<T> Task => _done.Task;

        public override void Apply(JobsEngine engine, Instant now)
        {
            try
            {
                _result = step(engine, now);
            }
            catch (Exception ex)
            {
                _error = ex;
                throw;
            }
        }

        public override void Complete()
        {
            if (_error is not null)
            {
                _done.TrySetException(_error);
            }
            else
            {
                _done.TrySetResult(_result);
            }
        }

        public override void Fail(Exception ex) => _done.TrySetException(ex);
    }

    private void Commit()
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
        var batch = new List<Step>(MaxBatch);
        while (await _inbox.Reader.WaitToReadAsync().ConfigureAwait(false))
        {
            batch.Clear();
            while (batch.Count < MaxBatch && _inbox.Reader.TryRead(out var step))
            {
                batch.Add(step);
                try
                {
                    step.Apply(_engine, Now);
                }
                catch (Exception ex)
                {
                    // A step that throws is reported to its caller; the actor keeps serving.
                    Log.StepFailed(_log, ex);
                }
            }

            try
            {
                // One transaction for the whole batch, before any of its effects or answers.
                Commit();
                batch.ForEach(step => step.Complete());
            }
            catch (Exception ex)
            {
                Log.StepFailed(_log, ex);
                batch.ForEach(step => step.Fail(ex));
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
                        Post((engine, now) => engine.OnSubscribed(id, now));
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
                        // What the launch leaves of the offer comes back at the next allocation, for runs queued meanwhile.
                        await client.LaunchAsync(launch.Offer, launch.Tasks, new Filters { RefuseSeconds = 0 }).ConfigureAwait(false);
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
