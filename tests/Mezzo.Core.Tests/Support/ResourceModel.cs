using Mezzo.Core.Resources;

namespace Mezzo.Core.Tests;

using Resources = Mezzo.Core.Resources.Resources;

/// <summary>
/// A deliberately naive reference model of Mesos's resource algebra (src/common/resources.cpp): a map from identity
/// (name, type, reservation stack, allocation role) to a plain value: thousandths for scalars, an explicit set of
/// integers for ranges, a set of strings for sets. Add is sum/union; subtract is difference, dropping entries that
/// become empty or negative; contains is per-identity &gt;= / superset. Built only from small generated values.
/// </summary>
public sealed class ResourceModel : IEquatable<ResourceModel>
{
    private readonly SortedDictionary<string, Entry> _entries;

    private ResourceModel(SortedDictionary<string, Entry> entries) => _entries = entries;

    public int Count => _entries.Count;

    /// <summary>Builds the model, checking the normal form on the way: no empty resource, one resource per identity.</summary>
    public static ResourceModel Of(Resources resources)
    {
        var entries = new SortedDictionary<string, Entry>(StringComparer.Ordinal);
        foreach (var resource in resources)
        {
            if (resource.IsEmpty)
            {
                throw new InvalidOperationException($"Resources must never hold an empty resource, found {resource} in {resources}");
            }

            var entry = Entry.Of(resource);
            if (!entries.TryAdd(entry.Key, entry))
            {
                throw new InvalidOperationException($"Resources must merge equal identities, found {entry.Key} twice in {resources}");
            }
        }

        return new ResourceModel(entries);
    }

    public ResourceModel Add(ResourceModel other)
    {
        var result = Clone();
        foreach (var (key, entry) in other._entries)
        {
            if (result._entries.TryGetValue(key, out var mine))
            {
                mine.Milli += entry.Milli;
                mine.Values.UnionWith(entry.Values);
                mine.Items.UnionWith(entry.Items);
            }
            else
            {
                result._entries[key] = entry.Clone();
            }
        }

        return result;
    }

    public ResourceModel Subtract(ResourceModel other)
    {
        var result = Clone();
        foreach (var (key, entry) in other._entries)
        {
            if (!result._entries.TryGetValue(key, out var mine))
            {
                continue;
            }

            mine.Milli -= entry.Milli;
            mine.Values.ExceptWith(entry.Values);
            mine.Items.ExceptWith(entry.Items);
            if (mine.IsEmpty)
            {
                result._entries.Remove(key);
            }
        }

        return result;
    }

    public bool Contains(ResourceModel other) => other._entries.All(pair =>
        _entries.TryGetValue(pair.Key, out var mine)
        && mine.Milli >= pair.Value.Milli
        && mine.Values.IsSupersetOf(pair.Value.Values)
        && mine.Items.IsSupersetOf(pair.Value.Items));

    /// <summary>Per name, the total scalar / union of values / union of items, whatever the reservations and allocations.</summary>
    public IReadOnlyDictionary<string, (long Milli, string Values, string Items)> Totals()
    {
        var totals = new SortedDictionary<string, (long Milli, SortedSet<ulong> Values, SortedSet<string> Items)>(StringComparer.Ordinal);
        foreach (var entry in _entries.Values)
        {
            if (!totals.TryGetValue(entry.Name, out var total))
            {
                total = (0, [], new SortedSet<string>(StringComparer.Ordinal));
            }

            total.Values.UnionWith(entry.Values);
            total.Items.UnionWith(entry.Items);
            totals[entry.Name] = (total.Milli + entry.Milli, total.Values, total.Items);
        }

        return totals.ToDictionary(p => p.Key, p => (p.Value.Milli, string.Join(",", p.Value.Values), string.Join(",", p.Value.Items)));
    }

    public bool Equals(ResourceModel? other) =>
        other is not null && _entries.Count == other._entries.Count
        && _entries.All(pair => other._entries.TryGetValue(pair.Key, out var theirs) && pair.Value.SameValue(theirs));

    public override bool Equals(object? obj) => Equals(obj as ResourceModel);

    public override int GetHashCode() => string.Join(";", _entries.Keys).GetHashCode(StringComparison.Ordinal);

    public override string ToString() => string.Join("; ", _entries.Values.Select(e => e.ToString()));

    private ResourceModel Clone() =>
        new(new SortedDictionary<string, Entry>(_entries.ToDictionary(p => p.Key, p => p.Value.Clone()), StringComparer.Ordinal));

    private sealed class Entry
    {
        private Entry(string key, string name, ResourceType type, long milli, SortedSet<ulong> values, SortedSet<string> items)
        {
            Key = key;
            Name = name;
            Type = type;
            Milli = milli;
            Values = values;
            Items = items;
        }

        public string Key { get; }

        public string Name { get; }

        public ResourceType Type { get; }

        public long Milli { get; set; }

        public SortedSet<ulong> Values { get; }

        public SortedSet<string> Items { get; }

        public bool IsEmpty => Type switch
        {
            ResourceType.Scalar => Milli <= 0,
            ResourceType.Ranges => Values.Count == 0,
            _ => Items.Count == 0,
        };

        public static Entry Of(Resource resource)
        {
            var key = $"{resource.Name}|{resource.Type}|{resource.AllocationRole ?? "-"}|{string.Join(",", resource.Reservations)}";
            var values = new SortedSet<ulong>();
            foreach (var range in resource.Ranges)
            {
                for (var value = range.Begin; value <= range.End; value++)
                {
                    values.Add(value);
                }
            }

            return new Entry(key, resource.Name, resource.Type, resource.ScalarMilli, values, new SortedSet<string>(resource.Set, StringComparer.Ordinal));
        }

        public Entry Clone() => new(Key, Name, Type, Milli, [.. Values], new SortedSet<string>(Items, StringComparer.Ordinal));

        public bool SameValue(Entry other) =>
            Milli == other.Milli && Values.SetEquals(other.Values) && Items.SetEquals(other.Items);

        public override string ToString() => $"{Key}:{Milli}/[{string.Join(",", Values)}]/{{{string.Join(",", Items)}}}";
    }
}
