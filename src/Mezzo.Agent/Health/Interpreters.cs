using Mezzo.Protocol.V1;

namespace Mezzo.Agent.Health;

/// <summary>A health change to report: a TASK_RUNNING with <c>healthy</c> set, and whether the task must now be killed.</summary>
public readonly record struct HealthVerdict(bool Healthy, bool KillTask, int ConsecutiveFailures, string? Failure);

/// <summary>
/// Mesos's HealthChecker: the first success and the first success after failures are reported, every counted
/// failure is reported; failures inside the grace period (from launch) are ignored until the first success; after
/// <c>consecutive_failures</c> counted failures in a row the task is to be killed.
/// </summary>
public sealed class HealthInterpreter
{
    public const uint DefaultConsecutiveFailures = 3;
    public static readonly TimeSpan DefaultGracePeriod = TimeSpan.FromSeconds(10);

    private readonly DateTimeOffset _start;
    private readonly TimeSpan _gracePeriod;
    private readonly uint _threshold;
    private bool _initializing = true;
    private int _consecutiveFailures;

    public HealthInterpreter(HealthCheck check, DateTimeOffset start)
    {
        ArgumentNullException.ThrowIfNull(check);
        _start = start;
        _gracePeriod = check.GracePeriodSeconds is { } grace ? TimeSpan.FromSeconds(grace) : DefaultGracePeriod;
        _threshold = check.ConsecutiveFailures ?? DefaultConsecutiveFailures;
    }

    /// <returns>The update to send, or null when nothing changes for the framework.</returns>
    public HealthVerdict? OnOutcome(CheckOutcome outcome, DateTimeOffset now)
    {
        var failure = outcome.Status is { } status ? CheckStatuses.HealthFailure(status) : outcome.Error ?? "no result";
        if (failure is null)
        {
            var report = _initializing || _consecutiveFailures > 0;
            _initializing = false;
            _consecutiveFailures = 0;
            return report ? new HealthVerdict(true, false, 0, null) : null;
        }

        if (_initializing && _gracePeriod > TimeSpan.Zero && now - _start <= _gracePeriod)
        {
            return null;
        }

        _consecutiveFailures++;
        return new HealthVerdict(false, _consecutiveFailures >= _threshold, _consecutiveFailures, failure);
    }
}

/// <summary>Mesos's Checker: a result (an empty one when the attempt failed) is reported only when it changed.</summary>
public sealed class CheckInterpreter
{
    private CheckStatusInfo _previous;

    public CheckInterpreter(CheckInfoType type)
    {
        Type = type;
        _previous = CheckStatuses.Empty(type);
    }

    public CheckInfoType Type { get; }

    /// <returns>The new check status to send, or null when it is the same as the last one.</returns>
    public CheckStatusInfo? OnOutcome(CheckOutcome outcome)
    {
        var status = outcome.Status ?? CheckStatuses.Empty(Type);
        if (CheckStatuses.Same(status, _previous))
        {
            return null;
        }

        _previous = status;
        return CheckStatuses.Copy(status);
    }
}
