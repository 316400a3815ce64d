using System.Globalization;
using System.Text.RegularExpressions;
using Mezzo.Protocol.Chronos;
using NodaTime;
using NodaTime.Text;

namespace Mezzo.Jobs.Schedules;

/// <summary>
/// A Chronos schedule, an ISO 8601 repeating interval <c>Rn/start/period</c> (<c>R</c> alone repeats forever; an empty
/// start means "now"). Occurrence k is start + k × period, computed from the start every time rather than by adding
/// the period again and again, so a Jan 31 monthly schedule runs on the last day of short months and returns to the
/// 31st, and a Feb 29 yearly one returns to Feb 29 in leap years. Calendar fields (Y, M, W, D) are added in the
/// schedule's local time (a daily 02:30 job stays at 02:30 across DST; a local time that does not exist is shifted
/// forward by the gap; an ambiguous one takes the earlier offset), time fields (H, M, S) as elapsed time, as Joda does.
/// Pure: "now" is an argument.
/// </summary>
public sealed partial class RepeatingSchedule
{
    private RepeatingSchedule(long? repetitions, LocalDateTime start, DateTimeZone zone, IsoPeriod period)
    {
        Repetitions = repetitions;
        Start = start;
        Zone = zone;
        Period = period;
        StartInstant = start.InZoneLeniently(zone).ToInstant();
    }

    /// <summary>How many runs in all; null for <c>R</c> (forever).</summary>
    public long? Repetitions { get; }

    /// <summary>Wall-clock start in <see cref="Zone"/>.</summary>
    public LocalDateTime Start { get; }

    public DateTimeZone Zone { get; }

    public IsoPeriod Period { get; }

    public Instant StartInstant { get; }

    [GeneratedRegex(@"^(R[0-9]*)/(.*)/(P.*)$", RegexOptions.CultureInvariant)]
    private static partial Regex Expression();

    [GeneratedRegex(@"^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2})(?::(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?)?(Z|[+-]\d{2}(?::?\d{2})?)?$", RegexOptions.CultureInvariant)]
    private static partial Regex DateTimeText();

    /// <summary>
    /// Parses <paramref name="text"/>; <paramref name="timeZone"/> (a tz database name), when given, takes precedence over
    /// the offset in the start time: the start's wall-clock fields are kept and read in that zone (as Chronos does).
    /// </summary>
    public static bool TryParse(string? text, string? timeZone, Instant now, out RepeatingSchedule schedule, out string error)
    {
        schedule = null!;
        error = "";
        var match = text is null ? Match.Empty : Expression().Match(text);
        if (!match.Success)
        {
            error = $"Cannot parse schedule '{text}': expected Rn/start/period, e.g. R/2026-01-01T00:00:00Z/PT1H or R5//PT10M";
            return false;
        }

        long? repetitions = null;
        if (match.Groups[1].Value.Length > 1)
        {
            if (!long.TryParse(match.Groups[1].Value.AsSpan(1), NumberStyles.None, CultureInfo.InvariantCulture, out var n))
            {
                error = $"Cannot parse schedule '{text}': repetitions '{match.Groups[1].Value}' is too large";
                return false;
            }

            repetitions = n;
        }

        if (!IsoPeriod.TryParse(match.Groups[3].Value, out var period, out var periodError))
        {
            error = $"Cannot parse schedule '{text}': {periodError}";
            return false;
        }

        if (period.IsZero)
        {
            error = $"Cannot parse schedule '{text}': the period must be longer than zero";
            return false;
        }

        DateTimeZone? named = null;
        if (!string.IsNullOrEmpty(timeZone))
        {
            named = JavaTimeZones.Find(timeZone);
            if (named is null)
            {
                error = $"Unknown scheduleTimeZone '{timeZone}': expected a tz database name such as UTC, Europe/Berlin or America/Los_Angeles";
                return false;
            }
        }

        LocalDateTime start;
        DateTimeZone zone;
        var startText = match.Groups[2].Value;
        if (startText.Length == 0)
        {
            // Chronos: an empty start means now (one second ago, so the first run is due at once).
            zone = named ?? DateTimeZone.Utc;
            start = (now - Duration.FromSeconds(1)).InZone(zone).LocalDateTime;
        }
        else if (!TryParseDateTime(startText, out start, out var offset, out var dateError))
        {
            error = $"Cannot parse schedule '{text}': {dateError}";
            return false;
        }
        else
        {
            zone = named ?? (offset is { } o ? DateTimeZone.ForOffset(o) : DateTimeZone.Utc);
        }

        schedule = new RepeatingSchedule(repetitions, start, zone, period);
        return true;
    }

    public static RepeatingSchedule Parse(string text, string? timeZone, Instant now) =>
        TryParse(text, timeZone, now, out var schedule, out var error) ? schedule : throw new FormatException(error);

    private static bool TryParseDateTime(string text, out LocalDateTime local, out Offset? offset, out string error)
    {
        local = default;
        offset = null;
        error = "";
        var match = DateTimeText().Match(text);
        if (!match.Success)
        {
            error = $"start '{text}' is not an ISO 8601 date-time: expected YYYY-MM-DDThh:mm:ss[.s](Z|+hh:mm)";
            return false;
        }

        int Field(int group) => match.Groups[group].Success ? int.Parse(match.Groups[group].Value, CultureInfo.InvariantCulture) : 0;
        try
        {
            var fraction = match.Groups[7].Success ? match.Groups[7].Value.PadRight(9, '0') : "0";
            local = new LocalDateTime(Field(1), Field(2), Field(3), Field(4), Field(5), Field(6))
                .PlusNanoseconds(long.Parse(fraction, CultureInfo.InvariantCulture));
        }
        catch (ArgumentOutOfRangeException)
        {
            error = $"start '{text}' is not a valid date-time (a field is out of range)";
            return false;
        }

        if (match.Groups[8].Success)
        {
            var designator = match.Groups[8].Value;
            if (designator == "Z")
            {
                offset = Offset.Zero;
            }
            else
            {
                var normal = designator.Length == 3 ? designator + ":00" : designator.Contains(':', StringComparison.Ordinal) ? designator : designator.Insert(3, ":");
                var parsed = OffsetPattern.GeneralInvariant.Parse(normal);
                if (!parsed.Success || Math.Abs(parsed.Value.Seconds) > 18 * 3600)
                {
                    error = $"start '{text}' has an invalid UTC offset '{designator}'";
                    return false;
                }

                offset = parsed.Value;
            }
        }

        return true;
    }

    /// <summary>Occurrence <paramref name="k"/> (0-based), ignoring the repetition limit.</summary>
    public Instant Occurrence(long k)
    {
        if (!Period.HasDatePart)
        {
            return StartInstant + Duration.FromTimeSpan(Period.TimePart) * k;
        }

        var local = Start.PlusYears(checked((int)(Period.Years * k)))
            .PlusMonths(checked((int)(Period.Months * k)))
            .PlusDays(checked((int)((Period.Weeks * 7 + Period.Days) * k)));
        return local.InZoneLeniently(Zone).ToInstant() + Duration.FromTimeSpan(Period.TimePart) * k;
    }

    /// <summary>True when occurrence k exists (within the repetitions).</summary>
    public bool HasOccurrence(long k) => k >= 0 && (Repetitions is null || k < Repetitions);

    /// <summary>
    /// The first occurrence at or after <paramref name="instant"/>, or null when the repetitions run out first. How a
    /// start in the past is brought forward without a catch-up storm: everything before is skipped at once.
    /// </summary>
    public (long Index, Instant At)? FirstAtOrAfter(Instant instant)
    {
        long k;
        if (instant <= StartInstant)
        {
            k = 0;
        }
        else if (!Period.HasDatePart)
        {
            var step = Period.TimePart.Ticks;
            var elapsed = (instant - StartInstant).BclCompatibleTicks;
            k = (elapsed / step) + (elapsed % step == 0 ? 0 : 1);
        }
        else
        {
            var estimate = (long)((instant - StartInstant).TotalTicks / Period.ApproximateLength.Ticks);
            k = Math.Max(0, estimate - 2);
            while (k > 0 && Occurrence(k) >= instant)
            {
                k--;
            }

            while (Occurrence(k) < instant)
            {
                k++;
            }
        }

        return HasOccurrence(k) ? (k, Occurrence(k)) : null;
    }
}
