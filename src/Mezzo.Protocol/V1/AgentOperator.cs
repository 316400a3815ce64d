namespace Mezzo.Protocol.V1;

// The agent's v1 operator API, POST /api/v1 on the agent (include/mesos/v1/agent/agent.proto, Mesos 1.11). Prefixed
// "AgentOperator" because Mezzo.Protocol.Agents already has the master-agent protocol's AgentCall/AgentEvent. Messages
// identical to the master's (GetHealth, GetFlags, GetMetrics, ListFiles, ReadFile, ...) reuse the master's types.

/// <summary><c>mesos.v1.agent.Call.Type</c>, every value of Mesos 1.11.</summary>
public enum AgentOperatorCallType
{
    UNKNOWN = 0,
    GET_HEALTH = 1,
    GET_FLAGS = 2,
    GET_VERSION = 3,
    GET_METRICS = 4,
    GET_LOGGING_LEVEL = 5,
    SET_LOGGING_LEVEL = 6,
    LIST_FILES = 7,
    READ_FILE = 8,
    GET_STATE = 9,
    GET_CONTAINERS = 10,
    GET_FRAMEWORKS = 11,
    GET_EXECUTORS = 12,
    GET_OPERATIONS = 31,
    GET_TASKS = 13,
    GET_AGENT = 20,
    GET_RESOURCE_PROVIDERS = 26,
    LAUNCH_NESTED_CONTAINER = 14,
    WAIT_NESTED_CONTAINER = 15,
    KILL_NESTED_CONTAINER = 16,
    REMOVE_NESTED_CONTAINER = 21,
    LAUNCH_NESTED_CONTAINER_SESSION = 17,
    ATTACH_CONTAINER_INPUT = 18,
    ATTACH_CONTAINER_OUTPUT = 19,
    LAUNCH_CONTAINER = 22,
    WAIT_CONTAINER = 23,
    KILL_CONTAINER = 24,
    REMOVE_CONTAINER = 25,
    ADD_RESOURCE_PROVIDER_CONFIG = 27,
    UPDATE_RESOURCE_PROVIDER_CONFIG = 28,
    REMOVE_RESOURCE_PROVIDER_CONFIG = 29,
    MARK_RESOURCE_PROVIDER_GONE = 32,
    PRUNE_IMAGES = 30,
}

public sealed class AgentOperatorCall
{
    public AgentOperatorCallType? Type { get; set; }

    public MasterCallGetMetrics? GetMetrics { get; set; }

    public MasterCallSetLoggingLevel? SetLoggingLevel { get; set; }

    public MasterCallListFiles? ListFiles { get; set; }

    public MasterCallReadFile? ReadFile { get; set; }

    public AgentOperatorCallGetContainers? GetContainers { get; set; }
}

public sealed class AgentOperatorCallGetContainers
{
    public bool? ShowNested { get; set; }

    public bool? ShowStandalone { get; set; }
}

/// <summary><c>mesos.v1.agent.Response.Type</c>, every value of Mesos 1.11.</summary>
public enum AgentOperatorResponseType
{
    UNKNOWN = 0,
    GET_HEALTH = 1,
    GET_FLAGS = 2,
    GET_VERSION = 3,
    GET_METRICS = 4,
    GET_LOGGING_LEVEL = 5,
    LIST_FILES = 6,
    READ_FILE = 7,
    GET_STATE = 8,
    GET_CONTAINERS = 9,
    GET_FRAMEWORKS = 10,
    GET_EXECUTORS = 11,
    GET_OPERATIONS = 17,
    GET_TASKS = 12,
    GET_AGENT = 14,
    GET_RESOURCE_PROVIDERS = 16,
    WAIT_NESTED_CONTAINER = 13,
    WAIT_CONTAINER = 15,
}

public sealed class AgentOperatorResponse
{
    public AgentOperatorResponseType? Type { get; set; }

    public MasterResponseGetHealth? GetHealth { get; set; }

    public MasterResponseGetFlags? GetFlags { get; set; }

    public MasterResponseGetVersion? GetVersion { get; set; }

    public MasterResponseGetMetrics? GetMetrics { get; set; }

    public MasterResponseGetLoggingLevel? GetLoggingLevel { get; set; }

    public MasterResponseListFiles? ListFiles { get; set; }

    public MasterResponseReadFile? ReadFile { get; set; }

    public AgentOperatorResponseGetState? GetState { get; set; }

    public AgentOperatorResponseGetContainers? GetContainers { get; set; }

    public AgentOperatorResponseGetFrameworks? GetFrameworks { get; set; }

    public AgentOperatorResponseGetExecutors? GetExecutors { get; set; }

    public AgentOperatorResponseGetTasks? GetTasks { get; set; }

    public AgentOperatorResponseGetAgent? GetAgent { get; set; }
}

public sealed class AgentOperatorResponseGetState
{
    public AgentOperatorResponseGetTasks? GetTasks { get; set; }

    public AgentOperatorResponseGetExecutors? GetExecutors { get; set; }

    public AgentOperatorResponseGetFrameworks? GetFrameworks { get; set; }
}

public sealed class AgentOperatorResponseGetContainersContainer
{
    public FrameworkID? FrameworkId { get; set; }

    public ExecutorID? ExecutorId { get; set; }

    public string? ExecutorName { get; set; }

    public ContainerID? ContainerId { get; set; }

    public ContainerStatus? ContainerStatus { get; set; }

    public ResourceStatistics? ResourceStatistics { get; set; }
}

public sealed class AgentOperatorResponseGetContainers
{
    public List<AgentOperatorResponseGetContainersContainer>? Containers { get; set; }
}

public sealed class AgentOperatorResponseGetFrameworksFramework
{
    public FrameworkInfo? FrameworkInfo { get; set; }
}

public sealed class AgentOperatorResponseGetFrameworks
{
    public List<AgentOperatorResponseGetFrameworksFramework>? Frameworks { get; set; }

    public List<AgentOperatorResponseGetFrameworksFramework>? CompletedFrameworks { get; set; }
}

public sealed class AgentOperatorResponseGetExecutorsExecutor
{
    public ExecutorInfo? ExecutorInfo { get; set; }
}

public sealed class AgentOperatorResponseGetExecutors
{
    public List<AgentOperatorResponseGetExecutorsExecutor>? Executors { get; set; }

    public List<AgentOperatorResponseGetExecutorsExecutor>? CompletedExecutors { get; set; }
}

public sealed class AgentOperatorResponseGetTasks
{
    public List<MesosTask>? PendingTasks { get; set; }

    public List<MesosTask>? QueuedTasks { get; set; }

    public List<MesosTask>? LaunchedTasks { get; set; }

    public List<MesosTask>? TerminatedTasks { get; set; }

    public List<MesosTask>? CompletedTasks { get; set; }
}

public sealed class AgentOperatorResponseGetAgent
{
    public AgentInfo? AgentInfo { get; set; }

    public DrainConfig? DrainConfig { get; set; }

    public TimeInfo? EstimatedDrainStartTime { get; set; }
}
