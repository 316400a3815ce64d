using System.Collections;
using System.Globalization;

namespace Mezzo.Core.Resources;

/// <summary>
/// Scalar amounts by resource name, in thousandths (Mesos's <c>ResourceQuantities</c>): what quota guarantees and
/// limits, weights' shares and <c>min_allocatable_resources</c> are expressed in. No reservations, no ranges.
/// Immutable; names sorted so equal quantities compare and print the same.
/// </summary>
public sealed class ResourceQuantities : IReadOnlyDictionary<string, long>, IEquatable<ResourceQuantities>
{
    private readonly SortedDictionary<string, long> _milli;

    private ResourceQuantities(SortedDictionary<string, long> milli) => _milli = milli;

    public static ResourceQuantities Empty { get; } = new(new SortedDictionary<string, long>(StringComparer.Ordinal));

    public int Count => _milli.Count;

    public bool IsEmpty => _milli.Count == 0;

    public IEnumerable<string> Keys => _milli.Keys;

    public IEnumerable<long> Values => _milli.Values;

    /// <summary>The amount in thousandths; 0 for a name that is not present.</summary>
    public long this[string key] => _milli.TryGetValue(key, out var value) ? value : 0;

    public static ResourceQuantities Of(IEnumerable<KeyValuePair<string, long>> milli)
    {
        var map = new SortedDictionary<string, long>(StringComparer.Ordinal);
        foreach (var (name, value) in milli)
        {
            if (value != 0)
            {
                map[name] = map.GetValueOrDefault(name) + value;
            }
        }

        return map.Count == 0 ? Empty : new ResourceQuantities(map);
    }

    /// <summary>
    /// Like <see cref="Of"/> but keeps names whose amount is zero: in quota limits a name that is present with 0 means
    /// "none of it", while an absent name means "no limit".
    /// </summary>
    public static ResourceQuantities OfLimits(IEnumerable<KeyValuePair<string, long>> milli)
    {
        var map = new SortedDictionary<string, long>(StringComparer.Ordinal);
        foreach (var (name, value) in milli)
        {
            map[name] = map.GetValueOrDefault(name) + value;
        }

        return map.Count == 0 ? Empty : new ResourceQuantities(map);
    }

    public static ResourceQuantities OfScalars(IEnumerable<KeyValuePair<string, double>> values) =>
        Of(values.Select(v => KeyValuePair.Create(v.Key, Resource.ToMilli(v.Value))));

    /// <summary>The scalar part of <paramref name="resources"/>, whatever the reservations or allocation.</summary>
    public static ResourceQuantities FromResources(Resources resources) =>
        Of(resources.Where(r => r.Type == ResourceType.Scalar).Select(r => KeyValuePair.Create(r.Name, r.ScalarMilli)));

    /// <summary>Parses <c>cpus:1;mem:32</c> (Mesos's quantity text, as in <c>--min_allocatable_resources</c>).</summary>
    public static ResourceQuantities Parse(string text)
    {
        var map = new List<KeyValuePair<string, long>>();
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
                throw new ResourceParseException($"Invalid quantity '{entry}': expected 'name:value'");
            }

            var name = entry[..colon].Trim();
            if (ResourceValidation.ValidateName(name) is { } nameError)
            {
                throw new ResourceParseException($"Invalid quantity '{entry}': {nameError}");
            }

            if (!double.TryParse(entry[(colon + 1)..].Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var value)
                || !double.IsFinite(value) || value < 0 || value > long.MaxValue / 1000.0)
            {
                throw new ResourceParseException($"Invalid quantity '{entry}': the value must be a non-negative number");
            }

            if (map.Any(m => m.Key == name))
            {
                throw new ResourceParseException($"Invalid quantity '{entry}': '{name}' appears more than once");
            }

            map.Add(KeyValuePair.Create(name, Resource.ToMilli(value)));
        }

        return Of(map);
    }

    /// <summary>
    /// Mesos's <c>--min_allocatable_resources</c>: alternatives separated by '|', each a quantity set
    /// (<c>cpus:0.01|mem:32</c>). Each alternative must name at least one resource.
    /// </summary>
    public static IReadOnlyList<ResourceQuantities> ParseAlternatives(string text)
    {
        var alternatives = new List<ResourceQuantities>();
        foreach (var raw in text.Split('|'))
        {
            var quantities = Parse(raw);
            if (quantities.IsEmpty && !raw.Split(';').Any(e => e.Trim().Length > 0))
            {
                throw new ResourceParseException($"Invalid resource quantities '{text}': an alternative between '|' is empty");
            }

            alternatives.Add(quantities);
        }

        return alternatives;
    }

    public bool ContainsKey(string key) => _milli.ContainsKey(key);

    public bool TryGetValue(string key, out long value) => _milli.TryGetValue(key, out value);

    public double Scalar(string name) => this[name] / 1000.0;

    public ResourceQuantities Add(ResourceQuantities other) =>
        other.IsEmpty ? this : IsEmpty ? other : Of(_milli.Concat(other._milli));

    /// <summary>Subtracts per name, flooring at zero (Mesos's quantity subtraction never goes negative).</summary>
    public ResourceQuantities SubtractFloor(ResourceQuantities other)
    {
        if (other.IsEmpty)
        {
            return this;
        }

        return Of(_milli.Select(kv => KeyValuePair.Create(kv.Key, Math.Max(0, kv.Value - other[kv.Key]))));
    }

    /// <summary>Whether every amount here is at least the one in <paramref name="other"/> (names missing here count as 0).</summary>
    public bool Contains(ResourceQuantities other) => other._milli.All(kv => this[kv.Key] >= kv.Value);

    public bool Equals(ResourceQuantities? other) =>
        other is not null && other.Count == Count && _milli.All(kv => other[kv.Key] == kv.Value);

    public override bool Equals(object? obj) => Equals(obj as ResourceQuantities);

    public override int GetHashCode()
    {
        var hash = 0;
        foreach (var (name, value) in _milli)
        {
            hash ^= HashCode.Combine(name, value);
        }

        return hash;
    }

    public IEnumerator<KeyValuePair<string, long>> GetEnumerator() => _milli.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>Mesos's spelling, <c>cpus:1; mem:32</c>.</summary>
    public override string ToString() => string.Join("; ", _milli.Select(kv => $"{kv.Key}:{Resource.FormatMilli(kv.Value)}"));
}
