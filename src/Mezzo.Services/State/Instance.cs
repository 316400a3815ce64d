using Mezzo.Core.Tasks;

namespace Mezzo.Services.State;

/// <summary>
/// One task the services framework launched (Marathon's instance of an app; one task each, the instance id is the task
/// id). Persisted before the ACCEPT that launches it, so a restarted framework knows every task it may have started.
/// </summary>
public sealed record Instance
{
    public required string TaskId { get; init; }

    public required string AppId { get; init; }

    /// <summary>The app version the task was launched with (Marathon's "version" of a task).</summary>
    public required string Version { get; init; }

    /// <summary>The config version (versionInfo.lastConfigChangeAt): a task of another one is replaced on a deployment.</summary>
    public required string ConfigVersion { get; init; }

    public required string AgentId { get; init; }

    public required string Host { get; init; }

    public IReadOnlyList<int> Ports { get; init; } = [];

    public IReadOnlyList<int> ServicePorts { get; init; } = [];

    /// <summary>The agent's attributes at launch, for constraints.</summary>
    public IReadOnlyDictionary<string, string> Attributes { get; init; } = new Dictionary<string, string>();

    public TaskState State { get; init; } = TaskState.TASK_STAGING;

    /// <summary>Last health the agent reported; null before the first check result (or without health checks).</summary>
    public bool? Healthy { get; init; }

    public DateTimeOffset StagedAt { get; init; }

    public DateTimeOffset? StartedAt { get; init; }

    public DateTimeOffset? FirstHealthy { get; init; }

    public DateTimeOffset? LastHealthy { get; init; }

    public DateTimeOffset? LastUnhealthy { get; init; }

    public int ConsecutiveFailures { get; init; }

    /// <summary>Passed its app's readiness checks (apps without any: null).</summary>
    public bool? Ready { get; init; }

    /// <summary>Set once this framework asked for the kill: its terminal update is no failure and needs no backoff.</summary>
    public bool Killing { get; init; }

    public string? Role { get; init; }

    /// <summary>Resources the task was launched with (shown on the task, as Marathon does).</summary>
    public double Cpus { get; init; }

    public double Mem { get; init; }

    public double Disk { get; init; }

    /// <summary>When the task became unreachable (its agent partitioned away); null while reachable.</summary>
    public DateTimeOffset? UnreachableSince { get; init; }

    public bool IsActive => !TaskStates.IsTerminal(State) && State is not (TaskState.TASK_UNKNOWN or TaskState.TASK_GONE_BY_OPERATOR);

    public bool IsRunning => State == TaskState.TASK_RUNNING;

    /// <summary>Counts toward the healthy floor: running, and passing its health check when the app has one.</summary>
    public bool IsHealthy(bool appHasHealthChecks) => IsRunning && (!appHasHealthChecks || Healthy == true);
}
