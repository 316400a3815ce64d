using Mezzo.Core.Tasks;
using Mezzo.Master.State;
using Mezzo.Protocol.Agents;
using Mezzo.Protocol.V1;
using Mezzo.Storage.Registry;
using Microsoft.Extensions.Logging;

namespace Mezzo.Master.Actor;

/// <summary>
/// Partitioned agents, as Mesos 1.11 handles them. An agent not heard from for <c>agent_ping_timeout ×
/// max_agent_ping_timeouts</c> is marked unreachable in the registry; its tasks become TASK_UNREACHABLE for
/// PARTITION_AWARE frameworks and TASK_LOST for the others (both with <c>unreachable_time</c>, reason
/// REASON_AGENT_REMOVED) and give their resources back. The agent may re-register with its id: the tasks of
/// partition-aware frameworks are then running again and those frameworks are told so; the tasks of the others, who
/// were told TASK_LOST, are killed (the rule and Mesos's before 1.5; Mesos 1.5+ would keep them). A task id
/// that the framework launched again elsewhere in the meantime is killed on the returning agent, so one task id never
/// runs twice. Unreachable agents older than
/// <c>registry_max_agent_age</c>, or beyond <c>registry_max_agent_count</c>, are forgotten.
/// </summary>
public sealed partial class MasterActor
{
    private DateTimeOffset? _nextRegistryGc;

    /// <summary>Admitted agents the registry held when this master started (the base of the removal limit).</summary>
    private int _admittedAtRecovery;

    private bool _removalLimitHeld;

    private void CheckAgentLiveness(DateTimeOffset now)
    {
        List<AgentEntry>? silent = null;
        foreach (var agent in _agents.Values)
        {
            if (agent.Liveness is AgentLiveness.Connected or AgentLiveness.Disconnected && IsOverdue(agent, now))
            {
                (silent ??= []).Add(agent);
            }
        }

        if (silent is null)
        {
            return;
        }

        var recovered = silent.Count(a => a.Recovered);
        var share = _admittedAtRecovery == 0 ? 0 : 100.0 * _agents.Values.Count(a => a.Recovered) / _admittedAtRecovery;
        if (recovered > 0 && share > _options.RecoveryAgentRemovalLimitPercent)
        {
            if (!_removalLimitHeld)
            {
                Log.RecoveryRemovalLimitExceeded(_log, _agents.Values.Count(a => a.Recovered), _admittedAtRecovery, share, _options.RecoveryAgentRemovalLimitPercent);
                _removalLimitHeld = true;
            }

            silent.RemoveAll(a => a.Recovered);
        }

        foreach (var agent in silent)
        {
            MarkUnreachable(agent, now);
        }
    }

    /// <summary>Mesos's <c>markUnreachable</c>: persisted first, then the tasks are moved aside and their frameworks told.</summary>
    private void MarkUnreachable(AgentEntry agent, DateTimeOffset now)
    {
        _registry.SetAgentState(agent.AgentId, AgentRegistryState.Unreachable, now);
        var silentFor = (now - agent.LastSeen).TotalSeconds;
        var why = agent.Recovered
            ? $"did not re-register within {_options.AgentReregisterTimeout.TotalSeconds:F0}s of the master's recovery"
            : $"not heard from for {silentFor:F1}s";
        var affected = agent.Tasks.Values.Where(t => !TaskStates.IsTerminal(t.State)).ToList();
        Log.AgentUnreachable(_log, agent.AgentId, why, affected.Count);
        agent.Liveness = AgentLiveness.Unreachable;
        agent.UnreachableSince = now;
        agent.Recovered = false;
        agent.Connection?.Close();
        agent.Connection = null;
        RescindAgentOffers(agent);
        var unreachableTime = TimeInfoOf(now);
        foreach (var task in affected)
        {
            if (!_frameworks.TryGetValue(task.FrameworkId, out var framework))
            {
                continue;
            }

            var state = framework.PartitionAware ? TaskState.TASK_UNREACHABLE : TaskState.TASK_LOST;
            var status = MasterStatus(task.TaskId, task.AgentId, state, TaskStatusReason.REASON_AGENT_REMOVED,
                $"Agent {agent.Hostname} is unreachable: {why}");
            status.ExecutorId = task.Info.Executor?.ExecutorId;
            status.UnreachableTime = unreachableTime;
            task.State = state;
            task.LatestStatus = status;
            task.Statuses.Add(status);
            ReleaseTaskResources(task);
            framework.Tasks.Remove(task.TaskId);
            framework.UnreachableTasks[task.TaskId] = task;
            Log.TaskStateChanged(_log, task.TaskId, framework.FrameworkId, state.ToString());
            OnTaskUpdated(task);
            CountTerminal(state);
            SendStatus(framework, status);
        }

        // After its tasks' updates, as Mesos's markUnreachable removes the agent last.
        OnAgentRemoved(agent.AgentId);
    }

    /// <summary>
    /// A task the agent reports on re-registration that the master had set aside as unreachable: it is the task's
    /// entry again, holding its resources, unless the framework launched the same task id elsewhere meanwhile (then the
    /// returning copy is killed).
    /// </summary>
    private void ReturnUnreachableTask(AgentEntry agent, FrameworkEntry framework, TaskEntry away, AgentTaskReport report)
    {
        framework.UnreachableTasks.Remove(away.TaskId);
        agent.Tasks.Remove((framework.FrameworkId, away.TaskId));
        if (framework.Tasks.TryGetValue(away.TaskId, out var relaunched) && relaunched.AgentId != agent.AgentId)
        {
            KillDuplicate(agent, framework, away.TaskId, relaunched.AgentId);
            return;
        }

        var state = report.LatestStatus?.State ?? TaskState.TASK_STAGING;
        away.State = state;
        away.LatestStatus = report.LatestStatus;
        if (report.LatestStatus is not null)
        {
            away.Statuses.Add(report.LatestStatus);
        }

        framework.Tasks[away.TaskId] = away;
        agent.Tasks[(framework.FrameworkId, away.TaskId)] = away;
        OnTaskUpdated(away);
        if (TaskStates.IsTerminal(state))
        {
            // The agent still holds the terminal update and resends it; its acknowledgement archives the task.
            return;
        }

        away.HoldsResources = true;
        framework.Used += away.Resources;
        agent.Used += away.Resources.Unallocate();
        if (!framework.PartitionAware)
        {
            // This framework was told TASK_LOST and may have launched a replacement already: the task is killed, so it
            // never runs twice (the rule, and Mesos's before 1.5). Its TASK_KILLED comes from the agent as usual.
            KillLostTask(agent, framework, away.TaskId);
            return;
        }

        Log.TaskStateChanged(_log, away.TaskId, framework.FrameworkId, state.ToString());
        var status = MasterStatus(away.TaskId, agent.AgentId, state, TaskStatusReason.REASON_AGENT_REREGISTERED, "Agent reregistered");
        status.ExecutorId = report.LatestStatus?.ExecutorId ?? away.Info.Executor?.ExecutorId;
        status.Healthy = report.LatestStatus?.Healthy;
        status.ContainerStatus = report.LatestStatus?.ContainerStatus;
        SendStatus(framework, status);
    }

    /// <summary>
    /// Unreachable tasks the returning agent did not report: they ended while it was away and left nothing behind. A
    /// partition-aware framework, told TASK_UNREACHABLE, learns they are TASK_GONE; the others already had TASK_LOST.
    /// </summary>
    private void ForgetUnreportedUnreachableTasks(AgentEntry agent, HashSet<(string, string)> reported)
    {
        foreach (var task in agent.Tasks.Values.Where(t => !reported.Contains((t.FrameworkId, t.TaskId))).ToList())
        {
            if (!_frameworks.TryGetValue(task.FrameworkId, out var framework)
                || !framework.UnreachableTasks.TryGetValue(task.TaskId, out var away) || away != task)
            {
                continue;
            }

            framework.UnreachableTasks.Remove(task.TaskId);
            if (framework.PartitionAware)
            {
                var status = MasterStatus(task.TaskId, agent.AgentId, TaskState.TASK_GONE, TaskStatusReason.REASON_AGENT_REREGISTERED,
                    "Task was not found on the agent when it re-registered");
                task.State = TaskState.TASK_GONE;
                task.LatestStatus = status;
                task.Statuses.Add(status);
                CountTerminal(TaskState.TASK_GONE);
                OnTaskUpdated(task);
                SendStatus(framework, status);
            }

            ArchiveTask(framework, task);
        }
    }

    /// <summary>
    /// The framework runs this task id on another agent now (it relaunched it after TASK_LOST / TASK_UNREACHABLE, or
    /// after the registry forgot this agent): the copy here is an older launch and must not run beside it.
    /// </summary>
    private void KillDuplicate(AgentEntry agent, FrameworkEntry framework, string taskId, string otherAgentId)
    {
        Log.DuplicateTaskKilled(_log, taskId, framework.FrameworkId, agent.AgentId, otherAgentId);
        SendKill(agent, framework, taskId);
    }

    private void KillLostTask(AgentEntry agent, FrameworkEntry framework, string taskId)
    {
        Log.LostTaskKilled(_log, taskId, framework.FrameworkId, agent.AgentId);
        SendKill(agent, framework, taskId);
    }

    private static void SendKill(AgentEntry agent, FrameworkEntry framework, string taskId)
    {
        agent.Connection?.Send(new AgentEvent
        {
            Type = AgentEventType.KILL_TASK,
            KillTask = new AgentKillTask { FrameworkId = new FrameworkID { Value = framework.FrameworkId }, TaskId = new TaskID { Value = taskId } },
        });
    }

    /// <summary>
    /// Mesos's registry GC: forgets unreachable agents beyond <c>registry_max_agent_count</c> (oldest first) or
    /// unreachable for longer than <c>registry_max_agent_age</c>, with the tasks set aside for them. Reconciling those
    /// tasks then answers TASK_UNKNOWN; an agent coming back after that is admitted as one the master never knew.
    /// Gone agents are kept: the operator's decision that they may never return must outlive any GC.
    /// </summary>
    private void CollectRegistryGarbage(DateTimeOffset now)
    {
        if (_nextRegistryGc is not { } due)
        {
            _nextRegistryGc = now + _options.RegistryGcInterval;
            return;
        }

        if (now < due)
        {
            return;
        }

        _nextRegistryGc = now + _options.RegistryGcInterval;
        var unreachable = _agents.Values.Where(a => a.Liveness == AgentLiveness.Unreachable)
            .OrderBy(a => a.UnreachableSince ?? DateTimeOffset.MinValue).ToList();
        var prune = new List<AgentEntry>();
        foreach (var agent in unreachable)
        {
            if (unreachable.Count - prune.Count > _options.RegistryMaxAgentCount
                || now - (agent.UnreachableSince ?? now) > _options.RegistryMaxAgentAge)
            {
                prune.Add(agent);
            }
        }

        if (prune.Count == 0)
        {
            return;
        }

        try
        {
            _registry.RemoveAgents([.. prune.Select(a => a.AgentId)]);
        }
        catch (Exception ex)
        {
            // Tried again at the next interval; nothing was forgotten in memory either.
            Log.RegistryGcFailed(_log, prune.Count, ex);
            return;
        }

        foreach (var agent in prune)
        {
            foreach (var task in agent.Tasks.Values)
            {
                if (_frameworks.TryGetValue(task.FrameworkId, out var framework)
                    && framework.UnreachableTasks.TryGetValue(task.TaskId, out var away) && away == task)
                {
                    framework.UnreachableTasks.Remove(task.TaskId);
                }
            }

            _agents.Remove(agent.AgentId);
            _drainingAgents.Remove(agent.AgentId);
        }

        Log.RegistryGarbageCollected(_log, prune.Count, string.Join(", ", prune.Select(a => a.AgentId)));
    }

    /// <summary>A status the master itself originates: no uuid, so the scheduler need not acknowledge it.</summary>
    private TaskStatus MasterStatus(string taskId, string? agentId, TaskState state, TaskStatusReason reason, string message) => new()
    {
        TaskId = new TaskID { Value = taskId },
        AgentId = agentId is null ? null : new AgentID { Value = agentId },
        State = state,
        Source = TaskStatusSource.SOURCE_MASTER,
        Reason = reason,
        Message = message,
        Timestamp = Now(),
    };

    private static void SendStatus(FrameworkEntry framework, TaskStatus status) =>
        framework.Connection?.Send(new Event { Type = EventType.UPDATE, Update = new EventUpdate { Status = status } });

    private static TimeInfo TimeInfoOf(DateTimeOffset time) => new() { Nanoseconds = time.ToUnixTimeMilliseconds() * 1_000_000 };

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Warning, Message = "Task {TaskId} of framework {FrameworkId} on returning agent {AgentId} is killed: the framework runs that task id on agent {OtherAgentId} now")]
        public static partial void DuplicateTaskKilled(ILogger logger, string taskId, string frameworkId, string agentId, string otherAgentId);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Killing task {TaskId} of framework {FrameworkId} on returning agent {AgentId}: the framework was told TASK_LOST and is not partition-aware")]
        public static partial void LostTaskKilled(ILogger logger, string taskId, string frameworkId, string agentId);

        [LoggerMessage(Level = LogLevel.Critical, Message = "Post-recovery agent removal limit exceeded: {Missing} of the {Admitted} agents known at start ({Share:F0}%, limit {Limit}%) did not re-register in time; none of them is marked unreachable until enough are back. Investigate, or raise --recovery-agent-removal-limit")]
        public static partial void RecoveryRemovalLimitExceeded(ILogger logger, int missing, int admitted, double share, double limit);

        [LoggerMessage(Level = LogLevel.Information, Message = "Registry GC forgot {Count} unreachable agents: {AgentIds}")]
        public static partial void RegistryGarbageCollected(ILogger logger, int count, string agentIds);

        [LoggerMessage(Level = LogLevel.Error, Message = "Registry GC of {Count} unreachable agents failed; retried at the next interval")]
        public static partial void RegistryGcFailed(ILogger logger, int count, Exception exception);
    }
}
