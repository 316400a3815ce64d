using AwesomeAssertions;
using FsCheck.Xunit;
using Mezzo.Core.Resources;

namespace Mezzo.Core.Tests;

/// <summary>
/// <see cref="ValueRanges"/> against the obvious model, a set of integers: ranges over [0, 40) are enumerated into a
/// <see cref="HashSet{T}"/> and every operation must agree with the set operation, in Mesos's coalesced normal form.
/// </summary>
[Properties(Arbitrary = new[] { typeof(ResourceArbitraries) }, MaxTest = 500)]
public sealed class ValueRangesProperties
{
    [Property]
    public void Of_covers_exactly_the_values_of_its_input_in_normal_form(RawRanges raw)
    {
        var ranges = ValueRanges.Of(raw.Items);

        ToSet(ranges).SetEquals(raw.Items.SelectMany(Values)).Should().BeTrue($"{raw} normalized to {ranges}");
        AssertNormalForm(ranges);
        ranges.Size.Should().Be((ulong)ToSet(ranges).Count);
    }

    [Property]
    public void Of_does_not_depend_on_input_order(RawRanges raw) =>
        ValueRanges.Of(raw.Items.Reverse()).Should().Equal(ValueRanges.Of(raw.Items));

    [Property]
    public void Add_is_set_union(ValueRanges a, ValueRanges b)
    {
        var sum = a.Add(b);

        ToSet(sum).SetEquals(ToSet(a).Union(ToSet(b))).Should().BeTrue($"{a} + {b} = {sum}");
        AssertNormalForm(sum);
        sum.Equals(b.Add(a)).Should().BeTrue("union is commutative");
    }

    [Property]
    public void Subtract_is_set_difference(ValueRanges a, ValueRanges b)
    {
        var difference = a.Subtract(b);

        ToSet(difference).SetEquals(ToSet(a).Except(ToSet(b))).Should().BeTrue($"{a} - {b} = {difference}");
        AssertNormalForm(difference);
    }

    [Property]
    public void Contains_is_the_subset_relation(ValueRanges a, ValueRanges b)
    {
        a.Contains(b).Should().Be(ToSet(b).IsSubsetOf(ToSet(a)), $"contains({a}, {b})");
        a.Contains(a.Subtract(b)).Should().BeTrue();
        a.Add(b).Contains(b).Should().BeTrue();
        b.Contains(a).Should().Be(ToSet(a).IsSubsetOf(ToSet(b)));
    }

    [Property]
    public void Contains_a_value_is_membership(ValueRanges a)
    {
        var set = ToSet(a);
        for (ulong value = 0; value <= ResourceArbitraries.SmallSpan; value++)
        {
            a.Contains(value).Should().Be(set.Contains(value), $"{value} in {a}");
        }
    }

    [Property]
    public void Equal_sets_have_equal_representations(ValueRanges a, ValueRanges b)
    {
        // (a ∪ b) \ (b \ a) is a again, reached through both union and difference: the result must be identical.
        var again = a.Add(b).Subtract(b.Subtract(a));

        again.Equals(a).Should().BeTrue($"{again} vs {a}");
        again.GetHashCode().Should().Be(a.GetHashCode());
        a.Equals(b).Should().Be(ToSet(a).SetEquals(ToSet(b)));
    }

    [Property]
    public void Adding_then_subtracting_a_disjoint_set_gives_back_the_original(ValueRanges a, ValueRanges b)
    {
        var disjoint = b.Subtract(a);

        a.Add(disjoint).Subtract(disjoint).Equals(a).Should().BeTrue();
        a.Add(b).Subtract(b).Equals(a.Subtract(b)).Should().BeTrue();
    }

    private static HashSet<ulong> ToSet(ValueRanges ranges) => [.. ranges.SelectMany(Values)];

    private static IEnumerable<ulong> Values(ValueRange range)
    {
        for (var value = range.Begin; value <= range.End; value++)
        {
            yield return value;
        }
    }

    /// <summary>Sorted, each range well-formed, and consecutive ranges neither overlap nor touch (Mesos's coalesce).</summary>
    private static void AssertNormalForm(ValueRanges ranges)
    {
        for (var i = 0; i < ranges.Count; i++)
        {
            ranges[i].Begin.Should().BeLessThanOrEqualTo(ranges[i].End);
            if (i > 0)
            {
                ranges[i].Begin.Should().BeGreaterThan(ranges[i - 1].End + 1, $"{ranges} is not coalesced");
            }
        }
    }
}
