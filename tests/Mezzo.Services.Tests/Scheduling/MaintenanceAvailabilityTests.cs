using Mezzo.Protocol.V1;
using Mezzo.Services.Scheduling;

namespace Mezzo.Services.Tests.Scheduling;

/// <summary>Marathon's Availability.offerAvailable: which offers maintenance mode declines.</summary>
public sealed class MaintenanceAvailabilityTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 25, 12, 0, 0, TimeSpan.Zero);

    private static Offer OfferWith(DateTimeOffset? start, TimeSpan? duration = null) => new()
    {
        Unavailability = start is not { } s ? null : new Unavailability
        {
            Start = new TimeInfo { Nanoseconds = (s - DateTimeOffset.UnixEpoch).Ticks * 100 },
            Duration = duration is { } d ? new DurationInfo { Nanoseconds = d.Ticks * 100 } : null,
        },
    };

    public static TheoryData<string, double?, double?, double, bool> Cases => new()
    {
        { "no maintenance scheduled", null, null, 0, true },
        { "window starts in an hour", 3600, 7200, 0, true },
        { "window started a minute ago", -60, 3600, 0, false },
        { "window started, no duration: down for good", -60, null, 0, false },
        { "window ended", -7200, 3600, 0, true },
        { "window starts in a minute, draining 5 minutes", 60, 3600, 300, false },
        { "window starts in an hour, draining 5 minutes", 3600, 3600, 300, true },
        { "window starts exactly now", 0, 3600, 0, true },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Offers_from_agents_in_or_close_to_a_maintenance_window_are_not_used(
        string why, double? startInSeconds, double? durationSeconds, double drainingSeconds, bool available)
    {
        var offer = OfferWith(
            startInSeconds is { } s ? Now.AddSeconds(s) : null,
            durationSeconds is { } d ? TimeSpan.FromSeconds(d) : null);

        MaintenanceAvailability.OfferAvailable(offer, Now, TimeSpan.FromSeconds(drainingSeconds)).Should().Be(available, why);
    }

    [Theory]
    [InlineData(long.MinValue, long.MaxValue)]
    [InlineData(long.MaxValue, long.MaxValue)]
    [InlineData(1L, -5L)]
    public void Extreme_timestamps_do_not_throw(long startNs, long durationNs)
    {
        var offer = new Offer { Unavailability = new Unavailability { Start = new TimeInfo { Nanoseconds = startNs }, Duration = new DurationInfo { Nanoseconds = durationNs } } };

        var act = () => MaintenanceAvailability.OfferAvailable(offer, Now, TimeSpan.MaxValue);

        act.Should().NotThrow();
    }
}
