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
            return Resource.SetOf(name, ParseSet(value, entry), reservations);
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

            var dash = part.IndexOf('-', StringComparison.Ordinal);
            var beginText = dash < 0 ? part : part[..dash].Trim();
            var endText = dash < 0 ? part : part[(dash + 1)..].Trim();
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

        var items = new List<string>();
        foreach (var raw in value[1..^1].Split(','))
        {
            var item = raw.Trim();
            if (item.Length == 0)
            {
                throw new ResourceParseException($"Invalid resource '{entry}': sets must not contain empty items");
            }

            items.Add(item);
        }

        return items;
    }
}
