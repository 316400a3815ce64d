using Mezzo.Agent.Executors;
using Mezzo.Agent.Launcher;
using Mezzo.Agent.Recovery;
using Mezzo.Agent.Tasks;
using Mezzo.Core.Tasks;
using Mezzo.Protocol.V1;
using Microsoft.Extensions.Logging;

namespace Mezzo.Agent;

/// <summary>
/// Recovery of custom executors (docs/agent-recovery.md, docs/executor-http-api.md): an executor of a checkpointing
/// framework runs under a supervisor that outlives the agent, and is checkpointed with its tasks and their
/// unacknowledged updates. A restarted agent adopts it and waits --executor-reregistration-timeout for it to SUBSCRIBE
/// again with what it has not seen acknowledged; one that does not is destroyed, one whose supervisor is gone has
/// terminated, and either way its tasks end as for any executor's end.
/// </summary>
public sealed partial class AgentService
{
    /// <summary>Recovered executors waiting for <see cref="ResumeRecoveredTasks"/>, with the exit of those that ended meanwhile.</summary>
    private readonly List<(AgentExecutor Executor, ExitStatus? Ended)> _resumingExecutors = [];

    /// <summary>Custom executors of checkpointing frameworks run under a supervisor, in a run dir of their container.</summary>
    private Supervision? SuperviseExecutor(AgentExecutor executor)
    {
        if (!executor.Checkpointed)
        {
            return null;
        }

        executor.RunDir = _checkpoints.CreateRunDir(executor.ContainerId);
        return new Supervision(_options.SupervisorPath, executor.RunDir, _checkpoints.AgentPidFile, _options.RecoveryTimeout, _options.ContainerLogger.Rotation);
    }

    /// <summary>
    /// Rewrites the executor's checkpoint (its tasks that are live or still have unacknowledged updates); removes it
    /// once the executor has terminated and none of its tasks is left. A failed write is retried like a task's.
    /// </summary>
    private void CheckpointExecutor(AgentExecutor executor)
    {
        if (executor.RunDir is null)
        {
            return;
        }

        var tasks = executor.Tasks.Values
            .Concat(executor.CompletedTasks.Where(t => _tasks.TryGetValue((t.FrameworkId, t.TaskId), out var same) && same == t))
            .ToList();
        if (executor.State == ExecutorRunState.Terminated && tasks.Count == 0)
        {
            _checkpoints.DeleteRun(executor.ContainerId);
            executor.RunDir = null;
            executor.CheckpointDirty = false;
            return;
        }

        executor.CheckpointDirty = !TryCheckpoint($"Executor {executor.ExecutorId}", executor.CheckpointDirty, () => _checkpoints.SaveExecutor(executor.ContainerId, new ExecutorCheckpoint(
                executor.Framework, executor.Info, executor.ContainerId, executor.Sandbox, executor.Process?.Pid ?? 0, executor.SupervisorStart,
                executor.State == ExecutorRunState.Terminated,
                [.. tasks.Select(t => executor.IsDefault
                    ? new ExecutorTaskCheckpoint(t.Info, t.State, t.Killing, t.LatestStatus, [.. t.PendingUpdates],
                        t.ContainerId, t.Sandbox, t.Process?.Pid ?? 0, t.SupervisorStart, executor.Groups.FindIndex(g => g.Contains(t)) is var group and >= 0 ? group : null)
                    : new ExecutorTaskCheckpoint(t.Info, t.State, t.Killing, t.LatestStatus, [.. t.PendingUpdates]))])));
    }

    private void RetryExecutorCheckpoints()
    {
        // A retired executor whose tasks still wait for acknowledgements is no longer in _executors, but still checkpointed.
        var dirty = _executors.Values.Concat(_tasks.Values.Select(t => t.Executor).OfType<AgentExecutor>()).Where(e => e.CheckpointDirty).Distinct().ToList();
        foreach (var executor in dirty)
        {
            CheckpointExecutor(executor);
        }
    }

    /// <summary>At start: the executor and its tasks as they were, its supervisor adopted if it still runs.</summary>
    private void RecoverExecutor(string containerId, ExecutorCheckpoint checkpoint)
    {
        var frameworkId = checkpoint.Framework.Id?.Value ?? "";
        var executor = new AgentExecutor
        {
            FrameworkId = frameworkId,
            Info = checkpoint.Executor,
            Framework = checkpoint.Framework,
            ContainerId = containerId,
            Sandbox = checkpoint.Sandbox,
            RunDir = _checkpoints.RunDir(containerId),
            SupervisorStart = checkpoint.SupervisorStart,
            Recovered = true,
        };
        _recoveredSandboxes.Add(executor.Sandbox);
        _recoveredContainers.Add(containerId);
        var recovered = new List<(AgentTask Task, ExecutorTaskCheckpoint Saved)>();
        foreach (var saved in checkpoint.Tasks)
        {
            var task = new AgentTask
            {
                FrameworkId = frameworkId,
                Info = saved.Task,
                Framework = checkpoint.Framework,
                Sandbox = saved.Sandbox ?? executor.Sandbox,
                ContainerId = saved.ContainerId ?? containerId,
                Executor = executor,
                State = saved.State,
                LatestStatus = saved.LatestStatus,
                Killing = saved.Killing,
                RunDir = executor.IsDefault && saved.ContainerId is { } own ? _checkpoints.RunDir(own) : null,
                SupervisorStart = saved.SupervisorStart,
            };
            recovered.Add((task, saved));
            foreach (var update in saved.PendingUpdates)
            {
                task.PendingUpdates.Enqueue(update);
            }

            _tasks[(frameworkId, task.TaskId)] = task;
            if (task.IsTerminal)
            {
                executor.CompletedTasks.AddLast(task);
            }
            else
            {
                executor.Tasks[task.TaskId] = task;
            }

        }

        var pending = checkpoint.Tasks.Sum(t => t.PendingUpdates.Count);
        if (checkpoint.Terminated)
        {
            // It ended before the restart; only its tasks' unacknowledged updates are left to deliver.
            executor.State = ExecutorRunState.Terminated;
            _completedExecutors.AddLast(executor);
            Log.ExecutorRecovered(_log, executor.ExecutorId, frameworkId, "terminated before the restart", executor.Tasks.Count, pending);
            return;
        }

        _executors[(frameworkId, executor.ExecutorId)] = executor;
        if (executor.IsDefault)
        {
            RecoverDefaultExecutor(executor, recovered);
            return;
        }

        if (_isolator is not null)
        {
            executor.Container = _isolator.Attach(containerId,
                Sum(executor.Info.Resources, "mem") + executor.Tasks.Values.Sum(t => Sum(t.Info.Resources, "mem")));
        }

        var process = checkpoint.SupervisorStart is { } start && _launcher.Adopt(checkpoint.SupervisorPid, start, executor.RunDir) is { } adopted
            ? adopted
            : null;
        if (process is null)
        {
            var exit = PosixProcessLauncher.ReadExitRecord(Path.Combine(executor.RunDir, Supervisor.ExitRecord.FileName), default);
            Log.ExecutorRecovered(_log, executor.ExecutorId, frameworkId, "terminated while the agent was down: " + exit.Describe(), executor.Tasks.Count, pending);
            _resumingExecutors.Add((executor, exit));
            return;
        }

        executor.Process = process;
        Log.ExecutorRecovered(_log, executor.ExecutorId, frameworkId, $"still running (supervisor pid {process.Pid})", executor.Tasks.Count, pending);
        _resumingExecutors.Add((executor, null));
    }

    /// <summary>
    /// The default executor has no process: its groups come back, and each of its live tasks is taken back as a command
    /// task is (supervisor adopted, or its end reported). Those still running go first, so that a task that never started
    /// takes down siblings the agent already holds.
    /// </summary>
    private void RecoverDefaultExecutor(AgentExecutor executor, List<(AgentTask Task, ExecutorTaskCheckpoint Saved)> recovered)
    {
        executor.State = ExecutorRunState.Running;
        executor.Recovered = false;
        executor.Groups.AddRange(recovered.Where(r => r.Saved.Group is not null).GroupBy(r => r.Saved.Group!.Value).OrderBy(g => g.Key)
            .Select(g => g.Select(r => r.Task).ToList()));
        foreach (var (task, _) in recovered)
        {
            _recoveredSandboxes.Add(task.Sandbox);
            _recoveredContainers.Add(task.ContainerId);
        }

        foreach (var (task, saved) in recovered.Where(r => !r.Task.IsTerminal).OrderByDescending(r => r.Saved.SupervisorPid > 0))
        {
            TakeBackProcess(task, saved.SupervisorPid);
        }

        Log.ExecutorRecovered(_log, executor.ExecutorId, executor.FrameworkId, "the default executor", executor.Tasks.Count, recovered.Sum(r => r.Task.PendingUpdates.Count));
        if (executor.Tasks.Count == 0)
        {
            Post(() => FinishDefaultExecutor(executor));
        }
    }

    /// <summary>
    /// At start: recovered executors that ended meanwhile are handled as any executor's exit; those still running get
    /// --executor-reregistration-timeout to SUBSCRIBE again.
    /// </summary>
    private void ResumeRecoveredExecutors()
    {
        foreach (var (executor, ended) in _resumingExecutors)
        {
            if (ended is { } exit)
            {
                TrackExitHandler(HandleExecutorExitAsync(executor, exit));
                continue;
            }

            TrackExitHandler(executor.Process!.Exited.ContinueWith(exited => HandleExecutorExitAsync(executor, exited.Result), TaskScheduler.Default).Unwrap());
            var timeout = _options.ExecutorReregistrationTimeout;
            After(timeout, () =>
            {
                if (executor.State == ExecutorRunState.Registering)
                {
                    Log.ExecutorReregistrationTimedOut(_log, executor.ExecutorId, executor.FrameworkId, timeout.TotalSeconds);
                    Terminate(executor, (TaskState.TASK_FAILED, TaskStatusReason.REASON_EXECUTOR_REREGISTRATION_TIMEOUT,
                        $"Executor did not re-register within {ExecutorLaunch.FormatDuration(timeout)}"), TimeSpan.Zero);
                }
            });
        }

        _resumingExecutors.Clear();
    }

    /// <summary>
    /// The first SUBSCRIBE of a recovered executor (Mesos's reregisterExecutor): updates it sent while the agent was
    /// away are taken as new (by uuid) and acknowledged; a task the agent launched that the executor never saw (still
    /// STAGING, not among its unacknowledged tasks) was lost in the restart; kills in progress are sent again.
    /// </summary>
    private void ReconcileRecoveredExecutor(AgentExecutor executor, ExecutorCallSubscribe? subscribe, ExecutorSubscription subscription)
    {
        executor.Recovered = false;
        var taken = 0;
        foreach (var status in (subscribe?.UnacknowledgedUpdates ?? []).Select(u => u.Status))
        {
            if (status?.TaskId?.Value is not { Length: > 0 } taskId || status.State is null or TaskState.TASK_STAGING || status.Uuid is not { Length: 16 } uuid)
            {
                Log.UnacknowledgedUpdateIgnored(_log, executor.ExecutorId, status?.TaskId?.Value ?? "(none)");
                continue;
            }

            var task = executor.Tasks.GetValueOrDefault(taskId) ?? executor.CompletedTasks.FirstOrDefault(t => t.TaskId == taskId);
            if (task is null)
            {
                Log.UnacknowledgedUpdateIgnored(_log, executor.ExecutorId, taskId);
                continue;
            }

            var held = task.LatestStatus?.Uuid.AsSpan().SequenceEqual(uuid) == true || task.PendingUpdates.Any(u => u.Uuid.AsSpan().SequenceEqual(uuid));
            if (!held && !task.IsTerminal)
            {
                TakeExecutorUpdate(executor, task, status);
                taken++;
            }

            subscription.Send(new ExecutorEvent
            {
                Type = ExecutorEventType.ACKNOWLEDGED,
                Acknowledged = new ExecutorEventAcknowledged { TaskId = status.TaskId, Uuid = status.Uuid },
            });
        }

        var known = (subscribe?.UnacknowledgedTasks ?? []).Select(t => t.TaskId?.Value).OfType<string>().ToHashSet(StringComparer.Ordinal);
        var lost = 0;
        foreach (var task in executor.Tasks.Values.Where(t => t.State == TaskState.TASK_STAGING && !known.Contains(t.TaskId)).ToList())
        {
            var state = task.HasCapability(FrameworkInfoCapabilityType.PARTITION_AWARE) ? TaskState.TASK_DROPPED : TaskState.TASK_LOST;
            Enqueue(task, state, TaskStatusReason.REASON_AGENT_RESTARTED, "Task launched during agent restart", TaskStatusSource.SOURCE_AGENT);
            lost++;
        }

        foreach (var task in executor.Tasks.Values.Where(t => t.Killing))
        {
            subscription.Send(new ExecutorEvent
            {
                Type = ExecutorEventType.KILL,
                Kill = new ExecutorEventKill { TaskId = task.Info.TaskId, KillPolicy = task.Info.KillPolicy },
            });
        }

        Log.ExecutorReregistered(_log, executor.ExecutorId, executor.FrameworkId, taken, lost);
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "Recovered executor {ExecutorId} of framework {FrameworkId}: {What}; {Tasks} live tasks, {Pending} unacknowledged updates")]
        public static partial void ExecutorRecovered(ILogger logger, string executorId, string frameworkId, string what, int tasks, int pending);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Executor {ExecutorId} of framework {FrameworkId} did not re-subscribe within {Seconds} s of the agent's restart; destroying it")]
        public static partial void ExecutorReregistrationTimedOut(ILogger logger, string executorId, string frameworkId, double seconds);

        [LoggerMessage(Level = LogLevel.Information, Message = "Executor {ExecutorId} of framework {FrameworkId} re-subscribed after the agent's restart: {Taken} updates sent meanwhile taken, {Lost} tasks it never received lost")]
        public static partial void ExecutorReregistered(ILogger logger, string executorId, string frameworkId, int taken, int lost);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Executor {ExecutorId} re-subscribed with an unacknowledged update for task {TaskId} that is malformed or names no task of it; ignored")]
        public static partial void UnacknowledgedUpdateIgnored(ILogger logger, string executorId, string taskId);
    }
}
