using System.Collections.Immutable;

namespace Mezzo.Jobs.Engine;

/// <summary>
/// Running totals of runs since the process started, for Prometheus counters; replaced by the engine as runs start and
/// end and published in its snapshot. Not persisted: Prometheus counters start over with the process.
/// </summary>
public sealed record JobsCounters
{
    /// <summary>A scheduled run missed while the scheduler was not running (beyond epsilon).</summary>
    public const string SchedulerDown = "scheduler_down";

    /// <summary>A queued run whose previous run was still running (<c>concurrent: false</c>) until epsilon passed.</summary>
    public const string NotConcurrent = "not_concurrent";

    /// <summary>A queued run no offer fitted before epsilon passed.</summary>
    public const string NoOffer = "no_offer";

    public static readonly JobsCounters Empty = new();

    /// <summary>Runs launched (ACCEPTed), retries included.</summary>
    public long Started { get; init; }

    public long Succeeded { get; init; }

    public long Failed { get; init; }

    public long Killed { get; init; }

    /// <summary>Scheduled runs never started, by reason (<see cref="SchedulerDown"/>, <see cref="NotConcurrent"/>, <see cref="NoOffer"/>).</summary>
    public ImmutableDictionary<string, long> SkippedByReason { get; init; } = ImmutableDictionary<string, long>.Empty.WithComparers(StringComparer.Ordinal);

    public JobsCounters Skipped(string reason, long runs) =>
        this with { SkippedByReason = SkippedByReason.SetItem(reason, SkippedByReason.GetValueOrDefault(reason) + runs) };

    /// <summary>Counts a run that reached <paramref name="state"/> (skips are counted with their reason instead).</summary>
    public JobsCounters Ended(RunState state) => state switch
    {
        RunState.Succeeded => this with { Succeeded = Succeeded + 1 },
        RunState.Failed => this with { Failed = Failed + 1 },
        RunState.Killed => this with { Killed = Killed + 1 },
        _ => this,
    };
}
