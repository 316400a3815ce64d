using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Mezzo.Protocol.Chronos;

/// <summary>
/// An ISO 8601 duration as Chronos reads it (Joda's ISOPeriodFormat.standard: <c>PnYnMnWnDTnHnMnS</c>, fractional
/// seconds allowed). Fields are kept as written, so <c>PT60S</c> prints back as <c>PT60S</c>, not <c>PT1M</c>.
/// </summary>
public sealed partial record IsoPeriod(long Years, long Months, long Weeks, long Days, long Hours, long Minutes, long Seconds, int Millis)
{
    public static readonly IsoPeriod Zero = new(0, 0, 0, 0, 0, 0, 0, 0);

    [GeneratedRegex(@"^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)(?:[.,](\d{1,3}))?S)?)?$", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();

    /// <summary>True when the period has calendar fields (years, months, weeks, days): those are added in local time.</summary>
    public bool HasDatePart => Years != 0 || Months != 0 || Weeks != 0 || Days != 0;

    /// <summary>The hours, minutes, seconds and millis as elapsed time (they are added to the instant, as Joda does).</summary>
    public TimeSpan TimePart => TimeSpan.FromHours(Hours) + TimeSpan.FromMinutes(Minutes) + TimeSpan.FromSeconds(Seconds) + TimeSpan.FromMilliseconds(Millis);

    public bool IsZero => !HasDatePart && TimePart == TimeSpan.Zero;

    /// <summary>A rough length, only to estimate how many periods fit in a span (the caller corrects the estimate).</summary>
    public TimeSpan ApproximateLength =>
        TimeSpan.FromDays((Years * 365.2425) + (Months * 30.436875) + (Weeks * 7) + Days) + TimePart;

    public static bool TryParse(string? text, out IsoPeriod period, out string error)
    {
        period = Zero;
        error = "";
        if (string.IsNullOrEmpty(text))
        {
            error = "an ISO 8601 duration is required (e.g. PT1H, P1D, P1M)";
            return false;
        }

        var match = Pattern().Match(text);
        if (!match.Success || text == "P" || text.EndsWith('T'))
        {
            error = $"'{text}' is not an ISO 8601 duration: expected PnYnMnWnDTnHnMnS, e.g. PT30M, P1D, P1Y2M3DT4H5M6S";
            return false;
        }

        try
        {
            long Field(int group) => match.Groups[group].Success ? long.Parse(match.Groups[group].Value, CultureInfo.InvariantCulture) : 0;
            var millis = match.Groups[8].Success ? int.Parse(match.Groups[8].Value.PadRight(3, '0'), CultureInfo.InvariantCulture) : 0;
            period = new IsoPeriod(Field(1), Field(2), Field(3), Field(4), Field(5), Field(6), Field(7), millis);
            // Bound every field so period arithmetic cannot overflow (10,000 years of anything).
            if (period.ApproximateLength > TimeSpan.FromDays(3_652_500))
            {
                error = $"'{text}' is too long a duration (more than 10,000 years)";
                return false;
            }
        }
        catch (OverflowException)
        {
            error = $"'{text}' has a field too large to be a duration";
            return false;
        }

        return true;
    }

    public static IsoPeriod Parse(string text) =>
        TryParse(text, out var period, out var error) ? period : throw new FormatException(error);

    public static IsoPeriod FromSeconds(long seconds) => Zero with { Seconds = seconds };

    /// <summary>Prints as Joda's Period.toString does: only non-zero fields, <c>PT0S</c> for zero.</summary>
    public override string ToString()
    {
        if (IsZero)
        {
            return "PT0S";
        }

        var text = new StringBuilder("P");
        Append(text, Years, 'Y');
        Append(text, Months, 'M');
        Append(text, Weeks, 'W');
        Append(text, Days, 'D');
        if (Hours != 0 || Minutes != 0 || Seconds != 0 || Millis != 0)
        {
            text.Append('T');
            Append(text, Hours, 'H');
            Append(text, Minutes, 'M');
            if (Millis != 0)
            {
                text.Append(CultureInfo.InvariantCulture, $"{Seconds}.{Millis:000}S");
            }
            else
            {
                Append(text, Seconds, 'S');
            }
        }

        return text.ToString();
    }

    private static void Append(StringBuilder text, long value, char unit)
    {
        if (value != 0)
        {
            text.Append(value.ToString(CultureInfo.InvariantCulture)).Append(unit);
        }
    }
}
