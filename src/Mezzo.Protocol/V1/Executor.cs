namespace Mezzo.Protocol.V1;

// include/mesos/v1/executor/executor.proto: what an executor POSTs to the agent's /api/v1/executor and the events it
// reads back on its SUBSCRIBE stream. Names carry an Executor prefix so they do not collide with the scheduler API's.

/// <summary>mesos.proto AgentInfo (what an executor learns of its agent in SUBSCRIBED).</summary>
public sealed class AgentInfo
{
    public string? Hostname { get; set; }

    public int? Port { get; set; }

    public List<Resource>? Resources { get; set; }

    public List<Attribute>? Attributes { get; set; }

    public AgentID? Id { get; set; }
}

public enum ExecutorCallType
{
    UNKNOWN = 0,
    SUBSCRIBE = 1,
    UPDATE = 2,
    MESSAGE = 3,
}

public sealed class ExecutorCallUpdate
{
    public TaskStatus? Status { get; set; }
}

public sealed class ExecutorCallSubscribe
{
    public List<TaskInfo>? UnacknowledgedTasks { get; set; }

    public List<ExecutorCallUpdate>? UnacknowledgedUpdates { get; set; }
}

public sealed class ExecutorCallMessage
{
    public byte[]? Data { get; set; }
}

/// <summary>executor.proto's Call.</summary>
public sealed class ExecutorCall
{
    public ExecutorID? ExecutorId { get; set; }

    public FrameworkID? FrameworkId { get; set; }

    public ExecutorCallType? Type { get; set; }

    public ExecutorCallSubscribe? Subscribe { get; set; }

    public ExecutorCallUpdate? Update { get; set; }

    public ExecutorCallMessage? Message { get; set; }
}

public enum ExecutorEventType
{
    UNKNOWN = 0,
    SUBSCRIBED = 1,
    LAUNCH = 2,
    LAUNCH_GROUP = 8,
    KILL = 3,
    ACKNOWLEDGED = 4,
    MESSAGE = 5,
    ERROR = 6,
    SHUTDOWN = 7,
    HEARTBEAT = 9,
}

public sealed class ExecutorEventSubscribed
{
    public ExecutorInfo? ExecutorInfo { get; set; }

    public FrameworkInfo? FrameworkInfo { get; set; }

    public AgentInfo? AgentInfo { get; set; }

    public ContainerID? ContainerId { get; set; }
}

public sealed class ExecutorEventLaunch
{
    public TaskInfo? Task { get; set; }
}

public sealed class ExecutorEventLaunchGroup
{
    public TaskGroupInfo? TaskGroup { get; set; }
}

public sealed class ExecutorEventKill
{
    public TaskID? TaskId { get; set; }

    public KillPolicy? KillPolicy { get; set; }
}

public sealed class ExecutorEventAcknowledged
{
    public TaskID? TaskId { get; set; }

    public byte[]? Uuid { get; set; }
}

public sealed class ExecutorEventMessage
{
    public byte[]? Data { get; set; }
}

public sealed class ExecutorEventError
{
    public string? Message { get; set; }
}

/// <summary>executor.proto's Event: one RecordIO record of the executor's SUBSCRIBE stream.</summary>
public sealed class ExecutorEvent
{
    public ExecutorEventType? Type { get; set; }

    public ExecutorEventSubscribed? Subscribed { get; set; }

    public ExecutorEventAcknowledged? Acknowledged { get; set; }

    public ExecutorEventLaunch? Launch { get; set; }

    public ExecutorEventLaunchGroup? LaunchGroup { get; set; }

    public ExecutorEventKill? Kill { get; set; }

    public ExecutorEventMessage? Message { get; set; }

    public ExecutorEventError? Error { get; set; }
}
