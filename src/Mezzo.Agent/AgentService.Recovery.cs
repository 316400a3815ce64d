using Mezzo.Agent.Launcher;
using Mezzo.Agent.Recovery;
using Mezzo.Agent.Tasks;
using Mezzo.Core.Tasks;
using Mezzo.Protocol.V1;
using Microsoft.Extensions.Logging;

namespace Mezzo.Agent;

/// <summary>
/// Agent recovery, as Mesos's (docs/agent-recovery.md): command tasks run under a supervisor that outlives the agent,
/// and the tasks of checkpointing frameworks are checkpointed under <c>&lt;work_dir&gt;/meta</c> with their
/// unacknowledged status updates. A restarted agent on the same boot of the host takes them back: it re-registers with
/// its old agent id, adopts the supervisors still running, reports the tasks that ended meanwhile with their real exit
/// status, and resends what the framework never acknowledged. After a reboot (another boot id) nothing can be running:
/// it starts as a new agent, and the master retires the old one.
/// </summary>
public sealed partial class AgentService
{
    private readonly CheckpointStore _checkpoints;

    /// <summary>Sandboxes and containers taken back at start; everything else a previous run left is killed.</summary>
    private readonly HashSet<string> _recoveredSandboxes = new(StringComparer.Ordinal);
    private readonly HashSet<string> _recoveredContainers = new(StringComparer.Ordinal);

    /// <summary>Recovered tasks waiting for <see cref="ResumeRecoveredTasks"/>, with the exit of those that ended meanwhile.</summary>
    private readonly List<(AgentTask Task, ExitStatus? Ended)> _resuming = [];

    /// <summary>
    /// At start, before anything runs or connects: identity, then the checkpointed tasks. Throws
    /// <see cref="CheckpointCorruptException"/> for a corrupt checkpoint in strict mode.
    /// </summary>
    private void Recover()
    {
        Directory.CreateDirectory(_checkpoints.RunsDir);
        var bootId = CheckpointStore.CurrentBootId();
        var previousBoot = ReadOrQuarantine(_checkpoints.ReadBootId, _checkpoints.BootIdFile);
        _agentId = ReadOrQuarantine(_checkpoints.ReadAgentId, _checkpoints.AgentIdFile);
        if (previousBoot is not null && previousBoot != bootId)
        {
            // Nothing of the previous boot runs any more; its agent id goes too, so the master retires the old agent.
            Log.HostRebooted(_log, previousBoot, bootId, _agentId ?? "(none)");
            _agentId = null;
            File.Delete(_checkpoints.AgentIdFile);
            Directory.Delete(_checkpoints.RunsDir, recursive: true);
            Directory.CreateDirectory(_checkpoints.RunsDir);
        }

        _checkpoints.WriteBootId(bootId);
        _checkpoints.WriteAgentPid();
        var problems = _options.Strict ? null : new List<CheckpointCorruptException>();
        var runs = _checkpoints.LoadRuns(problems);
        var executors = _checkpoints.LoadExecutors(problems);
        foreach (var problem in problems ?? [])
        {
            Log.CheckpointCorrupt(_log, problem.Path, problem.Reason);
            CheckpointStore.QuarantineFile(problem.Path);
        }

        // The default executor's tasks have run dirs (their supervisors' exit records) but no task checkpoint of their own.
        var executorTasks = executors.SelectMany(e => e.Checkpoint.Tasks).Select(t => t.ContainerId).OfType<string>().ToHashSet(StringComparer.Ordinal);
        foreach (var (containerId, checkpoint) in runs)
        {
            if (checkpoint is null && executorTasks.Contains(containerId) && _agentId is not null)
            {
                continue;
            }

            if (checkpoint is null || _agentId is null)
            {
                // A task of a framework that did not ask for checkpointing: its processes die with the orphans below.
                _checkpoints.DeleteRun(containerId);
                continue;
            }

            RecoverTask(containerId, checkpoint);
        }

        foreach (var (containerId, checkpoint) in executors)
        {
            if (_agentId is null)
            {
                _checkpoints.DeleteRun(containerId);
                continue;
            }

            RecoverExecutor(containerId, checkpoint);
        }
    }

    private string? ReadOrQuarantine(Func<string?> read, string path)
    {
        try
        {
            return read();
        }
        catch (CheckpointCorruptException ex) when (!_options.Strict)
        {
            Log.CheckpointCorrupt(_log, ex.Path, ex.Reason);
            CheckpointStore.QuarantineFile(path);
            return null;
        }
    }

    private void RecoverTask(string containerId, TaskCheckpoint checkpoint)
    {
        var frameworkId = checkpoint.Framework.Id?.Value ?? "";
        var task = new AgentTask
        {
            FrameworkId = frameworkId,
            Info = checkpoint.Task,
            Framework = checkpoint.Framework,
            Sandbox = checkpoint.Sandbox,
            ContainerId = containerId,
            State = checkpoint.State,
            LatestStatus = checkpoint.LatestStatus,
            Killing = checkpoint.Killing,
            RunDir = _checkpoints.RunDir(containerId),
            SupervisorStart = checkpoint.SupervisorStart,
        };
        foreach (var update in checkpoint.PendingUpdates)
        {
            task.PendingUpdates.Enqueue(update);
        }

        _tasks[(frameworkId, task.TaskId)] = task;
        _recoveredSandboxes.Add(task.Sandbox);
        _recoveredContainers.Add(containerId);
        if (task.IsTerminal)
        {
            Log.TaskRecovered(_log, task.TaskId, frameworkId, task.State.ToString(), "ended before the restart", task.PendingUpdates.Count);
            return;
        }

        TakeBackProcess(task, checkpoint.SupervisorPid);
    }

    /// <summary>A recovered live task: its cgroups and image, and its supervisor adopted, or how it ended meanwhile.</summary>
    private void TakeBackProcess(AgentTask task, int supervisorPid)
    {
        var frameworkId = task.FrameworkId;
        if (supervisorPid <= 0 || task.RunDir is null)
        {
            // The agent died while the task was still being prepared (fetch, image pull): it never ran.
            Log.TaskRecovered(_log, task.TaskId, frameworkId, task.State.ToString(), "never started", task.PendingUpdates.Count);
            Enqueue(task, TaskState.TASK_FAILED, TaskStatusReason.REASON_AGENT_RESTARTED, "Agent restarted before the task was launched", TaskStatusSource.SOURCE_AGENT);
            return;
        }

        if (_isolator is not null)
        {
            task.Container = _isolator.Attach(task.ContainerId, Scalar(task.Info, "mem"));
        }

        if (HasImage(task))
        {
            task.Image = new Containers.ImageContainer(Containers.ContainerSettings.ImageName(task.Info.Container!)!) { BundleWritten = true, Recovered = true };
        }

        var process = task.SupervisorStart is { } start && _launcher.Adopt(supervisorPid, start, task.RunDir) is { } adopted
            ? adopted
            : null;
        if (process is null)
        {
            // It ended while no agent was here: its supervisor left the record of how.
            var exit = PosixProcessLauncher.ReadExitRecord(Path.Combine(task.RunDir, Supervisor.ExitRecord.FileName), default);
            Log.TaskRecovered(_log, task.TaskId, frameworkId, task.State.ToString(), "ended while the agent was down: " + exit.Describe(), task.PendingUpdates.Count);
            _resuming.Add((task, exit));
            return;
        }

        task.Process = process;
        Log.TaskRecovered(_log, task.TaskId, frameworkId, task.State.ToString(), $"still running (supervisor pid {process.Pid})", task.PendingUpdates.Count);
        _resuming.Add((task, null));
    }

    /// <summary>
    /// At start, once containers and images are available again: the exit handling of every recovered task (release of
    /// its container included), and for those still running, port forwarding and checks.
    /// </summary>
    private void ResumeRecoveredTasks()
    {
        foreach (var (task, ended) in _resuming)
        {
            if (ended is { } exit)
            {
                TrackExitHandler(HandleExitAsync(task, exit));
                continue;
            }

            ResumeContainer(task);
            TrackExitHandler(task.Process!.Exited.ContinueWith(exited => HandleExitAsync(task, exited.Result), TaskScheduler.Default).Unwrap());
            if (!task.Killing && _agentId is { } agentId)
            {
                StartChecks(task, CommandSpec.From(task, TaskEnvironment.Build(task, agentId, _options, secrets: null)));
            }
        }

        _resuming.Clear();
        ResumeRecoveredExecutors();
    }

    /// <summary>
    /// --recover=cleanup: kills every task process a previous run of an agent with these options left (supervisors
    /// included), deletes its runc containers and their root file systems, removes its cgroups and forgets its
    /// checkpointed tasks, without starting an agent. The agent id stays, so the next start re-registers as the same
    /// agent and the master learns the tasks are gone. Returns (processes killed, containers removed).
    /// </summary>
    public static async Task<(int Processes, int Containers)> CleanupPreviousRunAsync(AgentOptions options, ILogger? log = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        log ??= Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;
        var killed = OrphanReaper.KillTasksUnder(options.SandboxRoot);
        var containers = await Containers.RuncRuntime.Create(options.WorkDir, options.RuncPath, log).RemoveLeftoversAsync().ConfigureAwait(false);
        if (options.ImageRootfsDir is { Length: > 0 } images)
        {
            containers += new Containers.LocalImageResolver(images, options.WorkDir).RemoveLeftovers();
        }
        else
        {
            using var store = new Containers.StoreImageResolver(new Images.ImageStore(options.Images, options.WorkDir, log));
            containers += (await store.RemoveLeftoversAsync().ConfigureAwait(false)).ContainersRemoved;
        }

        await Isolation.CgroupIsolator.RemoveAgentCgroupsAsync(options).ConfigureAwait(false);
        var runs = new CheckpointStore(options.WorkDir).RunsDir;
        if (Directory.Exists(runs))
        {
            Directory.Delete(runs, recursive: true);
        }

        return (killed, containers);
    }

    /// <summary>Tasks outside custom executors run under a supervisor (see src/Mezzo.Supervisor); for an image task it runs runc.</summary>
    private Supervision? Supervise(AgentTask task)
    {
        if (task.Executor is { IsDefault: false })
        {
            return null;
        }

        task.RunDir = _checkpoints.CreateRunDir(task.ContainerId);
        return new Supervision(_options.SupervisorPath, task.RunDir, _checkpoints.AgentPidFile, _options.RecoveryTimeout, _options.ContainerLogger.Rotation);
    }

    /// <summary>
    /// Writes the task's checkpoint if its framework checkpoints. A failed write (a full disk) leaves the previous
    /// checkpoint whole and is retried with the status update retries; it never stops the task.
    /// </summary>
    private void Checkpoint(AgentTask task)
    {
        if (task.Executor is { } executor)
        {
            // Tasks under an executor are part of its checkpoint.
            CheckpointExecutor(executor);
            return;
        }

        if (!task.Checkpointed || task.RunDir is null || task.DropUpdates)
        {
            return;
        }

        task.CheckpointDirty = !TryCheckpoint($"Task {task.TaskId}", task.CheckpointDirty, () => _checkpoints.SaveTask(task.ContainerId, new TaskCheckpoint(
            task.Framework, task.Info, task.ContainerId, task.Sandbox, task.Process?.Pid ?? 0, task.SupervisorStart,
            task.State, task.Killing, task.LatestStatus, [.. task.PendingUpdates])));
    }

    /// <summary>
    /// One checkpoint write. A failure (a full disk) leaves the previous checkpoint whole, is logged once (not on every
    /// retry), and returns false: the caller marks the checkpoint dirty and the tick retries it.
    /// </summary>
    private bool TryCheckpoint(string what, bool wasDirty, Action write)
    {
        try
        {
            write();
            if (wasDirty)
            {
                Log.CheckpointRecovered(_log, what);
            }

            return true;
        }
        catch (CheckpointWriteException ex)
        {
            if (!wasDirty)
            {
                Log.CheckpointFailed(_log, what, ex.Message);
            }

            return false;
        }
    }

    private void RetryCheckpoints()
    {
        RetryExecutorCheckpoints();
        foreach (var task in _tasks.Values)
        {
            if (task.CheckpointDirty)
            {
                Checkpoint(task);
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Warning, Message = "The host rebooted since the last run (boot id {Previous} -> {Current}): no task of agent {AgentId} survived; registering as a new agent")]
        public static partial void HostRebooted(ILogger logger, string previous, string current, string agentId);

        [LoggerMessage(Level = LogLevel.Error, Message = "{Path}: {Reason}. Not strict (--strict=false): moved aside as .corrupt; its task is lost")]
        public static partial void CheckpointCorrupt(ILogger logger, string path, string reason);

        [LoggerMessage(Level = LogLevel.Information, Message = "Recovered task {TaskId} of framework {FrameworkId} ({State}): {What}; {Pending} unacknowledged updates")]
        public static partial void TaskRecovered(ILogger logger, string taskId, string frameworkId, string state, string what, int pending);

        [LoggerMessage(Level = LogLevel.Error, Message = "{What} could not be checkpointed: {Reason}. It runs on, but an agent restart now would lose track of it; retrying")]
        public static partial void CheckpointFailed(ILogger logger, string what, string reason);

        [LoggerMessage(Level = LogLevel.Information, Message = "{What} is checkpointed again")]
        public static partial void CheckpointRecovered(ILogger logger, string what);
    }
}
