using System.Globalization;

namespace Mezzo.Core.Resources;

/// <summary>A malformed <c>--resources</c> or <c>--attributes</c> string.</summary>
public sealed class ResourceParseException(string message) : FormatException(message);

/// <summary>
/// Parses Mesos's text form of resources: <c>name(role):value</c> entries separated by <c>;</c>, where the value is a
/// scalar (<c>4</c>, <c>0.5</c>), ranges (<c>[31000-32000, 33000-33010]</c>) or a set (<c>{a,b}</c>), and a role other
/// than <c>*</c> makes the entry a static reservation for that role.
/// </summary>
public static class ResourceParser
{
    public static Resources Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var parsed = new List<Resource>();
        foreach (var raw in text.Split(';'))
        {
            var entry = raw.Trim();
            if (entry.Length == 0)
            {
                continue;
            }

            parsed.Add(ParseEntry(entry));
        }

        if (ResourceValidation.Validate(parsed) is { } error)
        {
            throw new ResourceParseException(error);
        }

        return new Resources(parsed);
    }

    public static bool TryParse(string text, out Resources resources, out string? error)
    {
        try
        {
            resources = Parse(text);
            error = null;
            return true;
        }
        catch (ResourceParseException ex)
        {
            resources = Resources.Empty;
            error = ex.Message;
            return false;
        }
    }

    private static Resource ParseEntry(string entry)
    {
        var colon = entry.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0)
        {
            throw new ResourceParseException($"Invalid resource '{entry}': expected 'name:value' or 'name(role):value'");
        }

        var key = entry[..colon].Trim();
        var value = entry[(colon + 1)..].Trim();
        var name = key;
        var role = "*";
        var open = key.IndexOf('(', StringComparison.Ordinal);
        if (open >= 0)
        {
            if (!key.EndsWith(')'))
            {
                throw new ResourceParseException($"Invalid resource '{entry}': missing ')' after the role");
            }

            name = key[..open].Trim();
            role = key[(open + 1)..^1].Trim();
            if (ResourceValidation.ValidateRole(role) is { } roleError)
            {
                throw new ResourceParseException($"Invalid resource '{entry}': {roleError}");
            }
        }

        if (ResourceValidation.ValidateName(name) is { } nameError)
        {
            throw new ResourceParseException($"Invalid resource '{entry}': {nameError}");
        }

        if (value.Length == 0)
        {
            throw new ResourceParseException($"Invalid resource '{entry}': missing value");
        }

        ReservationInfo[] reservations = role == "*" ? [] : [new ReservationInfo(ReservationType.Static, role)];
        if (value[0] == '[')
        {
            return Resource.RangesOf(name, ParseRanges(value, entry), reservations);
        }

        if (value[0] == '{')
        {
            // Mesos's Resources::validate rejects duplicated set elements ("Invalid set resource: duplicated elements").
            var items = ParseSet(value, entry);
            if (items.GroupBy(item => item, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1) is { } duplicate)
            {
                throw new ResourceParseException($"Invalid resource '{entry}': set item '{duplicate.Key}' appears more than once");
            }

            return Resource.SetOf(name, items, reservations);
        }

        if (!double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var scalar) || !double.IsFinite(scalar))
        {
            throw new ResourceParseException($"Invalid resource '{entry}': '{value}' is not a number, ranges '[a-b]' or a set '{{a,b}}'");
        }

        if (scalar < 0)
        {
            throw new ResourceParseException($"Invalid resource '{entry}': the value must not be negative");
        }

        if (scalar > long.MaxValue / 1000.0)
        {
            throw new ResourceParseException($"Invalid resource '{entry}': the value is too large");
        }

        // Mesos's Resources::validate: "We do not allow ... non-zero values which would be represented as zero".
        if (scalar != 0 && Resource.ToMilli(scalar) == 0)
        {
            throw new ResourceParseException($"Invalid resource '{entry}': the value is not zero but rounds to zero at three decimal places");
        }

        return Resource.ScalarOf(name, scalar, reservations);
    }

    internal static ValueRanges ParseRanges(string value, string entry)
    {
        if (!value.EndsWith(']'))
        {
            throw new ResourceParseException($"Invalid resource '{entry}': ranges must end with ']'");
        }

        var ranges = new List<ValueRange>();
        foreach (var raw in value[1..^1].Split(','))
        {
            var part = raw.Trim();
            if (part.Length == 0)
            {
                continue;
            }

            // Mesos's values::parse wants begin-end pairs: "[5]" is an error there, not the range 5-5.
            var dash = part.IndexOf('-', StringComparison.Ordinal);
            if (dash < 0)
            {
                throw new ResourceParseException($"Invalid resource '{entry}': '{part}' is not a range 'begin-end'");
            }

            var beginText = part[..dash].Trim();
            var endText = part[(dash + 1)..].Trim();
            if (!ulong.TryParse(beginText, NumberStyles.None, CultureInfo.InvariantCulture, out var begin)
                || !ulong.TryParse(endText, NumberStyles.None, CultureInfo.InvariantCulture, out var end))
            {
                throw new ResourceParseException($"Invalid resource '{entry}': '{part}' is not a range 'begin-end' of non-negative integers");
            }

            if (begin > end)
            {
                throw new ResourceParseException($"Invalid resource '{entry}': range '{part}' begins after it ends");
            }

            ranges.Add(new ValueRange(begin, end));
        }

        return ValueRanges.Of(ranges);
    }

    internal static List<string> ParseSet(string value, string entry)
    {
        if (!value.EndsWith('}'))
        {
            throw new ResourceParseException($"Invalid resource '{entry}': sets must end with '}}'");
        }

        // Like Mesos's values::parse, which tokenizes on "{},": empty items are skipped, so "{}" is the empty set.
        var items = new List<string>();
        foreach (var raw in value[1..^1].Split(','))
        {
            var item = raw.Trim();
            if (item.Length > 0)
            {
                items.Add(item);
            }
        }

        return items;
    }
}
