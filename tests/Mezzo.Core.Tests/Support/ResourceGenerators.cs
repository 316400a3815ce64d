using FsCheck;
using FsCheck.Fluent;
using Mezzo.Core.Resources;

namespace Mezzo.Core.Tests;

using Resources = Mezzo.Core.Resources.Resources;

/// <summary>
/// FsCheck generators for the resource model. Values are kept small (ports in a 64-wide window, five set items, a few
/// roles) so that random operands overlap often enough for the interesting cases (merging, partial subtraction,
/// containment) to come up, and so that ranges can be checked against an explicit set of integers.
/// </summary>
public static class ResourceGenerators
{
    public const ulong PortOrigin = 31000;
    public const int PortSpan = 64;

    public static readonly string[] ScalarNames = ["cpus", "mem", "disk", "gpus"];

    public static readonly string[] SetUniverse = ["a", "b", "c", "d", "e"];

    public static readonly string[] Roles = ["eng", "ops", "eng/dev"];

    private static readonly ReservationInfo[][] ReservationStacks =
    [
        [],
        [],
        [],
        [new ReservationInfo(ReservationType.Static, "eng")],
        [new ReservationInfo(ReservationType.Static, "ops")],
        [new ReservationInfo(ReservationType.Dynamic, "eng", "alice")],
        [new ReservationInfo(ReservationType.Dynamic, "eng")],
        [new ReservationInfo(ReservationType.Static, "eng"), new ReservationInfo(ReservationType.Dynamic, "eng/dev", "bob")],
    ];

    public static Gen<ReservationInfo[]> Reservations() => Gen.Elements(ReservationStacks);

    public static Gen<string?> AllocationRoles() => Gen.Elements<string?>(null, null, null, null, "eng", "ops");

    /// <summary>Positive thousandths: tiny (precision edge), arbitrary, and whole units.</summary>
    public static Gen<long> Milli() => Gen.Frequency(
        (2, Gen.Choose(1, 9).Select(i => (long)i)),
        (5, Gen.Choose(1, 100_000).Select(i => (long)i)),
        (3, Gen.Choose(1, 64).Select(i => i * 1000L)));

    /// <summary>Up to <paramref name="maxCount"/> random ranges inside [origin, origin + span).</summary>
    public static Gen<ValueRange[]> RawRanges(ulong origin, int span, int maxCount) =>
        from count in Gen.Choose(0, maxCount)
        from pairs in Gen.ArrayOf(
            from begin in Gen.Choose(0, span - 1)
            from length in Gen.Frequency((3, Gen.Choose(0, 3)), (1, Gen.Choose(0, span / 2)))
            select new ValueRange(origin + (ulong)begin, origin + (ulong)Math.Min(begin + length, span - 1)),
            count)
        select pairs;

    public static Gen<ValueRanges> Ranges(ulong origin, int span, int maxCount) =>
        RawRanges(origin, span, maxCount).Select(r => ValueRanges.Of(r));

    public static Gen<string[]> SetItems() => Gen.SubListOf(SetUniverse).Select(items => items.ToArray());

    /// <summary>One resource: a scalar (cpus/mem/disk/gpus), ports ranges or a "devices" set, maybe reserved and allocated.</summary>
    public static Gen<Resource> Resource(bool allowAllocation = true) =>
        from kind in Gen.Choose(0, 5)
        from reservations in Reservations()
        from allocation in allowAllocation ? AllocationRoles() : Gen.Constant<string?>(null)
        from milli in Milli()
        from ranges in Ranges(PortOrigin, PortSpan, 3)
        from items in SetItems()
        select (kind switch
        {
            < 4 => Core.Resources.Resource.ScalarMilliOf(ScalarNames[kind], milli, reservations),
            4 => Core.Resources.Resource.RangesOf("ports", ranges, reservations),
            _ => Core.Resources.Resource.SetOf("devices", items, reservations),
        }).WithAllocationRole(allocation);

    public static Gen<Resources> Resources(bool allowAllocation = true, int maxItems = 7) =>
        from count in Gen.Choose(0, maxItems)
        from items in Gen.ArrayOf(Resource(allowAllocation), count)
        select new Resources(items);

    /// <summary>Shrinks by dropping one resource at a time, so counterexamples come out minimal.</summary>
    public static IEnumerable<Resources> Shrink(Resources resources) =>
        Enumerable.Range(0, resources.Count).Select(skip => new Resources(resources.Where((_, i) => i != skip)));
}

/// <summary>Raw, unnormalized ranges (may overlap, touch or repeat), as a caller would hand them to <see cref="ValueRanges.Of"/>.</summary>
public sealed record RawRanges(ValueRange[] Items)
{
    public override string ToString() => "[" + string.Join(", ", Items.Select(r => r.ToString())) + "]";
}

/// <summary>The arbitraries that <c>[Property]</c> tests get for their parameters.</summary>
public static class ResourceArbitraries
{
    public const int SmallSpan = 40;

    public static Arbitrary<Resources> AnyResources() =>
        Arb.From(ResourceGenerators.Resources(), ResourceGenerators.Shrink);

    /// <summary>Ranges over [0, 40): small enough to enumerate, dense enough to overlap and touch.</summary>
    public static Arbitrary<ValueRanges> SmallValueRanges() =>
        Arb.From(ResourceGenerators.Ranges(0, SmallSpan, 5), ranges => ranges.Items.Select((_, skip) => ValueRanges.Of(ranges.Where((_, i) => i != skip))));

    public static Arbitrary<RawRanges> AnyRawRanges() =>
        Arb.From(
            ResourceGenerators.RawRanges(0, SmallSpan, 6).Select(r => new RawRanges(r)),
            raw => raw.Items.Select((_, skip) => new RawRanges([.. raw.Items.Where((_, i) => i != skip)])));

    public static Arbitrary<RoleName> AnyRole() => Arb.From(Gen.Elements(ResourceGenerators.Roles).Select(role => new RoleName(role)));
}

/// <summary>A valid role name for properties that allocate.</summary>
public sealed record RoleName(string Value)
{
    public override string ToString() => Value;
}
