using Mezzo.Core.Allocation;
using Mezzo.Core.Resources;
using Mezzo.Master.Scheduler;
using Mezzo.Protocol.V1;

namespace Mezzo.Master.State;

public sealed class FrameworkEntry
{
    public required string FrameworkId { get; init; }

    /// <summary>The framework's info; setting it recomputes <see cref="Roles"/>.</summary>
    public required FrameworkInfo Info
    {
        get;
        set
        {
            field = value;
            var multiRole = value.Capabilities?.Any(c => c.Type == FrameworkInfoCapabilityType.MULTI_ROLE) == true;
            Roles = multiRole ? [.. value.Roles ?? []] : [value.Role ?? "*"];
        }
    }

    /// <summary>The roles the framework is subscribed to: <c>roles</c> for MULTI_ROLE frameworks, else <c>[role]</c>.</summary>
    public IReadOnlyList<string> Roles { get; private set; } = ["*"];

    /// <summary>Roles for which it wants no offers (SUPPRESS, subscribe/update <c>suppressed_roles</c>).</summary>
    public HashSet<string> SuppressedRoles { get; } = new(StringComparer.Ordinal);

    /// <summary>Offer constraints by role, compiled from <see cref="WireConstraints"/>.</summary>
    public IReadOnlyDictionary<string, RoleOfferConstraints> Constraints { get; set; } = new Dictionary<string, RoleOfferConstraints>();

    /// <summary>The constraints as the framework sent them (echoed in /state).</summary>
    public OfferConstraints? WireConstraints { get; set; }

    /// <summary><c>offer_filters[role].min_allocatable_resources</c> by role.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<ResourceQuantities>> MinAllocatable { get; set; } =
        new Dictionary<string, IReadOnlyList<ResourceQuantities>>();

    public required DateTimeOffset RegisteredAt { get; init; }

    public DateTimeOffset? ReregisteredAt { get; set; }

    public DateTimeOffset? UnregisteredAt { get; set; }

    public SchedulerConnection? Connection { get; set; }

    /// <summary>When a disconnected framework is torn down (disconnect time + failover_timeout).</summary>
    public DateTimeOffset? FailoverDeadline { get; set; }

    /// <summary>
    /// Known from the registry of an earlier master run and not re-subscribed with this one yet (Mesos's "recovered"
    /// frameworks): its failover timeout runs from the master's recovery.
    /// </summary>
    public bool Recovered { get; set; }

    /// <summary>True when every role is suppressed (no offers at all), as Mesos's "active" reports it.</summary>
    public bool Suppressed => Roles.All(SuppressedRoles.Contains);

    public DateTimeOffset LastHeartbeat { get; set; }

    public Dictionary<string, TaskEntry> Tasks { get; } = [];

    public LinkedList<TaskEntry> CompletedTasks { get; } = new();

    /// <summary>
    /// Tasks on agents marked unreachable (Mesos's <c>unreachableTasks</c>), told TASK_UNREACHABLE or, to frameworks
    /// that are not partition-aware, TASK_LOST. They hold no resources and come back to <see cref="Tasks"/> if their
    /// agent re-registers.
    /// </summary>
    public Dictionary<string, TaskEntry> UnreachableTasks { get; } = [];

    public HashSet<string> OfferIds { get; } = [];

    public List<OfferFilter> Filters { get; } = [];

    /// <summary>Resources held by non-terminal tasks (allocated form).</summary>
    public Resources Used { get; set; } = Resources.Empty;

    /// <summary>Resources in outstanding offers (allocated form).</summary>
    public Resources Offered { get; set; } = Resources.Empty;

    public bool Connected => Connection is not null;

    /// <summary>The first role, for the single-role fields of /state ("role").</summary>
    public string Role => Roles.Count > 0 ? Roles[0] : "*";

    public bool MultiRole => HasCapability(FrameworkInfoCapabilityType.MULTI_ROLE);

    public bool PartitionAware => HasCapability(FrameworkInfoCapabilityType.PARTITION_AWARE);

    public bool HasCapability(FrameworkInfoCapabilityType type) =>
        Info.Capabilities?.Any(c => c.Type == type) == true;
}
