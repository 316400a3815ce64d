using AwesomeAssertions;
using Mezzo.Core.Resources;
using Xunit;

namespace Mezzo.Core.Tests;

/// <summary>Agent <c>--attributes</c>: like Mesos's <c>Attributes::parse</c>, numbers are scalars, [..] ranges, else text.</summary>
public sealed class AttributeParserTests
{
    [Fact]
    public void Text_attributes()
    {
        var attributes = AttributeParser.Parse("rack:r1;zone:a");

        attributes.Should().Equal(
            new AgentAttribute("rack", AttributeType.Text, Text: "r1"),
            new AgentAttribute("zone", AttributeType.Text, Text: "a"));
        attributes[0].ToString().Should().Be("rack:r1");
    }

    [Fact]
    public void Numbers_are_scalars()
    {
        var weight = AttributeParser.Parse("weight:2.5").Single();

        weight.Type.Should().Be(AttributeType.Scalar);
        weight.Scalar.Should().Be(2.5);
        weight.FormatValue().Should().Be("2.5");
        AttributeParser.Parse("level:-3").Single().Scalar.Should().Be(-3, "attributes, unlike resources, may be negative");
    }

    [Fact]
    public void Bracketed_values_are_ranges()
    {
        var ports = AttributeParser.Parse("ports:[1-10, 20-30, 11-12]").Single();

        ports.Type.Should().Be(AttributeType.Ranges);
        ports.Ranges.Should().Equal(new ValueRange(1, 12), new ValueRange(20, 30));
        ports.ToString().Should().Be("ports:[1-12, 20-30]");
    }

    [Fact]
    public void Braced_values_are_sets()
    {
        // Mezzo extension: Mesos's Attributes::parse refuses SET values.
        var tags = AttributeParser.Parse("tags:{ssd, gpu}").Single();

        tags.Type.Should().Be(AttributeType.Set);
        tags.Set.Should().Equal("ssd", "gpu");
        tags.FormatValue().Should().Be("{ssd,gpu}");
    }

    [Fact]
    public void Only_the_first_colon_separates_name_and_value()
    {
        // Mesos splits each entry with strings::split(token, ":", 2).
        AttributeParser.Parse("url:http://x").Single().Should().Be(new AgentAttribute("url", AttributeType.Text, Text: "http://x"));
    }

    [Fact]
    public void Whitespace_and_empty_entries_are_ignored()
    {
        var attributes = AttributeParser.Parse(" rack : r1 ;; zone:b ; ");

        attributes.Select(a => a.ToString()).Should().Equal("rack:r1", "zone:b");
        AttributeParser.Parse("").Should().BeEmpty();
    }

    [Theory]
    [InlineData("rack", "expected 'name:value'")]
    [InlineData(":r1", "expected 'name:value'")]
    [InlineData("rack:", "missing value")]
    [InlineData("my rack:r1", "without whitespace")]
    [InlineData("ports:[5-1]", "begins after it ends")]
    [InlineData("ports:[1-2", "must end with ']'")]
    [InlineData("tags:{a,b", "must end with '}'")]
    public void Bad_attributes_are_rejected_with_a_message_naming_the_problem(string text, string problem)
    {
        var act = () => AttributeParser.Parse(text);

        act.Should().Throw<ResourceParseException>().WithMessage($"*{problem}*").WithMessage($"*'{text}'*");
    }
}
