using Mezzo.Agent.Executors;
using Mezzo.Agent.Monitoring;
using Mezzo.Agent.Tasks;
using Mezzo.Protocol.V1;

namespace Mezzo.Agent;

/// <summary>
/// The agent's operator API reads (agent.proto): tasks, executors, frameworks, containers and the agent itself, built
/// on the actor as fresh wire objects, so the HTTP thread serializes them while the actor goes on.
/// </summary>
public sealed partial class AgentService
{
    /// <summary>A round trip through the actor: an agent whose loop is stuck answers late or not at all.</summary>
    public Task<bool> PingAsync() => Ask(() => true);

    public Task<AgentOperatorResponseGetState> GetOperatorStateAsync() => Ask(() => new AgentOperatorResponseGetState
    {
        GetTasks = TasksWire(),
        GetExecutors = ExecutorsWire(),
        GetFrameworks = FrameworksWire(),
    });

    public Task<AgentOperatorResponseGetTasks> GetOperatorTasksAsync() => Ask(TasksWire);

    public Task<AgentOperatorResponseGetExecutors> GetOperatorExecutorsAsync() => Ask(ExecutorsWire);

    public Task<AgentOperatorResponseGetFrameworks> GetOperatorFrameworksAsync() => Ask(FrameworksWire);

    public Task<AgentOperatorResponseGetAgent> GetOperatorAgentAsync() => Ask(() => new AgentOperatorResponseGetAgent
    {
        AgentInfo = new AgentInfo
        {
            Id = _agentId is null ? null : new AgentID { Value = _agentId },
            Hostname = _options.Hostname,
            Port = _options.Port,
            Resources = ResourceConversion.ToWire(Total),
            Attributes = ResourceConversion.ToWire(Attributes),
        },
    });

    /// <summary>The flags exactly as /state shows them, as Mesos's Flag list.</summary>
    public Task<List<Flag>> GetFlagsAsync() => Ask(() => BuildState()["flags"]!.AsObject()
        .Where(kv => kv.Value is not null)
        .Select(kv => new Flag { Name = kv.Key, Value = kv.Value!.GetValue<string>() })
        .OrderBy(f => f.Name, StringComparer.Ordinal)
        .ToList());

    /// <summary>Metrics that need no actor round trip: what GET_METRICS answers when its timeout passes first.</summary>
    public Dictionary<string, double> MetricsWithoutActor() => new()
    {
        ["slave/uptime_secs"] = (_time.GetUtcNow() - StartTime).TotalSeconds,
    };

    public TimeProvider Time => _time;

    /// <summary>
    /// GET_CONTAINERS: every running container (command tasks and executors) with its status and usage. Which ones run
    /// is read on the actor; their usage is read off it, as /monitor/statistics does.
    /// </summary>
    public async Task<List<AgentOperatorResponseGetContainersContainer>> GetContainersAsync()
    {
        var targets = await Ask(() =>
        {
            var list = _tasks.Values
                .Where(t => t.Executor is null && t.Process is { HasExited: false } && !t.IsTerminal)
                .Select(t => (Target: ToUsageTarget(t), t.ContainerId, t.Process?.Pid))
                .ToList();
            foreach (var executor in _executors.Values.Where(e => e.State is not ExecutorRunState.Terminated))
            {
                var tasks = executor.Tasks.Values.Select(t => t.Info).Append(new TaskInfo { Resources = executor.Info.Resources }).ToList();
                list.Add((new UsageTarget(
                    executor.ExecutorId,
                    executor.Info.Name ?? executor.ExecutorId,
                    executor.FrameworkId,
                    executor.Info.Source ?? executor.ExecutorId,
                    tasks.Sum(t => Scalar(t, "cpus")),
                    tasks.Sum(t => Scalar(t, "mem")),
                    tasks.Sum(t => Scalar(t, "disk")),
                    executor.Process?.Pid,
                    executor.Container,
                    null), executor.ContainerId, executor.Process?.Pid));
            }

            return list;
        }).ConfigureAwait(false);
        var now = _time.GetUtcNow();
        return await Task.Run(() => targets.Select(t =>
        {
            var containerId = new ContainerID { Value = t.ContainerId };
            return new AgentOperatorResponseGetContainersContainer
            {
                FrameworkId = new FrameworkID { Value = t.Target.FrameworkId },
                ExecutorId = new ExecutorID { Value = t.Target.ExecutorId },
                ExecutorName = t.Target.ExecutorName,
                ContainerId = containerId,
                ContainerStatus = new ContainerStatus
                {
                    ContainerId = new ContainerID { Value = t.ContainerId },
                    ExecutorPid = t.Pid is { } pid ? (uint)pid : null,
                },
                ResourceStatistics = ContainerStatistics.Read(t.Target, now).Statistics,
            };
        }).ToList()).ConfigureAwait(false);
    }

    /// <summary>
    /// agent.proto's GET_TASKS buckets: pending (being prepared, no process or executor yet), queued (waiting for their
    /// executor to subscribe), launched, terminated (terminal, updates not all acknowledged), completed.
    /// </summary>
    private AgentOperatorResponseGetTasks TasksWire()
    {
        var live = _tasks.Values.ToList();
        return new AgentOperatorResponseGetTasks
        {
            PendingTasks = [.. live.Where(t => !t.IsTerminal && t.Executor is null && t.Process is null).Select(TaskWire)],
            QueuedTasks = [.. live.Where(t => !t.IsTerminal && t.Executor is { State: ExecutorRunState.Registering }).Select(TaskWire)],
            LaunchedTasks =
            [
                .. live.Where(t => !t.IsTerminal
                    && (t.Executor is null ? t.Process is not null : t.Executor.State is not ExecutorRunState.Registering)).Select(TaskWire),
            ],
            TerminatedTasks = [.. live.Where(t => t.IsTerminal).Select(TaskWire)],
            CompletedTasks = [.. _completed.Select(TaskWire)],
        };
    }

    /// <summary>Custom and default executors as they were given; a command task's executor as Mesos would describe it.</summary>
    private AgentOperatorResponseGetExecutors ExecutorsWire()
    {
        static AgentOperatorResponseGetExecutorsExecutor Wrap(ExecutorInfo info) => new() { ExecutorInfo = Protocol.Secrets.SecretRedaction.Redact(info) };
        return new AgentOperatorResponseGetExecutors
        {
            Executors =
            [
                .. _executors.Values.Select(e => Wrap(e.Info)),
                .. _tasks.Values.Where(t => t.Executor is null && !t.IsTerminal).Select(t => Wrap(CommandExecutorInfo(t))),
            ],
            CompletedExecutors =
            [
                .. _completedExecutors.Select(e => Wrap(e.Info)),
                .. _tasks.Values.Where(t => t.Executor is null && t.IsTerminal).Concat(_completed.Where(t => t.Executor is null))
                    .Select(t => Wrap(CommandExecutorInfo(t))),
            ],
        };
    }

    /// <summary>Frameworks with something still here, and those known only from completed tasks and executors.</summary>
    private AgentOperatorResponseGetFrameworks FrameworksWire()
    {
        var active = new Dictionary<string, FrameworkInfo>(StringComparer.Ordinal);
        foreach (var (id, info) in _tasks.Values.Select(t => (t.FrameworkId, t.Framework)).Concat(_executors.Values.Select(e => (e.FrameworkId, e.Framework))))
        {
            active.TryAdd(id, info);
        }

        var completed = new Dictionary<string, FrameworkInfo>(StringComparer.Ordinal);
        foreach (var (id, info) in _completed.Select(t => (t.FrameworkId, t.Framework)).Concat(_completedExecutors.Select(e => (e.FrameworkId, e.Framework))))
        {
            if (!active.ContainsKey(id))
            {
                completed.TryAdd(id, info);
            }
        }

        return new AgentOperatorResponseGetFrameworks
        {
            Frameworks = [.. active.Select(kv => FrameworkWire(kv.Key, kv.Value))],
            CompletedFrameworks = [.. completed.Select(kv => FrameworkWire(kv.Key, kv.Value))],
        };
    }

    private static AgentOperatorResponseGetFrameworksFramework FrameworkWire(string id, FrameworkInfo info)
    {
        var copy = MesosJson.Clone(info);
        copy.Id ??= new FrameworkID { Value = id };
        return new AgentOperatorResponseGetFrameworksFramework { FrameworkInfo = copy };
    }

    private static ExecutorInfo CommandExecutorInfo(AgentTask task) => new()
    {
        ExecutorId = new ExecutorID { Value = task.ExecutorId },
        FrameworkId = new FrameworkID { Value = task.FrameworkId },
        Name = ExecutorName(task),
        Source = task.TaskId,
        Resources = task.Info.Resources,
    };

    private MesosTask TaskWire(AgentTask task)
    {
        var info = task.Info;
        var latest = task.LatestStatus;
        var forwarded = latest is { State: not null, Uuid: not null };
        return new MesosTask
        {
            Name = info.Name,
            TaskId = new TaskID { Value = task.TaskId },
            FrameworkId = new FrameworkID { Value = task.FrameworkId },
            // A command task has no executor of its own in Mesos's Task (its executor is the agent's).
            ExecutorId = task.Executor is not null || info.Executor is not null ? new ExecutorID { Value = task.ExecutorId } : null,
            AgentId = _agentId is null ? null : new AgentID { Value = _agentId },
            State = task.State,
            Resources = info.Resources,
            Statuses = latest is null ? [] : [latest],
            StatusUpdateState = forwarded ? latest!.State : null,
            StatusUpdateUuid = forwarded ? latest!.Uuid : null,
            Labels = info.Labels,
            Discovery = info.Discovery?.DeepClone(),
            // A view of a task never carries a VALUE secret's data (docs/secrets.md); the agent got it in the TaskInfo.
            Container = Protocol.Secrets.SecretRedaction.Redact(info.Container),
            HealthCheck = Protocol.Secrets.SecretRedaction.Redact(info.HealthCheck),
            User = info.Command?.User,
            KillPolicy = info.KillPolicy,
        };
    }
}
