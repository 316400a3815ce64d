using System.Threading.Channels;
using Mezzo.Agent.Isolation;
using Mezzo.Agent.Launcher;
using Mezzo.Agent.Tasks;
using Mezzo.Core.Tasks;
using Mezzo.Protocol.V1;

namespace Mezzo.Agent.Executors;

public enum ExecutorRunState
{
    /// <summary>Custom executor started, not yet subscribed: launches wait in <see cref="AgentExecutor.Pending"/>.</summary>
    Registering,
    Running,

    /// <summary>Sent SHUTDOWN (or timed out): its container is destroyed after the grace period.</summary>
    Terminating,
    Terminated,
}

/// <summary>
/// One run of an executor on this agent: a custom executor's process and its v1 executor API subscription, or the
/// default executor that the agent plays itself for task groups (each task its own process). Owned by the agent actor.
/// </summary>
public sealed class AgentExecutor
{
    public required string FrameworkId { get; init; }

    public required ExecutorInfo Info { get; init; }

    public required FrameworkInfo Framework { get; set; }

    public required string ContainerId { get; init; }

    /// <summary>.../frameworks/&lt;fid&gt;/executors/&lt;eid&gt;/runs/&lt;container id&gt;.</summary>
    public required string Sandbox { get; init; }

    public string ExecutorId => Info.ExecutorId!.Value!;

    /// <summary>The default executor has no process of its own: the agent runs the group's tasks directly.</summary>
    public bool IsDefault => Info.Type == ExecutorInfoType.DEFAULT;

    public ExecutorRunState State { get; set; } = ExecutorRunState.Registering;

    public LaunchedProcess? Process { get; set; }

    public CgroupContainer? Container { get; set; }

    /// <summary>Cancels the fetch of the executor's URIs (it starts only once they are in its sandbox).</summary>
    public CancellationTokenSource? Preparation { get; set; }

    /// <summary>Its tasks that are not terminal yet, by task id.</summary>
    public Dictionary<string, AgentTask> Tasks { get; } = new(StringComparer.Ordinal);

    /// <summary>Its terminal tasks, newest last (bounded), for /state.</summary>
    public LinkedList<AgentTask> CompletedTasks { get; } = new();

    /// <summary>LAUNCH / LAUNCH_GROUP events waiting for the executor to subscribe.</summary>
    public List<ExecutorEvent> Pending { get; } = [];

    /// <summary>The task groups of a default executor: when one task of a group fails or is killed, its siblings are killed.</summary>
    public List<List<AgentTask>> Groups { get; } = [];

    public ExecutorSubscription? Subscription { get; set; }

    /// <summary>Set when the agent ends the executor: the state and reason its remaining tasks end with.</summary>
    public (TaskState State, TaskStatusReason Reason, string Message)? Termination { get; set; }

    /// <summary>Its framework asked for checkpointing: the executor (a custom one's process, the default one's tasks)
    /// runs under a supervisor and survives an agent restart.</summary>
    public bool Checkpointed => Framework.Checkpoint == true;

    /// <summary>Where its supervisor records the exit and its checkpoint lies; null when it is not supervised.</summary>
    public string? RunDir { get; set; }

    /// <summary>The supervisor's start time (/proc/PID/stat), which tells it from a process that reuses its pid.</summary>
    public string? SupervisorStart { get; set; }

    /// <summary>The last checkpoint write failed (disk full?): it is retried with the status update retries.</summary>
    public bool CheckpointDirty { get; set; }

    /// <summary>Taken back from its checkpoint at agent start and not yet re-subscribed: its SUBSCRIBE reconciles
    /// the executor's unacknowledged tasks and updates with the agent's.</summary>
    public bool Recovered { get; set; }

    public string TaskSandbox(string taskId) => Path.Combine(Sandbox, "tasks", taskId);
}

/// <summary>The event stream of one SUBSCRIBE call; a new SUBSCRIBE replaces (and ends) the previous one.</summary>
public sealed class ExecutorSubscription
{
    private readonly Channel<ExecutorEvent> _events = Channel.CreateUnbounded<ExecutorEvent>(new UnboundedChannelOptions { SingleReader = true });

    public ChannelReader<ExecutorEvent> Reader => _events.Reader;

    public string StreamId { get; } = Guid.NewGuid().ToString();

    public void Send(ExecutorEvent ev) => _events.Writer.TryWrite(ev);

    public void Close() => _events.Writer.TryComplete();
}
