using Mezzo.Core.Allocation;
using Mezzo.Core.Resources;
using Mezzo.Master.Scheduler;
using Mezzo.Protocol.V1;

namespace Mezzo.Master.State;

public sealed class FrameworkEntry
{
    public required string FrameworkId { get; init; }

    public required FrameworkInfo Info { get; set; }

    public required DateTimeOffset RegisteredAt { get; init; }

    public DateTimeOffset? ReregisteredAt { get; set; }

    public DateTimeOffset? UnregisteredAt { get; set; }

    public SchedulerConnection? Connection { get; set; }

    /// <summary>When a disconnected framework is torn down (disconnect time + failover_timeout).</summary>
    public DateTimeOffset? FailoverDeadline { get; set; }

    public bool Suppressed { get; set; }

    public DateTimeOffset LastHeartbeat { get; set; }

    public Dictionary<string, TaskEntry> Tasks { get; } = [];

    public LinkedList<TaskEntry> CompletedTasks { get; } = new();

    public HashSet<string> OfferIds { get; } = [];

    public List<OfferFilter> Filters { get; } = [];

    /// <summary>Resources held by non-terminal tasks (allocated form).</summary>
    public Resources Used { get; set; } = Resources.Empty;

    /// <summary>Resources in outstanding offers (allocated form).</summary>
    public Resources Offered { get; set; } = Resources.Empty;

    public bool Connected => Connection is not null;

    public string Role => Info.Roles is { Count: > 0 } roles && HasCapability(FrameworkInfoCapabilityType.MULTI_ROLE)
        ? roles[0]
        : Info.Role ?? "*";

    public bool PartitionAware => HasCapability(FrameworkInfoCapabilityType.PARTITION_AWARE);

    public bool HasCapability(FrameworkInfoCapabilityType type) =>
        Info.Capabilities?.Any(c => c.Type == type) == true;
}
