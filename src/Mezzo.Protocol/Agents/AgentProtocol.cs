using Mezzo.Protocol.V1;

namespace Mezzo.Protocol.Agents;

// Mezzo's own agent <-> master protocol, shaped like the public v1 APIs: the agent POSTs a SUBSCRIBE to
// /internal/agent and reads a RecordIO stream of AgentEvents; UPDATE and PING are separate POSTs carrying the
// Mesos-Stream-Id. One UPDATE carries every status update the agent had ready (one per task at most), so a burst of
// launches costs a handful of requests rather than one per update. Everything an agent knows is in SUBSCRIBE, so a
// reconnect (either side restarted) resynchronizes.

public enum AgentCallType
{
    UNKNOWN = 0,
    SUBSCRIBE = 1,
    UPDATE = 2,
    PING = 3,
    EXECUTOR_MESSAGE = 4,
    EXECUTOR_EXITED = 5,
}

/// <summary>A task the agent runs, as reported on (re)subscribe.</summary>
public sealed class AgentTaskReport
{
    public FrameworkID? FrameworkId { get; set; }

    public TaskInfo? Task { get; set; }

    public TaskStatus? LatestStatus { get; set; }
}

public sealed class AgentSubscribe
{
    /// <summary>Set when re-registering with the id the master gave before.</summary>
    public AgentID? AgentId { get; set; }

    public string? Hostname { get; set; }

    public int? Port { get; set; }

    public List<Resource>? Resources { get; set; }

    public List<V1.Attribute>? Attributes { get; set; }

    public string? Version { get; set; }

    public List<AgentTaskReport>? Tasks { get; set; }

    public List<FrameworkInfo>? Frameworks { get; set; }

    /// <summary>Executors (custom and default) the agent runs, so a restarted master accounts for their resources.</summary>
    public List<AgentExecutorReport>? Executors { get; set; }
}

/// <summary>An executor the agent runs, as reported on (re)subscribe.</summary>
public sealed class AgentExecutorReport
{
    public FrameworkID? FrameworkId { get; set; }

    public ExecutorInfo? Executor { get; set; }
}

/// <summary>EXECUTOR_MESSAGE: an executor's MESSAGE call, relayed to its framework as a MESSAGE event (not reliable, as Mesos).</summary>
public sealed class AgentExecutorMessage
{
    public FrameworkID? FrameworkId { get; set; }

    public ExecutorID? ExecutorId { get; set; }

    public byte[]? Data { get; set; }
}

/// <summary>EXECUTOR_EXITED: an executor's container is gone; the master frees its resources and tells the framework (FAILURE).</summary>
public sealed class AgentExecutorExited
{
    public FrameworkID? FrameworkId { get; set; }

    public ExecutorID? ExecutorId { get; set; }

    /// <summary>The wait status as Mesos reports it in FAILURE (exit code &lt;&lt; 8, or the signal number).</summary>
    public int? Status { get; set; }
}

/// <summary>A status update from the agent; the master forwards it and acknowledges it once the framework does.</summary>
public sealed class AgentUpdate
{
    public FrameworkID? FrameworkId { get; set; }

    public TaskStatus? Status { get; set; }
}

public sealed class AgentCall
{
    public AgentCallType? Type { get; set; }

    public AgentID? AgentId { get; set; }

    public AgentSubscribe? Subscribe { get; set; }

    /// <summary>UPDATE: one or more status updates, each the oldest unacknowledged one of its task.</summary>
    public List<AgentUpdate>? Updates { get; set; }

    public AgentExecutorMessage? ExecutorMessage { get; set; }

    public AgentExecutorExited? ExecutorExited { get; set; }
}

public enum AgentEventType
{
    UNKNOWN = 0,
    SUBSCRIBED = 1,
    RUN_TASK = 2,
    KILL_TASK = 3,
    ACKNOWLEDGE = 4,
    SHUTDOWN_FRAMEWORK = 5,
    SHUTDOWN = 6,
    HEARTBEAT = 7,
    RUN_TASK_GROUP = 8,
    FRAMEWORK_MESSAGE = 9,
    SHUTDOWN_EXECUTOR = 10,
}

public sealed class AgentSubscribed
{
    public AgentID? AgentId { get; set; }

    /// <summary>How often the master expects a PING; the agent pings at half this interval.</summary>
    public double? PingIntervalSeconds { get; set; }
}

public sealed class AgentRunTask
{
    public FrameworkInfo? Framework { get; set; }

    public TaskInfo? Task { get; set; }
}

/// <summary>RUN_TASK_GROUP: a LAUNCH_GROUP, delivered whole so the agent starts all of its tasks or none.</summary>
public sealed class AgentRunTaskGroup
{
    public FrameworkInfo? Framework { get; set; }

    public ExecutorInfo? Executor { get; set; }

    public TaskGroupInfo? TaskGroup { get; set; }
}

/// <summary>FRAMEWORK_MESSAGE: a scheduler's MESSAGE call for one of the agent's executors.</summary>
public sealed class AgentFrameworkMessage
{
    public FrameworkID? FrameworkId { get; set; }

    public ExecutorID? ExecutorId { get; set; }

    public byte[]? Data { get; set; }
}

/// <summary>SHUTDOWN_EXECUTOR: the scheduler's SHUTDOWN call for one executor.</summary>
public sealed class AgentShutdownExecutor
{
    public FrameworkID? FrameworkId { get; set; }

    public ExecutorID? ExecutorId { get; set; }
}

public sealed class AgentKillTask
{
    public FrameworkID? FrameworkId { get; set; }

    public TaskID? TaskId { get; set; }

    public KillPolicy? KillPolicy { get; set; }
}

public sealed class AgentAcknowledge
{
    public FrameworkID? FrameworkId { get; set; }

    public TaskID? TaskId { get; set; }

    public byte[]? Uuid { get; set; }
}

public sealed class AgentShutdownFramework
{
    public FrameworkID? FrameworkId { get; set; }
}

public sealed class AgentShutdown
{
    public string? Message { get; set; }
}

public sealed class AgentEvent
{
    public AgentEventType? Type { get; set; }

    public AgentSubscribed? Subscribed { get; set; }

    public AgentRunTask? RunTask { get; set; }

    public AgentKillTask? KillTask { get; set; }

    public AgentAcknowledge? Acknowledge { get; set; }

    public AgentShutdownFramework? ShutdownFramework { get; set; }

    public AgentShutdown? Shutdown { get; set; }

    public AgentRunTaskGroup? RunTaskGroup { get; set; }

    public AgentFrameworkMessage? FrameworkMessage { get; set; }

    public AgentShutdownExecutor? ShutdownExecutor { get; set; }
}
