using Mezzo.Core.Tasks;

namespace Mezzo.Protocol.V1;

public enum TaskStatusSource
{
    SOURCE_MASTER = 0,
    SOURCE_AGENT = 1,
    SOURCE_EXECUTOR = 2,
}

public enum TaskStatusReason
{
    REASON_COMMAND_EXECUTOR_FAILED = 0,
    REASON_CONTAINER_LAUNCH_FAILED = 21,
    REASON_CONTAINER_LIMITATION = 19,
    REASON_CONTAINER_LIMITATION_DISK = 20,
    REASON_CONTAINER_LIMITATION_MEMORY = 8,
    REASON_CONTAINER_PREEMPTED = 17,
    REASON_CONTAINER_UPDATE_FAILED = 22,
    REASON_MAX_COMPLETION_TIME_REACHED = 33,
    REASON_EXECUTOR_REGISTRATION_TIMEOUT = 23,
    REASON_EXECUTOR_REREGISTRATION_TIMEOUT = 24,
    REASON_EXECUTOR_TERMINATED = 1,
    REASON_EXECUTOR_UNREGISTERED = 2,
    REASON_FRAMEWORK_REMOVED = 3,
    REASON_GC_ERROR = 4,
    REASON_INVALID_FRAMEWORKID = 5,
    REASON_INVALID_OFFERS = 6,
    REASON_IO_SWITCHBOARD_EXITED = 27,
    REASON_MASTER_DISCONNECTED = 7,
    REASON_RECONCILIATION = 9,
    REASON_RESOURCES_UNKNOWN = 18,
    REASON_AGENT_DISCONNECTED = 10,
    REASON_AGENT_REMOVED = 11,
    REASON_AGENT_REMOVED_BY_OPERATOR = 31,
    REASON_AGENT_REREGISTERED = 32,
    REASON_AGENT_RESTARTED = 12,
    REASON_AGENT_UNKNOWN = 13,
    REASON_TASK_KILLED_DURING_LAUNCH = 30,
    REASON_TASK_CHECK_STATUS_UPDATED = 28,
    REASON_TASK_HEALTH_CHECK_STATUS_UPDATED = 29,
    REASON_TASK_GROUP_INVALID = 25,
    REASON_TASK_GROUP_UNAUTHORIZED = 26,
    REASON_TASK_INVALID = 14,
    REASON_TASK_UNAUTHORIZED = 15,
    REASON_TASK_UNKNOWN = 16,
}

public enum EnvironmentVariableType
{
    UNKNOWN = 0,
    VALUE = 1,
    SECRET = 2,
}

public sealed class EnvironmentVariable
{
    public string? Name { get; set; }

    public EnvironmentVariableType? Type { get; set; }

    public string? Value { get; set; }

    /// <summary>Set when <see cref="Type"/> is SECRET: the agent resolves it at launch; views redact a VALUE secret's data.</summary>
    public Secret? Secret { get; set; }
}

/// <summary>mesos.proto's <c>Environment</c>, renamed so it never shadows <see cref="System.Environment"/>.</summary>
public sealed class EnvironmentInfo
{
    public List<EnvironmentVariable>? Variables { get; set; }
}

public sealed class CommandInfoURI
{
    public string? Value { get; set; }

    public bool? Executable { get; set; }

    public bool? Extract { get; set; }

    public bool? Cache { get; set; }

    public string? OutputFile { get; set; }
}

public sealed class CommandInfo
{
    public List<CommandInfoURI>? Uris { get; set; }

    public EnvironmentInfo? Environment { get; set; }

    public bool? Shell { get; set; }

    public string? Value { get; set; }

    public List<string>? Arguments { get; set; }

    public string? User { get; set; }
}

public sealed class KillPolicy
{
    public DurationInfo? GracePeriod { get; set; }
}

public enum ExecutorInfoType
{
    UNKNOWN = 0,
    DEFAULT = 1,
    CUSTOM = 2,
}

public sealed class ExecutorInfo
{
    public ExecutorInfoType? Type { get; set; }

    public ExecutorID? ExecutorId { get; set; }

    public FrameworkID? FrameworkId { get; set; }

    public CommandInfo? Command { get; set; }

    public ContainerInfo? Container { get; set; }

    public List<Resource>? Resources { get; set; }

    public string? Name { get; set; }

    public string? Source { get; set; }

    public byte[]? Data { get; set; }

    public System.Text.Json.Nodes.JsonNode? Discovery { get; set; }

    public DurationInfo? ShutdownGracePeriod { get; set; }

    public Labels? Labels { get; set; }
}

public sealed class TaskInfo
{
    public string? Name { get; set; }

    public TaskID? TaskId { get; set; }

    public AgentID? AgentId { get; set; }

    public List<Resource>? Resources { get; set; }

    public ExecutorInfo? Executor { get; set; }

    public CommandInfo? Command { get; set; }

    public ContainerInfo? Container { get; set; }

    public HealthCheck? HealthCheck { get; set; }

    public CheckInfo? Check { get; set; }

    public KillPolicy? KillPolicy { get; set; }

    public byte[]? Data { get; set; }

    public Labels? Labels { get; set; }

    public System.Text.Json.Nodes.JsonNode? Discovery { get; set; }

    public DurationInfo? MaxCompletionTime { get; set; }
}

public sealed class TaskGroupInfo
{
    public List<TaskInfo>? Tasks { get; set; }
}

public sealed class ContainerStatus
{
    public ContainerID? ContainerId { get; set; }

    public List<NetworkInfo>? NetworkInfos { get; set; }

    public uint? ExecutorPid { get; set; }
}

public sealed class TaskStatus
{
    public TaskID? TaskId { get; set; }

    public TaskState? State { get; set; }

    public string? Message { get; set; }

    public TaskStatusSource? Source { get; set; }

    public TaskStatusReason? Reason { get; set; }

    public byte[]? Data { get; set; }

    public AgentID? AgentId { get; set; }

    public ExecutorID? ExecutorId { get; set; }

    public double? Timestamp { get; set; }

    public byte[]? Uuid { get; set; }

    public bool? Healthy { get; set; }

    public CheckStatusInfo? CheckStatus { get; set; }

    public Labels? Labels { get; set; }

    public ContainerStatus? ContainerStatus { get; set; }

    public TimeInfo? UnreachableTime { get; set; }

    public TaskResourceLimitation? Limitation { get; set; }
}
