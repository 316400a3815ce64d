using System.Text.Json.Nodes;
using Mezzo.Agent.Executors;
using Mezzo.Agent.Launcher;
using Mezzo.Agent.Tasks;
using Mezzo.Core.Tasks;
using Mezzo.Protocol.Agents;
using Mezzo.Protocol.V1;
using Microsoft.Extensions.Logging;

namespace Mezzo.Agent;

/// <summary>The answer to a call on /api/v1/executor: an HTTP status and, for a refusal, why.</summary>
public readonly record struct ExecutorCallResult(int StatusCode, string? Error, ExecutorSubscription? Subscription = null)
{
    public static ExecutorCallResult Accepted => new(202, null);

    public static ExecutorCallResult BadRequest(string error) => new(400, error);
}

/// <summary>
/// Custom executors (a process per framework and executor id that speaks the v1 executor API to /api/v1/executor) and
/// the default executor that the agent plays itself for task groups: each task of a group runs as its own process
/// under one executor sandbox, and a group whose task fails or is killed loses its other tasks (Mesos's semantics).
/// </summary>
public sealed partial class AgentService
{
    private const int MaxCompletedExecutorTasks = 100;

    private readonly Dictionary<(string FrameworkId, string ExecutorId), AgentExecutor> _executors = [];
    private readonly LinkedList<AgentExecutor> _completedExecutors = new();

    /// <summary>RUN_TASK of a task that names its executor: the task goes to that executor, started if need be.</summary>
    private void RunOnExecutor(FrameworkInfo framework, TaskInfo info)
    {
        var frameworkId = framework.Id?.Value ?? "";
        var taskId = info.TaskId?.Value ?? "";
        if (_tasks.ContainsKey((frameworkId, taskId)))
        {
            return; // a duplicate delivery of the same launch
        }

        var executor = EnsureExecutor(framework, info.Executor!, [info], out var error);
        var task = AddExecutorTask(framework, info, executor);
        if (executor is null)
        {
            FailLaunch(task, error!);
            ExecutorNeverStarted(frameworkId, info.Executor!);
            return;
        }

        if (executor.State is ExecutorRunState.Terminating or ExecutorRunState.Terminated)
        {
            Enqueue(task, TaskState.TASK_FAILED, TaskStatusReason.REASON_EXECUTOR_TERMINATED,
                $"Executor '{executor.ExecutorId}' is shutting down", TaskStatusSource.SOURCE_AGENT);
            return;
        }

        ResizeExecutor(executor);
        Deliver(executor, new ExecutorEvent { Type = ExecutorEventType.LAUNCH, Launch = new ExecutorEventLaunch { Task = info } });
    }

    /// <summary>A custom executor's cgroups follow its resources plus its live tasks' (a no-op before it has any).</summary>
    private void ResizeExecutor(AgentExecutor executor)
    {
        if (_isolator is null || executor.Container is not { } container || executor.State == ExecutorRunState.Terminated)
        {
            return;
        }

        var cpus = Sum(executor.Info.Resources, "cpus") + executor.Tasks.Values.Sum(t => Sum(t.Info.Resources, "cpus"));
        var mem = Sum(executor.Info.Resources, "mem") + executor.Tasks.Values.Sum(t => Sum(t.Info.Resources, "mem"));
        try
        {
            _isolator.Resize(container, cpus, mem);
        }
        catch (IOException ex)
        {
            // The old limits stay; the executor keeps running as it was.
            Log.ExecutorNotResized(_log, executor.ExecutorId, ex.Message);
        }
    }

    /// <summary>RUN_TASK_GROUP: the whole group goes to one executor at once (the default executor runs it itself).</summary>
    private void RunTaskGroup(AgentRunTaskGroup run)
    {
        var framework = run.Framework!;
        var frameworkId = framework.Id?.Value ?? "";
        var infos = run.TaskGroup?.Tasks ?? [];
        if (infos.Count == 0 || infos.Any(t => _tasks.ContainsKey((frameworkId, t.TaskId?.Value ?? ""))))
        {
            return; // a duplicate delivery of the same group
        }

        var executor = EnsureExecutor(framework, run.Executor!, infos, out var error);
        if (executor is null || executor.State is ExecutorRunState.Terminating or ExecutorRunState.Terminated)
        {
            foreach (var info in infos)
            {
                var task = AddExecutorTask(framework, info, executor);
                if (executor is null)
                {
                    FailLaunch(task, error!);
                }
                else
                {
                    Enqueue(task, TaskState.TASK_FAILED, TaskStatusReason.REASON_EXECUTOR_TERMINATED,
                        $"Executor '{executor.ExecutorId}' is shutting down", TaskStatusSource.SOURCE_AGENT);
                }
            }

            if (executor is null)
            {
                ExecutorNeverStarted(frameworkId, run.Executor!);
            }

            return;
        }

        if (!executor.IsDefault)
        {
            foreach (var info in infos)
            {
                AddExecutorTask(framework, info, executor);
            }

            ResizeExecutor(executor);
            Deliver(executor, new ExecutorEvent { Type = ExecutorEventType.LAUNCH_GROUP, LaunchGroup = new ExecutorEventLaunchGroup { TaskGroup = run.TaskGroup } });
            return;
        }

        // The group's shared volumes exist before any of its tasks starts; one bad volume fails the whole group.
        var volumeError = infos.Select(GroupVolumes.Validate).FirstOrDefault(e => e is not null);
        if (volumeError is null)
        {
            try
            {
                foreach (var info in infos)
                {
                    GroupVolumes.Prepare(executor, info);
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                volumeError = $"could not create a SANDBOX_PATH volume: {ex.Message}";
            }
        }

        if (volumeError is not null)
        {
            foreach (var info in infos)
            {
                FailLaunch(AddExecutorTask(framework, info, executor), volumeError);
            }

            return;
        }

        var group = new List<AgentTask>();
        executor.Groups.Add(group);
        foreach (var info in infos)
        {
            RunTask(framework, info, executor);
            if (_tasks.TryGetValue((frameworkId, info.TaskId?.Value ?? ""), out var task))
            {
                group.Add(task);
            }
        }

        CheckpointExecutor(executor); // now with the whole group

        // A task that could not even start failed before its siblings existed; they go the same way now.
        if (group.Any(t => t.IsTerminal && t.State != TaskState.TASK_FINISHED))
        {
            KillGroup(group);
        }
    }

    /// <summary>The live run of the executor, or a new one: a sandbox, and for a custom executor its process.</summary>
    private AgentExecutor? EnsureExecutor(FrameworkInfo framework, ExecutorInfo info, IReadOnlyList<TaskInfo> firstTasks, out string? error)
    {
        error = null;
        var frameworkId = framework.Id?.Value ?? "";
        var executorId = info.ExecutorId?.Value ?? "";
        if (_executors.TryGetValue((frameworkId, executorId), out var existing))
        {
            existing.Framework = framework;
            return existing;
        }

        var containerId = Guid.NewGuid().ToString();
        var executorDir = Path.Combine(_options.SandboxRoot, _agentId!, "frameworks", frameworkId, "executors", executorId);
        var executor = new AgentExecutor
        {
            FrameworkId = frameworkId,
            Info = info,
            Framework = framework,
            ContainerId = containerId,
            Sandbox = Path.Combine(executorDir, "runs", containerId),
        };
        try
        {
            Directory.CreateDirectory(executor.Sandbox);
            var latest = Path.Combine(executorDir, "runs", "latest");
            File.Delete(latest);
            File.CreateSymbolicLink(latest, executor.Sandbox);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            error = $"could not create the sandbox of executor '{executorId}': {ex.Message}";
            return null;
        }

        if (executor.IsDefault)
        {
            executor.State = ExecutorRunState.Running;
            _executors[(frameworkId, executorId)] = executor;
            if (executor.Checkpointed)
            {
                // Its tasks run under supervisors of their own; the executor's checkpoint holds them and their group.
                executor.RunDir = _checkpoints.CreateRunDir(containerId);
            }

            Log.DefaultExecutorStarted(_log, executorId, frameworkId, executor.Sandbox);
            return executor;
        }

        var cpus = Sum(info.Resources, "cpus") + firstTasks.Sum(t => Sum(t.Resources, "cpus"));
        var mem = Sum(info.Resources, "mem") + firstTasks.Sum(t => Sum(t.Resources, "mem"));
        if (info.Command?.Uris is not { Count: > 0 } uris)
        {
            error = StartExecutorProcess(executor, cpus, mem);
            if (error is not null)
            {
                return null;
            }

            _executors[(frameworkId, executorId)] = executor;
            return executor;
        }

        // Its URIs first (off the actor, as a task's); launches wait in Pending meanwhile, as for registration.
        _executors[(frameworkId, executorId)] = executor;
        executor.Preparation = new CancellationTokenSource();
        var token = executor.Preparation.Token;
        var user = info.Command.User ?? framework.User;
        TrackExitHandler(Task.Run(async () =>
        {
            string? failure = null;
            try
            {
                await (_fetcher ?? throw new InvalidOperationException("The agent has not started"))
                    .FetchAsync(uris, executor.Sandbox, string.IsNullOrEmpty(user) ? null : user, token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                failure = "the executor was shut down while its URIs were fetched";
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                failure = ex.Message;
            }

            Post(() => ExecutorFetched(executor, failure, cpus, mem));
        }));
        return executor;
    }

    /// <summary>On the actor, once an executor's URIs are in its sandbox (or could not be fetched).</summary>
    private void ExecutorFetched(AgentExecutor executor, string? failure, double cpus, double mem)
    {
        executor.Preparation?.Dispose();
        executor.Preparation = null;
        if (failure is null && (executor.State == ExecutorRunState.Terminating || _disposing))
        {
            failure = "the executor was shut down before it started";
        }

        failure ??= StartExecutorProcess(executor, cpus, mem);
        if (failure is null)
        {
            return;
        }

        Log.ExecutorNotStarted(_log, executor.ExecutorId, executor.FrameworkId, failure);
        executor.State = ExecutorRunState.Terminated;
        executor.Pending.Clear();
        foreach (var task in executor.Tasks.Values.ToList())
        {
            if (executor.Termination is var (state, reason, message))
            {
                Enqueue(task, state, reason, message, TaskStatusSource.SOURCE_AGENT);
            }
            else
            {
                FailLaunch(task, failure);
            }
        }

        RetireExecutor(executor, null);
    }

    /// <summary>Cgroups and the process of a custom executor, then the registration timeout. An error, or null.</summary>
    private string? StartExecutorProcess(AgentExecutor executor, double cpus, double mem)
    {
        if (UserRefusal(executor.Info.Command, executor.Framework, "executor") is { } refusal)
        {
            return $"executor '{executor.ExecutorId}' could not be started: {refusal}";
        }

        try
        {
            ChownSandbox(executor.Sandbox, executor.Info.Command, executor.Framework);
            var grace = ExecutorLaunch.ShutdownGracePeriod(executor.Info, _options);
            var environment = ExecutorLaunch.Environment(executor, _agentId!, _options, grace, _secrets);
            if (_options.Security.AuthenticateHttpExecutors && _options.Security.BearerTokens is ExecutorTokens tokens)
            {
                environment[ExecutorTokens.EnvironmentVariable] = tokens.Issue(executor.FrameworkId, executor.ExecutorId, executor.ContainerId);
            }

            var spec = ExecutorLaunch.Spec(executor, environment);
            if (_isolator is not null)
            {
                // Mesos sizes an executor's container for the executor and its tasks.
                executor.Container = _isolator.Prepare(executor.ContainerId, cpus, mem);
                spec = spec with { CgroupProcs = executor.Container.ProcsFiles };
            }

            if (_namespaces is not null)
            {
                // The executor and whatever it forks for its tasks get a pid namespace and a private /tmp, as tasks do.
                spec = spec with { Namespaces = _namespaces.Prepare(executor.Sandbox) };
            }

            executor.Process = _launcher.Launch(spec with { Supervisor = SuperviseExecutor(executor) });
            if (executor.RunDir is not null)
            {
                executor.SupervisorStart = Supervisor.ProcStat.StartTime("/proc", executor.Process.Pid);
            }
        }
        catch (Exception ex) when (ex is LaunchException or IOException or UnauthorizedAccessException or ArgumentException or Secrets.SecretResolutionException)
        {
            if (executor.Container is { } container)
            {
                TrackExitHandler(DestroyExecutorContainerAsync(executor, container));
            }

            return $"executor '{executor.ExecutorId}' could not be started: {ex.Message}";
        }

        Log.ExecutorLaunched(_log, executor.ExecutorId, executor.FrameworkId, executor.Process.Pid, executor.Sandbox);
        CheckpointExecutor(executor);
        TrackExitHandler(executor.Process.Exited.ContinueWith(exited => HandleExecutorExitAsync(executor, exited.Result), TaskScheduler.Default).Unwrap());
        var timeout = _options.ExecutorRegistrationTimeout;
        After(timeout, () =>
        {
            if (executor.State == ExecutorRunState.Registering)
            {
                Log.ExecutorRegistrationTimedOut(_log, executor.ExecutorId, executor.FrameworkId, timeout.TotalSeconds);
                Terminate(executor, (TaskState.TASK_FAILED, TaskStatusReason.REASON_EXECUTOR_REGISTRATION_TIMEOUT,
                    $"Executor did not register within {ExecutorLaunch.FormatDuration(timeout)}"), TimeSpan.Zero);
            }
        });
        return null;
    }

    private static double Sum(List<Resource>? resources, string name) =>
        resources?.Where(r => r.Name == name).Sum(r => r.Scalar?.Value ?? 0) ?? 0;

    private AgentTask AddExecutorTask(FrameworkInfo framework, TaskInfo info, AgentExecutor? executor)
    {
        var frameworkId = framework.Id?.Value ?? "";
        var task = new AgentTask
        {
            FrameworkId = frameworkId,
            Info = info,
            Framework = framework,
            Sandbox = executor?.Sandbox ?? _options.SandboxRoot,
            ContainerId = executor?.ContainerId ?? "",
            Executor = executor,
        };
        _tasks[(frameworkId, task.TaskId)] = task;
        if (executor is not null && executor.Tasks.TryAdd(task.TaskId, task))
        {
            CheckpointExecutor(executor);
        }

        return task;
    }

    /// <summary>Sends now if the executor is subscribed, else when it subscribes.</summary>
    private static void Deliver(AgentExecutor executor, ExecutorEvent ev)
    {
        if (executor.State == ExecutorRunState.Running && executor.Subscription is { } subscription)
        {
            subscription.Send(ev);
        }
        else
        {
            executor.Pending.Add(ev);
        }
    }

    /// <summary>Runs <paramref name="work"/> on the actor after <paramref name="delay"/> (unless the agent stops first).</summary>
    private void After(TimeSpan delay, Action work) =>
        _ = Task.Delay(delay, _time, _stopping.Token).ContinueWith(
            done =>
            {
                if (done.IsCompletedSuccessfully)
                {
                    Post(work);
                }
            },
            TaskScheduler.Default);

    /// <summary>A KILL of a custom executor's task goes to the executor, which decides (Mesos): only one never
    /// handed over is killed by the agent itself.</summary>
    private void KillOnExecutor(AgentTask task, KillPolicy? policy)
    {
        var executor = task.Executor!;
        if (task.IsTerminal)
        {
            return;
        }

        var pending = executor.Pending.FirstOrDefault(e => e.Launch?.Task?.TaskId?.Value == task.TaskId);
        if (pending is not null || executor.State == ExecutorRunState.Registering)
        {
            if (pending is not null)
            {
                executor.Pending.Remove(pending);
            }

            Enqueue(task, TaskState.TASK_KILLED, TaskStatusReason.REASON_TASK_KILLED_DURING_LAUNCH, "Killed before the executor received it", TaskStatusSource.SOURCE_AGENT);
            return;
        }

        task.Killing = true;
        CheckpointExecutor(executor);
        Deliver(executor, new ExecutorEvent
        {
            Type = ExecutorEventType.KILL,
            Kill = new ExecutorEventKill { TaskId = task.Info.TaskId, KillPolicy = policy ?? task.Info.KillPolicy },
        });
    }

    /// <summary>
    /// Called by the update path when a task of an executor turns terminal. Under the default executor a task that
    /// did not finish takes its group down with it, and the executor ends with its last task.
    /// </summary>
    private void OnExecutorTaskTerminal(AgentTask task)
    {
        var executor = task.Executor!;
        if (executor.Tasks.Remove(task.TaskId))
        {
            executor.CompletedTasks.AddLast(task);
            while (executor.CompletedTasks.Count > MaxCompletedExecutorTasks)
            {
                executor.CompletedTasks.RemoveFirst();
            }
        }

        if (!executor.IsDefault)
        {
            ResizeExecutor(executor);
            return;
        }

        var group = executor.Groups.FirstOrDefault(g => g.Contains(task));
        if (group is not null)
        {
            if (task.State != TaskState.TASK_FINISHED)
            {
                KillGroup(group);
            }

            if (group.All(t => t.IsTerminal))
            {
                executor.Groups.Remove(group);
            }
        }

        if (executor.Tasks.Count == 0)
        {
            // After the current update is queued: the executor's end must not overtake its last task's update.
            Post(() => FinishDefaultExecutor(executor));
        }
    }

    private void KillGroup(List<AgentTask> group)
    {
        foreach (var sibling in group.Where(t => !t.IsTerminal && !t.Killing).ToList())
        {
            Kill(sibling, null);
        }
    }

    private void FinishDefaultExecutor(AgentExecutor executor)
    {
        if (executor.Tasks.Count > 0 || executor.State == ExecutorRunState.Terminated)
        {
            return;
        }

        executor.State = ExecutorRunState.Terminated;
        Log.ExecutorTerminated(_log, executor.ExecutorId, executor.FrameworkId, "all of its tasks are terminal");
        RetireExecutor(executor, 0);
    }

    /// <summary>An UPDATE from a custom executor: into the reliable update path, and ACKNOWLEDGED back once the agent has it.</summary>
    public Task<ExecutorCallResult> ExecutorUpdateAsync(string frameworkId, string executorId, TaskStatus status) => Ask(() =>
    {
        if (FindSubscribable(frameworkId, executorId, out var executor) is { } refused)
        {
            return refused;
        }

        var taskId = status.TaskId!.Value!;
        if (!executor.Tasks.TryGetValue(taskId, out var task))
        {
            return executor.CompletedTasks.Any(t => t.TaskId == taskId)
                ? ExecutorCallResult.BadRequest($"Task '{taskId}' is already terminal; no further updates are accepted for it")
                : ExecutorCallResult.BadRequest($"Task '{taskId}' is not a task of executor '{executorId}'");
        }

        TakeExecutorUpdate(executor, task, status);
        executor.Subscription?.Send(new ExecutorEvent
        {
            Type = ExecutorEventType.ACKNOWLEDGED,
            Acknowledged = new ExecutorEventAcknowledged { TaskId = status.TaskId, Uuid = status.Uuid },
        });
        return ExecutorCallResult.Accepted;
    });

    /// <summary>An executor's status, completed with what the agent knows, into the reliable update path.</summary>
    private void TakeExecutorUpdate(AgentExecutor executor, AgentTask task, TaskStatus status)
    {
        status.Source = TaskStatusSource.SOURCE_EXECUTOR;
        status.AgentId = new AgentID { Value = _agentId };
        status.ExecutorId = new ExecutorID { Value = executor.ExecutorId };
        status.Timestamp ??= _time.GetUtcNow().ToUnixTimeMilliseconds() / 1000.0;
        status.ContainerStatus ??= new ContainerStatus
        {
            ContainerId = new ContainerID { Value = executor.ContainerId },
            ExecutorPid = (uint?)executor.Process?.Pid,
        };
        EnqueueFromExecutor(task, status);
    }

    /// <summary>Like <see cref="Enqueue"/>, for a status the executor made (its uuid is the one the framework acknowledges).</summary>
    private void EnqueueFromExecutor(AgentTask task, TaskStatus status)
    {
        task.State = status.State!.Value;
        QueueStatus(task, status);
    }

    /// <summary>SUBSCRIBE: SUBSCRIBED, then every launch that waited for it, on a new stream. After an agent restart
    /// the executor's unacknowledged tasks and updates in <paramref name="subscribe"/> reconcile with the agent's.</summary>
    public Task<ExecutorCallResult> ExecutorSubscribeAsync(string frameworkId, string executorId, ExecutorCallSubscribe? subscribe = null) => Ask(() =>
    {
        if (FindSubscribable(frameworkId, executorId, out var executor) is { } refused)
        {
            return refused;
        }

        executor.Subscription?.Close();
        var subscription = new ExecutorSubscription();
        executor.Subscription = subscription;
        var terminating = executor.State == ExecutorRunState.Terminating;
        var reregistering = executor.Recovered && executor.State == ExecutorRunState.Registering;
        if (executor.State == ExecutorRunState.Registering)
        {
            executor.State = ExecutorRunState.Running;
            Log.ExecutorSubscribed(_log, executorId, frameworkId);
        }

        var framework = MesosJson.Clone(executor.Framework);
        framework.Id ??= new FrameworkID { Value = frameworkId };
        var info = MesosJson.Clone(executor.Info);
        info.FrameworkId ??= new FrameworkID { Value = frameworkId };
        subscription.Send(new ExecutorEvent
        {
            Type = ExecutorEventType.SUBSCRIBED,
            Subscribed = new ExecutorEventSubscribed
            {
                ExecutorInfo = info,
                FrameworkInfo = framework,
                AgentInfo = new AgentInfo
                {
                    Hostname = _options.Hostname,
                    Port = _options.Port,
                    Resources = ResourceConversion.ToWire(Total),
                    Attributes = ResourceConversion.ToWire(Attributes),
                    Id = new AgentID { Value = _agentId },
                },
                ContainerId = new ContainerID { Value = executor.ContainerId },
            },
        });
        if (terminating)
        {
            subscription.Send(new ExecutorEvent { Type = ExecutorEventType.SHUTDOWN });
            return new ExecutorCallResult(200, null, subscription);
        }

        if (reregistering)
        {
            ReconcileRecoveredExecutor(executor, subscribe, subscription);
        }

        foreach (var pending in executor.Pending)
        {
            subscription.Send(pending);
        }

        executor.Pending.Clear();
        return new ExecutorCallResult(200, null, subscription);
    });

    /// <summary>The SUBSCRIBE stream ended (the executor went away, or a newer SUBSCRIBE replaced it).</summary>
    public void ExecutorDisconnected(string frameworkId, string executorId, ExecutorSubscription subscription) => Post(() =>
    {
        subscription.Close();
        if (_executors.TryGetValue((frameworkId, executorId), out var executor) && executor.Subscription == subscription)
        {
            executor.Subscription = null;
        }
    });

    /// <summary>MESSAGE from an executor: relayed to its framework through the master, best effort (as Mesos).</summary>
    public Task<ExecutorCallResult> ExecutorMessageAsync(string frameworkId, string executorId, byte[] data) => Ask(() =>
    {
        if (FindSubscribable(frameworkId, executorId, out _) is { } refused)
        {
            return refused;
        }

        SendToMaster(new AgentCall
        {
            Type = AgentCallType.EXECUTOR_MESSAGE,
            ExecutorMessage = new AgentExecutorMessage
            {
                FrameworkId = new FrameworkID { Value = frameworkId },
                ExecutorId = new ExecutorID { Value = executorId },
                Data = data,
            },
        });
        return ExecutorCallResult.Accepted;
    });

    private ExecutorCallResult? FindSubscribable(string frameworkId, string executorId, out AgentExecutor executor)
    {
        if (!_executors.TryGetValue((frameworkId, executorId), out executor!))
        {
            return _executors.Keys.Any(k => k.FrameworkId == frameworkId)
                ? ExecutorCallResult.BadRequest($"Executor '{executorId}' of framework '{frameworkId}' cannot be found on this agent")
                : ExecutorCallResult.BadRequest($"Framework '{frameworkId}' cannot be found on this agent (it runs no executor here)");
        }

        if (executor.IsDefault)
        {
            return ExecutorCallResult.BadRequest($"Executor '{executorId}' is the agent's default executor; it takes no calls");
        }

        return null;
    }

    /// <summary>FRAMEWORK_MESSAGE from the master: a MESSAGE event to the executor, dropped if it is not subscribed.</summary>
    private void FrameworkMessage(AgentFrameworkMessage message)
    {
        var key = (message.FrameworkId?.Value ?? "", message.ExecutorId?.Value ?? "");
        if (_executors.TryGetValue(key, out var executor) && executor.Subscription is { } subscription && !executor.IsDefault)
        {
            subscription.Send(new ExecutorEvent { Type = ExecutorEventType.MESSAGE, Message = new ExecutorEventMessage { Data = message.Data ?? [] } });
            return;
        }

        Log.FrameworkMessageDropped(_log, key.Item2, key.Item1);
    }

    /// <summary>SHUTDOWN_EXECUTOR (the scheduler's SHUTDOWN call).</summary>
    private void ShutdownExecutor(AgentShutdownExecutor shutdown)
    {
        if (_executors.TryGetValue((shutdown.FrameworkId?.Value ?? "", shutdown.ExecutorId?.Value ?? ""), out var executor))
        {
            Terminate(executor, null, ExecutorLaunch.ShutdownGracePeriod(executor.Info, _options));
        }
    }

    /// <summary>The framework is gone: every executor of it is shut down.</summary>
    private void ShutdownFrameworkExecutors(string frameworkId)
    {
        foreach (var executor in _executors.Values.Where(e => e.FrameworkId == frameworkId).ToList())
        {
            Terminate(executor, null, ExecutorLaunch.ShutdownGracePeriod(executor.Info, _options));
        }
    }

    /// <summary>
    /// Ends an executor: a subscribed one gets SHUTDOWN and <paramref name="grace"/> to exit before its container is
    /// destroyed; one that never subscribed is destroyed at once. The default executor kills its tasks.
    /// </summary>
    private void Terminate(AgentExecutor executor, (TaskState, TaskStatusReason, string)? termination, TimeSpan grace)
    {
        if (executor.State is ExecutorRunState.Terminating or ExecutorRunState.Terminated)
        {
            return;
        }

        var subscribed = executor.State == ExecutorRunState.Running;
        executor.State = ExecutorRunState.Terminating;
        executor.Termination = termination;
        if (executor.IsDefault)
        {
            foreach (var task in executor.Tasks.Values.ToList())
            {
                Kill(task, null);
            }

            return;
        }

        if (executor.Process is null)
        {
            // Still fetching its URIs: that stops, and the fetch's end reports the tasks.
            executor.Preparation?.Cancel();
            return;
        }

        if (subscribed && executor.Subscription is { } subscription)
        {
            subscription.Send(new ExecutorEvent { Type = ExecutorEventType.SHUTDOWN });
        }
        else
        {
            grace = TimeSpan.Zero;
        }

        // SHUTDOWN first and the grace period to act on it; only then is the container destroyed.
        var process = executor.Process;
        After(grace, () =>
        {
            if (executor.State != ExecutorRunState.Terminated)
            {
                _ = process.KillAsync(TimeSpan.Zero, _stopping.Token);
            }
        });
    }

    /// <summary>Off the actor: the executor's cgroups go (and whatever is left in them), then the actor learns of the exit.</summary>
    private async Task HandleExecutorExitAsync(AgentExecutor executor, ExitStatus exit)
    {
        string? limitation = null;
        if (executor.Container is { } container)
        {
            limitation = container.MemoryLimitation(exit);
            await DestroyExecutorContainerAsync(executor, container).ConfigureAwait(false);
        }

        Post(() => OnExecutorExited(executor, exit, limitation));
    }

    private async Task DestroyExecutorContainerAsync(AgentExecutor executor, Isolation.CgroupContainer container)
    {
        try
        {
            await container.DestroyAsync(TimeSpan.FromSeconds(30)).ConfigureAwait(false);
        }
        catch (IOException ex)
        {
            Log.ContainerNotDestroyed(_log, "executor " + executor.ExecutorId, ex.Message);
        }
    }

    /// <summary>Mesos's executorTerminated: every task the executor left non-terminal fails with REASON_EXECUTOR_TERMINATED
    /// (or the reason the agent ended it for), from SOURCE_AGENT.</summary>
    private void OnExecutorExited(AgentExecutor executor, ExitStatus exit, string? memoryLimitation)
    {
        executor.State = ExecutorRunState.Terminated;
        executor.Subscription?.Close();
        executor.Subscription = null;
        Log.ExecutorTerminated(_log, executor.ExecutorId, executor.FrameworkId, exit.Describe());
        var (state, reason, message) = executor.Termination
            ?? (memoryLimitation is not null
                ? (TaskState.TASK_FAILED, TaskStatusReason.REASON_CONTAINER_LIMITATION_MEMORY, memoryLimitation)
                : (TaskState.TASK_FAILED, TaskStatusReason.REASON_EXECUTOR_TERMINATED, $"Executor terminated: {exit.Describe()}"));
        executor.Pending.Clear();
        foreach (var task in executor.Tasks.Values.ToList())
        {
            Enqueue(task, state, reason, message, TaskStatusSource.SOURCE_AGENT);
        }

        RetireExecutor(executor, ExecutorLaunch.WaitStatus(exit));
    }

    /// <summary>The executor leaves the live set; the master frees its resources and tells the framework.</summary>
    private void RetireExecutor(AgentExecutor executor, int? status)
    {
        var key = (executor.FrameworkId, executor.ExecutorId);
        if (_executors.TryGetValue(key, out var current) && current == executor)
        {
            _executors.Remove(key);
        }

        _completedExecutors.AddLast(executor);
        while (_completedExecutors.Count > _options.MaxCompletedTasks)
        {
            _completedExecutors.RemoveFirst();
        }

        CheckpointExecutor(executor);

        SendToMaster(new AgentCall
        {
            Type = AgentCallType.EXECUTOR_EXITED,
            ExecutorExited = new AgentExecutorExited
            {
                FrameworkId = new FrameworkID { Value = executor.FrameworkId },
                ExecutorId = new ExecutorID { Value = executor.ExecutorId },
                Status = status,
            },
        });
    }

    /// <summary>The master took the executor's resources when it sent the launch: they come back as for an exit.</summary>
    private void ExecutorNeverStarted(string frameworkId, ExecutorInfo info) =>
        SendToMaster(new AgentCall
        {
            Type = AgentCallType.EXECUTOR_EXITED,
            ExecutorExited = new AgentExecutorExited { FrameworkId = new FrameworkID { Value = frameworkId }, ExecutorId = info.ExecutorId },
        });

    /// <summary>A one-off call to the master, best effort: a master that misses it learns the truth on the next SUBSCRIBE.</summary>
    private void SendToMaster(AgentCall call)
    {
        if (_streamId is not { } streamId || _agentId is null)
        {
            return;
        }

        call.AgentId = new AgentID { Value = _agentId };
        _ = Task.Run(async () =>
        {
            try
            {
                await _link.CallAsync(call, streamId, _stopping.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is HttpRequestException or IOException or OperationCanceledException or ObjectDisposedException)
            {
                Log.MasterCallFailed(_log, call.Type.ToString() ?? "", ex.Message);
            }
        });
    }

    private List<AgentExecutorReport> ExecutorReports() =>
        [.. _executors.Values.Where(e => e.State != ExecutorRunState.Terminated).Select(e => new AgentExecutorReport
        {
            FrameworkId = new FrameworkID { Value = e.FrameworkId },
            Executor = e.Info,
        })];

    /// <summary>When the agent stops: fetches for executors stop, and the processes to kill (custom executors die with
    /// the agent, as command tasks do).</summary>
    private IEnumerable<LaunchedProcess> ExecutorProcesses()
    {
        foreach (var executor in _executors.Values)
        {
            executor.Preparation?.Cancel();
        }

        return _executors.Values.Select(e => e.Process).OfType<LaunchedProcess>().ToList();
    }

    /// <summary>slave/executors_running: custom executors with a live process and default executors with live tasks.</summary>
    private int RunningExecutorCount() =>
        _executors.Values.Count(e => e.IsDefault ? e.Tasks.Count > 0 : e.Process is { HasExited: false });

    /// <summary>/state: custom and default executors with their tasks, in Mesos's shape.</summary>
    private void AddExecutorsJson(string frameworkId, JsonArray executors, JsonArray completedExecutors)
    {
        foreach (var executor in _executors.Values.Where(e => e.FrameworkId == frameworkId))
        {
            executors.Add(ExecutorRunJson(executor));
        }

        foreach (var executor in _completedExecutors.Where(e => e.FrameworkId == frameworkId))
        {
            completedExecutors.Add(ExecutorRunJson(executor));
        }
    }

    private JsonObject ExecutorRunJson(AgentExecutor executor)
    {
        JsonObject TaskJson(AgentTask task) => new()
        {
            ["id"] = task.TaskId,
            ["name"] = task.Info.Name,
            ["framework_id"] = task.FrameworkId,
            ["executor_id"] = executor.ExecutorId,
            ["slave_id"] = _agentId,
            ["state"] = task.State.ToString(),
            ["resources"] = ResourcesJson(ResourceConversion.ToCore(task.Info.Resources ?? [])),
            ["statuses"] = new JsonArray(),
        };

        var queued = executor.Pending.SelectMany(e => e.Launch?.Task is { } t ? [t] : e.LaunchGroup?.TaskGroup?.Tasks ?? [])
            .Select(t => t.TaskId?.Value).ToHashSet();
        var live = executor.Tasks.Values.ToList();
        return new JsonObject
        {
            ["id"] = executor.ExecutorId,
            ["name"] = executor.Info.Name ?? "",
            ["source"] = executor.Info.Source ?? "",
            ["type"] = executor.IsDefault ? "DEFAULT" : "CUSTOM",
            ["container"] = executor.ContainerId,
            ["directory"] = executor.Sandbox,
            ["state"] = executor.State.ToString().ToUpperInvariant(),
            ["pid"] = executor.Process?.Pid,
            ["resources"] = ResourcesJson(ResourceConversion.ToCore(executor.Info.Resources ?? [])),
            ["tasks"] = new JsonArray([.. live.Where(t => !queued.Contains(t.TaskId)).Select(TaskJson)]),
            ["queued_tasks"] = new JsonArray([.. live.Where(t => queued.Contains(t.TaskId)).Select(TaskJson)]),
            ["completed_tasks"] = new JsonArray([.. executor.CompletedTasks.Select(TaskJson)]),
        };
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "Launched executor {ExecutorId} of framework {FrameworkId} as pid {Pid} in {Sandbox}")]
        public static partial void ExecutorLaunched(ILogger logger, string executorId, string frameworkId, int pid, string sandbox);

        [LoggerMessage(Level = LogLevel.Information, Message = "Default executor {ExecutorId} of framework {FrameworkId} runs its task groups in {Sandbox}")]
        public static partial void DefaultExecutorStarted(ILogger logger, string executorId, string frameworkId, string sandbox);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Executor {ExecutorId} of framework {FrameworkId} was not started: {Reason}")]
        public static partial void ExecutorNotStarted(ILogger logger, string executorId, string frameworkId, string reason);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Cgroups of executor {ExecutorId} keep their limits: {Reason}")]
        public static partial void ExecutorNotResized(ILogger logger, string executorId, string reason);

        [LoggerMessage(Level = LogLevel.Information, Message = "Executor {ExecutorId} of framework {FrameworkId} subscribed")]
        public static partial void ExecutorSubscribed(ILogger logger, string executorId, string frameworkId);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Executor {ExecutorId} of framework {FrameworkId} did not subscribe within {Seconds} s; destroying it")]
        public static partial void ExecutorRegistrationTimedOut(ILogger logger, string executorId, string frameworkId, double seconds);

        [LoggerMessage(Level = LogLevel.Information, Message = "Executor {ExecutorId} of framework {FrameworkId} terminated: {Reason}")]
        public static partial void ExecutorTerminated(ILogger logger, string executorId, string frameworkId, string reason);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Dropped a framework message for executor {ExecutorId} of framework {FrameworkId}: it is not subscribed here")]
        public static partial void FrameworkMessageDropped(ILogger logger, string executorId, string frameworkId);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Call {Type} to the master failed: {Reason}")]
        public static partial void MasterCallFailed(ILogger logger, string type, string reason);
    }
}
