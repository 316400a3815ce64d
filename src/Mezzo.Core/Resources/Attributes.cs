using System.Globalization;

namespace Mezzo.Core.Resources;

public enum AttributeType
{
    Scalar,
    Ranges,
    Set,
    Text,
}

/// <summary>An agent attribute (<c>rack:r1</c>, <c>weight:2.5</c>); exactly one value field is set, matching <see cref="Type"/>.</summary>
public sealed record AgentAttribute(string Name, AttributeType Type, double? Scalar = null, ValueRanges? Ranges = null, IReadOnlyList<string>? Set = null, string? Text = null)
{
    public string FormatValue() => Type switch
    {
        AttributeType.Scalar => (Scalar ?? 0).ToString(CultureInfo.InvariantCulture),
        AttributeType.Ranges => (Ranges ?? ValueRanges.Empty).ToString(),
        AttributeType.Set => "{" + string.Join(",", Set ?? []) + "}",
        _ => Text ?? string.Empty,
    };

    public override string ToString() => $"{Name}:{FormatValue()}";
}

/// <summary>
/// Parses Mesos's <c>--attributes</c> text, <c>name:value</c> entries separated by <c>;</c>. As in Mesos's
/// <c>Attributes::parse</c>, a value is a scalar if it is a number, ranges in <c>[..]</c>, a set in <c>{..}</c>, and
/// text otherwise.
/// </summary>
public static class AttributeParser
{
    public static IReadOnlyList<AgentAttribute> Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var attributes = new List<AgentAttribute>();
        foreach (var raw in text.Split(';'))
        {
            var entry = raw.Trim();
            if (entry.Length == 0)
            {
                continue;
            }

            var colon = entry.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0)
            {
                throw new ResourceParseException($"Invalid attribute '{entry}': expected 'name:value'");
            }

            var name = entry[..colon].Trim();
            var value = entry[(colon + 1)..].Trim();
            if (name.Length == 0 || name.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)))
            {
                throw new ResourceParseException($"Invalid attribute '{entry}': the name must be non-empty without whitespace");
            }

            if (value.Length == 0)
            {
                throw new ResourceParseException($"Invalid attribute '{entry}': missing value");
            }

            attributes.Add(ParseValue(name, value, entry));
        }

        return attributes;
    }

    private static AgentAttribute ParseValue(string name, string value, string entry)
    {
        if (value[0] == '[')
        {
            return new AgentAttribute(name, AttributeType.Ranges, Ranges: ResourceParser.ParseRanges(value, entry));
        }

        if (value[0] == '{')
        {
            return new AgentAttribute(name, AttributeType.Set, Set: ResourceParser.ParseSet(value, entry));
        }

        if (double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var scalar) && double.IsFinite(scalar))
        {
            return new AgentAttribute(name, AttributeType.Scalar, Scalar: scalar);
        }

        return new AgentAttribute(name, AttributeType.Text, Text: value);
    }
}
