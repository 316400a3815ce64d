using System.Globalization;
using System.Text;

namespace Mezzo.IntegrationTests.Metrics;

/// <summary>One metric family of a scrape: its TYPE, HELP and samples.</summary>
internal sealed record MetricFamily(string Name, string Type, string Help);

/// <summary>A scrape that passed <see cref="ExpositionChecker.Check"/>: families by name, samples by their text <c>name{labels}</c>.</summary>
internal sealed record Exposition(IReadOnlyDictionary<string, MetricFamily> Families, IReadOnlyDictionary<string, double> Samples)
{
    /// <summary>Every name a query can use: families, and a histogram's or summary's <c>_bucket</c>/<c>_sum</c>/<c>_count</c>.</summary>
    public IEnumerable<string> QueryableNames => Families.Values.SelectMany(f => f.Type switch
    {
        "histogram" => [f.Name + "_bucket", f.Name + "_sum", f.Name + "_count"],
        "summary" => [f.Name, f.Name + "_sum", f.Name + "_count"],
        _ => new[] { f.Name },
    });
}

/// <summary>
/// A strict reader of Prometheus's text exposition format 0.0.4, in the spirit of <c>promtool check metrics</c>: every
/// family has one HELP and one TYPE before its samples, and its samples are contiguous; metric and label names follow
/// the grammar, label values use only the three escapes, no label twice, no series twice; counters end in
/// <c>_total</c> and are not negative; histograms have ascending <c>le</c> buckets ending in <c>+Inf</c> whose counts
/// never decrease, and a <c>_count</c> equal to the <c>+Inf</c> bucket and a <c>_sum</c>. Throws
/// <see cref="FormatException"/> naming the line at the first violation.
/// </summary>
internal static class ExpositionChecker
{
    private static readonly HashSet<string> Types = new(["counter", "gauge", "histogram", "summary", "untyped"], StringComparer.Ordinal);

    public static Exposition Check(string text)
    {
        if (text.Length > 0 && !text.EndsWith('\n'))
        {
            throw new FormatException("the exposition must end with a newline");
        }

        var families = new Dictionary<string, MetricFamily>(StringComparer.Ordinal);
        var helps = new Dictionary<string, string>(StringComparer.Ordinal);
        var types = new Dictionary<string, string>(StringComparer.Ordinal);
        var closed = new HashSet<string>(StringComparer.Ordinal);
        var samples = new Dictionary<string, double>(StringComparer.Ordinal);
        var series = new HashSet<string>(StringComparer.Ordinal);
        var histograms = new Dictionary<string, HistogramSeries>(StringComparer.Ordinal);
        string? current = null;
        var lines = text.Split('\n');
        for (var number = 1; number <= lines.Length; number++)
        {
            var line = lines[number - 1];
            if (line.Length == 0)
            {
                continue;
            }

            string Where() => $"line {number} '{line}'";
            if (line.StartsWith('#'))
            {
                var parts = line.Split(' ', 4);
                if (parts.Length < 3 || parts[0] != "#" || parts[1] is not ("HELP" or "TYPE"))
                {
                    continue; // A plain comment.
                }

                var name = parts[2];
                RequireName(name, Where);
                if (closed.Contains(name))
                {
                    throw new FormatException($"{Where()}: {parts[1]} for {name} after its samples");
                }

                if (current is not null && current != name)
                {
                    closed.Add(current);
                }

                current = name;
                if (parts[1] == "HELP")
                {
                    if (!helps.TryAdd(name, parts.Length > 3 ? parts[3] : ""))
                    {
                        throw new FormatException($"{Where()}: a second HELP for {name}");
                    }
                }
                else
                {
                    var declared = parts.Length > 3 ? parts[3] : "";
                    if (!Types.Contains(declared))
                    {
                        throw new FormatException($"{Where()}: unknown type '{declared}'");
                    }

                    if (!types.TryAdd(name, declared))
                    {
                        throw new FormatException($"{Where()}: a second TYPE for {name}");
                    }
                }

                continue;
            }

            var (metric, labels, labelText, value) = ParseSample(line, Where);
            var family = FamilyOf(metric, types)
                ?? throw new FormatException($"{Where()}: {metric} has no TYPE before it");
            if (family != current)
            {
                throw new FormatException($"{Where()}: {metric} is not in the family being written ({current ?? "none"}): a family's samples must be contiguous");
            }

            if (!helps.ContainsKey(family))
            {
                throw new FormatException($"{Where()}: {family} has no HELP");
            }

            var type = types[family];
            var canonical = metric + "{" + string.Join(",", labels.OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => $"{l.Key}=\"{l.Value}\"")) + "}";
            if (!series.Add(canonical))
            {
                throw new FormatException($"{Where()}: the series {canonical} appears twice");
            }

            samples[metric + labelText] = value;
            switch (type)
            {
                case "counter":
                    if (!metric.EndsWith("_total", StringComparison.Ordinal))
                    {
                        throw new FormatException($"{Where()}: counter {metric} does not end in _total");
                    }

                    if (double.IsNaN(value) || value < 0)
                    {
                        throw new FormatException($"{Where()}: counter {metric} is {value}");
                    }

                    break;
                case "histogram":
                    var key = family + "{" + string.Join(",", labels.Where(l => l.Key != "le").OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => $"{l.Key}=\"{l.Value}\"")) + "}";
                    if (!histograms.TryGetValue(key, out var histogram))
                    {
                        histograms[key] = histogram = new HistogramSeries();
                    }

                    histogram.Add(metric[family.Length..], labels, value, Where);
                    break;
                default:
                    break;
            }
        }

        foreach (var (name, type) in types)
        {
            if (!helps.TryGetValue(name, out var help))
            {
                throw new FormatException($"{name} has a TYPE but no HELP");
            }

            families[name] = new MetricFamily(name, type, help);
        }

        foreach (var name in helps.Keys.Where(h => !types.ContainsKey(h)))
        {
            throw new FormatException($"{name} has a HELP but no TYPE");
        }

        foreach (var (key, histogram) in histograms)
        {
            histogram.Complete(key);
        }

        return new Exposition(families, samples);
    }

    /// <summary>The family a sample belongs to: its own name, or a histogram's/summary's without the suffix.</summary>
    private static string? FamilyOf(string metric, Dictionary<string, string> types)
    {
        if (types.ContainsKey(metric))
        {
            return metric;
        }

        foreach (var suffix in (string[])["_bucket", "_sum", "_count"])
        {
            if (metric.EndsWith(suffix, StringComparison.Ordinal) && types.TryGetValue(metric[..^suffix.Length], out var type)
                && (type == "histogram" || (type == "summary" && suffix != "_bucket")))
            {
                return metric[..^suffix.Length];
            }
        }

        return null;
    }

    private static (string Metric, List<KeyValuePair<string, string>> Labels, string LabelText, double Value) ParseSample(string line, Func<string> where)
    {
        var i = 0;
        while (i < line.Length && line[i] != '{' && line[i] != ' ')
        {
            i++;
        }

        var metric = line[..i];
        RequireName(metric, where);
        var labels = new List<KeyValuePair<string, string>>();
        var labelStart = i;
        if (i < line.Length && line[i] == '{')
        {
            i++;
            while (true)
            {
                if (i >= line.Length)
                {
                    throw new FormatException($"{where()}: unterminated label set");
                }

                if (line[i] == '}')
                {
                    i++;
                    break;
                }

                var nameStart = i;
                while (i < line.Length && line[i] != '=')
                {
                    i++;
                }

                var name = line[nameStart..i];
                if (name.Length == 0 || char.IsAsciiDigit(name[0]) || !name.All(c => char.IsAsciiLetterOrDigit(c) || c == '_') || name.StartsWith("__", StringComparison.Ordinal))
                {
                    throw new FormatException($"{where()}: invalid label name '{name}'");
                }

                if (labels.Any(l => l.Key == name))
                {
                    throw new FormatException($"{where()}: label {name} twice");
                }

                if (i + 1 >= line.Length || line[i + 1] != '"')
                {
                    throw new FormatException($"{where()}: the value of label {name} is not quoted");
                }

                i += 2;
                var value = new StringBuilder();
                while (true)
                {
                    if (i >= line.Length)
                    {
                        throw new FormatException($"{where()}: unterminated value of label {name}");
                    }

                    var c = line[i++];
                    if (c == '"')
                    {
                        break;
                    }

                    if (c == '\\')
                    {
                        var escaped = i < line.Length ? line[i++] : '\0';
                        value.Append(escaped switch
                        {
                            '\\' => '\\',
                            '"' => '"',
                            'n' => '\n',
                            _ => throw new FormatException($"{where()}: invalid escape '\\{escaped}' in label {name}"),
                        });
                        continue;
                    }

                    value.Append(c);
                }

                labels.Add(new(name, value.ToString()));
                if (i < line.Length && line[i] == ',')
                {
                    i++;
                }
                else if (i >= line.Length || line[i] != '}')
                {
                    throw new FormatException($"{where()}: expected ',' or '}}' after label {name}");
                }
            }
        }

        var labelText = line[labelStart..i];
        if (i >= line.Length || line[i] != ' ')
        {
            throw new FormatException($"{where()}: expected a space before the value");
        }

        var rest = line[(i + 1)..].Split(' ');
        if (rest.Length is < 1 or > 2 || (rest.Length == 2 && !long.TryParse(rest[1], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _)))
        {
            throw new FormatException($"{where()}: expected 'value [timestamp]'");
        }

        return (metric, labels, labelText, ParseValue(rest[0]) ?? throw new FormatException($"{where()}: '{rest[0]}' is not a number"));
    }

    private static double? ParseValue(string text) => text switch
    {
        "+Inf" => double.PositiveInfinity,
        "-Inf" => double.NegativeInfinity,
        "NaN" => double.NaN,
        _ when text.Length > 0 && (char.IsAsciiDigit(text[0]) || text[0] is '-' or '+' or '.')
            && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) => value,
        _ => null,
    };

    private static void RequireName(string name, Func<string> where)
    {
        if (name.Length == 0 || char.IsAsciiDigit(name[0]) || !name.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or ':'))
        {
            throw new FormatException($"{where()}: invalid metric name '{name}'");
        }
    }

    private sealed class HistogramSeries
    {
        private readonly List<(double Le, double Count)> _buckets = [];
        private double? _count;
        private double? _sum;

        public void Add(string suffix, List<KeyValuePair<string, string>> labels, double value, Func<string> where)
        {
            switch (suffix)
            {
                case "_bucket":
                    var le = labels.FirstOrDefault(l => l.Key == "le").Value
                        ?? throw new FormatException($"{where()}: a histogram bucket without le");
                    var bound = ParseValue(le) ?? throw new FormatException($"{where()}: le '{le}' is not a number");
                    if (_buckets.Count > 0 && bound <= _buckets[^1].Le)
                    {
                        throw new FormatException($"{where()}: le {le} does not ascend");
                    }

                    if (_buckets.Count > 0 && value < _buckets[^1].Count)
                    {
                        throw new FormatException($"{where()}: bucket count {value} below the previous bucket's {_buckets[^1].Count}");
                    }

                    _buckets.Add((bound, value));
                    break;
                case "_count":
                    _count = value;
                    break;
                case "_sum":
                    _sum = value;
                    break;
                default:
                    throw new FormatException($"{where()}: a histogram sample must be _bucket, _sum or _count");
            }
        }

        public void Complete(string key)
        {
            if (_buckets.Count == 0 || !double.IsPositiveInfinity(_buckets[^1].Le))
            {
                throw new FormatException($"histogram {key} has no le=\"+Inf\" bucket");
            }

            if (_count is not { } count || count != _buckets[^1].Count)
            {
                throw new FormatException($"histogram {key}: _count {_count?.ToString(CultureInfo.InvariantCulture) ?? "missing"} is not the +Inf bucket's {_buckets[^1].Count}");
            }

            if (_sum is null)
            {
                throw new FormatException($"histogram {key} has no _sum");
            }
        }
    }
}
