using AwesomeAssertions;
using FsCheck.Xunit;
using Mezzo.Core.Resources;

namespace Mezzo.Core.Tests;

using Resources = Mezzo.Core.Resources.Resources;

/// <summary>
/// The resource algebra as Mesos defines it (src/common/resources.cpp), checked on random resources: scalars in
/// thousandths, ports ranges, sets, static/dynamic/refined reservations and allocation roles.
/// </summary>
[Properties(Arbitrary = new[] { typeof(ResourceArbitraries) }, MaxTest = 300)]
public sealed class ResourceAlgebraProperties
{
    [Property]
    public void Add_agrees_with_the_reference_model(Resources a, Resources b) =>
        ResourceModel.Of(a + b).Should().Be(ResourceModel.Of(a).Add(ResourceModel.Of(b)), $"{a} + {b} = {a + b}");

    [Property]
    public void Subtract_agrees_with_the_reference_model(Resources a, Resources b) =>
        ResourceModel.Of(a - b).Should().Be(ResourceModel.Of(a).Subtract(ResourceModel.Of(b)), $"{a} - {b} = {a - b}");

    [Property]
    public void Contains_agrees_with_the_reference_model(Resources a, Resources x)
    {
        // Random pairs rarely contain each other, so also check pairs built to be (or almost be) contained.
        (Resources Left, Resources Right)[] pairs = [(a, x), (x, a), (a, a - x), (a - x, a), (a + x, a), (a, a + x)];
        foreach (var (left, right) in pairs)
        {
            left.Contains(right).Should().Be(
                ResourceModel.Of(left).Contains(ResourceModel.Of(right)),
                $"contains({left}, {right})");
        }
    }

    [Property]
    public void A_sum_contains_both_operands(Resources a, Resources b)
    {
        var sum = a + b;
        sum.Contains(a).Should().BeTrue($"{sum} should contain {a}");
        sum.Contains(b).Should().BeTrue($"{sum} should contain {b}");
    }

    [Property]
    public void Adding_then_subtracting_gives_back_the_original(Resources a, Resources b)
    {
        // Ranges and sets are sets: (a + b) - b == a only holds when b shares no port or item with a (same in Mesos).
        var nonScalar = b.Filter(r => r.Type != ResourceType.Scalar) - a.Filter(r => r.Type != ResourceType.Scalar);
        var disjoint = b.Filter(r => r.Type == ResourceType.Scalar) + nonScalar;

        var roundTrip = a + disjoint - disjoint;

        roundTrip.Equals(a).Should().BeTrue($"({a}) + ({disjoint}) - ({disjoint}) gave {roundTrip}");
        ResourceModel.Of(roundTrip).Should().Be(ResourceModel.Of(a));
    }

    [Property]
    public void Subtracting_a_contained_part_then_adding_it_back_gives_back_the_original(Resources a, Resources x)
    {
        var part = a - x;
        a.Contains(part).Should().BeTrue($"{a} should contain {a} - {x} = {part}");

        var restored = a - part + part;

        restored.Equals(a).Should().BeTrue($"({a} - {part}) + {part} gave {restored}");
    }

    [Property]
    public void Contains_is_reflexive_and_everything_contains_nothing(Resources a)
    {
        a.Contains(a).Should().BeTrue();
        a.Equals(a).Should().BeTrue();
        a.Contains(Resources.Empty).Should().BeTrue();
        Resources.Empty.Contains(a).Should().Be(a.IsEmpty);
        (a - a).IsEmpty.Should().BeTrue($"{a} - {a} should be empty");
    }

    [Property]
    public void Subtraction_never_leaves_empty_or_negative_resources(Resources a, Resources b)
    {
        var difference = a - b;

        difference.Should().OnlyContain(r => !r.IsEmpty && (r.Type != ResourceType.Scalar || r.ScalarMilli > 0));
        a.Contains(difference).Should().BeTrue($"{a} should contain {a} - {b} = {difference}");
        foreach (var name in ResourceGenerators.ScalarNames)
        {
            difference.ScalarMilli(name).Should().BeInRange(0, a.ScalarMilli(name));
        }
    }

    [Property]
    public void Subtracting_more_than_there_is_leaves_nothing(Resources a, Resources b)
    {
        var superset = a + b;

        (a - superset).IsEmpty.Should().BeTrue($"{a} - {superset} should be empty, was {a - superset}");
        (a - a - a).IsEmpty.Should().BeTrue();
    }

    [Property]
    public void Contains_is_transitive(Resources a, Resources x, Resources y)
    {
        var b = a - x;
        var c = b - y;

        a.Contains(b).Should().BeTrue();
        b.Contains(c).Should().BeTrue();
        a.Contains(c).Should().BeTrue($"{a} contains {b} which contains {c}");
    }

    [Property]
    public void Add_is_commutative(Resources a, Resources b)
    {
        var ab = a + b;
        var ba = b + a;

        ab.Equals(ba).Should().BeTrue($"{ab} vs {ba}");
        ab.GetHashCode().Should().Be(ba.GetHashCode(), "equal resources must hash alike");
    }

    [Property]
    public void Add_is_associative(Resources a, Resources b, Resources c)
    {
        var left = a + b + c;
        var right = a + (b + c);

        left.Equals(right).Should().BeTrue($"{left} vs {right}");
        left.GetHashCode().Should().Be(right.GetHashCode());
    }

    [Property]
    public void Equals_agrees_with_the_reference_model(Resources a, Resources x)
    {
        Resources[] candidates = [new Resources(a.Reverse()), a - x + x, a + x, a - x, x];
        foreach (var b in candidates)
        {
            var expected = ResourceModel.Of(a).Equals(ResourceModel.Of(b));
            a.Equals(b).Should().Be(expected, $"{a} vs {b}");
            b.Equals(a).Should().Be(expected, "equality is symmetric");
            if (expected)
            {
                a.GetHashCode().Should().Be(b.GetHashCode());
            }
        }
    }

    [Property]
    public void Adding_resources_one_by_one_equals_adding_them_all_at_once(Resources a, Resources b)
    {
        var oneByOne = b.Aggregate(a, (sum, resource) => sum.Add(resource));

        oneByOne.Equals(a + b).Should().BeTrue();
        b.Aggregate(a + b, (rest, resource) => rest.Subtract(resource)).Equals(a + b - b).Should().BeTrue();
    }

    [Property]
    public void Flatten_drops_every_reservation_and_keeps_the_totals(Resources a)
    {
        var flat = a.Flatten();

        flat.Should().OnlyContain(r => !r.IsReserved && r.Reservations.Count == 0);
        ResourceModel.Of(flat).Totals().Should().BeEquivalentTo(ResourceModel.Of(a).Totals());
        flat.Flatten().Equals(flat).Should().BeTrue("flatten is idempotent");
        flat.Contains(a.Unreserved).Should().BeTrue();
        a.Unreserved.Flatten().Equals(a.Unreserved).Should().BeTrue("unreserved resources are already flat");
        if (a.Any(r => r.IsReserved))
        {
            flat.Equals(a).Should().BeFalse($"flattening {a} must change it");
        }
    }

    [Property]
    public void AllocateTo_and_Unallocate_round_trip(Resources a, RoleName role)
    {
        var pool = a.Unallocate();
        var allocated = pool.AllocateTo(role.Value);

        pool.Should().OnlyContain(r => r.AllocationRole == null);
        allocated.Should().OnlyContain(r => r.AllocationRole == role.Value);
        allocated.Unallocate().Equals(pool).Should().BeTrue($"{allocated} unallocated should be {pool}");
        ResourceModel.Of(allocated).Totals().Should().BeEquivalentTo(ResourceModel.Of(pool).Totals());
        if (!pool.IsEmpty)
        {
            // Allocation is part of the identity: allocated and unallocated resources never cover one another.
            allocated.Contains(pool).Should().BeFalse();
            pool.Contains(allocated).Should().BeFalse();
        }
    }

    [Property]
    public void Unreserved_and_ReservedTo_split_the_resources(Resources a)
    {
        var unreserved = a.Unreserved;
        var reserved = a.Filter(r => r.IsReserved);

        (unreserved + reserved).Equals(a).Should().BeTrue();
        unreserved.Should().OnlyContain(r => r.Role == "*");
        foreach (var role in ResourceGenerators.Roles)
        {
            a.ReservedTo(role).Should().OnlyContain(r => r.IsReserved && r.Role == role);
        }

        ResourceGenerators.Roles.Aggregate(Resources.Empty, (sum, role) => sum + a.ReservedTo(role)).Equals(reserved).Should().BeTrue();
    }

    [Property]
    public void Text_form_of_unreserved_resources_parses_back(Resources a)
    {
        var plain = a.Unallocate().Unreserved;

        var parsed = ResourceParser.Parse(plain.ToString());

        parsed.Equals(plain).Should().BeTrue($"'{plain}' parsed as {parsed}");
    }
}
