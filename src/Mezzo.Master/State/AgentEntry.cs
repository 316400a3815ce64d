using Mezzo.Core.Resources;
using Mezzo.Master.Agents;

namespace Mezzo.Master.State;

public enum AgentLiveness
{
    Connected,

    /// <summary>Stream dropped; still within the ping timeout window. No offers, tasks kept.</summary>
    Disconnected,
    Unreachable,
    Gone,
}

/// <summary>mesos.proto <c>DrainState</c>.</summary>
public enum AgentDrainState
{
    UNKNOWN = 0,
    DRAINING = 1,
    DRAINED = 2,
}

/// <summary>An agent's drain (DRAIN_AGENT): its state and the config it was started with.</summary>
public sealed record AgentDrain(AgentDrainState State, TimeSpan? MaxGracePeriod, bool MarkGone);

public sealed class AgentEntry
{
    public required string AgentId { get; init; }

    public required string Hostname { get; set; }

    public required int Port { get; set; }

    public required Resources Total { get; set; }

    public required IReadOnlyList<AgentAttribute> Attributes { get; set; }

    public required DateTimeOffset RegisteredAt { get; init; }

    public DateTimeOffset? ReregisteredAt { get; set; }

    public DateTimeOffset LastSeen { get; set; }

    public DateTimeOffset? UnreachableSince { get; set; }

    public AgentLiveness Liveness { get; set; } = AgentLiveness.Connected;

    /// <summary>
    /// Known from the registry of an earlier master run and not re-registered with this one yet (Mesos's "recovered"
    /// agents): the master cannot tell what runs there, so explicit reconciliation of unknown tasks waits for it.
    /// </summary>
    public bool Recovered { get; set; }

    public AgentConnection? Connection { get; set; }

    public string Version { get; set; } = "";

    /// <summary>Resources held by non-terminal tasks (unallocated form).</summary>
    public Resources Used { get; set; } = Resources.Empty;

    /// <summary>Resources in outstanding offers (unallocated form).</summary>
    public Resources Offered { get; set; } = Resources.Empty;

    /// <summary>Tasks on this agent by (framework id, task id).</summary>
    public Dictionary<(string FrameworkId, string TaskId), TaskEntry> Tasks { get; } = [];

    public HashSet<string> OfferIds { get; } = [];

    public Resources Available => Total - Used - Offered;

    public bool IsActive => Liveness == AgentLiveness.Connected;

    /// <summary>Deactivated by the operator (DEACTIVATE_AGENT, DRAIN_AGENT): keeps its tasks, gets no new offers.</summary>
    public bool Deactivated { get; set; }

    public AgentDrain? Drain { get; set; }

    /// <summary>Whether the allocator may offer this agent's resources.</summary>
    public bool AcceptsOffers => IsActive && !Deactivated;

    public string Pid => $"slave({AgentId})@{Hostname}:{Port}";
}
