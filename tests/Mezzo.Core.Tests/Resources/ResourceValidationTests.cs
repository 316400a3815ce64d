using AwesomeAssertions;
using Mezzo.Core.Resources;
using Xunit;

namespace Mezzo.Core.Tests;

/// <summary>Role rules as Mesos's <c>roles::validate</c> (src/common/roles.cpp, docs/roles.md) and resource checks.</summary>
public sealed class ResourceValidationTests
{
    [Theory]
    [InlineData("*")]
    [InlineData("eng")]
    [InlineData("eng/dev")]
    [InlineData("eng/dev/team-1")]
    [InlineData("a.b")]
    [InlineData("...")]
    [InlineData(".hidden")]
    [InlineData("a-")]
    [InlineData("a*b")] // Mesos only rejects '*' as a whole path component
    [InlineData("a\\b")] // and has no rule against backslashes
    [InlineData("équipe")]
    public void Valid_roles(string role) => ResourceValidation.ValidateRole(role).Should().BeNull();

    [Theory]
    [InlineData("", "Empty role name")]
    [InlineData(".", "'.' as a path component")]
    [InlineData("..", "'..' as a path component")]
    [InlineData("eng/.", "'.' as a path component")]
    [InlineData("eng/../ops", "'..' as a path component")]
    [InlineData("*/eng", "'*' as a path component")]
    [InlineData("eng/*", "'*' as a path component")]
    [InlineData("-eng", "starting with '-'")]
    [InlineData("eng/-dev", "starting with '-'")]
    [InlineData("/eng", "cannot start or end with '/'")]
    [InlineData("eng/", "cannot start or end with '/'")]
    [InlineData("eng//dev", "contain '//'")]
    [InlineData("/", "cannot start or end with '/'")]
    [InlineData("en g", "invalid characters")]
    [InlineData("eng\t", "invalid characters")]
    [InlineData("eng\ndev", "invalid characters")]
    [InlineData("eng\rdev", "invalid characters")]
    [InlineData("eng\vdev", "invalid characters")]
    [InlineData("eng\fdev", "invalid characters")]
    [InlineData("eng\u007f", "invalid characters")]
    public void Invalid_roles(string role, string problem) =>
        ResourceValidation.ValidateRole(role).Should().Contain(problem);

    [Fact]
    public void A_null_role_is_invalid() => ResourceValidation.ValidateRole(null).Should().Contain("Empty role name");

    [Theory]
    [InlineData("cpus")]
    [InlineData("my-resource.v2")]
    [InlineData("gpus/nvidia")]
    public void Valid_resource_names(string name) => ResourceValidation.ValidateName(name).Should().BeNull();

    [Theory]
    [InlineData(null, "Empty resource name")]
    [InlineData("", "Empty resource name")]
    [InlineData("  ", "Empty resource name")]
    [InlineData("cp us", "invalid characters")]
    [InlineData("cpus:", "invalid characters")]
    [InlineData("cpus;", "invalid characters")]
    [InlineData("cpus(eng)", "invalid characters")]
    [InlineData("ports[", "invalid characters")]
    [InlineData("set{", "invalid characters")]
    public void Invalid_resource_names(string? name, string problem) =>
        ResourceValidation.ValidateName(name).Should().Contain(problem);

    [Fact]
    public void A_well_formed_reserved_and_allocated_resource_is_valid()
    {
        var resource = Resource.ScalarOf("cpus", 2, new ReservationInfo(ReservationType.Static, "eng"), new ReservationInfo(ReservationType.Dynamic, "eng/dev", "alice"))
            .WithAllocationRole("eng/dev");

        ResourceValidation.Validate(resource).Should().BeNull();
    }

    [Fact]
    public void Negative_scalars_are_invalid() =>
        ResourceValidation.Validate(Resource.ScalarMilliOf("cpus", -1)).Should().Contain("negative");

    [Fact]
    public void Reserving_to_the_star_role_is_invalid() =>
        ResourceValidation.Validate(Resource.ScalarOf("cpus", 1, new ReservationInfo(ReservationType.Dynamic, "*"))).Should().Contain("cannot be reserved to role '*'");

    [Fact]
    public void Reservations_and_allocations_must_name_valid_roles()
    {
        ResourceValidation.Validate(Resource.ScalarOf("cpus", 1, new ReservationInfo(ReservationType.Static, "-eng"))).Should().Contain("'-'");
        ResourceValidation.Validate(Resource.ScalarOf("cpus", 1).WithAllocationRole("a//b")).Should().Contain("'//'");
    }

    [Fact]
    public void Empty_set_items_are_invalid() =>
        ResourceValidation.Validate(Resource.SetOf("devices", ["a", ""])).Should().Contain("empty set item");

    [Fact]
    public void One_name_cannot_have_two_types()
    {
        Resource[] resources = [Resource.RangesOf("ports", ValueRanges.Of(new ValueRange(1, 2))), Resource.ScalarOf("ports", 3)];

        ResourceValidation.Validate(resources).Should().Contain("same name ('ports') but different types");
        ResourceValidation.Validate(resources.Take(1)).Should().BeNull();
    }
}
