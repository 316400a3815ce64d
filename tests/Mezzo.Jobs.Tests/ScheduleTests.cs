using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Mezzo.Jobs.Schedules;
using Mezzo.Protocol.Chronos;
using NodaTime;

namespace Mezzo.Jobs.Tests;

public sealed class ScheduleTests
{
    private static readonly Instant Now = Instant.FromUtc(2026, 6, 1, 12, 0);

    private static Instant Utc(int y, int mo, int d, int h = 0, int mi = 0, int s = 0) => Instant.FromUtc(y, mo, d, h, mi, s);

    [Theory]
    [InlineData("PT60S", "PT60S")]
    [InlineData("PT1H", "PT1H")]
    [InlineData("P1Y2M3DT4H5M6S", "P1Y2M3DT4H5M6S")]
    [InlineData("P2W", "P2W")]
    [InlineData("PT1.5S", "PT1.500S")]
    [InlineData("PT0S", "PT0S")]
    public void Periods_print_back_as_Joda_does(string text, string printed) =>
        IsoPeriod.Parse(text).ToString().Should().Be(printed);

    [Theory]
    [InlineData("")]
    [InlineData("P")]
    [InlineData("PT")]
    [InlineData("1H")]
    [InlineData("PT-1H")]
    [InlineData("P1H")]
    [InlineData("PT1X")]
    [InlineData("P99999999999Y")]
    public void Bad_periods_are_refused_with_a_reason(string text)
    {
        IsoPeriod.TryParse(text, out _, out var error).Should().BeFalse();
        error.Should().NotBeEmpty();
    }

    [Theory]
    [InlineData("not a schedule", "expected Rn/start/period")]
    [InlineData("R/2026-01-01T00:00:00Z", "expected Rn/start/period")]
    [InlineData("X/2026-01-01T00:00:00Z/PT1H", "expected Rn/start/period")]
    [InlineData("R/2026-13-01T00:00:00Z/PT1H", "out of range")]
    [InlineData("R/2026-02-30T00:00:00Z/PT1H", "out of range")]
    [InlineData("R/yesterday/PT1H", "not an ISO 8601 date-time")]
    [InlineData("R/2026-01-01T00:00:00Z/PT0S", "longer than zero")]
    [InlineData("R/2026-01-01T00:00:00Z/1H", "expected Rn/start/period")]
    [InlineData("R/2026-01-01T00:00:00+25:00/PT1H", "offset")]
    [InlineData("R99999999999999999999/2026-01-01T00:00:00Z/PT1H", "too large")]
    public void Bad_schedules_are_refused_naming_the_problem(string text, string reason)
    {
        RepeatingSchedule.TryParse(text, null, Now, out _, out var error).Should().BeFalse();
        error.Should().Contain(reason).And.Contain(text);
    }

    [Fact]
    public void An_unknown_time_zone_is_refused_by_name()
    {
        RepeatingSchedule.TryParse("R/2026-01-01T00:00:00Z/PT1H", "Mars/Olympus", Now, out _, out var error).Should().BeFalse();
        error.Should().Contain("Mars/Olympus");
    }

    [Fact]
    public void Start_formats_Chronos_accepts_parse()
    {
        RepeatingSchedule.Parse("R10/2012-10-01T05:52:00Z/PT2S", null, Now).StartInstant.Should().Be(Utc(2012, 10, 1, 5, 52));
        RepeatingSchedule.Parse("R/2014-03-08T20:00:00.000Z/PT2H", null, Now).StartInstant.Should().Be(Utc(2014, 3, 8, 20));
        RepeatingSchedule.Parse("R/1997-07-16T19:20:30.45+01:00/P1D", null, Now).StartInstant.Should().Be(Utc(1997, 7, 16, 18, 20, 30) + Duration.FromMilliseconds(450));
        RepeatingSchedule.Parse("R/2026-01-01/P1D", null, Now).StartInstant.Should().Be(Utc(2026, 1, 1));
    }

    [Fact]
    public void An_empty_start_means_now()
    {
        var schedule = RepeatingSchedule.Parse("R1//PT24H", null, Now);
        schedule.StartInstant.Should().Be(Now - Duration.FromSeconds(1));
        schedule.Repetitions.Should().Be(1);
    }

    [Fact]
    public void The_time_zone_keeps_the_wall_clock_fields_of_the_start()
    {
        // Chronos's withZoneRetainFields: 18:32 "Z" in Berlin means 18:32 Berlin time.
        var schedule = RepeatingSchedule.Parse("R/2014-10-10T18:32:00Z/PT60M", "Europe/Berlin", Now);
        schedule.StartInstant.Should().Be(Utc(2014, 10, 10, 16, 32));
    }

    [Fact]
    public void Daily_runs_keep_their_wall_clock_time_across_DST_in_Berlin()
    {
        var schedule = RepeatingSchedule.Parse("R/2026-03-27T09:00:00/P1D", "Europe/Berlin", Now);
        schedule.Occurrence(0).Should().Be(Utc(2026, 3, 27, 8)); // CET, UTC+1
        schedule.Occurrence(1).Should().Be(Utc(2026, 3, 28, 8));
        schedule.Occurrence(2).Should().Be(Utc(2026, 3, 29, 7)); // CEST from 29 March, UTC+2
        var autumn = RepeatingSchedule.Parse("R/2026-10-24T09:00:00/P1D", "Europe/Berlin", Now);
        autumn.Occurrence(1).Should().Be(Utc(2026, 10, 25, 8)); // back to CET
    }

    [Fact]
    public void A_wall_clock_time_in_the_DST_gap_is_shifted_forward_and_one_in_the_overlap_runs_once()
    {
        var gap = RepeatingSchedule.Parse("R/2026-03-28T02:30:00/P1D", "Europe/Berlin", Now);
        // 29 March 02:30 does not exist in Berlin: it runs at 03:30 CEST = 01:30 UTC.
        gap.Occurrence(1).Should().Be(Utc(2026, 3, 29, 1, 30));
        gap.Occurrence(2).Should().Be(Utc(2026, 3, 30, 0, 30));
        var overlap = RepeatingSchedule.Parse("R/2026-10-24T02:30:00/P1D", "Europe/Berlin", Now);
        // 25 October 02:30 happens twice: the earlier (CEST, 00:30 UTC) is taken, once.
        overlap.Occurrence(1).Should().Be(Utc(2026, 10, 25, 0, 30));
        overlap.Occurrence(2).Should().Be(Utc(2026, 10, 26, 1, 30));
    }

    [Fact]
    public void Hourly_runs_are_elapsed_hours_across_DST()
    {
        var schedule = RepeatingSchedule.Parse("R/2026-03-29T00:00:00/PT1H", "Europe/Berlin", Now);
        Enumerable.Range(0, 5).Select(k => schedule.Occurrence(k) - schedule.Occurrence(0))
            .Should().Equal(Enumerable.Range(0, 5).Select(k => Duration.FromHours(k)));
    }

    [Fact]
    public void Monthly_runs_on_the_31st_fall_back_to_the_month_end_and_return()
    {
        var schedule = RepeatingSchedule.Parse("R/2026-01-31T10:00:00Z/P1M", null, Now);
        Enumerable.Range(0, 4).Select(k => schedule.Occurrence(k))
            .Should().Equal(Utc(2026, 1, 31, 10), Utc(2026, 2, 28, 10), Utc(2026, 3, 31, 10), Utc(2026, 4, 30, 10));
    }

    [Fact]
    public void Yearly_runs_from_Feb_29_return_to_Feb_29_in_leap_years()
    {
        var schedule = RepeatingSchedule.Parse("R/2024-02-29T00:00:00Z/P1Y", null, Now);
        schedule.Occurrence(1).Should().Be(Utc(2025, 2, 28));
        schedule.Occurrence(4).Should().Be(Utc(2028, 2, 29));
    }

    [Fact]
    public void A_start_in_the_past_skips_to_the_next_occurrence_without_catching_up()
    {
        var schedule = RepeatingSchedule.Parse("R/2026-06-01T00:00:00Z/PT1H", null, Now);
        schedule.FirstAtOrAfter(Now + Duration.FromMinutes(1)).Should().Be((13L, Utc(2026, 6, 1, 13)));
        schedule.FirstAtOrAfter(Now).Should().Be((12L, Now));
    }

    [Fact]
    public void R0_never_runs_and_Rn_stops_after_n_runs()
    {
        RepeatingSchedule.Parse("R0/2026-06-01T00:00:00Z/PT1H", null, Now).FirstAtOrAfter(Utc(2026, 1, 1)).Should().BeNull();
        var five = RepeatingSchedule.Parse("R5/2026-06-01T00:00:00Z/PT2S", null, Now);
        five.HasOccurrence(4).Should().BeTrue();
        five.HasOccurrence(5).Should().BeFalse();
        five.FirstAtOrAfter(Utc(2026, 6, 1, 0, 0, 9)).Should().BeNull();
    }

    private static readonly string[] Periods = ["PT1S", "PT7S", "PT1M", "PT90M", "PT1H", "P1D", "P1W", "P1M", "P3M", "P1Y", "P1DT1H", "P1M2D"];
    private static readonly string[] Zones = ["", "UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe"];

    [Property(MaxTest = 300)]
    public void FirstAtOrAfter_is_the_earliest_occurrence_not_before_the_instant(PositiveInt periodIndex, PositiveInt zoneIndex, int startOffsetHours, int probeOffsetMinutes)
    {
        var period = Periods[periodIndex.Get % Periods.Length];
        var zone = Zones[zoneIndex.Get % Zones.Length];
        var start = Utc(2026, 1, 1) + Duration.FromHours(startOffsetHours % 20000);
        var text = $"R/{start.InUtc().LocalDateTime:uuuu-MM-dd'T'HH:mm:ss}Z/{period}";
        var schedule = RepeatingSchedule.Parse(text, zone, Now);
        var probe = schedule.StartInstant + Duration.FromMinutes(probeOffsetMinutes % 500_000);
        var found = schedule.FirstAtOrAfter(probe);
        found.Should().NotBeNull();
        var (k, at) = found!.Value;
        at.Should().Be(schedule.Occurrence(k));
        at.Should().BeGreaterThanOrEqualTo(probe, $"{text} in '{zone}' from {probe}");
        if (k > 0)
        {
            schedule.Occurrence(k - 1).Should().BeLessThan(probe, $"{text} in '{zone}': occurrence {k - 1} is not before {probe}");
        }
    }

    [Property(MaxTest = 200)]
    public void Occurrences_strictly_increase(PositiveInt periodIndex, PositiveInt zoneIndex, NonNegativeInt k)
    {
        var schedule = RepeatingSchedule.Parse($"R/2025-10-26T00:30:00Z/{Periods[periodIndex.Get % Periods.Length]}", Zones[zoneIndex.Get % Zones.Length], Now);
        var index = k.Get % 2000;
        schedule.Occurrence(index + 1).Should().BeGreaterThan(schedule.Occurrence(index));
    }

    [Property(MaxTest = 200)]
    public void Periods_round_trip_through_their_text(NonNegativeInt y, NonNegativeInt mo, NonNegativeInt d, NonNegativeInt h, NonNegativeInt mi, NonNegativeInt s)
    {
        var period = new IsoPeriod(y.Get % 50, mo.Get % 50, 0, d.Get % 50, h.Get % 50, mi.Get % 50, s.Get % 50, 0);
        IsoPeriod.Parse(period.ToString()).Should().Be(period);
    }
}

public sealed class JavaTimeZoneTests
{
    [Fact]
    public void The_PST_example_from_Chronos_docs_is_Pacific_time()
    {
        var schedule = RepeatingSchedule.Parse("R/2014-10-10T18:32:00Z/PT60M", "PST", Instant.FromUtc(2014, 10, 1, 0, 0));
        schedule.StartInstant.Should().Be(Instant.FromUtc(2014, 10, 11, 1, 32));
    }
}
