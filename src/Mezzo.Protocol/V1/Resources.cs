namespace Mezzo.Protocol.V1;

public enum ValueType
{
    SCALAR = 0,
    RANGES = 1,
    SET = 2,
    TEXT = 3,
}

public sealed class ValueScalar
{
    public double? Value { get; set; }
}

public sealed class ValueRange
{
    public ulong? Begin { get; set; }

    public ulong? End { get; set; }
}

public sealed class ValueRanges
{
    public List<ValueRange>? Range { get; set; }
}

public sealed class ValueSet
{
    public List<string>? Item { get; set; }
}

public sealed class ValueText
{
    public string? Value { get; set; }
}

public enum ReservationInfoType
{
    UNKNOWN = 0,
    STATIC = 1,
    DYNAMIC = 2,
}

public sealed class ResourceReservationInfo
{
    public ReservationInfoType? Type { get; set; }

    public string? Role { get; set; }

    public string? Principal { get; set; }

    public Labels? Labels { get; set; }
}

public sealed class ResourceAllocationInfo
{
    public string? Role { get; set; }
}

public sealed class Resource
{
    public string? Name { get; set; }

    public ValueType? Type { get; set; }

    public ValueScalar? Scalar { get; set; }

    public ValueRanges? Ranges { get; set; }

    public ValueSet? Set { get; set; }

    /// <summary>Deprecated pre-1.4 reservation role; still read so older schedulers keep working.</summary>
    public string? Role { get; set; }

    public ResourceAllocationInfo? AllocationInfo { get; set; }

    public List<ResourceReservationInfo>? Reservations { get; set; }

    /// <summary>Persistent volumes, revocable and shared resources are not supported; kept to reject them clearly.</summary>
    public System.Text.Json.Nodes.JsonNode? Disk { get; set; }

    public System.Text.Json.Nodes.JsonNode? Revocable { get; set; }

    public System.Text.Json.Nodes.JsonNode? Shared { get; set; }
}

public sealed class Attribute
{
    public string? Name { get; set; }

    public ValueType? Type { get; set; }

    public ValueScalar? Scalar { get; set; }

    public ValueRanges? Ranges { get; set; }

    public ValueSet? Set { get; set; }

    public ValueText? Text { get; set; }
}
