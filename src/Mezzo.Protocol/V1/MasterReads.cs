using Mezzo.Core.Tasks;

namespace Mezzo.Protocol.V1;

// The read side of the master's v1 operator API (include/mesos/v1/master/master.proto, Mesos 1.11): the call
// sub-messages of GET_METRICS, SET_LOGGING_LEVEL, LIST_FILES and READ_FILE, the responses of the read calls, and the
// SUBSCRIBE event stream. Nested proto messages are flattened into prefixed names (Response.GetAgents.Agent is
// MasterResponseGetAgentsAgent).

public sealed class MasterCallGetMetrics
{
    public DurationInfo? Timeout { get; set; }
}

/// <summary>glog verbosity: 0 is the default; higher levels log more, until <see cref="Duration"/> has passed.</summary>
public sealed class MasterCallSetLoggingLevel
{
    public uint? Level { get; set; }

    public DurationInfo? Duration { get; set; }
}

public sealed class MasterCallListFiles
{
    public string? Path { get; set; }
}

public sealed class MasterCallReadFile
{
    public string? Path { get; set; }

    public ulong? Offset { get; set; }

    public ulong? Length { get; set; }
}

/// <summary>mesos.proto <c>Metric</c>.</summary>
public sealed class Metric
{
    public string? Name { get; set; }

    public double? Value { get; set; }
}

/// <summary>mesos.proto <c>FileInfo</c> (renamed from System.IO's): one entry of a directory listing, like <c>ls -l</c>.</summary>
public sealed class MesosFileInfo
{
    public string? Path { get; set; }

    public int? Nlink { get; set; }

    public ulong? Size { get; set; }

    public TimeInfo? Mtime { get; set; }

    public uint? Mode { get; set; }

    public string? Uid { get; set; }

    public string? Gid { get; set; }
}

/// <summary>
/// mesos.proto <c>Task</c>: a task as the master and agent report it (not named Task, which every file here means as
/// System.Threading.Tasks.Task).
/// </summary>
public sealed class MesosTask
{
    public string? Name { get; set; }

    public TaskID? TaskId { get; set; }

    public FrameworkID? FrameworkId { get; set; }

    public ExecutorID? ExecutorId { get; set; }

    public AgentID? AgentId { get; set; }

    public TaskState? State { get; set; }

    public List<Resource>? Resources { get; set; }

    public List<TaskStatus>? Statuses { get; set; }

    public TaskState? StatusUpdateState { get; set; }

    public byte[]? StatusUpdateUuid { get; set; }

    public Labels? Labels { get; set; }

    public System.Text.Json.Nodes.JsonNode? Discovery { get; set; }

    public ContainerInfo? Container { get; set; }

    public HealthCheck? HealthCheck { get; set; }

    public string? User { get; set; }

    public KillPolicy? KillPolicy { get; set; }
}

/// <summary>mesos.proto <c>UUID</c>: 16 raw bytes.</summary>
public sealed class MesosUUID
{
    public byte[]? Value { get; set; }
}

/// <summary>mesos.proto <c>Operation</c>: an offer operation the master tracks with its statuses.</summary>
public sealed class Operation
{
    public FrameworkID? FrameworkId { get; set; }

    public AgentID? AgentId { get; set; }

    public OfferOperation? Info { get; set; }

    public OperationStatus? LatestStatus { get; set; }

    public List<OperationStatus>? Statuses { get; set; }

    public MesosUUID? Uuid { get; set; }
}

/// <summary>mesos.proto <c>DrainState</c>.</summary>
public enum DrainState
{
    UNKNOWN = 0,
    DRAINING = 1,
    DRAINED = 2,
}

public sealed class DrainConfig
{
    public DurationInfo? MaxGracePeriod { get; set; }

    public bool? MarkGone { get; set; }
}

public sealed class DrainInfo
{
    public DrainState? State { get; set; }

    public DrainConfig? Config { get; set; }
}

public sealed class MasterResponseGetMetrics
{
    public List<Metric>? Metrics { get; set; }
}

public sealed class MasterResponseGetLoggingLevel
{
    public uint? Level { get; set; }
}

public sealed class MasterResponseListFiles
{
    public List<MesosFileInfo>? FileInfos { get; set; }
}

public sealed class MasterResponseReadFile
{
    public ulong? Size { get; set; }

    public byte[]? Data { get; set; }
}

public sealed class MasterResponseGetState
{
    public MasterResponseGetTasks? GetTasks { get; set; }

    public MasterResponseGetExecutors? GetExecutors { get; set; }

    public MasterResponseGetFrameworks? GetFrameworks { get; set; }

    public MasterResponseGetAgents? GetAgents { get; set; }
}

public sealed class MasterResponseGetAgentsAgent
{
    public AgentInfo? AgentInfo { get; set; }

    public bool? Active { get; set; }

    public bool? Deactivated { get; set; }

    public string? Version { get; set; }

    public string? Pid { get; set; }

    public TimeInfo? RegisteredTime { get; set; }

    public TimeInfo? ReregisteredTime { get; set; }

    public List<Resource>? TotalResources { get; set; }

    public List<Resource>? AllocatedResources { get; set; }

    public List<Resource>? OfferedResources { get; set; }

    public DrainInfo? DrainInfo { get; set; }
}

public sealed class MasterResponseGetAgents
{
    public List<MasterResponseGetAgentsAgent>? Agents { get; set; }

    public List<AgentInfo>? RecoveredAgents { get; set; }
}

public sealed class MasterResponseGetFrameworksFramework
{
    public FrameworkInfo? FrameworkInfo { get; set; }

    public bool? Active { get; set; }

    public bool? Connected { get; set; }

    public bool? Recovered { get; set; }

    public TimeInfo? RegisteredTime { get; set; }

    public TimeInfo? ReregisteredTime { get; set; }

    public TimeInfo? UnregisteredTime { get; set; }

    public List<Offer>? Offers { get; set; }

    public List<InverseOffer>? InverseOffers { get; set; }

    public List<Resource>? AllocatedResources { get; set; }

    public List<Resource>? OfferedResources { get; set; }

    public OfferConstraints? OfferConstraints { get; set; }
}

public sealed class MasterResponseGetFrameworks
{
    public List<MasterResponseGetFrameworksFramework>? Frameworks { get; set; }

    public List<MasterResponseGetFrameworksFramework>? CompletedFrameworks { get; set; }
}

public sealed class MasterResponseGetExecutorsExecutor
{
    public ExecutorInfo? ExecutorInfo { get; set; }

    public AgentID? AgentId { get; set; }
}

public sealed class MasterResponseGetExecutors
{
    public List<MasterResponseGetExecutorsExecutor>? Executors { get; set; }
}

public sealed class MasterResponseGetOperations
{
    public List<Operation>? Operations { get; set; }
}

public sealed class MasterResponseGetTasks
{
    public List<MesosTask>? PendingTasks { get; set; }

    public List<MesosTask>? Tasks { get; set; }

    public List<MesosTask>? UnreachableTasks { get; set; }

    public List<MesosTask>? CompletedTasks { get; set; }
}

public sealed class MasterResponseGetMaster
{
    public MasterInfo? MasterInfo { get; set; }

    /// <summary>Seconds since the epoch.</summary>
    public double? StartTime { get; set; }

    public double? ElectedTime { get; set; }
}

/// <summary><c>mesos.v1.master.Event.Type</c>.</summary>
public enum MasterEventType
{
    UNKNOWN = 0,
    SUBSCRIBED = 1,
    TASK_ADDED = 2,
    TASK_UPDATED = 3,
    AGENT_ADDED = 4,
    AGENT_REMOVED = 5,
    FRAMEWORK_ADDED = 6,
    FRAMEWORK_UPDATED = 7,
    FRAMEWORK_REMOVED = 8,
    HEARTBEAT = 9,
}

/// <summary>One record of the operator API's SUBSCRIBE stream.</summary>
public sealed class MasterEvent
{
    public MasterEventType? Type { get; set; }

    public MasterEventSubscribed? Subscribed { get; set; }

    public MasterEventTaskAdded? TaskAdded { get; set; }

    public MasterEventTaskUpdated? TaskUpdated { get; set; }

    public MasterEventAgentAdded? AgentAdded { get; set; }

    public MasterEventAgentRemoved? AgentRemoved { get; set; }

    public MasterEventFramework? FrameworkAdded { get; set; }

    public MasterEventFramework? FrameworkUpdated { get; set; }

    public MasterEventFrameworkRemoved? FrameworkRemoved { get; set; }
}

public sealed class MasterEventSubscribed
{
    public MasterResponseGetState? GetState { get; set; }

    public double? HeartbeatIntervalSeconds { get; set; }
}

public sealed class MasterEventTaskAdded
{
    public MesosTask? Task { get; set; }
}

/// <summary><see cref="Status"/> is the latest status the master has; <see cref="State"/> the task's latest state.</summary>
public sealed class MasterEventTaskUpdated
{
    public FrameworkID? FrameworkId { get; set; }

    public TaskStatus? Status { get; set; }

    public TaskState? State { get; set; }
}

public sealed class MasterEventAgentAdded
{
    public MasterResponseGetAgentsAgent? Agent { get; set; }
}

public sealed class MasterEventAgentRemoved
{
    public AgentID? AgentId { get; set; }
}

/// <summary>Event.FrameworkAdded and Event.FrameworkUpdated: both carry one <c>framework</c>.</summary>
public sealed class MasterEventFramework
{
    public MasterResponseGetFrameworksFramework? Framework { get; set; }
}

public sealed class MasterEventFrameworkRemoved
{
    public FrameworkInfo? FrameworkInfo { get; set; }
}
