using System.Text.Json;
using System.Text.Json.Nodes;
using Mezzo.Core.Tasks;
using Mezzo.Master.State;
using Mezzo.Protocol.Agents;
using Mezzo.Protocol.V1;
using Mezzo.Storage.Registry;
using Microsoft.Extensions.Logging;

namespace Mezzo.Master.Actor;

/// <summary>
/// Operator control of single agents (Mesos 1.9 docs/maintenance.md, "Draining"): DEACTIVATE_AGENT stops offers and
/// keeps the tasks; DRAIN_AGENT also kills every task (kill grace capped by <c>max_grace_period</c>) and reports the
/// agent DRAINED once none is left, optionally marking it gone; REACTIVATE_AGENT undoes both; MARK_AGENT_GONE removes
/// an agent for good (its tasks are TASK_GONE_BY_OPERATOR, it may never come back). Persisted before acting.
/// </summary>
public sealed partial class MasterActor
{
    private const string AgentAdminKeyPrefix = "agent-admin/";

    private readonly HashSet<string> _drainingAgents = new(StringComparer.Ordinal);

    public CallResult DeactivateAgent(string agentId)
    {
        if (FindAdministrableAgent(agentId, out var agent) is { } error)
        {
            return error;
        }

        if (PersistAgentAdmin(agentId, deactivated: true, agent!.Drain) is { } failed)
        {
            return failed;
        }

        agent.Deactivated = true;
        RescindAgentOffers(agent);
        Log.AgentDeactivated(_log, agentId);
        _version++;
        return CallResult.Ok;
    }

    public CallResult ReactivateAgent(string agentId)
    {
        if (FindAdministrableAgent(agentId, out var agent) is { } error)
        {
            return error;
        }

        if (!agent!.Deactivated)
        {
            return CallResult.BadRequest($"Agent {agentId} is not deactivated");
        }

        if (PersistAgentAdmin(agentId, deactivated: false, drain: null) is { } failed)
        {
            return failed;
        }

        agent.Deactivated = false;
        agent.Drain = null;
        _drainingAgents.Remove(agentId);
        Log.AgentReactivated(_log, agentId);
        _version++;
        _allocationPending = true;
        return CallResult.Ok;
    }

    public CallResult DrainAgent(string agentId, TimeSpan? maxGracePeriod, bool markGone)
    {
        if (maxGracePeriod is { } grace && grace < TimeSpan.Zero)
        {
            return CallResult.BadRequest("'drain_agent.max_grace_period' must not be negative");
        }

        if (FindAdministrableAgent(agentId, out var agent) is { } error)
        {
            return error;
        }

        var draining = new AgentDrain(AgentDrainState.DRAINING, maxGracePeriod, markGone);
        if (PersistAgentAdmin(agentId, deactivated: true, draining) is { } failed)
        {
            return failed;
        }

        agent!.Deactivated = true;
        agent.Drain = draining;
        RescindAgentOffers(agent);
        _drainingAgents.Add(agentId);
        Log.AgentDraining(_log, agentId, agent.Tasks.Count);
        KillForDrain(agent, maxGracePeriod);
        _version++;
        CheckDraining();
        return CallResult.Ok;
    }

    /// <summary>
    /// Kills every live task of a draining agent, the kill grace capped by <paramref name="maxGracePeriod"/>. Also run
    /// when a draining agent re-registers: kills sent while it was away never reached it.
    /// </summary>
    private static void KillForDrain(AgentEntry agent, TimeSpan? maxGracePeriod)
    {
        foreach (var task in agent.Tasks.Values.Where(t => !TaskStates.IsTerminal(t.State)))
        {
            var policy = task.Info.KillPolicy;
            if (maxGracePeriod is { } max && (policy?.GracePeriod?.Nanoseconds is not { } ns || ns > max.Ticks * 100))
            {
                policy = new KillPolicy { GracePeriod = new DurationInfo { Nanoseconds = max.Ticks * 100 } };
            }

            agent.Connection?.Send(new AgentEvent
            {
                Type = AgentEventType.KILL_TASK,
                KillTask = new AgentKillTask
                {
                    FrameworkId = new FrameworkID { Value = task.FrameworkId },
                    TaskId = new TaskID { Value = task.TaskId },
                    KillPolicy = policy,
                },
            });
        }
    }

    /// <summary>Mesos's MARK_AGENT_GONE: the agent's tasks are gone, and the agent is shut down if it ever returns.</summary>
    public CallResult MarkAgentGone(string agentId)
    {
        if (!_agents.TryGetValue(agentId, out var agent))
        {
            return CallResult.NotFound($"Agent {agentId} not found");
        }

        if (agent.Liveness == AgentLiveness.Gone)
        {
            return CallResult.Ok;
        }

        RetireAgent(agent, TaskState.TASK_GONE_BY_OPERATOR, TaskStatusReason.REASON_AGENT_REMOVED_BY_OPERATOR, "Agent has been marked gone");
        Log.AgentMarkedGone(_log, agentId);
        _version++;
        return CallResult.Ok;
    }

    /// <summary>
    /// The agent is gone for good (MARK_AGENT_GONE, or replaced after a host reboot): persisted as gone so it is shut
    /// down if it ever comes back, its offers rescinded, and its tasks (live ones and those set aside while it was
    /// unreachable alike, as Mesos's __removeSlave) reported <paramref name="partitionAwareState"/>, or TASK_LOST with
    /// REASON_AGENT_REMOVED to frameworks that are not partition-aware.
    /// </summary>
    private void RetireAgent(AgentEntry agent, TaskState partitionAwareState, TaskStatusReason partitionAwareReason, string message)
    {
        var agentId = agent.AgentId;
        var now = _time.GetUtcNow();
        // An unreachable agent was removed (and reported so) already.
        var wasRegistered = agent.Liveness != AgentLiveness.Unreachable;
        _registry.SetAgentState(agentId, AgentRegistryState.Gone, now);
        agent.Liveness = AgentLiveness.Gone;
        agent.Recovered = false;
        _drainingAgents.Remove(agentId);
        RescindAgentOffers(agent);
        agent.Connection?.Close(new AgentEvent { Type = AgentEventType.SHUTDOWN, Shutdown = new AgentShutdown { Message = message } });
        agent.Connection = null;
        foreach (var task in agent.Tasks.Values.ToList())
        {
            if (!_frameworks.TryGetValue(task.FrameworkId, out var framework))
            {
                continue;
            }

            var unreachable = framework.UnreachableTasks.TryGetValue(task.TaskId, out var away) && away == task;
            if (!unreachable && TaskStates.IsTerminal(task.State))
            {
                continue;
            }

            var (state, reason) = framework.PartitionAware
                ? (partitionAwareState, partitionAwareReason)
                : (TaskState.TASK_LOST, TaskStatusReason.REASON_AGENT_REMOVED);
            UpdateTaskFromMaster(framework, task, state, reason, message);
        }

        if (wasRegistered)
        {
            OnAgentRemoved(agentId);
        }
    }

    /// <summary>A draining agent is DRAINED once it holds no task (all terminal and acknowledged).</summary>
    private void CheckDraining()
    {
        if (_drainingAgents.Count == 0)
        {
            return;
        }

        foreach (var agentId in _drainingAgents.ToList())
        {
            if (!_agents.TryGetValue(agentId, out var agent) || agent.Drain is not { State: AgentDrainState.DRAINING } drain)
            {
                _drainingAgents.Remove(agentId);
                continue;
            }

            if (agent.Tasks.Count > 0)
            {
                continue;
            }

            // Not persisted: tried again on the next tick.
            var drained = drain with { State = AgentDrainState.DRAINED };
            if (PersistAgentAdmin(agentId, agent.Deactivated, drained) is not null)
            {
                continue;
            }

            _drainingAgents.Remove(agentId);
            agent.Drain = drained;
            Log.AgentDrained(_log, agentId);
            _version++;
            if (drain.MarkGone)
            {
                MarkAgentGone(agentId);
            }
        }
    }

    private CallResult? FindAdministrableAgent(string agentId, out AgentEntry? agent)
    {
        if (!_agents.TryGetValue(agentId, out agent))
        {
            return CallResult.NotFound($"Agent {agentId} not found");
        }

        return agent.Liveness == AgentLiveness.Gone ? CallResult.BadRequest($"Agent {agentId} has been marked gone") : null;
    }

    /// <summary>Writes what the operator decided about an agent before it takes effect; a failed write is a 503.</summary>
    private CallResult? PersistAgentAdmin(string agentId, bool deactivated, AgentDrain? drain)
    {
        var json = new JsonObject
        {
            ["deactivated"] = deactivated,
            ["drain_state"] = drain?.State.ToString(),
            ["max_grace_period_ns"] = drain?.MaxGracePeriod is { } grace ? grace.Ticks * 100 : null,
            ["mark_gone"] = drain?.MarkGone ?? false,
        };
        return Persist(AgentAdminKeyPrefix + agentId, json.ToJsonString());
    }

    /// <summary>Puts back what the operator decided about a recovered agent.</summary>
    private void RestoreAgentAdmin(AgentEntry agent)
    {
        if (_registry.GetValue(AgentAdminKeyPrefix + agent.AgentId) is not { } text)
        {
            return;
        }

        try
        {
            var json = JsonNode.Parse(text)!.AsObject();
            agent.Deactivated = json["deactivated"]?.GetValue<bool>() ?? false;
            if (json["drain_state"]?.GetValue<string>() is { } state && Enum.TryParse<AgentDrainState>(state, out var drainState))
            {
                var grace = json["max_grace_period_ns"]?.GetValue<long>() is { } ns ? TimeSpan.FromTicks(ns / 100) : (TimeSpan?)null;
                agent.Drain = new AgentDrain(drainState, grace, json["mark_gone"]?.GetValue<bool>() ?? false);
                if (drainState == AgentDrainState.DRAINING)
                {
                    _drainingAgents.Add(agent.AgentId);
                }
            }
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or FormatException)
        {
            Log.AgentAdminUnreadable(_log, agent.AgentId, ex.Message);
        }
    }

    private static JsonObject? DrainInfoJson(AgentEntry agent) => agent.Drain is not { } drain ? null : new JsonObject
    {
        ["state"] = drain.State.ToString(),
        ["config"] = new JsonObject
        {
            ["max_grace_period"] = drain.MaxGracePeriod is { } grace ? new JsonObject { ["nanoseconds"] = grace.Ticks * 100 } : null,
            ["mark_gone"] = drain.MarkGone,
        },
    };

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "Agent {AgentId} deactivated by the operator")]
        public static partial void AgentDeactivated(ILogger logger, string agentId);

        [LoggerMessage(Level = LogLevel.Information, Message = "Agent {AgentId} reactivated by the operator")]
        public static partial void AgentReactivated(ILogger logger, string agentId);

        [LoggerMessage(Level = LogLevel.Information, Message = "Agent {AgentId} draining: killing {Tasks} tasks")]
        public static partial void AgentDraining(ILogger logger, string agentId, int tasks);

        [LoggerMessage(Level = LogLevel.Information, Message = "Agent {AgentId} drained")]
        public static partial void AgentDrained(ILogger logger, string agentId);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Agent {AgentId} marked gone by the operator")]
        public static partial void AgentMarkedGone(ILogger logger, string agentId);

        [LoggerMessage(Level = LogLevel.Error, Message = "Agent {AgentId}: operator state unreadable, ignored: {Reason}")]
        public static partial void AgentAdminUnreadable(ILogger logger, string agentId, string reason);
    }
}
