namespace Mezzo.Agent.Health;

/// <summary>
/// Mesos's checker schedule: wait <c>delay</c>, run the check (aborted after <c>timeout</c>), report, wait
/// <c>interval</c> from the end of that attempt, and so on until stopped. Runs off the agent actor; the report
/// callback posts to it.
/// </summary>
public static class CheckLoop
{
    public static async Task RunAsync(CheckSpec spec, ICheckProbe probe, Action<CheckOutcome> report, TimeProvider time, CancellationToken stop)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(probe);
        ArgumentNullException.ThrowIfNull(report);
        ArgumentNullException.ThrowIfNull(time);
        try
        {
            await Task.Delay(spec.Delay, time, stop).ConfigureAwait(false);
            while (true)
            {
                var outcome = await AttemptAsync(spec, probe, time, stop).ConfigureAwait(false);
                stop.ThrowIfCancellationRequested();
                report(outcome);
                await Task.Delay(spec.Interval, time, stop).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
    }

    public static async Task<CheckOutcome> AttemptAsync(CheckSpec spec, ICheckProbe probe, TimeProvider time, CancellationToken stop)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(probe);
        using var timeout = spec.Timeout is { } limit ? new CancellationTokenSource(limit, time) : new CancellationTokenSource();
        using var attempt = CancellationTokenSource.CreateLinkedTokenSource(stop, timeout.Token);
        try
        {
            return CheckOutcome.Result(await probe.ProbeAsync(spec, attempt.Token).ConfigureAwait(false));
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !stop.IsCancellationRequested)
        {
            return CheckOutcome.Failed($"{spec.Name} timed out after {spec.Timeout!.Value.TotalSeconds:0.###}s");
        }
        catch (CheckFailedException ex)
        {
            return CheckOutcome.Failed(ex.Message);
        }
    }
}
