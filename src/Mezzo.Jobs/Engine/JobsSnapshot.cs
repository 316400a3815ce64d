using System.Collections.Immutable;
using Mezzo.Protocol.Chronos;

namespace Mezzo.Jobs.Engine;

/// <summary>An immutable view of the engine for HTTP readers, published after every step.</summary>
public sealed record JobsSnapshot(
    ImmutableSortedDictionary<string, Job> Jobs,
    ImmutableSortedDictionary<string, Run> Active,
    ImmutableDictionary<string, ImmutableArray<Run>> History,
    ImmutableDictionary<string, DateTimeOffset> NextRuns,
    string? FrameworkId)
{
    public static readonly JobsSnapshot Empty = new(
        ImmutableSortedDictionary<string, Job>.Empty.WithComparers(StringComparer.Ordinal), ImmutableSortedDictionary<string, Run>.Empty.WithComparers(StringComparer.Ordinal),
        ImmutableDictionary<string, ImmutableArray<Run>>.Empty, ImmutableDictionary<string, DateTimeOffset>.Empty, null);

    /// <summary>What the engine has done since the process started (for /metrics).</summary>
    public JobsCounters Counters { get; init; } = JobsCounters.Empty;

    /// <summary>Queued, launching and running runs, oldest first.</summary>
    public IReadOnlyList<Run> ActiveRuns => [.. Active.Values.OrderBy(r => r.DueMs).ThenBy(r => r.TaskId, StringComparer.Ordinal)];

    /// <summary>Chronos's job state for graph/csv: running, queued or idle.</summary>
    public string StateOf(string job) =>
        ActiveRuns.Any(r => r.JobName == job && r.IsInFlight) ? "running"
        : ActiveRuns.Any(r => r.JobName == job && r.State == RunState.Queued) ? "queued"
        : "idle";
}
