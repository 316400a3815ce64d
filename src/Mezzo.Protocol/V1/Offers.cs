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

    public OperationID? Id { get; set; }

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

    /// <summary>Set when the agent's machine is scheduled for maintenance.</summary>
    public Unavailability? Unavailability { get; set; }
}

/// <summary>
/// mesos.proto <c>InverseOffer</c>: the master asks a framework to give back what it holds on an agent before the
/// unavailability. For maintenance <c>resources</c> is always empty: everything on the agent is asked back.
/// </summary>
public sealed class InverseOffer
{
    public OfferID? Id { get; set; }

    public URL? Url { get; set; }

    public FrameworkID? FrameworkId { get; set; }

    public AgentID? AgentId { get; set; }

    public Unavailability? Unavailability { get; set; }

    public List<Resource>? Resources { get; set; }
}

/// <summary>mesos.proto <c>OperationState</c>.</summary>
public enum OperationState
{
    OPERATION_UNSUPPORTED = 0,
    OPERATION_PENDING = 1,
    OPERATION_FINISHED = 2,
    OPERATION_FAILED = 3,
    OPERATION_ERROR = 4,
    OPERATION_DROPPED = 5,
    OPERATION_UNREACHABLE = 6,
    OPERATION_GONE_BY_OPERATOR = 7,
    OPERATION_RECOVERING = 8,
    OPERATION_UNKNOWN = 9,
}

public sealed class OperationID
{
    public string? Value { get; set; }
}

/// <summary>mesos.proto <c>OperationStatus</c>, sent for offer operations that carry an <c>id</c>.</summary>
public sealed class OperationStatus
{
    public OperationID? OperationId { get; set; }

    public OperationState? State { get; set; }

    public string? Message { get; set; }

    public List<Resource>? ConvertedResources { get; set; }

    public byte[]? Uuid { get; set; }

    public AgentID? AgentId { get; set; }
}
