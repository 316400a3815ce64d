using Mezzo.Core.Resources;
using Wire = Mezzo.Protocol.V1;

namespace Mezzo.Protocol.Tests.Conversion;

/// <summary>Wire <c>Resource</c>/<c>Attribute</c> messages to and from Mezzo.Core's resource model, and their validation.</summary>
public sealed class ResourceConversionTests
{
    [Fact]
    public void Scalar_ranges_and_set_convert_to_core_values()
    {
        var core = ResourceConversion.ToCore(
        [
            Scalar("cpus", 1.5),
            Scalar("mem", 2048),
            Ranges("ports", (31000, 31099), (31200, 31200)),
            Set("gpus_ids", "gpu1", "gpu0"),
        ]);

        core.Cpus.Should().Be(1.5);
        core.Mem.Should().Be(2048);
        core.Ports.Should().Equal(new ValueRange(31000, 31099), new ValueRange(31200, 31200));
        core.Single(r => r.Name == "gpus_ids").Set.Should().Equal("gpu0", "gpu1");
        core.Should().OnlyContain(r => !r.IsReserved && r.AllocationRole == null);
    }

    [Fact]
    public void Scalars_are_kept_to_three_decimals_as_Mesos_does()
    {
        var core = ResourceConversion.ToCore([Scalar("cpus", 0.1), Scalar("cpus", 0.2), Scalar("mem", 1.23456)]);

        core.Cpus.Should().Be(0.3);
        core.ScalarMilli("mem").Should().Be(1235);
        ResourceConversion.ToWire(core).Single(r => r.Name == "mem").Scalar!.Value.Should().Be(1.235);
    }

    [Fact]
    public void Overlapping_and_adjacent_ranges_are_coalesced()
    {
        var core = ResourceConversion.ToCore([Ranges("ports", (10, 20), (15, 30), (31, 40), (50, 50))]);

        core.Ports.Should().Equal(new ValueRange(10, 40), new ValueRange(50, 50));
    }

    [Fact]
    public void Reservations_and_allocation_convert_both_ways()
    {
        var wire = new List<Wire.Resource> { Scalar("cpus", 4) };
        wire[0].Reservations = [new Wire.ResourceReservationInfo { Type = Wire.ReservationInfoType.STATIC, Role = "eng" }];
        wire.Add(Scalar("mem", 512));
        wire[1].Reservations =
        [
            new Wire.ResourceReservationInfo { Type = Wire.ReservationInfoType.DYNAMIC, Role = "eng", Principal = "ops" },
            new Wire.ResourceReservationInfo { Type = Wire.ReservationInfoType.DYNAMIC, Role = "eng/web", Principal = "web-fw" },
        ];
        wire[1].AllocationInfo = new Wire.ResourceAllocationInfo { Role = "eng/web" };
        wire.Add(Scalar("disk", 100));

        var core = ResourceConversion.ToCore(wire);

        var cpus = core.Single(r => r.Name == "cpus");
        cpus.Reservations.Should().Equal(new ReservationInfo(ReservationType.Static, "eng"));
        cpus.Role.Should().Be("eng");
        var mem = core.Single(r => r.Name == "mem");
        mem.Reservations.Should().Equal(
            new ReservationInfo(ReservationType.Dynamic, "eng", "ops"),
            new ReservationInfo(ReservationType.Dynamic, "eng/web", "web-fw"));
        mem.Role.Should().Be("eng/web");
        mem.AllocationRole.Should().Be("eng/web");
        core.Single(r => r.Name == "disk").IsReserved.Should().BeFalse();

        var back = ResourceConversion.ToWire(core);
        var memBack = back.Single(r => r.Name == "mem");
        memBack.Reservations!.Select(r => (r.Type, r.Role, r.Principal)).Should().Equal(
            (Wire.ReservationInfoType.DYNAMIC, "eng", "ops"),
            (Wire.ReservationInfoType.DYNAMIC, "eng/web", "web-fw"));
        memBack.AllocationInfo!.Role.Should().Be("eng/web");
        memBack.Role.Should().Be("eng/web", "the deprecated role field carries the current reservation's role");
        back.Single(r => r.Name == "disk").Role.Should().Be("*");
        back.Single(r => r.Name == "disk").Reservations.Should().BeNull();

        ResourceConversion.ToCore(back).Should().Equal(core);
    }

    [Fact]
    public void The_deprecated_role_field_alone_is_a_static_reservation()
    {
        var legacy = Scalar("cpus", 2);
        legacy.Role = "eng";
        var unreserved = Scalar("mem", 64);
        unreserved.Role = "*";

        var core = ResourceConversion.ToCore([legacy, unreserved]);

        core.Single(r => r.Name == "cpus").Reservations.Should().Equal(new ReservationInfo(ReservationType.Static, "eng"));
        core.Single(r => r.Name == "mem").IsReserved.Should().BeFalse();
    }

    [Fact]
    public void Core_resources_survive_a_round_trip_through_the_wire_and_JSON()
    {
        var core = Resources.Parse("cpus:4;mem:8192.5;disk(eng):1000;ports:[31000-32000,33000-33010];zones:{a,b,c}")
            + new Resources([Resource.ScalarOf("gpus", 1, new ReservationInfo(ReservationType.Dynamic, "ml", "ops"), new ReservationInfo(ReservationType.Dynamic, "ml/train"))]);
        var allocated = core.AllocateTo("eng");

        foreach (var resources in new[] { core, allocated })
        {
            var json = MesosJson.Serialize(ResourceConversion.ToWire(resources));
            var back = ResourceConversion.ToCore(MesosJson.Deserialize<List<Wire.Resource>>(json)!);

            back.Should().Equal(resources, $"via {json}");
            back.Should().HaveCount(resources.Count);
        }
    }

    [Fact]
    public void Attributes_convert_both_ways()
    {
        var attributes = AttributeParser.Parse("rack:r1;weight:2.5;slots:[1-4,8-8];zones:{a,b}");

        var wire = ResourceConversion.ToWire(attributes);
        wire.Select(a => a.Type).Should().Equal(Wire.ValueType.TEXT, Wire.ValueType.SCALAR, Wire.ValueType.RANGES, Wire.ValueType.SET);

        var json = MesosJson.Serialize(wire);
        var back = ResourceConversion.ToCore(MesosJson.Deserialize<List<Wire.Attribute>>(json)!);
        back.Select(a => a.ToString()).Should().Equal(attributes.Select(a => a.ToString()));
    }

    [Theory]
    [InlineData("""[{"type":"TEXT","text":{"value":"r1"}}]""", "Attribute is missing 'name'")]
    [InlineData("""[{"name":"rack","type":"TEXT"}]""", "Attribute 'rack' has a missing or mismatched value for its type")]
    [InlineData("""[{"name":"rack","type":"SCALAR","text":{"value":"r1"}}]""", "Attribute 'rack' has a missing or mismatched value for its type")]
    [InlineData("""[{"name":"rack"}]""", "Attribute 'rack' has a missing or mismatched value for its type")]
    [InlineData("""[{"name":"slots","type":"RANGES","ranges":{"range":[{"begin":5,"end":1}]}}]""", "Attribute 'slots' has an invalid range")]
    [InlineData("""[{"name":"slots","type":"RANGES","ranges":{"range":[{"begin":5}]}}]""", "Attribute 'slots' has an invalid range")]
    public void Invalid_attributes_are_rejected_with_the_attribute_named(string json, string message)
    {
        var wire = MesosJson.Deserialize<List<Wire.Attribute>>(json)!;

        var act = () => ResourceConversion.ToCore(wire);

        act.Should().Throw<FormatException>().WithMessage(message);
    }

    public static TheoryData<string, Wire.Resource, string> InvalidResources => new()
    {
        { "negative scalar", Scalar("cpus", -1), "Resource 'cpus' has a negative scalar value -1" },
        { "NaN scalar", Scalar("cpus", double.NaN), "Resource 'cpus' has an invalid scalar value *" },
        { "infinite scalar", Scalar("mem", double.PositiveInfinity), "Resource 'mem' has an invalid scalar value *" },
        { "huge scalar", Scalar("mem", 1e17), "Resource 'mem' has a scalar value that is too large" },
        { "SCALAR without scalar", new Wire.Resource { Name = "cpus", Type = Wire.ValueType.SCALAR }, "Resource 'cpus' of type SCALAR is missing 'scalar.value'" },
        { "SCALAR with empty scalar", new Wire.Resource { Name = "cpus", Type = Wire.ValueType.SCALAR, Scalar = new Wire.ValueScalar() }, "Resource 'cpus' of type SCALAR is missing 'scalar.value'" },
        { "begin > end", Ranges("ports", (31000, 30000)), "Resource 'ports' has a range 31000-30000 that begins after it ends" },
        { "range without end", new Wire.Resource { Name = "ports", Type = Wire.ValueType.RANGES, Ranges = new Wire.ValueRanges { Range = [new Wire.ValueRange { Begin = 1 }] } }, "Resource 'ports' has a range without 'begin' or 'end'" },
        { "null range", new Wire.Resource { Name = "ports", Type = Wire.ValueType.RANGES, Ranges = new Wire.ValueRanges { Range = [null!] } }, "Resource 'ports' has a range without 'begin' or 'end'" },
        { "RANGES without ranges", new Wire.Resource { Name = "ports", Type = Wire.ValueType.RANGES }, "Resource 'ports' of type RANGES is missing 'ranges.range'" },
        { "RANGES with scalar", new Wire.Resource { Name = "ports", Type = Wire.ValueType.RANGES, Ranges = new Wire.ValueRanges { Range = [] }, Scalar = new Wire.ValueScalar { Value = 1 } }, "Resource 'ports' of type RANGES must not carry 'scalar' or 'set'" },
        { "SET without set", new Wire.Resource { Name = "zones", Type = Wire.ValueType.SET }, "Resource 'zones' of type SET is missing 'set.item'" },
        { "SET with an empty item", Set("zones", "a", ""), "Resource 'zones' has an empty set item" },
        { "SET with ranges", new Wire.Resource { Name = "zones", Type = Wire.ValueType.SET, Set = new Wire.ValueSet { Item = ["a"] }, Ranges = new Wire.ValueRanges { Range = [] } }, "Resource 'zones' of type SET must not carry 'scalar' or 'ranges'" },
        { "missing type", new Wire.Resource { Name = "cpus", Scalar = new Wire.ValueScalar { Value = 1 } }, "Resource 'cpus' is missing 'type'" },
        { "TEXT type", new Wire.Resource { Name = "os", Type = Wire.ValueType.TEXT }, "Resource 'os' has unsupported type TEXT" },
        { "missing name", new Wire.Resource { Type = Wire.ValueType.SCALAR, Scalar = new Wire.ValueScalar { Value = 1 } }, "Empty resource name" },
        { "name with a colon", Scalar("cpus:1", 1), "Resource name 'cpus:1' contains invalid characters" },
        { "reservation to *", Reserved(Scalar("cpus", 1), (Wire.ReservationInfoType.STATIC, "*")), "Resource 'cpus' has a reservation with an invalid role '*'" },
        { "reservation without type", Reserved(Scalar("cpus", 1), (null, "eng")), "Resource 'cpus' has a reservation without a STATIC or DYNAMIC 'type'" },
        { "reservation of type UNKNOWN", Reserved(Scalar("cpus", 1), (Wire.ReservationInfoType.UNKNOWN, "eng")), "Resource 'cpus' has a reservation without a STATIC or DYNAMIC 'type'" },
        { "reservation without role", Reserved(Scalar("cpus", 1), (Wire.ReservationInfoType.DYNAMIC, null)), "Resource 'cpus' has a reservation with an invalid role ''" },
        { "reservation role ..", Reserved(Scalar("cpus", 1), (Wire.ReservationInfoType.DYNAMIC, "eng/..")), "Resource 'cpus' has a reservation with an invalid role 'eng/..'" },
        { "STATIC refinement", Reserved(Scalar("cpus", 1), (Wire.ReservationInfoType.STATIC, "eng"), (Wire.ReservationInfoType.STATIC, "eng/web")), "Resource 'cpus' has a refined reservation in 'reservations' that is not DYNAMIC" },
        { "refinement to a sibling", Reserved(Scalar("cpus", 1), (Wire.ReservationInfoType.STATIC, "eng"), (Wire.ReservationInfoType.DYNAMIC, "ops")), "Resource 'cpus' has a reservation for role 'ops' in 'reservations' that is not a refinement of 'eng'" },
        { "refinement to a prefix", Reserved(Scalar("cpus", 1), (Wire.ReservationInfoType.STATIC, "eng"), (Wire.ReservationInfoType.DYNAMIC, "engineering")), "Resource 'cpus' has a reservation for role 'engineering' in 'reservations' that is not a refinement of 'eng'" },
        { "refinement to itself", Reserved(Scalar("cpus", 1), (Wire.ReservationInfoType.DYNAMIC, "eng"), (Wire.ReservationInfoType.DYNAMIC, "eng")), "Resource 'cpus' has a reservation for role 'eng' in 'reservations' that is not a refinement of 'eng'" },
        { "refinement to the parent", Reserved(Scalar("cpus", 1), (Wire.ReservationInfoType.DYNAMIC, "eng/web"), (Wire.ReservationInfoType.DYNAMIC, "eng")), "Resource 'cpus' has a reservation for role 'eng' in 'reservations' that is not a refinement of 'eng/web'" },
        { "role contradicting reservations", WithRole(Reserved(Scalar("cpus", 1), (Wire.ReservationInfoType.STATIC, "eng")), "ops"), "Resource 'cpus' has 'role' 'ops' that does not match the role 'eng' in 'reservations'" },
        { "role * with reservations", WithRole(Reserved(Scalar("cpus", 1), (Wire.ReservationInfoType.STATIC, "eng")), "*"), "Resource 'cpus' has 'role' '*' that does not match the role 'eng' in 'reservations'" },
        { "invalid legacy role", WithRole(Scalar("cpus", 1), "-eng"), "Resource 'cpus': Role '-eng' cannot have a path component starting with '-'" },
        { "invalid allocation role", Allocated(Scalar("cpus", 1), "a b"), "Resource 'cpus' has an invalid 'allocation_info.role': Role 'a b' contains invalid characters*" },
        { "empty allocation role", Allocated(Scalar("cpus", 1), ""), "Resource 'cpus' has an invalid 'allocation_info.role': Empty role name is invalid" },
    };

    [Theory]
    [MemberData(nameof(InvalidResources))]
    public void Invalid_resources_are_rejected_with_a_message_naming_resource_and_field(string because, Wire.Resource resource, string message)
    {
        ResourceConversion.Validate(resource).Should().Match(message, because);
        ResourceConversion.Validate([Scalar("mem", 1), resource]).Should().Match(message, because);

        var act = () => ResourceConversion.ToCore([resource]);
        act.Should().Throw<FormatException>(because).WithMessage(message);
    }

    [Fact]
    public void A_scalar_that_also_carries_ranges_or_a_set_is_rejected()
    {
        var withRanges = Scalar("cpus", 1);
        withRanges.Ranges = new Wire.ValueRanges { Range = [new Wire.ValueRange { Begin = 1, End = 2 }] };
        var withSet = Scalar("cpus", 1);
        withSet.Set = new Wire.ValueSet { Item = ["a"] };

        ResourceConversion.Validate(withRanges).Should().Be("Resource 'cpus' of type SCALAR must not carry 'ranges' or 'set'");
        ResourceConversion.Validate(withSet).Should().Be("Resource 'cpus' of type SCALAR must not carry 'ranges' or 'set'");
    }

    [Fact]
    public void Volumes_revocable_and_shared_resources_are_rejected_as_unsupported()
    {
        var volume = Scalar("disk", 1);
        volume.Disk = System.Text.Json.Nodes.JsonNode.Parse("""{"persistence":{"id":"v1"}}""");
        var revocable = Scalar("cpus", 1);
        revocable.Revocable = new System.Text.Json.Nodes.JsonObject();
        var shared = Scalar("disk", 1);
        shared.Shared = new System.Text.Json.Nodes.JsonObject();

        ResourceConversion.Validate(volume).Should().Be("Resource 'disk': disk info, revocable and shared resources are not supported");
        ResourceConversion.Validate(revocable).Should().Be("Resource 'cpus': disk info, revocable and shared resources are not supported");
        ResourceConversion.Validate(shared).Should().Be("Resource 'disk': disk info, revocable and shared resources are not supported");
    }

    [Fact]
    public void A_name_used_with_two_types_is_rejected()
    {
        var error = ResourceConversion.Validate([Ranges("ports", (1, 2)), Scalar("ports", 3)]);

        error.Should().Be("Resources with the same name ('ports') but different types are not allowed");
    }

    [Fact]
    public void A_null_entry_in_the_list_is_rejected()
    {
        ResourceConversion.Validate([Scalar("cpus", 1), null!]).Should().Be("Resource must not be null");
    }

    [Fact]
    public void Valid_edge_cases_pass_validation()
    {
        // Zero, an empty range list and an empty set are valid (and empty); a single-value range; a refined DYNAMIC
        // reservation whose 'role' echoes the current reservation, as Mezzo's own offers carry it.
        var refined = Reserved(Scalar("cpus", 1), (Wire.ReservationInfoType.STATIC, "eng"), (Wire.ReservationInfoType.DYNAMIC, "eng/web"), (Wire.ReservationInfoType.DYNAMIC, "eng/web/a"));
        refined.Role = "eng/web/a";
        Wire.Resource[] valid =
        [
            Scalar("cpus", 0),
            new Wire.Resource { Name = "ports", Type = Wire.ValueType.RANGES, Ranges = new Wire.ValueRanges { Range = [] } },
            Ranges("ephemeral_ports", (0, 0), (ulong.MaxValue, ulong.MaxValue)),
            new Wire.Resource { Name = "zones", Type = Wire.ValueType.SET, Set = new Wire.ValueSet { Item = [] } },
            refined,
        ];

        foreach (var resource in valid)
        {
            ResourceConversion.Validate(resource).Should().BeNull(MesosJson.Serialize(resource));
        }

        var core = ResourceConversion.ToCore(valid);
        core.Single(r => r.Name == "cpus").Role.Should().Be("eng/web/a");
        core.Should().NotContain(r => r.Name == "ports" || r.Name == "zones", "empty resources are dropped");
    }

    [Fact]
    public void Invalid_wire_JSON_is_rejected_through_the_whole_path()
    {
        const string json = """
            [{"name":"cpus","type":"SCALAR","scalar":{"value":-0.5}},
             {"name":"ports","type":"RANGES","ranges":{"range":[{"begin":2,"end":1}]}}]
            """;

        var act = () => ResourceConversion.ToCore(MesosJson.Deserialize<List<Wire.Resource>>(json)!);

        act.Should().Throw<FormatException>().WithMessage("Resource 'cpus' has a negative scalar value -0.5");
    }

    private static Wire.Resource Scalar(string name, double value) =>
        new() { Name = name, Type = Wire.ValueType.SCALAR, Scalar = new Wire.ValueScalar { Value = value } };

    private static Wire.Resource Ranges(string name, params (ulong Begin, ulong End)[] ranges) =>
        new()
        {
            Name = name,
            Type = Wire.ValueType.RANGES,
            Ranges = new Wire.ValueRanges { Range = [.. ranges.Select(r => new Wire.ValueRange { Begin = r.Begin, End = r.End })] },
        };

    private static Wire.Resource Set(string name, params string[] items) =>
        new() { Name = name, Type = Wire.ValueType.SET, Set = new Wire.ValueSet { Item = [.. items] } };

    private static Wire.Resource Reserved(Wire.Resource resource, params (Wire.ReservationInfoType? Type, string? Role)[] stack)
    {
        resource.Reservations = [.. stack.Select(r => new Wire.ResourceReservationInfo { Type = r.Type, Role = r.Role })];
        return resource;
    }

    private static Wire.Resource WithRole(Wire.Resource resource, string role)
    {
        resource.Role = role;
        return resource;
    }

    private static Wire.Resource Allocated(Wire.Resource resource, string role)
    {
        resource.AllocationInfo = new Wire.ResourceAllocationInfo { Role = role };
        return resource;
    }
}
