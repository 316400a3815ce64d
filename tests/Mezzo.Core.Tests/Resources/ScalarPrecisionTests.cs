using AwesomeAssertions;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Mezzo.Core.Resources;
using Xunit;

namespace Mezzo.Core.Tests;

using Resources = Mezzo.Core.Resources.Resources;

/// <summary>
/// Scalars are fixed point with three decimals, converted like Mesos's <c>convertToFixed</c>
/// (<c>std::llround(value * 1000)</c>: nearest thousandth, halves away from zero).
/// </summary>
public sealed class ScalarPrecisionTests
{
    [Theory]
    [InlineData(0.0025, 3)] // 2.5 thousandths: llround goes away from zero (banker's rounding would give 2)
    [InlineData(-0.0025, -3)]
    [InlineData(0.0125, 13)] // banker's rounding would give 12
    [InlineData(0.0005, 1)]
    [InlineData(0.0004999, 0)]
    [InlineData(1.23456, 1235)]
    [InlineData(1.2344, 1234)]
    [InlineData(0.001, 1)]
    [InlineData(8192, 8_192_000)]
    [InlineData(0, 0)]
    public void ToMilli_rounds_to_the_nearest_thousandth_with_halves_away_from_zero(double value, long expected) =>
        Resource.ToMilli(value).Should().Be(expected);

    [Theory]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    [InlineData(double.NegativeInfinity)]
    public void ToMilli_rejects_non_finite_values(double value)
    {
        var act = () => Resource.ToMilli(value);

        act.Should().Throw<ArgumentOutOfRangeException>().WithMessage("*finite*");
    }

    [Fact]
    public void Fixed_point_arithmetic_does_not_drift()
    {
        var sum = Resources.Empty;
        for (var i = 0; i < 10; i++)
        {
            sum += new Resources([Resource.ScalarOf("cpus", 0.1)]);
        }

        sum.ScalarMilli("cpus").Should().Be(1000);
        sum.Cpus.Should().Be(1.0);

        var pointThree = new Resources([Resource.ScalarOf("cpus", 0.1)]) + new Resources([Resource.ScalarOf("cpus", 0.2)]);
        pointThree.Equals(new Resources([Resource.ScalarOf("cpus", 0.3)])).Should().BeTrue("0.1 + 0.2 == 0.3 in fixed point");
        pointThree.Cpus.Should().Be(0.3);

        var left = new Resources([Resource.ScalarOf("cpus", 1)]) - new Resources([Resource.ScalarOf("cpus", 0.9)]);
        left.ScalarMilli("cpus").Should().Be(100);
    }

    [Theory]
    [InlineData(300, "0.3")]
    [InlineData(1, "0.001")]
    [InlineData(1500, "1.5")]
    [InlineData(8_192_000, "8192")]
    [InlineData(0, "0")]
    public void FormatMilli_prints_at_most_three_decimals(long milli, string expected) =>
        Resource.FormatMilli(milli).Should().Be(expected);

    [Property(MaxTest = 1000)]
    public Property Every_thousandth_survives_a_round_trip_through_double() =>
        Prop.ForAll(
            Gen.Choose(-1_000_000, 1_000_000).SelectMany(high => Gen.Choose(0, 999_999), (high, low) => (high * 1_000_000L) + low).ToArbitrary(),
            milli =>
            {
                Resource.ToMilli(milli / 1000.0).Should().Be(milli);
                Resource.ToMilli(double.Parse(Resource.FormatMilli(milli), System.Globalization.CultureInfo.InvariantCulture)).Should().Be(milli);
            });

    [Property(MaxTest = 1000)]
    public Property ToMilli_is_within_half_a_thousandth_and_symmetric() =>
        Prop.ForAll(
            Gen.Choose(-1_000_000_000, 1_000_000_000).SelectMany(units => Gen.Choose(0, 1_000_000), (units, micro) => units / 1000.0 + micro / 1e9).ToArbitrary(),
            value =>
            {
                var milli = Resource.ToMilli(value);
                Math.Abs(milli - (value * 1000)).Should().BeLessThanOrEqualTo(0.5);
                Resource.ToMilli(-value).Should().Be(-milli);
            });
}
