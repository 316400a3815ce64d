namespace Mezzo.Protocol.V1;

public enum FrameworkInfoCapabilityType
{
    UNKNOWN = 0,
    REVOCABLE_RESOURCES = 1,
    TASK_KILLING_STATE = 2,
    GPU_RESOURCES = 3,
    SHARED_RESOURCES = 4,
    PARTITION_AWARE = 5,
    MULTI_ROLE = 6,
    RESERVATION_REFINEMENT = 7,
    REGION_AWARE = 8,
}

public sealed class FrameworkInfoCapability
{
    public FrameworkInfoCapabilityType? Type { get; set; }
}

public sealed class FrameworkInfo
{
    public string? User { get; set; }

    public string? Name { get; set; }

    public FrameworkID? Id { get; set; }

    public double? FailoverTimeout { get; set; }

    public bool? Checkpoint { get; set; }

    public string? Role { get; set; }

    public List<string>? Roles { get; set; }

    public string? Hostname { get; set; }

    public string? Principal { get; set; }

    public string? WebuiUrl { get; set; }

    public List<FrameworkInfoCapability>? Capabilities { get; set; }

    public Labels? Labels { get; set; }

    public Dictionary<string, OfferFilters>? OfferFilters { get; set; }
}
