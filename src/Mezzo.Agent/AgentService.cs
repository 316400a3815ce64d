using System.Threading.Channels;
using Mezzo.Agent.Isolation;
using Mezzo.Agent.Launcher;
using Mezzo.Agent.Link;
using Mezzo.Agent.Tasks;
using Mezzo.Core.Resources;
using Mezzo.Core.Tasks;
using Mezzo.Protocol.Agents;
using Mezzo.Protocol.V1;
using Microsoft.Extensions.Logging;

namespace Mezzo.Agent;

/// <summary>
/// The agent: registers with the master, runs the tasks it is sent, and delivers their status updates reliably
/// (each task's updates in order, the head resent until the master relays the framework's acknowledgement).
/// All state is owned by one actor loop, like the master's.
/// </summary>
public sealed partial class AgentService : IAsyncDisposable
{
    private readonly Channel<Action> _inbox = Channel.CreateUnbounded<Action>(new UnboundedChannelOptions { SingleReader = true });
    private readonly AgentOptions _options;
    private readonly IProcessLauncher _launcher;
    private readonly TimeProvider _time;
    private readonly ILogger _log;
    private readonly MasterLink _link;
    private readonly CancellationTokenSource _stopping = new();
    private readonly TaskCompletionSource _shutdownByMaster = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Dictionary<(string FrameworkId, string TaskId), AgentTask> _tasks = [];
    private readonly LinkedList<AgentTask> _completed = new();
    private string? _agentId;
    private string? _streamId;
    private CancellationTokenSource? _connection;

    // Status updates waiting for the next UPDATE call, one per task: a newer head replaces an older one not yet sent.
    private readonly OrderedDictionary<(string FrameworkId, string TaskId), AgentUpdate> _outbox = [];
    private bool _flushScheduled;
    private bool _flushing;
    private readonly List<Task> _loops = [];
    private readonly CgroupIsolator? _isolator;
    private readonly NamespaceIsolator? _namespaces;

    // Set on the actor when shutdown begins: a launch whose preparation finishes after that must not start a process.
    private bool _disposing;

    // Exit handling that destroys cgroups off the actor; shutdown waits for it so no cgroup outlives the agent.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<Task, byte> _exitHandlers = new();

    public AgentService(AgentOptions options, Resources total, IReadOnlyList<AgentAttribute> attributes, IProcessLauncher launcher, TimeProvider time, ILogger<AgentService> log, CgroupIsolator? isolator = null, NamespaceIsolator? namespaces = null, Hosting.Tls.TlsContext? tls = null)
    {
        _namespaces = namespaces;
        _isolator = isolator is { Enabled: true } ? isolator : null;
        _options = options;
        Total = total;
        Attributes = attributes;
        _launcher = launcher;
        _time = time;
        _log = log;
        _link = new MasterLink(options.Master, tls: tls, credential: options.Credential);
        _checkpoints = new Recovery.CheckpointStore(options.WorkDir);
        StartTime = time.GetUtcNow();
    }

    public Resources Total { get; }

    public IReadOnlyList<AgentAttribute> Attributes { get; }

    public AgentOptions Options => _options;

    public DateTimeOffset StartTime { get; }

    public Uri MasterUrl => _link.Master;

    /// <summary>Completes when the master told this agent to shut down (it was marked gone).</summary>
    public Task ShutdownByMaster => _shutdownByMaster.Task;

    public void Start()
    {
        Directory.CreateDirectory(_options.SandboxRoot);
        Recover();
        var orphans = OrphanReaper.KillTasksUnder(_options.SandboxRoot, _recoveredSandboxes);
        if (orphans > 0)
        {
            // A previous run's tasks that were not taken back (no checkpointing): killing them keeps a task from running twice.
            Log.OrphansKilled(_log, orphans);
        }

        _isolator?.RemoveLeftoversAsync(_recoveredContainers, _log).GetAwaiter().GetResult();

        LogUserPolicy();
        StartFetcher();
        StartContainers();
        ResumeRecoveredTasks();
        _loops.Add(Task.Run(RunLoopAsync));
        _loops.Add(Task.Run(ConnectLoopAsync));
        _loops.Add(Task.Run(TickLoopAsync));
        _loops.Add(Task.Run(DiskWatchLoopAsync));
    }

    public Task<T> Ask<T>(Func<T> work)
    {
        var completion = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_inbox.Writer.TryWrite(() =>
            {
                try
                {
                    completion.SetResult(work());
                }
                catch (Exception ex)
                {
                    completion.SetException(ex);
                }
            }))
        {
            completion.SetException(new ObjectDisposedException(nameof(AgentService)));
        }

        return completion.Task;
    }

    private void Post(Action work) => _inbox.Writer.TryWrite(work);

    private async Task RunLoopAsync()
    {
        while (await _inbox.Reader.WaitToReadAsync().ConfigureAwait(false))
        {
            while (_inbox.Reader.TryRead(out var work))
            {
                try
                {
                    work();
                }
                catch (Exception ex)
                {
                    Log.WorkItemFailed(_log, ex);
                }
            }
        }
    }

    private async Task TickLoopAsync()
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(250), _time);
        try
        {
            while (await timer.WaitForNextTickAsync(_stopping.Token).ConfigureAwait(false))
            {
                Post(RetryUpdates);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>Subscribe, consume the event stream, and on any failure come back with backoff.</summary>
    private async Task ConnectLoopAsync()
    {
        var backoff = TimeSpan.FromMilliseconds(100);
        while (!_stopping.IsCancellationRequested)
        {
            using var connection = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
            Task? pinger = null;
            try
            {
                var subscribe = await Ask(BuildSubscribe).ConfigureAwait(false);
                var (streamId, events, response) = await _link.SubscribeAsync(subscribe, connection.Token).ConfigureAwait(false);
                using (response)
                {
                    Post(() => _connection = connection);
                    await foreach (var ev in events.ConfigureAwait(false))
                    {
                        if (ev.Type == AgentEventType.SUBSCRIBED)
                        {
                            backoff = TimeSpan.FromMilliseconds(100);
                            var interval = TimeSpan.FromSeconds(Math.Max(0.05, ev.Subscribed?.PingIntervalSeconds ?? 5));
                            pinger ??= Task.Run(() => PingLoopAsync(streamId, ev.Subscribed!.AgentId!.Value!, interval, connection));
                        }

                        Post(() => HandleEvent(ev, streamId));
                    }
                }
            }
            catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
            {
                break;
            }
            catch (HttpRequestException ex) when (ex.StatusCode is System.Net.HttpStatusCode.Unauthorized or System.Net.HttpStatusCode.Forbidden)
            {
                // Retried like any refusal (the master's credentials may be fixed), but said plainly: it will not pass by itself.
                Log.MasterRefusedAgent(_log, _link.Master.ToString(), _options.Credential?.Principal ?? "(no --credential)", ex.Message);
            }
            catch (Exception ex) when (ex is HttpRequestException or IOException or OperationCanceledException or System.Text.Json.JsonException or InvalidDataException)
            {
                Log.MasterUnavailable(_log, _link.Master.ToString(), ex.Message);
            }
            finally
            {
                await connection.CancelAsync().ConfigureAwait(false);
                if (pinger is not null)
                {
                    await pinger.ConfigureAwait(false);
                }

                Post(() =>
                {
                    _streamId = null;
                    _connection = null;
                });
            }

            if (_shutdownByMaster.Task.IsCompleted || _stopping.IsCancellationRequested)
            {
                break;
            }

            try
            {
                await Task.Delay(backoff, _time, _stopping.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }

            backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, _options.MaxReconnectBackoff.Ticks));
        }
    }

    /// <summary>PINGs keep the master from declaring us unreachable; a refused PING means our stream is stale.</summary>
    private async Task PingLoopAsync(string streamId, string agentId, TimeSpan interval, CancellationTokenSource connection)
    {
        // Twice per interval so one delayed ping never costs us a timeout.
        var period = interval / 2;
        try
        {
            while (!connection.IsCancellationRequested)
            {
                await Task.Delay(period, _time, connection.Token).ConfigureAwait(false);
                var status = await _link.CallAsync(new AgentCall { Type = AgentCallType.PING, AgentId = new AgentID { Value = agentId } }, streamId, connection.Token).ConfigureAwait(false);
                if (status is 403 or 404)
                {
                    await connection.CancelAsync().ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private AgentSubscribe BuildSubscribe() => new()
    {
        AgentId = _agentId is null ? null : new AgentID { Value = _agentId },
        Hostname = _options.Hostname,
        Port = _options.Port,
        Resources = ResourceConversion.ToWire(Total),
        Attributes = ResourceConversion.ToWire(Attributes),
        Version = "mezzo",
        Tasks = [.. _tasks.Values.Select(t => new AgentTaskReport
        {
            FrameworkId = new FrameworkID { Value = t.FrameworkId },
            Task = t.Info,
            LatestStatus = t.LatestStatus ?? new TaskStatus { TaskId = t.Info.TaskId, State = t.State },
        })],
        Frameworks = [.. _tasks.Values.Select(t => t.Framework).Concat(_executors.Values.Select(e => e.Framework)).DistinctBy(f => f.Id?.Value)],
        Executors = ExecutorReports(),
    };

    private void HandleEvent(AgentEvent ev, string streamId)
    {
        switch (ev.Type)
        {
            case AgentEventType.SUBSCRIBED:
                var id = ev.Subscribed!.AgentId!.Value!;
                if (_agentId != id)
                {
                    _agentId = id;
                    try
                    {
                        _checkpoints.WriteAgentId(id);
                    }
                    catch (Recovery.CheckpointWriteException ex)
                    {
                        Log.AgentIdNotSaved(_log, id, ex.Message);
                    }
                }

                _streamId = streamId;
                Log.Registered(_log, id, _link.Master.ToString());
                foreach (var task in _tasks.Values)
                {
                    SendHead(task);
                }

                break;
            case AgentEventType.RUN_TASK:
                RunTask(ev.RunTask!.Framework!, ev.RunTask.Task!);
                break;
            case AgentEventType.KILL_TASK:
                var kill = ev.KillTask!;
                if (_tasks.TryGetValue((kill.FrameworkId?.Value ?? "", kill.TaskId?.Value ?? ""), out var victim))
                {
                    Kill(victim, kill.KillPolicy);
                }

                break;
            case AgentEventType.ACKNOWLEDGE:
                Acknowledge(ev.Acknowledge!);
                break;
            case AgentEventType.RUN_TASK_GROUP:
                RunTaskGroup(ev.RunTaskGroup!);
                break;
            case AgentEventType.FRAMEWORK_MESSAGE:
                FrameworkMessage(ev.FrameworkMessage!);
                break;
            case AgentEventType.SHUTDOWN_EXECUTOR:
                ShutdownExecutor(ev.ShutdownExecutor!);
                break;
            case AgentEventType.SHUTDOWN_FRAMEWORK:
                ShutdownFramework(ev.ShutdownFramework?.FrameworkId?.Value ?? "");
                break;
            case AgentEventType.SHUTDOWN:
                Log.ShutdownByMaster(_log, ev.Shutdown?.Message ?? "");
                foreach (var task in _tasks.Values.ToList())
                {
                    task.DropUpdates = true;
                    task.PendingUpdates.Clear();
                    Kill(task, null);
                }

                _shutdownByMaster.TrySetResult();
                break;
            default:
                break;
        }
    }

    private void TrackExitHandler(Task handler)
    {
        _exitHandlers.TryAdd(handler, 0);
        handler.ContinueWith(done => _exitHandlers.TryRemove(done, out _), TaskScheduler.Default);
    }

    private static double Scalar(TaskInfo info, string name) =>
        info.Resources?.Where(r => r.Name == name).Sum(r => r.Scalar?.Value ?? 0) ?? 0;

    /// <summary>
    /// Off the actor: reads whether the memory limit killed the task, then kills whatever is left in its cgroups and
    /// removes them, and only then reports the exit (as Mesos does: a terminal update means the container is gone).
    /// </summary>
    private async Task HandleExitAsync(AgentTask task, ExitStatus exit)
    {
        string? limitation = null;
        if (task.Container is { } container)
        {
            limitation = container.MemoryLimitation(exit);
        }

        await ReleaseContainerAsync(task).ConfigureAwait(false);
        if (task.Container is { } cgroups)
        {
            await DestroyContainerAsync(task, cgroups).ConfigureAwait(false);
        }

        Post(() => OnExited(task, exit, limitation));
    }

    private async Task DestroyContainerAsync(AgentTask task, CgroupContainer container)
    {
        try
        {
            await container.DestroyAsync(TimeSpan.FromSeconds(30)).ConfigureAwait(false);
        }
        catch (IOException ex)
        {
            Log.ContainerNotDestroyed(_log, task.TaskId, ex.Message);
        }
    }

    private void OnExited(AgentTask task, ExitStatus exit, string? memoryLimitation)
    {
        EndKillEscalation(task);
        if (exit.LaunchError is { } launchError && !task.Killing)
        {
            FailLaunch(task, launchError);
            return;
        }

        if (task.Limitation is { } limitation)
        {
            Log.TaskExited(_log, task.TaskId, limitation.Message, nameof(TaskState.TASK_FAILED));
            Enqueue(task, TaskState.TASK_FAILED, limitation.Reason, limitation.Message, TaskStatusSource.SOURCE_AGENT);
            return;
        }

        if (memoryLimitation is not null)
        {
            Log.TaskExited(_log, task.TaskId, memoryLimitation, nameof(TaskState.TASK_FAILED));
            Enqueue(task, TaskState.TASK_FAILED, TaskStatusReason.REASON_CONTAINER_LIMITATION_MEMORY, memoryLimitation, TaskStatusSource.SOURCE_AGENT);
            return;
        }

        var state = task.Killing ? TaskState.TASK_KILLED : exit.Success ? TaskState.TASK_FINISHED : TaskState.TASK_FAILED;
        Log.TaskExited(_log, task.TaskId, exit.Describe(), state.ToString());
        Enqueue(task, state, null, exit.Describe());
    }

    private void Kill(AgentTask task, KillPolicy? policy)
    {
        if (task.Executor is { IsDefault: false })
        {
            KillOnExecutor(task, policy);
            return;
        }

        if (task.IsTerminal)
        {
            return;
        }

        if (task.Killing)
        {
            ShortenKillGracePeriod(task, KillGracePeriod(task, policy));
            return;
        }

        task.Killing = true;
        Checkpoint(task);
        StopChecks(task);
        if (task.Preparation is { } preparation)
        {
            // The launch is still fetching or pulling: stop that; StartProcess then reports the kill instead of starting.
            preparation.Cancel();
            return;
        }

        if (task.Process is null)
        {
            Enqueue(task, TaskState.TASK_KILLED, TaskStatusReason.REASON_TASK_KILLED_DURING_LAUNCH, "Killed before it was launched");
            return;
        }

        if (task.HasCapability(FrameworkInfoCapabilityType.TASK_KILLING_STATE))
        {
            Enqueue(task, TaskState.TASK_KILLING, null, null);
        }

        StartKillEscalation(task, task.Process, KillGracePeriod(task, policy));
    }

    private void ShutdownFramework(string frameworkId)
    {
        ShutdownFrameworkExecutors(frameworkId);
        foreach (var task in _tasks.Values.Where(t => t.FrameworkId == frameworkId).ToList())
        {
            // The framework is gone: nobody will acknowledge, so its updates are dropped rather than retried forever.
            task.DropUpdates = true;
            task.PendingUpdates.Clear();
            Kill(task, null);
            if (task.IsTerminal)
            {
                Complete(task);
            }
        }
    }

    /// <summary>Records a new state and queues its update behind any unacknowledged ones.</summary>
    private void Enqueue(AgentTask task, TaskState state, TaskStatusReason? reason, string? message, TaskStatusSource source = TaskStatusSource.SOURCE_EXECUTOR)
    {
        if (task.IsTerminal || (task.State == state && state != TaskState.TASK_RUNNING))
        {
            return;
        }

        task.State = state;
        var status = new TaskStatus
        {
            TaskId = task.Info.TaskId,
            State = state,
            Source = source,
            Reason = reason,
            Message = message,
            AgentId = new AgentID { Value = _agentId },
            ExecutorId = new ExecutorID { Value = task.ExecutorId },
            Timestamp = _time.GetUtcNow().ToUnixTimeMilliseconds() / 1000.0,
            Uuid = Guid.NewGuid().ToByteArray(),
            ContainerStatus = new ContainerStatus
            {
                ContainerId = new ContainerID { Value = task.ContainerId },
                ExecutorPid = (uint?)task.Process?.Pid,
            },
        };
        AttachCheckFields(task, status);
        QueueStatus(task, status);
    }

    /// <summary>Makes <paramref name="status"/> the task's latest and queues it behind any unacknowledged ones.</summary>
    private void QueueStatus(AgentTask task, TaskStatus status)
    {
        task.LatestStatus = status;
        if (task.Executor is not null && task.IsTerminal)
        {
            OnExecutorTaskTerminal(task);
        }

        if (task.DropUpdates)
        {
            if (task.IsTerminal)
            {
                Complete(task);
            }

            return;
        }

        task.PendingUpdates.Enqueue(status);
        Checkpoint(task);
        if (task.PendingUpdates.Count == 1)
        {
            SendHead(task);
        }
    }

    private void SendHead(AgentTask task)
    {
        if (task.PendingUpdates.Count == 0)
        {
            task.NextRetry = null;
            if (task.IsTerminal)
            {
                Complete(task);
            }

            return;
        }

        task.NextRetry = _time.GetUtcNow() + _options.StatusUpdateRetryInterval;
        if (_streamId is null || _agentId is null)
        {
            return; // sent on the next SUBSCRIBED
        }

        _outbox[(task.FrameworkId, task.TaskId)] = new AgentUpdate { FrameworkId = new FrameworkID { Value = task.FrameworkId }, Status = task.PendingUpdates.Peek() };
        ScheduleFlush();
    }

    /// <summary>
    /// Sends once the actor has drained what is queued now, so a burst of launches and acknowledgements leaves in one
    /// request; with one request in flight at a time, the next batch gathers while it travels (no timer, no delay).
    /// </summary>
    private void ScheduleFlush()
    {
        if (!_flushScheduled && !_flushing)
        {
            _flushScheduled = true;
            Post(FlushUpdates);
        }
    }

    private void FlushUpdates()
    {
        _flushScheduled = false;
        if (_flushing || _outbox.Count == 0)
        {
            return;
        }

        if (_streamId is not { } streamId || _agentId is null)
        {
            _outbox.Clear(); // every head is sent again on the next SUBSCRIBED
            return;
        }

        var call = new AgentCall { Type = AgentCallType.UPDATE, AgentId = new AgentID { Value = _agentId }, Updates = [.. _outbox.Values] };
        _outbox.Clear();
        _flushing = true;
        var connection = _connection;
        _ = Task.Run(async () =>
        {
            try
            {
                var status = await _link.CallAsync(call, streamId, _stopping.Token).ConfigureAwait(false);
                if (status is 403 or 404 && connection is not null)
                {
                    await connection.CancelAsync().ConfigureAwait(false);
                }
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException)
            {
                // Stopping, or the connection it belonged to is already gone.
            }
            finally
            {
                Post(() =>
                {
                    _flushing = false;
                    if (_outbox.Count > 0)
                    {
                        ScheduleFlush();
                    }
                });
            }
        });
    }

    private void RetryUpdates()
    {
        RetryCheckpoints();
        var now = _time.GetUtcNow();
        foreach (var task in _tasks.Values)
        {
            if (task.NextRetry is { } due && due <= now)
            {
                SendHead(task);
            }
        }
    }

    private void Acknowledge(AgentAcknowledge ack)
    {
        if (!_tasks.TryGetValue((ack.FrameworkId?.Value ?? "", ack.TaskId?.Value ?? ""), out var task)
            || task.PendingUpdates.Count == 0 || ack.Uuid is null)
        {
            return;
        }

        if (task.PendingUpdates.Peek().Uuid.AsSpan().SequenceEqual(ack.Uuid))
        {
            task.PendingUpdates.Dequeue();
            Checkpoint(task);
            SendHead(task);
        }
    }

    /// <summary>A terminal task whose updates are all acknowledged leaves the active set.</summary>
    private void Complete(AgentTask task)
    {
        if (_tasks.Remove((task.FrameworkId, task.TaskId)))
        {
            if (task.RunDir is not null)
            {
                _checkpoints.DeleteRun(task.ContainerId);
            }

            if (task.Executor is { } executor)
            {
                CheckpointExecutor(executor);
            }

            _completed.AddLast(task);
            while (_completed.Count > _options.MaxCompletedTasks)
            {
                _completed.RemoveFirst();
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        // A graceful stop kills the tasks; only a crash (kill -9) leaves them running for the next start to take back.
        var processes = await Ask(() =>
        {
            _disposing = true;
            foreach (var task in _tasks.Values)
            {
                task.Preparation?.Cancel();
                StopChecks(task);
                EndKillEscalation(task);
                if (!task.IsTerminal && task.Process is not null)
                {
                    // Reported as TASK_KILLED, now or (from the checkpoint) by the next start of this agent.
                    task.Killing = true;
                    Checkpoint(task);
                }
            }

            return _tasks.Values.Select(t => t.Process).OfType<LaunchedProcess>().Concat(ExecutorProcesses()).ToList();
        }).ConfigureAwait(false);
        await Task.WhenAll(processes.Select(p => p.KillAsync(TimeSpan.FromSeconds(1)))).ConfigureAwait(false);
        await Task.WhenAll(_exitHandlers.Keys).ConfigureAwait(false);
        _fetcher?.Dispose();
        if (_isolator is not null)
        {
            try
            {
                await _isolator.RemoveAllAsync(removeAgentCgroup: true).ConfigureAwait(false);
            }
            catch (IOException ex)
            {
                Log.ContainerNotDestroyed(_log, "(agent shutdown)", ex.Message);
            }
        }

        await StopContainersAsync().ConfigureAwait(false);
        await _stopping.CancelAsync().ConfigureAwait(false);
        _inbox.Writer.TryComplete();
        await Task.WhenAll(_loops).ConfigureAwait(false);
        _link.Dispose();
        _stopping.Dispose();
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Error, Message = "Agent work item failed")]
        public static partial void WorkItemFailed(ILogger logger, Exception exception);

        [LoggerMessage(Level = LogLevel.Information, Message = "Registered with master {Master} as agent {AgentId}")]
        public static partial void Registered(ILogger logger, string agentId, string master);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Master {Master} unavailable: {Reason}; retrying")]
        public static partial void MasterUnavailable(ILogger logger, string master, string reason);

        [LoggerMessage(Level = LogLevel.Error, Message = "Master {Master} refused this agent as principal {Principal}: {Reason}; check --credential (retrying)")]
        public static partial void MasterRefusedAgent(ILogger logger, string master, string principal, string reason);

        [LoggerMessage(Level = LogLevel.Information, Message = "Launched task {TaskId} of framework {FrameworkId} as pid {Pid} in {Sandbox}")]
        public static partial void TaskLaunched(ILogger logger, string taskId, string frameworkId, int pid, string sandbox);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Failed to launch task {TaskId}: {Reason}")]
        public static partial void LaunchFailed(ILogger logger, string taskId, string reason);

        [LoggerMessage(Level = LogLevel.Information, Message = "Task {TaskId}: {Exit}; now {State}")]
        public static partial void TaskExited(ILogger logger, string taskId, string exit, string state);

        [LoggerMessage(Level = LogLevel.Error, Message = "Master asked this agent to shut down: {Message}")]
        public static partial void ShutdownByMaster(ILogger logger, string message);

        [LoggerMessage(Level = LogLevel.Error, Message = "Cgroups of task {TaskId} could not be removed: {Reason}")]
        public static partial void ContainerNotDestroyed(ILogger logger, string taskId, string reason);

        [LoggerMessage(Level = LogLevel.Error, Message = "Agent id {AgentId} could not be saved: {Reason}. A restart will register as a new agent")]
        public static partial void AgentIdNotSaved(ILogger logger, string agentId, string reason);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Killed {Count} task processes left over from a previous run")]
        public static partial void OrphansKilled(ILogger logger, int count);
    }
}
