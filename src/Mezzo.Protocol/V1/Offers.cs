namespace Mezzo.Protocol.V1;

public enum OfferOperationType
{
    UNKNOWN = 0,
    LAUNCH = 1,
    LAUNCH_GROUP = 6,
    RESERVE = 2,
    UNRESERVE = 3,
    CREATE = 4,
    DESTROY = 5,
    GROW_VOLUME = 11,
    SHRINK_VOLUME = 12,
    CREATE_DISK = 13,
    DESTROY_DISK = 14,
}

public sealed class OfferOperationLaunch
{
    public List<TaskInfo>? TaskInfos { get; set; }
}

public sealed class OfferOperationLaunchGroup
{
    public ExecutorInfo? Executor { get; set; }

    public TaskGroupInfo? TaskGroup { get; set; }
}

public sealed class OfferOperationResources
{
    public List<Resource>? Resources { get; set; }
}

public sealed class OfferOperation
{
    public OfferOperationType? Type { get; set; }

    public System.Text.Json.Nodes.JsonNode? Id { get; set; }

    public OfferOperationLaunch? Launch { get; set; }

    public OfferOperationLaunchGroup? LaunchGroup { get; set; }

    public OfferOperationResources? Reserve { get; set; }

    public OfferOperationResources? Unreserve { get; set; }
}

public sealed class Offer
{
    public OfferID? Id { get; set; }

    public FrameworkID? FrameworkId { get; set; }

    public AgentID? AgentId { get; set; }

    public string? Hostname { get; set; }

    public URL? Url { get; set; }

    public List<Resource>? Resources { get; set; }

    public List<Attribute>? Attributes { get; set; }

    public List<ExecutorID>? ExecutorIds { get; set; }

    public ResourceAllocationInfo? AllocationInfo { get; set; }
}
