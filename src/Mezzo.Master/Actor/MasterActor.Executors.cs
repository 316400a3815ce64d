using System.Text.Json.Nodes;
using Mezzo.Core.Resources;
using Mezzo.Core.Tasks;
using Mezzo.Master.Scheduler;
using Mezzo.Master.State;
using Mezzo.Protocol.Agents;
using Mezzo.Protocol.V1;
using Microsoft.Extensions.Logging;

namespace Mezzo.Master.Actor;

/// <summary>
/// Executors: custom ones named by a LAUNCH's TaskInfo, the default executor of LAUNCH_GROUP, and the messages between
/// frameworks and their executors (scheduler MESSAGE call → agent → executor; executor MESSAGE → framework MESSAGE event).
/// </summary>
public sealed partial class MasterActor
{
    private readonly Dictionary<(string AgentId, string FrameworkId, string ExecutorId), ExecutorEntry> _executors = [];

    /// <summary>
    /// For a LAUNCH whose task names an executor: a running executor must be the same ExecutorInfo; a new one must be
    /// valid and its resources must fit <paramref name="pool"/> too, and are held from now on. Returns an error, or
    /// null with the resources the executor took from the pool.
    /// </summary>
    private string? UseExecutor(FrameworkEntry framework, AgentEntry agent, string role, ExecutorInfo executor, Resources pool, out Resources taken)
    {
        taken = Resources.Empty;
        executor.FrameworkId ??= new FrameworkID { Value = framework.FrameworkId };
        if (ExecutorValidation.Validate(executor, framework) is { } invalid)
        {
            return invalid;
        }

        var key = (agent.AgentId, framework.FrameworkId, executor.ExecutorId!.Value!);
        if (_executors.TryGetValue(key, out var running))
        {
            return MesosJson.Serialize(running.Info) == MesosJson.Serialize(executor)
                ? null
                : $"ExecutorInfo is not compatible with the ExecutorInfo of the running executor '{running.ExecutorId}'";
        }

        Resources requested;
        try
        {
            requested = ResourceConversion.ToCore(executor.Resources ?? []);
        }
        catch (FormatException ex)
        {
            return $"Executor uses invalid resources: {ex.Message}";
        }

        if (TaskValidation.AllocationError(requested, framework, role) is { } allocationError)
        {
            return allocationError;
        }

        requested = requested.AllocateTo(role);
        if (!pool.Contains(requested))
        {
            return $"Executor uses more resources {requested.Unallocate()} than available {pool.Unallocate()}";
        }

        _executors[key] = new ExecutorEntry { AgentId = agent.AgentId, FrameworkId = framework.FrameworkId, Info = executor, Resources = requested };
        framework.Used += requested;
        agent.Used += requested.Unallocate();
        taken = requested;
        return null;
    }

    /// <summary>
    /// LAUNCH_GROUP: the whole group is validated first (every task, unique ids, the executor, resources of all of
    /// them together); an invalid group is TASK_ERROR with REASON_TASK_GROUP_INVALID for each task, a valid one goes to
    /// the agent in one event so it runs all of its tasks or none. Returns the pool left.
    /// </summary>
    private Resources LaunchGroup(FrameworkEntry framework, AgentEntry agent, string role, OfferOperationLaunchGroup? launch, Resources pool)
    {
        var tasks = launch?.TaskGroup?.Tasks ?? [];
        var executor = launch?.Executor;
        if (RefuseUnauthorizedGroup(framework, agent, tasks, executor))
        {
            return pool;
        }

        var left = pool;
        var resources = new List<Resources>();
        var error = GroupError(framework, tasks, executor) ?? TaskLimitError(framework, tasks.Count);
        for (var i = 0; error is null && i < tasks.Count; i++)
        {
            var taskError = TaskValidation.Validate(tasks[i], framework, agent.AgentId, role, left, out var taskResources);
            if (taskError is not null)
            {
                error = $"Task '{tasks[i].TaskId?.Value}' is invalid: {taskError}";
                break;
            }

            resources.Add(taskResources);
            left -= taskResources;
        }

        if (error is null)
        {
            error = UseExecutor(framework, agent, role, executor!, left, out var executorResources);
            left -= executorResources;
        }

        if (error is not null)
        {
            Log.TaskGroupRejected(_log, framework.FrameworkId, error);
            foreach (var task in tasks)
            {
                SendMasterUpdate(framework, task.TaskId?.Value ?? "", agent.AgentId, TaskState.TASK_ERROR, TaskStatusReason.REASON_TASK_GROUP_INVALID, error);
            }

            return pool;
        }

        for (var i = 0; i < tasks.Count; i++)
        {
            var entry = new TaskEntry
            {
                TaskId = tasks[i].TaskId!.Value!,
                FrameworkId = framework.FrameworkId,
                AgentId = agent.AgentId,
                Info = tasks[i],
                Resources = resources[i],
                User = Views.ViewFilter.TaskUser(tasks[i], executor),
            };
            framework.Tasks[entry.TaskId] = entry;
            framework.Used += entry.Resources;
            agent.Tasks[(framework.FrameworkId, entry.TaskId)] = entry;
            agent.Used += entry.Resources.Unallocate();
            _counters.Launched++;
            OnTaskAdded(entry);
        }

        agent.Connection?.Send(new AgentEvent
        {
            Type = AgentEventType.RUN_TASK_GROUP,
            RunTaskGroup = new AgentRunTaskGroup { Framework = framework.Info, Executor = executor, TaskGroup = launch!.TaskGroup },
        });
        return left;
    }

    private static string? GroupError(FrameworkEntry framework, List<TaskInfo> tasks, ExecutorInfo? executor)
    {
        if (executor is null)
        {
            return "'LaunchGroup.executor' must be set";
        }

        if (tasks.Count == 0)
        {
            return "Task group cannot be empty";
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var task in tasks)
        {
            var taskId = task.TaskId?.Value ?? "";
            if (!seen.Add(taskId))
            {
                return $"Task group has duplicate task ID '{taskId}'";
            }

            if (task.Executor is not null)
            {
                return $"Task '{taskId}' must not set 'executor': the tasks of a group run under the group's executor";
            }
        }

        return ExecutorValidation.Validate(executor, framework);
    }

    /// <summary>The scheduler's MESSAGE call: to the executor through its agent. Not reliable, as in Mesos: an unknown
    /// or disconnected agent drops it (202 either way).</summary>
    private CallResult FrameworkMessage(FrameworkEntry framework, CallMessage message)
    {
        if (string.IsNullOrEmpty(message.AgentId?.Value))
        {
            return CallResult.BadRequest("Expecting 'message.agent_id' to be present");
        }

        if (string.IsNullOrEmpty(message.ExecutorId?.Value))
        {
            return CallResult.BadRequest("Expecting 'message.executor_id' to be present");
        }

        if (message.Data is null)
        {
            return CallResult.BadRequest("Expecting 'message.data' to be present");
        }

        if (!_agents.TryGetValue(message.AgentId.Value, out var agent) || agent.Connection is null)
        {
            Log.FrameworkMessageDropped(_log, framework.FrameworkId, message.AgentId.Value, "the agent is not connected");
            return CallResult.Accepted;
        }

        agent.Connection.Send(new AgentEvent
        {
            Type = AgentEventType.FRAMEWORK_MESSAGE,
            FrameworkMessage = new AgentFrameworkMessage
            {
                FrameworkId = new FrameworkID { Value = framework.FrameworkId },
                ExecutorId = message.ExecutorId,
                Data = message.Data,
            },
        });
        return CallResult.Accepted;
    }

    /// <summary>The scheduler's SHUTDOWN call for an executor the master tracks: SHUTDOWN_EXECUTOR to its agent.</summary>
    private bool ShutdownTrackedExecutor(FrameworkEntry framework, CallShutdown shutdown)
    {
        var key = (shutdown.AgentId?.Value ?? "", framework.FrameworkId, shutdown.ExecutorId?.Value ?? "");
        if (!_executors.ContainsKey(key))
        {
            return false;
        }

        if (_agents.TryGetValue(key.Item1, out var agent))
        {
            agent.Connection?.Send(new AgentEvent
            {
                Type = AgentEventType.SHUTDOWN_EXECUTOR,
                ShutdownExecutor = new AgentShutdownExecutor { FrameworkId = new FrameworkID { Value = framework.FrameworkId }, ExecutorId = shutdown.ExecutorId },
            });
        }

        return true;
    }

    /// <summary>EXECUTOR_MESSAGE from an agent: the framework's MESSAGE event.</summary>
    public CallResult AgentExecutorMessage(string agentId, string? streamId, AgentExecutorMessage message)
    {
        if (AuthorizeAgent(agentId, streamId, out _) is { } error)
        {
            return error;
        }

        if (_frameworks.TryGetValue(message.FrameworkId?.Value ?? "", out var framework))
        {
            framework.Connection?.Send(new Event
            {
                Type = EventType.MESSAGE,
                Message = new EventMessage { AgentId = new AgentID { Value = agentId }, ExecutorId = message.ExecutorId, Data = message.Data ?? [] },
            });
        }

        return CallResult.Accepted;
    }

    /// <summary>EXECUTOR_EXITED from an agent: its resources are free again and the framework hears FAILURE.</summary>
    public CallResult AgentExecutorExited(string agentId, string? streamId, AgentExecutorExited exited)
    {
        if (AuthorizeAgent(agentId, streamId, out _) is { } error)
        {
            return error;
        }

        var frameworkId = exited.FrameworkId?.Value ?? "";
        if (_executors.Remove((agentId, frameworkId, exited.ExecutorId?.Value ?? ""), out var entry))
        {
            ReleaseExecutorResources(entry);
        }

        if (_frameworks.TryGetValue(frameworkId, out var framework))
        {
            framework.Connection?.Send(new Event
            {
                Type = EventType.FAILURE,
                Failure = new EventFailure { AgentId = new AgentID { Value = agentId }, ExecutorId = exited.ExecutorId, Status = exited.Status },
            });
        }

        return CallResult.Accepted;
    }

    /// <summary>On (re)subscribe: executors the agent runs that the master forgot (it restarted) are adopted; executors
    /// the master holds resources for that the agent no longer runs are let go.</summary>
    private void ReconcileAgentExecutors(AgentEntry agent, IReadOnlyList<AgentExecutorReport> reports)
    {
        var reported = new HashSet<(string, string, string)>();
        foreach (var report in reports)
        {
            var frameworkId = report.FrameworkId?.Value;
            var executorId = report.Executor?.ExecutorId?.Value;
            if (frameworkId is null || executorId is null || !_frameworks.TryGetValue(frameworkId, out var framework))
            {
                continue;
            }

            var key = (agent.AgentId, frameworkId, executorId);
            reported.Add(key);
            if (_executors.ContainsKey(key))
            {
                continue;
            }

            Resources resources;
            try
            {
                resources = ResourceConversion.ToCore(report.Executor!.Resources ?? []).Unallocate().AllocateTo(framework.Role);
            }
            catch (FormatException)
            {
                resources = Resources.Empty;
            }

            _executors[key] = new ExecutorEntry { AgentId = agent.AgentId, FrameworkId = frameworkId, Info = report.Executor!, Resources = resources };
            framework.Used += resources;
            agent.Used += resources.Unallocate();
        }

        foreach (var key in _executors.Keys.Where(k => k.AgentId == agent.AgentId && !reported.Contains(k)).ToList())
        {
            _executors.Remove(key, out var gone);
            ReleaseExecutorResources(gone!);
        }
    }

    /// <summary>A removed framework's executors hold nothing any more (its agents shut them down).</summary>
    private void RemoveFrameworkExecutors(FrameworkEntry framework)
    {
        foreach (var key in _executors.Keys.Where(k => k.FrameworkId == framework.FrameworkId).ToList())
        {
            _executors.Remove(key, out var gone);
            ReleaseExecutorResources(gone!);
        }
    }

    private void ReleaseExecutorResources(ExecutorEntry entry)
    {
        if (_frameworks.TryGetValue(entry.FrameworkId, out var framework))
        {
            framework.Used -= entry.Resources;
        }

        if (_agents.TryGetValue(entry.AgentId, out var agent))
        {
            agent.Used -= entry.Resources.Unallocate();
        }

        _allocationPending = true;
    }

    /// <summary>/master/state frameworks[].executors, as Mesos lists them.</summary>
    private JsonArray ExecutorsJson(string frameworkId) =>
        new([.. _executors.Values.Where(e => e.FrameworkId == frameworkId).Select(e => (JsonNode)new JsonObject
        {
            ["executor_id"] = e.ExecutorId,
            ["name"] = e.Info.Name ?? "",
            ["framework_id"] = e.FrameworkId,
            ["slave_id"] = e.AgentId,
            ["type"] = ExecutorValidation.TypeOf(e.Info).ToString(),
            ["command"] = e.Info.Command is { } command ? CommandJson(command) : null,
            ["resources"] = ResourcesModel(e.Resources),
        })]);

    private static JsonObject CommandJson(CommandInfo command)
    {
        var json = new JsonObject { ["value"] = command.Value, ["shell"] = command.Shell ?? true };
        if (command.User is { } user)
        {
            json["user"] = user;
        }

        return json;
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Warning, Message = "Task group of framework {FrameworkId} rejected: {Reason}")]
        public static partial void TaskGroupRejected(ILogger logger, string frameworkId, string reason);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Dropped a message of framework {FrameworkId} for agent {AgentId}: {Reason}")]
        public static partial void FrameworkMessageDropped(ILogger logger, string frameworkId, string agentId, string reason);
    }
}
