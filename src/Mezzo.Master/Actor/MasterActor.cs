using System.Threading.Channels;
using Mezzo.Core.Allocation;
using Mezzo.Master.State;
using Mezzo.Storage.Registry;
using Microsoft.Extensions.Logging;

namespace Mezzo.Master.Actor;

/// <summary>
/// The single owner of cluster state. Everything that reads or mutates agents, frameworks, offers or tasks runs as
/// a work item on this actor's loop, one at a time, so no state here needs a lock. HTTP handlers <see cref="Ask{T}"/>
/// and await; timers post ticks.
/// </summary>
public sealed partial class MasterActor : IAsyncDisposable
{
    private readonly Channel<Action> _inbox = Channel.CreateUnbounded<Action>(new UnboundedChannelOptions { SingleReader = true });
    private readonly MasterOptions _options;
    private readonly TimeProvider _time;
    private readonly IRegistryStore _registry;
    private readonly IAllocator _allocator;
    private readonly ILogger _log;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Dictionary<string, AgentEntry> _agents = [];
    private readonly Dictionary<string, FrameworkEntry> _frameworks = [];
    private readonly LinkedList<FrameworkEntry> _completedFrameworks = new();
    private readonly HashSet<string> _removedFrameworkIds = [];
    private readonly Dictionary<string, OfferEntry> _offers = [];
    private readonly MasterCounters _counters = new();
    private Task? _loop;
    private Task? _ticker;
    private bool _allocationPending;

    // The single-reader channel cannot count its items; this backs master/event_queue_messages.
    private long _queued;
    private long _version;
    private long _nextFrameworkId;
    private long _nextAgentId;
    private long _nextOfferId;

    public MasterActor(MasterOptions options, IRegistryStore registry, IAllocator allocator, TimeProvider time, ILogger<MasterActor> log)
    {
        _options = options;
        _registry = registry;
        _allocator = allocator;
        _time = time;
        _log = log;
        _verbosity = new Mezzo.Hosting.Logging.LogVerbosity(time);
        // A new id every start, as Mesos does: the ids this master hands out embed it, so they can never collide with
        // the ones an earlier run gave (whose agents and frameworks the registry still remembers).
        MasterId = Guid.NewGuid().ToString();
        StartTime = time.GetUtcNow();
        Recover();
        RecoverRoles();
    }

    public string MasterId { get; }

    public DateTimeOffset StartTime { get; }

    public MasterOptions Options => _options;

    public string Pid => $"master@{_options.Ip}:{_options.Port}";

    public void Start()
    {
        _loop = Task.Run(RunLoopAsync);
        // Created here rather than on the ticker's thread, so the timer runs from Start on (a fake clock advanced right
        // after Start would otherwise pass by a timer that does not exist yet).
        var timer = new PeriodicTimer(_options.AllocationInterval, _time);
        _ticker = Task.Run(() => TickLoopAsync(timer));
    }

    /// <summary>Runs <paramref name="work"/> on the actor and returns its result.</summary>
    public Task<T> Ask<T>(Func<T> work)
    {
        var completion = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        var posted = Enqueue(() =>
        {
            try
            {
                completion.SetResult(work());
            }
            catch (Exception ex)
            {
                completion.SetException(ex);
            }
        });
        if (!posted)
        {
            completion.SetException(new ObjectDisposedException(nameof(MasterActor), "The master is stopping."));
        }

        return completion.Task;
    }

    /// <summary>Fire-and-forget work on the actor.</summary>
    public void Post(Action work) => Enqueue(work);

    private bool Enqueue(Action work)
    {
        Interlocked.Increment(ref _queued);
        if (_inbox.Writer.TryWrite(work))
        {
            return true;
        }

        Interlocked.Decrement(ref _queued);
        return false;
    }

    private async Task RunLoopAsync()
    {
        var reader = _inbox.Reader;
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            while (reader.TryRead(out var work))
            {
                Interlocked.Decrement(ref _queued);
                try
                {
                    work();
                    _version++;
                }
                catch (Exception ex)
                {
                    // A bug in one handler must not take the whole master down; the caller sees the exception.
                    Log.WorkItemFailed(_log, ex);
                }
            }
        }
    }

    private async Task TickLoopAsync(PeriodicTimer timer)
    {
        using var owned = timer;
        try
        {
            while (await timer.WaitForNextTickAsync(_stopping.Token).ConfigureAwait(false))
            {
                Post(Tick);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>How many housekeeping ticks have run: lets a test driving a fake clock wait for the tick it caused.</summary>
    public long TicksRun => Interlocked.Read(ref _ticksRun);

    private long _ticksRun;

    /// <summary>Periodic housekeeping, batched like Mesos's allocation interval.</summary>
    internal void Tick()
    {
        Interlocked.Increment(ref _ticksRun);
        var now = _time.GetUtcNow();
        ExpireOffers(now);
        CheckAgentLiveness(now);
        CollectRegistryGarbage(now);
        CheckFrameworkFailover(now);
        SendHeartbeats(now);
        PublishOperatorHeartbeats(now);
        ExpireFilters(now);
        CheckDraining();
        if (_allocationPending)
        {
            _allocationPending = false;
            var started = _time.GetTimestamp();
            Allocate(now);
            _counters.CountAllocation(_time.GetElapsedTime(started));
        }

        // After allocation: an offer just made on a draining agent already counts as resources held there.
        GenerateInverseOffers(now);
        SampleUsage(now);
    }

    // Mesos's spellings: frameworks <master>-0000, agents <master>-S0, offers <master>-O0.
    private string NewFrameworkId() => $"{MasterId}-{_nextFrameworkId++:D4}";

    private string NewAgentId() => $"{MasterId}-S{_nextAgentId++}";

    private string NewOfferId() => $"{MasterId}-O{_nextOfferId++}";

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        await Ask(() =>
        {
            foreach (var framework in _frameworks.Values)
            {
                framework.Connection?.Close();
            }

            foreach (var agent in _agents.Values)
            {
                agent.Connection?.Close();
            }

            CloseOperatorSubscribers();
            EndLoggingLevel();
            return true;
        }).ConfigureAwait(false);
        _inbox.Writer.TryComplete();
        if (_loop is not null)
        {
            await _loop.ConfigureAwait(false);
        }

        if (_ticker is not null)
        {
            await _ticker.ConfigureAwait(false);
        }

        _stopping.Dispose();
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Error, Message = "Master work item failed")]
        public static partial void WorkItemFailed(ILogger logger, Exception exception);

        [LoggerMessage(Level = LogLevel.Information, Message = "Agent {AgentId} at {Hostname}:{Port} registered with {Resources}")]
        public static partial void AgentRegistered(ILogger logger, string agentId, string hostname, int port, string resources);

        [LoggerMessage(Level = LogLevel.Information, Message = "Agent {AgentId} at {Hostname}:{Port} re-registered")]
        public static partial void AgentReregistered(ILogger logger, string agentId, string hostname, int port);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Agent {AgentId} at {Hostname}:{Port} is replaced by a new agent at the same address (its host restarted): its tasks are gone")]
        public static partial void AgentReplaced(ILogger logger, string agentId, string hostname, int port);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Agent {AgentId} disconnected")]
        public static partial void AgentDisconnected(ILogger logger, string agentId);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Agent {AgentId} unreachable: {Why}; {Tasks} tasks affected")]
        public static partial void AgentUnreachable(ILogger logger, string agentId, string why, int tasks);

        [LoggerMessage(Level = LogLevel.Information, Message = "Framework {FrameworkId} ({Name}) subscribed{Resubscribed}")]
        public static partial void FrameworkSubscribed(ILogger logger, string frameworkId, string? name, string resubscribed);

        [LoggerMessage(Level = LogLevel.Information, Message = "Framework {FrameworkId} disconnected; failover timeout {Seconds}s")]
        public static partial void FrameworkDisconnected(ILogger logger, string frameworkId, double seconds);

        [LoggerMessage(Level = LogLevel.Information, Message = "Framework {FrameworkId} removed: {Reason}")]
        public static partial void FrameworkRemoved(ILogger logger, string frameworkId, string reason);

        [LoggerMessage(Level = LogLevel.Information, Message = "Task {TaskId} of framework {FrameworkId} is now {State}")]
        public static partial void TaskStateChanged(ILogger logger, string taskId, string frameworkId, string state);

        [LoggerMessage(Level = LogLevel.Debug, Message = "Sent {Count} offers to framework {FrameworkId}")]
        public static partial void OffersSent(ILogger logger, int count, string frameworkId);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Task {TaskId} of framework {FrameworkId} rejected: {Reason}")]
        public static partial void TaskRejected(ILogger logger, string taskId, string frameworkId, string reason);
    }
}
