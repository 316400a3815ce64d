using Mezzo.Agent.Launcher;
using Mezzo.Core.Tasks;
using Mezzo.Protocol.V1;

namespace Mezzo.Agent.Tasks;

/// <summary>A task on this agent: its process and its queue of status updates. Owned by the agent actor.</summary>
public sealed class AgentTask
{
    public required string FrameworkId { get; init; }

    public required TaskInfo Info { get; init; }

    public required FrameworkInfo Framework { get; init; }

    public required string Sandbox { get; init; }

    public required string ContainerId { get; init; }

    public string TaskId => Info.TaskId!.Value!;

    public string ExecutorId => Executor?.ExecutorId ?? Info.Executor?.ExecutorId?.Value ?? TaskId;

    /// <summary>The custom or default executor the task runs under; null for a command task (its own executor).</summary>
    public Executors.AgentExecutor? Executor { get; set; }

    public LaunchedProcess? Process { get; set; }

    /// <summary>The task's cgroups, when cgroup isolation is on.</summary>
    public Isolation.CgroupContainer? Container { get; set; }

    /// <summary>Set when an isolator kills the task for exceeding a limit (disk/du): its terminal update says why.</summary>
    public (TaskStatusReason Reason, string Message)? Limitation { get; set; }

    /// <summary>The sandbox's size at the last disk/du check.</summary>
    public long? DiskUsedBytes { get; set; }

    /// <summary>The image and runc container of a task that runs in an image; null for a plain command task.</summary>
    public Containers.ImageContainer? Image { get; set; }

    /// <summary>Cancels the preparation (fetch, image pull) of a task killed before its process started.</summary>
    public CancellationTokenSource? Preparation { get; set; }

    public TaskState State { get; set; } = TaskState.TASK_STAGING;

    public TaskStatus? LatestStatus { get; set; }

    public bool Killing { get; set; }

    /// <summary>Updates not yet acknowledged, oldest first; only the head is ever in flight (per-task ordering).</summary>
    public Queue<TaskStatus> PendingUpdates { get; } = new();

    public DateTimeOffset? NextRetry { get; set; }

    /// <summary>Set when the framework is gone: nobody will acknowledge, so updates are not queued.</summary>
    public bool DropUpdates { get; set; }

    public bool IsTerminal => TaskStates.IsTerminal(State);

    /// <summary>Its framework asked for checkpointing: the task survives an agent restart.</summary>
    public bool Checkpointed => Framework.Checkpoint == true;

    /// <summary>Where its supervisor records the exit (and, if <see cref="Checkpointed"/>, the task's checkpoint lies);
    /// null for a task not run under a supervisor.</summary>
    public string? RunDir { get; set; }

    /// <summary>The supervisor's start time (/proc/PID/stat), which tells it from a process that reuses its pid.</summary>
    public string? SupervisorStart { get; set; }

    /// <summary>The last checkpoint write failed (disk full?): it is retried with the status update retries.</summary>
    public bool CheckpointDirty { get; set; }

    public bool HasCapability(FrameworkInfoCapabilityType type) => Framework.Capabilities?.Any(c => c.Type == type) == true;
}
