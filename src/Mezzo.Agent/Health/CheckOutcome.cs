using Mezzo.Protocol.V1;

namespace Mezzo.Agent.Health;

/// <summary>What one check attempt gave: a result, or why there is none (timed out, could not run, no answer).</summary>
public readonly record struct CheckOutcome(CheckStatusInfo? Status, string? Error)
{
    public static CheckOutcome Result(CheckStatusInfo status) => new(status, null);

    public static CheckOutcome Failed(string error) => new(null, error);
}

/// <summary>A check attempt that could not produce a result (Mesos: a non-transient check error).</summary>
public sealed class CheckFailedException : Exception
{
    public CheckFailedException(string message)
        : base(message)
    {
    }

    public CheckFailedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>Runs one attempt of a check.</summary>
public interface ICheckProbe
{
    /// <exception cref="CheckFailedException">The check could not produce a result; the message says why.</exception>
    /// <exception cref="OperationCanceledException">Cancelled (timeout or stop); whatever the attempt started is gone.</exception>
    Task<CheckStatusInfo> ProbeAsync(CheckSpec spec, CancellationToken cancellationToken);
}
