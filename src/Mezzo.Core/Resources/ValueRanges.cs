using System.Collections;
using System.Globalization;
using System.Text;

namespace Mezzo.Core.Resources;

/// <summary>An inclusive range of unsigned integers, e.g. ports 31000-32000.</summary>
public readonly record struct ValueRange(ulong Begin, ulong End)
{
    public ulong Length => End - Begin + 1;

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Begin}-{End}");
}

/// <summary>
/// A normalized set of ranges: sorted, non-overlapping, adjacent ranges coalesced (Mesos's
/// <c>coalesce</c>), so equal sets have equal representations.
/// </summary>
public sealed class ValueRanges : IReadOnlyList<ValueRange>, IEquatable<ValueRanges>
{
    private readonly ValueRange[] _items;

    private ValueRanges(ValueRange[] normalized) => _items = normalized;

    public static ValueRanges Empty { get; } = new([]);

    public IReadOnlyList<ValueRange> Items => _items;

    public int Count => _items.Length;

    public bool IsEmpty => _items.Length == 0;

    public ValueRange this[int index] => _items[index];

    /// <summary>Total number of values covered.</summary>
    public ulong Size
    {
        get
        {
            ulong size = 0;
            foreach (var range in _items)
            {
                size += range.Length;
            }

            return size;
        }
    }

    /// <summary>Normalizes arbitrary ranges. Ranges with Begin &gt; End are rejected: validate first.</summary>
    public static ValueRanges Of(params IEnumerable<ValueRange> ranges)
    {
        var list = new List<ValueRange>();
        foreach (var range in ranges)
        {
            if (range.Begin > range.End)
            {
                throw new ArgumentException($"Invalid range {range.Begin}-{range.End}: begin is greater than end", nameof(ranges));
            }

            list.Add(range);
        }

        return new ValueRanges(Normalize(list));
    }

    public bool Contains(ulong value)
    {
        foreach (var range in _items)
        {
            if (value >= range.Begin && value <= range.End)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Whether every value of <paramref name="other"/> is in this set.</summary>
    public bool Contains(ValueRanges other)
    {
        var i = 0;
        foreach (var needed in other._items)
        {
            while (i < _items.Length && _items[i].End < needed.Begin)
            {
                i++;
            }

            if (i == _items.Length || _items[i].Begin > needed.Begin || _items[i].End < needed.End)
            {
                return false;
            }
        }

        return true;
    }

    public ValueRanges Add(ValueRanges other)
    {
        if (other.IsEmpty)
        {
            return this;
        }

        if (IsEmpty)
        {
            return other;
        }

        return new ValueRanges(Normalize([.. _items, .. other._items]));
    }

    /// <summary>Set difference: values of this set that are not in <paramref name="other"/>.</summary>
    public ValueRanges Subtract(ValueRanges other)
    {
        if (other.IsEmpty || IsEmpty)
        {
            return this;
        }

        var result = new List<ValueRange>();
        var j = 0;
        foreach (var range in _items)
        {
            var begin = range.Begin;
            var end = range.End;
            var exhausted = false;
            while (j < other._items.Length && other._items[j].End < begin)
            {
                j++;
            }

            var k = j;
            while (k < other._items.Length && other._items[k].Begin <= end)
            {
                var cut = other._items[k];
                if (cut.Begin > begin)
                {
                    result.Add(new ValueRange(begin, cut.Begin - 1));
                }

                if (cut.End >= end)
                {
                    exhausted = true;
                    break;
                }

                begin = cut.End + 1;
                k++;
            }

            if (!exhausted)
            {
                result.Add(new ValueRange(begin, end));
            }
        }

        return new ValueRanges([.. result]);
    }

    public bool Equals(ValueRanges? other) => other is not null && _items.AsSpan().SequenceEqual(other._items);

    public override bool Equals(object? obj) => Equals(obj as ValueRanges);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        foreach (var range in _items)
        {
            hash.Add(range);
        }

        return hash.ToHashCode();
    }

    public IEnumerator<ValueRange> GetEnumerator() => ((IEnumerable<ValueRange>)_items).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => _items.GetEnumerator();

    /// <summary>Mesos's spelling: <c>[31000-31005, 31010-31010]</c>.</summary>
    public override string ToString()
    {
        var text = new StringBuilder("[");
        for (var i = 0; i < _items.Length; i++)
        {
            if (i > 0)
            {
                text.Append(", ");
            }

            text.Append(_items[i].ToString());
        }

        return text.Append(']').ToString();
    }

    private static ValueRange[] Normalize(List<ValueRange> ranges)
    {
        if (ranges.Count <= 1)
        {
            return [.. ranges];
        }

        ranges.Sort((a, b) => a.Begin.CompareTo(b.Begin));
        var merged = new List<ValueRange>(ranges.Count) { ranges[0] };
        for (var i = 1; i < ranges.Count; i++)
        {
            var last = merged[^1];
            var next = ranges[i];

            // Adjacent ranges merge too ([1-2] + [3-4] = [1-4]); guard End+1 against overflow at ulong.MaxValue.
            if (last.End == ulong.MaxValue || next.Begin <= last.End + 1)
            {
                merged[^1] = new ValueRange(last.Begin, Math.Max(last.End, next.End));
            }
            else
            {
                merged.Add(next);
            }
        }

        return [.. merged];
    }
}
