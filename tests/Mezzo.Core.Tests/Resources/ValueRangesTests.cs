using AwesomeAssertions;
using Mezzo.Core.Resources;
using Xunit;

namespace Mezzo.Core.Tests;

public sealed class ValueRangesTests
{
    private const ulong Max = ulong.MaxValue;

    [Fact]
    public void Adjacent_and_overlapping_ranges_coalesce()
    {
        var ranges = ValueRanges.Of(new ValueRange(5, 6), new ValueRange(1, 2), new ValueRange(3, 4), new ValueRange(10, 20), new ValueRange(15, 25));

        ranges.Should().Equal(new ValueRange(1, 6), new ValueRange(10, 25));
        ranges.ToString().Should().Be("[1-6, 10-25]");
        ranges.Size.Should().Be(22UL);
    }

    [Fact]
    public void Ranges_at_the_top_of_the_domain_do_not_overflow()
    {
        var ranges = ValueRanges.Of(new ValueRange(Max - 1, Max), new ValueRange(Max - 5, Max - 2), new ValueRange(0, 0));

        ranges.Should().Equal(new ValueRange(0, 0), new ValueRange(Max - 5, Max));
        ranges.Contains(Max).Should().BeTrue();
        ranges.Subtract(ValueRanges.Of(new ValueRange(Max, Max))).Should().Equal(new ValueRange(0, 0), new ValueRange(Max - 5, Max - 1));
        ValueRanges.Of(new ValueRange(Max, Max)).Add(ValueRanges.Of(new ValueRange(Max, Max))).Should().Equal(new ValueRange(Max, Max));
        ValueRanges.Of(new ValueRange(0, Max)).Subtract(ValueRanges.Of(new ValueRange(1, Max - 1))).Should().Equal(new ValueRange(0, 0), new ValueRange(Max, Max));
    }

    [Fact]
    public void Subtracting_from_the_middle_splits_a_range()
    {
        var ports = ValueRanges.Of(new ValueRange(31000, 32000));

        var left = ports.Subtract(ValueRanges.Of(new ValueRange(31100, 31199), new ValueRange(31500, 31500)));

        left.ToString().Should().Be("[31000-31099, 31200-31499, 31501-32000]");
        left.Size.Should().Be(1001UL - 101UL);
    }

    [Fact]
    public void An_inverted_range_is_rejected()
    {
        var act = () => ValueRanges.Of(new ValueRange(5, 1));

        act.Should().Throw<ArgumentException>().WithMessage("*5-1*");
    }

    [Fact]
    public void Empty_ranges_are_neutral()
    {
        var ports = ValueRanges.Of(new ValueRange(1, 3));

        ports.Add(ValueRanges.Empty).Should().Equal(ports);
        ports.Subtract(ValueRanges.Empty).Should().Equal(ports);
        ValueRanges.Empty.Subtract(ports).IsEmpty.Should().BeTrue();
        ports.Contains(ValueRanges.Empty).Should().BeTrue();
        ValueRanges.Empty.Contains(ports).Should().BeFalse();
        ValueRanges.Empty.ToString().Should().Be("[]");
    }
}
