using AwesomeAssertions;
using Mezzo.Core.Roles;
using Xunit;

namespace Mezzo.Core.Tests.Roles;

public sealed class WeightValidationTests
{
    [Fact]
    public void Valid_weights_are_returned_by_trimmed_role()
    {
        var (weights, error) = WeightValidation.Validate([(" dev ", 2.5), ("eng/backend", 0.1)]);
        error.Should().BeNull();
        weights.Should().BeEquivalentTo(new Dictionary<string, double> { ["dev"] = 2.5, ["eng/backend"] = 0.1 });
    }

    [Theory]
    [InlineData("a//b", 1.0, "Invalid role 'a//b'")]
    [InlineData("-x", 1.0, "Invalid role '-x'")]
    [InlineData("..", 1.0, "Invalid role '..'")]
    [InlineData("*", 1.0, "Invalid role '*'")]
    [InlineData("", 1.0, "Invalid role ''")]
    [InlineData("dev", 0.0, "Invalid weight '0' for role 'dev'")]
    [InlineData("dev", -1.0, "Invalid weight '-1' for role 'dev'")]
    [InlineData("dev", double.NaN, "Invalid weight 'NaN' for role 'dev'")]
    [InlineData("dev", double.PositiveInfinity, "for role 'dev'")]
    public void Bad_entries_are_named(string role, double weight, string message)
    {
        var (weights, error) = WeightValidation.Validate([("ok", 1.0), (role, weight)]);
        weights.Should().BeNull();
        error.Should().Contain(message);
    }

    [Fact]
    public void Missing_role_or_weight_and_duplicates_are_refused()
    {
        WeightValidation.Validate([(null, 1.0)]).Error.Should().Contain("Invalid role");
        WeightValidation.Validate([("dev", null)]).Error.Should().Contain("Missing 'weight' for role 'dev'");
        WeightValidation.Validate([("dev", 1.0), (" dev", 2.0)]).Error.Should().Contain("'dev' appears more than once");
    }

    [Fact]
    public void Flag_has_Mesos_syntax()
    {
        var (weights, error) = WeightValidation.ParseFlag("dev=2, prod=3.5,");
        error.Should().BeNull();
        weights.Should().BeEquivalentTo(new Dictionary<string, double> { ["dev"] = 2, ["prod"] = 3.5 });
        WeightValidation.CheckFlag(null).Should().BeNull();
        WeightValidation.CheckFlag("").Should().BeNull();
    }

    [Theory]
    [InlineData("dev", "role1=weight1")]
    [InlineData("dev=1=2", "role1=weight1")]
    [InlineData("=2", "role1=weight1")]
    [InlineData("dev=abc", "'abc' is not a number")]
    [InlineData("dev=-1", "weights must be positive")]
    [InlineData("*=2", "Invalid role '*'")]
    [InlineData("dev=1,dev=2", "more than once")]
    public void Bad_flags_say_why(string flag, string message) =>
        WeightValidation.CheckFlag(flag).Should().Contain(message);
}
