using Mezzo.Protocol.Marathon;
using Mezzo.Services.Model;

namespace Mezzo.Services.Scheduling;

/// <summary>
/// Marathon's launch backoff: after a task fails, the app's next launch waits backoffSeconds, and each further failure
/// multiplies the wait by backoffFactor up to maxLaunchDelaySeconds. A new config version or DELETE /v2/queue/{app}/delay
/// resets it.
/// </summary>
public sealed record LaunchDelay(TimeSpan Delay, DateTimeOffset Until)
{
    public static readonly LaunchDelay None = new(TimeSpan.Zero, DateTimeOffset.MinValue);

    public bool IsOverdue(DateTimeOffset now) => now >= Until;

    public LaunchDelay AfterFailure(AppDefinition app, DateTimeOffset now)
    {
        var first = TimeSpan.FromSeconds(app.BackoffSeconds ?? AppNormalizer.DefaultBackoffSeconds);
        var max = TimeSpan.FromSeconds(app.MaxLaunchDelaySeconds ?? AppNormalizer.DefaultMaxLaunchDelaySeconds);
        var next = Delay == TimeSpan.Zero ? first : TimeSpan.FromSeconds(Delay.TotalSeconds * (app.BackoffFactor ?? AppNormalizer.DefaultBackoffFactor));
        if (next > max)
        {
            next = max;
        }

        return new LaunchDelay(next, now + next);
    }
}
