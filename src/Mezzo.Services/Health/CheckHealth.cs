using Mezzo.Protocol.Marathon;

namespace Mezzo.Services.Health;

/// <summary>What one probe of a Marathon-side health check came to.</summary>
public abstract record ProbeOutcome
{
    public sealed record Healthy : ProbeOutcome;

    public sealed record Unhealthy(string Cause) : ProbeOutcome;

    /// <summary>A 1xx answer to a check with ignoreHttp1xx: discarded, the task's health stays as it was.</summary>
    public sealed record Ignored(string Why) : ProbeOutcome;
}

/// <summary>
/// One health check's state for one task, as Marathon shows it in <c>healthCheckResults</c>: alive, the failure streak
/// and when it last passed and failed.
/// </summary>
public sealed record CheckHealth
{
    public bool Alive { get; init; }

    public int ConsecutiveFailures { get; init; }

    public DateTimeOffset? FirstSuccess { get; init; }

    public DateTimeOffset? LastSuccess { get; init; }

    public DateTimeOffset? LastFailure { get; init; }

    public string? LastFailureCause { get; init; }
}

/// <summary>What applying one probe outcome did: the check's new state (null: nothing known yet) and whether the task must go.</summary>
public sealed record HealthStep(CheckHealth? Health, bool Kill, bool Counted);

/// <summary>
/// Marathon's health semantics (docs/docs/health-checks.md), pure: a failure is ignored while the task is inside its
/// gracePeriodSeconds (from TASK_RUNNING) and has never passed; otherwise it extends the streak, and a streak of
/// maxConsecutiveFailures (when above 0) kills the task. A 1xx with ignoreHttp1xx changes nothing.
/// </summary>
public static class HealthRules
{
    /// <summary>Health checks Mezzo runs itself (Marathon-level); the others are Mesos checks the agent runs.</summary>
    public static bool IsMarathonSide(AppHealthCheck check) => check.Protocol is "HTTP" or "HTTPS" or "TCP";

    public static HealthStep Apply(CheckHealth? current, ProbeOutcome outcome, AppHealthCheck check, DateTimeOffset startedAt, DateTimeOffset now)
    {
        switch (outcome)
        {
            case ProbeOutcome.Healthy:
                return new HealthStep(
                    (current ?? new CheckHealth()) with { Alive = true, ConsecutiveFailures = 0, FirstSuccess = current?.FirstSuccess ?? now, LastSuccess = now },
                    Kill: false,
                    Counted: true);
            case ProbeOutcome.Unhealthy failure:
                var inGrace = current?.FirstSuccess is null && now < startedAt + TimeSpan.FromSeconds(check.GracePeriodSeconds ?? 300);
                if (inGrace)
                {
                    return new HealthStep(current, Kill: false, Counted: false);
                }

                var failed = (current ?? new CheckHealth()) with
                {
                    Alive = false,
                    ConsecutiveFailures = (current?.ConsecutiveFailures ?? 0) + 1,
                    LastFailure = now,
                    LastFailureCause = failure.Cause,
                };
                var max = check.MaxConsecutiveFailures ?? 3;
                return new HealthStep(failed, Kill: max > 0 && failed.ConsecutiveFailures >= max, Counted: true);
            default:
                return new HealthStep(current, Kill: false, Counted: false);
        }
    }

    /// <summary>
    /// A task is healthy when every check passes and unhealthy as soon as one fails; while some have no result yet, it
    /// keeps <paramref name="previous"/> (a restarted framework does not forget a healthy task before re-probing it).
    /// </summary>
    public static bool? Aggregate(IReadOnlyList<CheckHealth?> results, bool? previous)
    {
        if (results.Any(r => r is { Alive: false }))
        {
            return false;
        }

        return results.Count > 0 && results.All(r => r is { Alive: true }) ? true : previous;
    }
}
