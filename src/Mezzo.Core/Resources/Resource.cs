using System.Globalization;
using System.Text;

namespace Mezzo.Core.Resources;

public enum ResourceType
{
    Scalar,
    Ranges,
    Set,
}

public enum ReservationType
{
    Static,
    Dynamic,
}

/// <summary>One level of a (possibly refined) reservation; the last one in a stack is the one that applies.</summary>
public sealed record ReservationInfo(ReservationType Type, string Role, string? Principal = null)
{
    public override string ToString() => Principal is null
        ? $"({(Type == ReservationType.Static ? "STATIC" : "DYNAMIC")},{Role})"
        : $"({(Type == ReservationType.Static ? "STATIC" : "DYNAMIC")},{Role},{Principal})";
}

/// <summary>
/// One Mesos resource. Scalars are kept in fixed point (thousandths) exactly as Mesos does, so 0.1 + 0.2 == 0.3 and
/// repeated add/subtract never drifts. Two resources with the same identity (name, type, reservations, allocation
/// role) combine; anything else stays apart.
/// </summary>
public sealed record Resource
{
    private Resource(string name, ResourceType type, long milli, ValueRanges ranges, string[] set, ReservationInfo[] reservations, string? allocationRole)
    {
        Name = name;
        Type = type;
        ScalarMilli = milli;
        Ranges = ranges;
        SetItems = set;
        ReservationStack = reservations;
        AllocationRole = allocationRole;
    }

    public string Name { get; }

    public ResourceType Type { get; }

    /// <summary>The scalar in thousandths (Mesos's fixed-point representation).</summary>
    public long ScalarMilli { get; }

    public double Scalar => ScalarMilli / 1000.0;

    public ValueRanges Ranges { get; }

    /// <summary>Set items, sorted and distinct.</summary>
    public IReadOnlyList<string> Set => SetItems;

    public IReadOnlyList<ReservationInfo> Reservations => ReservationStack;

    /// <summary>The role this resource is allocated to (offered/used), or null while it sits in the pool.</summary>
    public string? AllocationRole { get; }

    /// <summary>The role that owns the resource: the innermost reservation's role, or "*" when unreserved.</summary>
    public string Role => ReservationStack.Length == 0 ? "*" : ReservationStack[^1].Role;

    public bool IsReserved => ReservationStack.Length > 0;

    public bool IsEmpty => Type switch
    {
        ResourceType.Scalar => ScalarMilli <= 0,
        ResourceType.Ranges => Ranges.IsEmpty,
        _ => SetItems.Length == 0,
    };

    private string[] SetItems { get; }

    private ReservationInfo[] ReservationStack { get; }

    /// <summary>Converts like Mesos's <c>convertToFixed</c>: round to the nearest thousandth.</summary>
    public static long ToMilli(double value)
    {
        if (!double.IsFinite(value))
        {
            throw new ArgumentOutOfRangeException(nameof(value), value, "Scalar resource values must be finite");
        }

        return (long)Math.Round(value * 1000, MidpointRounding.AwayFromZero);
    }

    public static Resource ScalarOf(string name, double value, params IEnumerable<ReservationInfo> reservations) =>
        new(name, ResourceType.Scalar, ToMilli(value), ValueRanges.Empty, [], [.. reservations], null);

    public static Resource ScalarMilliOf(string name, long milli, params IEnumerable<ReservationInfo> reservations) =>
        new(name, ResourceType.Scalar, milli, ValueRanges.Empty, [], [.. reservations], null);

    public static Resource RangesOf(string name, ValueRanges ranges, params IEnumerable<ReservationInfo> reservations) =>
        new(name, ResourceType.Ranges, 0, ranges, [], [.. reservations], null);

    public static Resource SetOf(string name, IEnumerable<string> items, params IEnumerable<ReservationInfo> reservations) =>
        new(name, ResourceType.Set, 0, ValueRanges.Empty, NormalizeSet(items), [.. reservations], null);

    public Resource WithAllocationRole(string? role) =>
        role == AllocationRole ? this : new(Name, Type, ScalarMilli, Ranges, SetItems, ReservationStack, role);

    public Resource WithReservations(IEnumerable<ReservationInfo> reservations) =>
        new(Name, Type, ScalarMilli, Ranges, SetItems, [.. reservations], AllocationRole);

    /// <summary>Whether the innermost reservation is dynamic (made by RESERVE, undone by UNRESERVE).</summary>
    public bool IsDynamicallyReserved => ReservationStack.Length > 0 && ReservationStack[^1].Type == ReservationType.Dynamic;

    /// <summary>Mesos's <c>popReservation</c>: the resource as it was before its innermost reservation.</summary>
    public Resource PopReservation() =>
        ReservationStack.Length == 0 ? this : new(Name, Type, ScalarMilli, Ranges, SetItems, ReservationStack[..^1], AllocationRole);

    /// <summary>Mesos's <c>addable</c>/<c>subtractable</c>: same name, type, reservations and allocation.</summary>
    public bool SameIdentity(Resource other) =>
        Name == other.Name && Type == other.Type && AllocationRole == other.AllocationRole
        && ReservationStack.AsSpan().SequenceEqual(other.ReservationStack);

    /// <summary>Whether this single resource covers <paramref name="other"/> (Mesos's <c>contains(left, right)</c>).</summary>
    public bool Contains(Resource other) => SameIdentity(other) && Type switch
    {
        ResourceType.Scalar => ScalarMilli >= other.ScalarMilli,
        ResourceType.Ranges => Ranges.Contains(other.Ranges),
        _ => other.SetItems.All(item => Array.BinarySearch(SetItems, item, StringComparer.Ordinal) >= 0),
    };

    internal Resource Plus(Resource other) => Type switch
    {
        ResourceType.Scalar => new(Name, Type, checked(ScalarMilli + other.ScalarMilli), Ranges, SetItems, ReservationStack, AllocationRole),
        ResourceType.Ranges => new(Name, Type, 0, Ranges.Add(other.Ranges), SetItems, ReservationStack, AllocationRole),
        _ => new(Name, Type, 0, Ranges, NormalizeSet(SetItems.Concat(other.SetItems)), ReservationStack, AllocationRole),
    };

    internal Resource Minus(Resource other) => Type switch
    {
        ResourceType.Scalar => new(Name, Type, ScalarMilli - other.ScalarMilli, Ranges, SetItems, ReservationStack, AllocationRole),
        ResourceType.Ranges => new(Name, Type, 0, Ranges.Subtract(other.Ranges), SetItems, ReservationStack, AllocationRole),
        _ => new(Name, Type, 0, Ranges, [.. SetItems.Except(other.SetItems, StringComparer.Ordinal)], ReservationStack, AllocationRole),
    };

    public bool Equals(Resource? other) =>
        other is not null && SameIdentity(other) && ScalarMilli == other.ScalarMilli && Ranges.Equals(other.Ranges)
        && SetItems.AsSpan().SequenceEqual(other.SetItems);

    public override int GetHashCode() => HashCode.Combine(Name, Type, ScalarMilli, Ranges, AllocationRole, ReservationStack.Length);

    /// <summary>Mesos's stringification, e.g. <c>cpus(reservations: [(STATIC,eng)]):2</c>.</summary>
    public override string ToString()
    {
        var text = new StringBuilder(Name);
        if (AllocationRole is not null)
        {
            text.Append("(allocated: ").Append(AllocationRole).Append(')');
        }

        if (ReservationStack.Length > 0)
        {
            text.Append("(reservations: [").Append(string.Join(",", ReservationStack.Select(r => r.ToString()))).Append("])");
        }

        text.Append(':').Append(FormatValue());
        return text.ToString();
    }

    public string FormatValue() => Type switch
    {
        ResourceType.Scalar => FormatMilli(ScalarMilli),
        ResourceType.Ranges => Ranges.ToString(),
        _ => "{" + string.Join(",", SetItems) + "}",
    };

    public static string FormatMilli(long milli) => (milli / 1000m).ToString("0.###", CultureInfo.InvariantCulture);

    private static string[] NormalizeSet(IEnumerable<string> items)
    {
        var set = new SortedSet<string>(items, StringComparer.Ordinal);
        return [.. set];
    }
}
