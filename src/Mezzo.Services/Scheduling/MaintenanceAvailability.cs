using Mezzo.Protocol.V1;

namespace Mezzo.Services.Scheduling;

/// <summary>
/// Marathon's maintenance mode (docs/maintenance-mode.md, on by default): offers from an agent whose maintenance window
/// has begun, or begins within the draining time, are declined, so nothing new lands on a machine about to go down. An
/// offer is usable again once the window has a duration and it has passed. Marathon answers no inverse offers and
/// neither does this: moving instances off stays the operator's (or a restart's) business.
/// </summary>
public static class MaintenanceAvailability
{
    public static bool OfferAvailable(Offer offer, DateTimeOffset now, TimeSpan drainingTime)
    {
        if (offer.Unavailability?.Start?.Nanoseconds is not { } startNs)
        {
            return true;
        }

        var start = FromNanoseconds(startNs);
        if (now <= Subtract(start, drainingTime))
        {
            return true;
        }

        // No duration: down for good.
        return offer.Unavailability.Duration?.Nanoseconds is { } durationNs && now > Add(start, durationNs);
    }

    private static DateTimeOffset FromNanoseconds(long ns) =>
        DateTimeOffset.UnixEpoch.AddTicks(Math.Clamp(ns / 100, DateTimeOffset.MinValue.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks, DateTimeOffset.MaxValue.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks));

    private static DateTimeOffset Subtract(DateTimeOffset at, TimeSpan by) =>
        at.UtcTicks - DateTimeOffset.MinValue.UtcTicks <= by.Ticks ? DateTimeOffset.MinValue : at - by;

    private static DateTimeOffset Add(DateTimeOffset at, long durationNs)
    {
        var ticks = Math.Max(0, durationNs / 100);
        return DateTimeOffset.MaxValue.UtcTicks - at.UtcTicks <= ticks ? DateTimeOffset.MaxValue : at.AddTicks(ticks);
    }
}
