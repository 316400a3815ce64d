using AwesomeAssertions;
using Mezzo.Core.Resources;
using Xunit;

namespace Mezzo.Core.Tests;

using Resources = Mezzo.Core.Resources.Resources;

/// <summary>Mesos's text form of resources (<c>Resources::parse</c> / <c>fromSimpleString</c> / <c>values::parse</c>).</summary>
public sealed class ResourceParserTests
{
    [Fact]
    public void Parses_the_usual_agent_resources()
    {
        var resources = ResourceParser.Parse("cpus:4;mem:8192;disk:10000;ports:[31000-32000]");

        resources.Count.Should().Be(4);
        resources.Cpus.Should().Be(4);
        resources.Mem.Should().Be(8192);
        resources.Disk.Should().Be(10000);
        resources.Ports.Should().Equal(new ValueRange(31000, 32000));
        resources.Should().OnlyContain(r => !r.IsReserved && r.AllocationRole == null);
        resources.Names.Should().Equal("cpus", "mem", "disk", "ports");
        resources.ToString().Should().Be("cpus:4; mem:8192; disk:10000; ports:[31000-32000]");
    }

    [Fact]
    public void A_role_in_parentheses_is_a_static_reservation()
    {
        var resources = ResourceParser.Parse("cpus(eng):2;cpus:1;mem(eng/dev):512");

        resources.Cpus.Should().Be(3);
        resources.Unreserved.Cpus.Should().Be(1);
        resources.ReservedTo("eng").Cpus.Should().Be(2);
        resources.ReservedTo("eng").Single().Reservations.Should().Equal(new ReservationInfo(ReservationType.Static, "eng"));
        resources.ReservedTo("eng/dev").Mem.Should().Be(512);
        resources.ReservedTo("eng").Mem.Should().Be(0, "a reservation to eng/dev is not a reservation to eng");
        resources.First(r => r.IsReserved).ToString().Should().Be("cpus(reservations: [(STATIC,eng)]):2");
    }

    [Fact]
    public void The_star_role_means_unreserved()
    {
        var resources = ResourceParser.Parse("cpus(*):2;cpus:1");

        resources.Should().ContainSingle().Which.IsReserved.Should().BeFalse();
        resources.Cpus.Should().Be(3);
    }

    [Fact]
    public void Sets_are_sorted_and_may_be_empty()
    {
        var resources = ResourceParser.Parse("devices:{b, a ,c};gpus_ids:{}");

        resources.Should().ContainSingle().Which.Set.Should().Equal("a", "b", "c");
        resources.Single().Type.Should().Be(ResourceType.Set);
        ResourceParser.Parse("devices:{a,,b}").Single().Set.Should().Equal("a", "b");
    }

    [Fact]
    public void Whitespace_and_empty_entries_are_ignored()
    {
        var resources = ResourceParser.Parse("  cpus : 4 ;; mem:  8192 ; ports: [ 1-2 , 4-5 ] ; ");

        resources.Cpus.Should().Be(4);
        resources.Mem.Should().Be(8192);
        resources.Ports.Should().Equal(new ValueRange(1, 2), new ValueRange(4, 5));
        ResourceParser.Parse("").IsEmpty.Should().BeTrue();
        ResourceParser.Parse(" ; ;").IsEmpty.Should().BeTrue();
    }

    [Fact]
    public void Entries_of_the_same_resource_merge()
    {
        var resources = ResourceParser.Parse("cpus:1;cpus:2.5;ports:[1-2];ports:[3-4]");

        resources.Count.Should().Be(2);
        resources.ScalarMilli("cpus").Should().Be(3500);
        resources.Ports.Should().Equal(new ValueRange(1, 4));
    }

    [Fact]
    public void Overlapping_ranges_are_coalesced_like_Mesos()
    {
        // Mesos's values::parse coalesces the ranges it reads, so overlaps in the text are not an error there.
        ResourceParser.Parse("ports:[1-10,5-15]").Ports.Should().Equal(new ValueRange(1, 15));
        ResourceParser.Parse("ports:[20-30,1-2,3-4]").Ports.Should().Equal(new ValueRange(1, 4), new ValueRange(20, 30));
    }

    [Fact]
    public void Zero_and_empty_values_parse_to_nothing()
    {
        ResourceParser.Parse("cpus:0;ports:[];devices:{}").IsEmpty.Should().BeTrue();
    }

    [Fact]
    public void Scalars_keep_three_decimals()
    {
        ResourceParser.Parse("cpus:0.5").ScalarMilli("cpus").Should().Be(500);
        ResourceParser.Parse("cpus:0.001").ScalarMilli("cpus").Should().Be(1);
        ResourceParser.Parse("cpus:1.23456").ScalarMilli("cpus").Should().Be(1235);
        ResourceParser.Parse("mem:1e3").Mem.Should().Be(1000);
    }

    [Fact]
    public void Resources_Parse_is_the_parser()
    {
        Resources.Parse("cpus:2;mem:64").Equals(ResourceParser.Parse("mem:64;cpus:2")).Should().BeTrue();
    }

    [Theory]
    [InlineData("cpus:-1", "must not be negative")]
    [InlineData("cpus:NaN", "is not a number")]
    [InlineData("cpus:Infinity", "is not a number")]
    [InlineData("cpus:1e400", "is not a number")]
    [InlineData("cpus:abc", "is not a number")]
    [InlineData("cpus:1:2", "is not a number")]
    [InlineData("cpus:0.0004", "rounds to zero")]
    [InlineData("cpus:", "missing value")]
    [InlineData("cpus", "expected 'name:value'")]
    [InlineData(":4", "expected 'name:value'")]
    [InlineData("(eng):4", "Empty resource name")]
    [InlineData("cp us:4", "invalid characters")]
    [InlineData("ports:[5-1]", "begins after it ends")]
    [InlineData("ports:[1-2", "must end with ']'")]
    [InlineData("ports:[a-b]", "is not a range")]
    [InlineData("ports:[-5]", "is not a range")]
    [InlineData("ports:[1-2-3]", "is not a range")]
    [InlineData("ports:[5]", "is not a range 'begin-end'")]
    [InlineData("devices:{a,a}", "'a' appears more than once")]
    [InlineData("devices:{a,b", "must end with '}'")]
    [InlineData("ports:[1-2];ports:3", "different types")]
    [InlineData("cpus(eng:2", "missing ')'")]
    [InlineData("cpus():2", "Empty role name")]
    [InlineData("cpus(-eng):2", "starting with '-'")]
    [InlineData("cpus(.):2", "'.' as a path component")]
    [InlineData("cpus(eng/..):2", "'..' as a path component")]
    [InlineData("cpus(eng/*):2", "'*' as a path component")]
    [InlineData("cpus(/eng):2", "cannot start or end with '/'")]
    [InlineData("cpus(eng/):2", "cannot start or end with '/'")]
    [InlineData("cpus(eng//dev):2", "contain '//'")]
    [InlineData("cpus(en g):2", "invalid characters")]
    public void Bad_input_is_rejected_with_a_message_naming_the_problem(string text, string problem)
    {
        var act = () => ResourceParser.Parse(text);

        var error = act.Should().Throw<ResourceParseException>().Which;
        error.Message.Should().Contain(problem);
        if (!text.Contains(';', StringComparison.Ordinal))
        {
            error.Message.Should().Contain($"'{text}'", "the message quotes the offending entry");
        }

        ResourceParser.TryParse(text, out var parsed, out var message).Should().BeFalse();
        parsed.IsEmpty.Should().BeTrue();
        message.Should().Be(error.Message);
    }

    [Fact]
    public void TryParse_reports_success()
    {
        ResourceParser.TryParse("cpus:1;mem:128", out var resources, out var error).Should().BeTrue();

        error.Should().BeNull();
        resources.Cpus.Should().Be(1);
        resources.Mem.Should().Be(128);
    }
}
