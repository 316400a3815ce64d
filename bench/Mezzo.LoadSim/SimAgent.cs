using Mezzo.Agent.Link;
using Mezzo.Core.Tasks;
using Mezzo.Protocol.Agents;
using Mezzo.Protocol.V1;

namespace Mezzo.LoadSim;

/// <summary>
/// A simulated agent speaking the real agent protocol (through the real agent's <see cref="MasterLink"/>, so its own
/// bounded HttpClient): SUBSCRIBE, PING at half the interval the master asks, and for every RUN_TASK the updates
/// STARTING, RUNNING, FINISHED, each sent only after the previous one was ACKNOWLEDGEd, batched per agent with one
/// UPDATE in flight at a time, as <c>AgentService</c> does. No processes, no sandboxes; a few objects per task.
/// </summary>
internal sealed class SimAgent : IDisposable
{
    private static readonly TaskState[] Sequence = [TaskState.TASK_STARTING, TaskState.TASK_RUNNING, TaskState.TASK_FINISHED];

    private readonly MasterLink _link;
    private readonly int _index;
    private readonly List<Resource> _resources;
    private readonly CancellationToken _stopping;
    private readonly TimeSpan _runFor;
    private readonly Lock _lock = new();
    private readonly Dictionary<(string FrameworkId, string TaskId), SimTask> _tasks = [];
    private readonly OrderedDictionary<(string FrameworkId, string TaskId), AgentUpdate> _outbox = [];
    private readonly TaskCompletionSource _registered = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private bool _flushing;
    private string? _agentId;
    private string? _streamId;

    /// <param name="runFor">How long a task stays RUNNING before it finishes (zero: at once).</param>
    public SimAgent(Uri master, int index, List<Resource> resources, CancellationToken stopping, TimeSpan runFor = default)
    {
        _link = new MasterLink(master);
        _index = index;
        _resources = resources;
        _stopping = stopping;
        _runFor = runFor;
    }

    public Task Registered => _registered.Task;

    /// <summary>UPDATE calls that failed (not 202) and were retried.</summary>
    public static long FailedCalls;

    /// <summary>UPDATE calls sent and status updates they carried (the batching ratio).</summary>
    public static long UpdateCalls;

    public static long UpdatesSent;

    /// <summary>Subscriptions that ended while the run was still going.</summary>
    public static long Disconnects;

    public async Task RunAsync()
    {
        try
        {
            var (streamId, events, response) = await _link.SubscribeAsync(new AgentSubscribe
            {
                Hostname = "sim-" + _index.ToString(System.Globalization.CultureInfo.InvariantCulture),
                Port = 5051,
                Resources = _resources,
                Version = "mezzo-loadsim",
            }, _stopping).ConfigureAwait(false);
            using (response)
            {
                await foreach (var ev in events.ConfigureAwait(false))
                {
                    Handle(ev, streamId);
                }
            }

            if (!_stopping.IsCancellationRequested)
            {
                Interlocked.Increment(ref Disconnects);
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or OperationCanceledException or System.Text.Json.JsonException or InvalidDataException)
        {
            Interlocked.Increment(ref Disconnects);
            _registered.TrySetException(ex);
        }
    }

    private void Handle(AgentEvent ev, string streamId)
    {
        switch (ev.Type)
        {
            case AgentEventType.SUBSCRIBED:
                var interval = TimeSpan.FromSeconds(Math.Max(0.05, ev.Subscribed?.PingIntervalSeconds ?? 5));
                lock (_lock)
                {
                    _agentId = ev.Subscribed!.AgentId!.Value!;
                    _streamId = streamId;
                }

                _ = PingLoopAsync(streamId, _agentId, interval);
                _registered.TrySetResult();
                break;
            case AgentEventType.RUN_TASK:
                var frameworkId = ev.RunTask!.Framework!.Id!.Value!;
                var info = ev.RunTask.Task!;
                lock (_lock)
                {
                    var key = (frameworkId, info.TaskId!.Value!);
                    if (!_tasks.ContainsKey(key))
                    {
                        var task = new SimTask(frameworkId, info);
                        _tasks[key] = task;
                        Stage(key, task);
                    }
                }

                break;
            case AgentEventType.ACKNOWLEDGE:
                var ack = ev.Acknowledge!;
                lock (_lock)
                {
                    var key = (ack.FrameworkId?.Value ?? "", ack.TaskId?.Value ?? "");
                    if (_tasks.TryGetValue(key, out var task) && ack.Uuid is not null && task.Head.Uuid.AsSpan().SequenceEqual(ack.Uuid))
                    {
                        if (++task.Next == Sequence.Length)
                        {
                            _tasks.Remove(key);
                        }
                        else if (Sequence[task.Next] == TaskState.TASK_FINISHED && _runFor > TimeSpan.Zero)
                        {
                            _ = FinishLaterAsync(key, task);
                        }
                        else
                        {
                            Stage(key, task);
                        }
                    }
                }

                break;
            case AgentEventType.SHUTDOWN_FRAMEWORK:
                lock (_lock)
                {
                    var id = ev.ShutdownFramework?.FrameworkId?.Value;
                    foreach (var key in _tasks.Keys.Where(k => k.FrameworkId == id).ToList())
                    {
                        _tasks.Remove(key);
                        _outbox.Remove(key);
                    }
                }

                break;
            default:
                break; // KILL_TASK: the simulated tasks finish on their own; HEARTBEAT, SHUTDOWN: nothing to do
        }
    }

    /// <summary>Puts the task's next update (its head) into the outbox and starts a flush unless one is in flight. Under the lock.</summary>
    private void Stage((string, string) key, SimTask task)
    {
        task.Head = new TaskStatus
        {
            TaskId = task.Info.TaskId,
            State = Sequence[task.Next],
            Source = TaskStatusSource.SOURCE_EXECUTOR,
            AgentId = new AgentID { Value = _agentId },
            ExecutorId = new ExecutorID { Value = task.Info.TaskId!.Value },
            Timestamp = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0,
            Uuid = Guid.NewGuid().ToByteArray(),
        };
        _outbox[key] = new AgentUpdate { FrameworkId = new FrameworkID { Value = task.FrameworkId }, Status = task.Head };
        if (!_flushing)
        {
            _flushing = true;
            // Like the real agent's actor: the flush runs after what is being handled now, so a burst leaves in one call.
            _ = Task.Run(FlushLoopAsync);
        }
    }

    /// <summary>A task that "runs" for a while: its FINISHED is staged once <see cref="_runFor"/> has passed.</summary>
    private async Task FinishLaterAsync((string, string) key, SimTask task)
    {
        try
        {
            await Task.Delay(_runFor, _stopping);
        }
        catch (OperationCanceledException)
        {
            return;
        }

        lock (_lock)
        {
            if (_tasks.TryGetValue(key, out var current) && current == task)
            {
                Stage(key, task);
            }
        }
    }

    private async Task FlushLoopAsync()
    {
        while (true)
        {
            AgentCall call;
            string streamId;
            lock (_lock)
            {
                if (_outbox.Count == 0 || _stopping.IsCancellationRequested)
                {
                    _flushing = false;
                    return;
                }

                streamId = _streamId!;
                call = new AgentCall { Type = AgentCallType.UPDATE, AgentId = new AgentID { Value = _agentId }, Updates = [.. _outbox.Values] };
                _outbox.Clear();
            }

            Interlocked.Increment(ref UpdateCalls);
            Interlocked.Add(ref UpdatesSent, call.Updates.Count);
            int status;
            try
            {
                status = await _link.CallAsync(call, streamId, _stopping).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                status = 0;
            }

            if (status != 202 && !_stopping.IsCancellationRequested)
            {
                // Resend what is still the head of its task (a newer head staged meanwhile wins).
                Interlocked.Increment(ref FailedCalls);
                lock (_lock)
                {
                    foreach (var update in call.Updates)
                    {
                        var key = (update.FrameworkId!.Value!, update.Status!.TaskId!.Value!);
                        if (_tasks.TryGetValue(key, out var task) && ReferenceEquals(task.Head, update.Status))
                        {
                            _outbox.TryAdd(key, update);
                        }
                    }
                }

                try
                {
                    await Task.Delay(100, _stopping).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                }
            }
        }
    }

    private async Task PingLoopAsync(string streamId, string agentId, TimeSpan interval)
    {
        try
        {
            while (!_stopping.IsCancellationRequested)
            {
                await Task.Delay(interval / 2, _stopping).ConfigureAwait(false);
                await _link.CallAsync(new AgentCall { Type = AgentCallType.PING, AgentId = new AgentID { Value = agentId } }, streamId, _stopping).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    public void Dispose() => _link.Dispose();

    private sealed class SimTask(string frameworkId, TaskInfo info)
    {
        public string FrameworkId { get; } = frameworkId;

        public TaskInfo Info { get; } = info;

        /// <summary>Index into the STARTING, RUNNING, FINISHED sequence of the update now in flight.</summary>
        public int Next { get; set; }

        public TaskStatus Head { get; set; } = null!;
    }
}
