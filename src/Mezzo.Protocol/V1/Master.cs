namespace Mezzo.Protocol.V1;

// The v1 operator API of the master (include/mesos/v1/master/master.proto, Mesos 1.11). Types are prefixed "Master"
// because the scheduler API's Call/Event live in the same namespace. Only the sub-messages of calls this master
// answers are modelled; the sub-messages of the others are ignored when parsing (as unknown JSON fields are), so every
// real call type still parses and can be answered with "not supported".

/// <summary><c>mesos.v1.master.Call.Type</c>, every value of Mesos 1.11.</summary>
public enum MasterCallType
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
    GET_AGENTS = 10,
    GET_FRAMEWORKS = 11,
    GET_EXECUTORS = 12,
    GET_OPERATIONS = 33,
    GET_TASKS = 13,
    GET_ROLES = 14,
    GET_WEIGHTS = 15,
    UPDATE_WEIGHTS = 16,
    GET_MASTER = 17,
    SUBSCRIBE = 18,
    RESERVE_RESOURCES = 19,
    UNRESERVE_RESOURCES = 20,
    CREATE_VOLUMES = 21,
    DESTROY_VOLUMES = 22,
    GROW_VOLUME = 34,
    SHRINK_VOLUME = 35,
    GET_MAINTENANCE_STATUS = 23,
    GET_MAINTENANCE_SCHEDULE = 24,
    UPDATE_MAINTENANCE_SCHEDULE = 25,
    START_MAINTENANCE = 26,
    STOP_MAINTENANCE = 27,
    DRAIN_AGENT = 37,
    DEACTIVATE_AGENT = 38,
    REACTIVATE_AGENT = 39,
    GET_QUOTA = 28,
    UPDATE_QUOTA = 36,
    SET_QUOTA = 29,
    REMOVE_QUOTA = 30,
    TEARDOWN = 31,
    MARK_AGENT_GONE = 32,
}

public sealed class MasterCall
{
    public MasterCallType? Type { get; set; }

    public MasterCallGetMetrics? GetMetrics { get; set; }

    public MasterCallSetLoggingLevel? SetLoggingLevel { get; set; }

    public MasterCallListFiles? ListFiles { get; set; }

    public MasterCallReadFile? ReadFile { get; set; }

    public MasterCallUpdateWeights? UpdateWeights { get; set; }

    public MasterCallUpdateQuota? UpdateQuota { get; set; }

    public MasterCallSetQuota? SetQuota { get; set; }

    public MasterCallRemoveQuota? RemoveQuota { get; set; }

    public MasterCallReserveResources? ReserveResources { get; set; }

    public MasterCallUnreserveResources? UnreserveResources { get; set; }

    public MasterCallDrainAgent? DrainAgent { get; set; }

    public MasterCallAgent? DeactivateAgent { get; set; }

    public MasterCallAgent? ReactivateAgent { get; set; }

    public MasterCallAgent? MarkAgentGone { get; set; }

    public MasterCallUpdateMaintenanceSchedule? UpdateMaintenanceSchedule { get; set; }

    public MasterCallMachines? StartMaintenance { get; set; }

    public MasterCallMachines? StopMaintenance { get; set; }

    public MasterCallTeardown? Teardown { get; set; }
}

/// <summary>master.proto <c>Call.Teardown</c>: the operator ends a framework, killing all of its tasks.</summary>
public sealed class MasterCallTeardown
{
    public FrameworkID? FrameworkId { get; set; }
}

/// <summary>master.proto <c>Call.ReserveResources</c>; <see cref="Source"/> only for re-reserving.</summary>
public sealed class MasterCallReserveResources
{
    public AgentID? AgentId { get; set; }

    public List<Resource>? Source { get; set; }

    public List<Resource>? Resources { get; set; }
}

public sealed class MasterCallUnreserveResources
{
    public AgentID? AgentId { get; set; }

    public List<Resource>? Resources { get; set; }
}

public sealed class MasterCallDrainAgent
{
    public AgentID? AgentId { get; set; }

    public DurationInfo? MaxGracePeriod { get; set; }

    public bool? MarkGone { get; set; }
}

/// <summary>The calls that only name an agent: DEACTIVATE_AGENT, REACTIVATE_AGENT, MARK_AGENT_GONE.</summary>
public sealed class MasterCallAgent
{
    public AgentID? AgentId { get; set; }
}

public sealed class MasterCallUpdateWeights
{
    public List<WeightInfo>? WeightInfos { get; set; }
}

/// <summary>Applied all-or-nothing; <see cref="Force"/> skips the capacity and consumption checks.</summary>
public sealed class MasterCallUpdateQuota
{
    public bool? Force { get; set; }

    public List<QuotaConfig>? QuotaConfigs { get; set; }
}

/// <summary>Deprecated in favour of UPDATE_QUOTA; Mesos still serves it.</summary>
public sealed class MasterCallSetQuota
{
    public QuotaRequest? QuotaRequest { get; set; }
}

/// <summary>Deprecated in favour of UPDATE_QUOTA; Mesos still serves it.</summary>
public sealed class MasterCallRemoveQuota
{
    public string? Role { get; set; }
}

/// <summary><c>mesos.v1.master.Response.Type</c>, every value of Mesos 1.11.</summary>
public enum MasterResponseType
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
    GET_AGENTS = 9,
    GET_FRAMEWORKS = 10,
    GET_EXECUTORS = 11,
    GET_OPERATIONS = 19,
    GET_TASKS = 12,
    GET_ROLES = 13,
    GET_WEIGHTS = 14,
    GET_MASTER = 15,
    GET_MAINTENANCE_STATUS = 16,
    GET_MAINTENANCE_SCHEDULE = 17,
    GET_QUOTA = 18,
}

public sealed class MasterResponse
{
    public MasterResponseType? Type { get; set; }

    public MasterResponseGetHealth? GetHealth { get; set; }

    public MasterResponseGetFlags? GetFlags { get; set; }

    public MasterResponseGetVersion? GetVersion { get; set; }

    public MasterResponseGetMetrics? GetMetrics { get; set; }

    public MasterResponseGetLoggingLevel? GetLoggingLevel { get; set; }

    public MasterResponseListFiles? ListFiles { get; set; }

    public MasterResponseReadFile? ReadFile { get; set; }

    public MasterResponseGetState? GetState { get; set; }

    public MasterResponseGetAgents? GetAgents { get; set; }

    public MasterResponseGetFrameworks? GetFrameworks { get; set; }

    public MasterResponseGetExecutors? GetExecutors { get; set; }

    public MasterResponseGetOperations? GetOperations { get; set; }

    public MasterResponseGetTasks? GetTasks { get; set; }

    public MasterResponseGetMaster? GetMaster { get; set; }

    public MasterResponseGetRoles? GetRoles { get; set; }

    public MasterResponseGetWeights? GetWeights { get; set; }

    public MasterResponseGetQuota? GetQuota { get; set; }

    public MasterResponseGetMaintenanceStatus? GetMaintenanceStatus { get; set; }

    public MasterResponseGetMaintenanceSchedule? GetMaintenanceSchedule { get; set; }
}

public sealed class MasterResponseGetHealth
{
    public bool? Healthy { get; set; }
}

public sealed class MasterResponseGetFlags
{
    public List<Flag>? Flags { get; set; }
}

public sealed class MasterResponseGetVersion
{
    public VersionInfo? VersionInfo { get; set; }
}

public sealed class MasterResponseGetRoles
{
    public List<Role>? Roles { get; set; }
}

public sealed class MasterResponseGetWeights
{
    public List<WeightInfo>? WeightInfos { get; set; }
}

public sealed class MasterResponseGetQuota
{
    public QuotaStatus? Status { get; set; }
}

/// <summary><c>mesos.v1.WeightInfo</c>: the relative share of a role among its siblings.</summary>
public sealed class WeightInfo
{
    public double? Weight { get; set; }

    public string? Role { get; set; }
}

public sealed class VersionInfo
{
    public string? Version { get; set; }

    public string? BuildDate { get; set; }

    public double? BuildTime { get; set; }

    public string? BuildUser { get; set; }

    public string? GitSha { get; set; }

    public string? GitBranch { get; set; }

    public string? GitTag { get; set; }
}

public sealed class Flag
{
    public string? Name { get; set; }

    public string? Value { get; set; }
}

/// <summary>
/// <c>mesos.v1.Role</c>. <see cref="Resources"/> is what Mesos fills it with: the role's allocated plus offered scalar
/// quantities (the proto has no separate quota/allocated/offered/reserved fields; the /roles endpoint does).
/// </summary>
public sealed class Role
{
    public string? Name { get; set; }

    public double? Weight { get; set; }

    public List<FrameworkID>? Frameworks { get; set; }

    public List<Resource>? Resources { get; set; }
}

// include/mesos/v1/quota/quota.proto

/// <summary>Legacy (pre-1.9) quota: the guarantee, which also acts as the limit.</summary>
public sealed class QuotaInfo
{
    public string? Role { get; set; }

    public string? Principal { get; set; }

    public List<Resource>? Guarantee { get; set; }
}

/// <summary>Body of the deprecated SET_QUOTA call and of <c>POST /quota</c>.</summary>
public sealed class QuotaRequest
{
    public bool? Force { get; set; }

    public string? Role { get; set; }

    public List<Resource>? Guarantee { get; set; }
}

/// <summary>
/// A role's quota: maps of resource name to <c>Value.Scalar</c>, e.g. <c>{"cpus":{"value":1.0}}</c>. A config with
/// neither guarantees nor limits is the default quota, i.e. no quota.
/// </summary>
public sealed class QuotaConfig
{
    public string? Role { get; set; }

    public Dictionary<string, ValueScalar>? Guarantees { get; set; }

    public Dictionary<string, ValueScalar>? Limits { get; set; }
}

/// <summary>Every non-default quota; <see cref="Infos"/> is still filled for clients older than Mesos 1.9.</summary>
public sealed class QuotaStatus
{
    public List<QuotaInfo>? Infos { get; set; }

    public List<QuotaConfig>? Configs { get; set; }
}
