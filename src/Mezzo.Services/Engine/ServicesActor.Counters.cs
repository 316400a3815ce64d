namespace Mezzo.Services.Engine;

/// <summary>
/// Running totals of what the services actor did since the process started, for Prometheus counters. Owned and
/// replaced by the actor, published in the snapshot like the rest of its state.
/// </summary>
public sealed record ServicesCounters
{
    /// <summary>Tasks sent to the master in ACCEPTs.</summary>
    public long TasksLaunched { get; init; }

    /// <summary>Kills the deployment planner decided (scale down, replaced by a new version, app removed).</summary>
    public long TasksKilledByPlan { get; init; }

    /// <summary>Kills asked for through the API (DELETE /v2/apps/{id}/tasks, /v2/tasks/delete).</summary>
    public long TasksKilledByRequest { get; init; }

    /// <summary>Running tasks the master reported that no app owns any more.</summary>
    public long UnknownTasksKilled { get; init; }

    /// <summary>Offers with at least one task launched on them.</summary>
    public long OffersUsed { get; init; }

    public long OffersDeclined { get; init; }
}

public sealed partial class ServicesActor
{
    private ServicesCounters _counters = new();
}
