using Mezzo.Core.Resources;
using Mezzo.Core.Tasks;
using Mezzo.Protocol.V1;

namespace Mezzo.Master.State;

/// <summary>A task the master knows about. Owned and mutated by the master actor only.</summary>
public sealed class TaskEntry
{
    public required string TaskId { get; init; }

    public required string FrameworkId { get; init; }

    public required string AgentId { get; init; }

    public required TaskInfo Info { get; init; }

    public required Resources Resources { get; init; }

    /// <summary>
    /// The user the task runs as when it or its executor names one (<c>command.user</c>, else the executor's); null:
    /// the framework's user. What <c>view_tasks</c> is decided on.
    /// </summary>
    public string? User { get; init; }

    public TaskState State { get; set; } = TaskState.TASK_STAGING;

    /// <summary>Latest status received for the task (null while staging).</summary>
    public TaskStatus? LatestStatus { get; set; }

    /// <summary>Bounded history of statuses, newest last, for /state.</summary>
    public List<TaskStatus> Statuses { get; } = [];

    /// <summary>True once the terminal update was acknowledged (or needed no ack): the task can be archived.</summary>
    public bool TerminalAcknowledged { get; set; }

    /// <summary>Whether this task's resources are still counted as used on its agent.</summary>
    public bool HoldsResources { get; set; } = true;
}
