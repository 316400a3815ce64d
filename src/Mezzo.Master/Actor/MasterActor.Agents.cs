using Mezzo.Core.Resources;
using Mezzo.Core.Tasks;
using Mezzo.Master.Agents;
using Mezzo.Master.State;
using Mezzo.Protocol.Agents;
using Mezzo.Protocol.V1;
using Mezzo.Storage.Registry;

namespace Mezzo.Master.Actor;

public sealed partial class MasterActor
{
    /// <summary>An agent opened its subscription (first registration, reconnect, or restart).</summary>
    public (CallResult Result, string? AgentId) SubscribeAgent(AgentSubscribe subscribe, Resources total, IReadOnlyList<AgentAttribute> attributes, AgentConnection connection)
    {
        var now = _time.GetUtcNow();
        var requestedId = subscribe.AgentId?.Value;
        AgentEntry agent;
        if (requestedId is not null && _agents.TryGetValue(requestedId, out var existing))
        {
            if (existing.Liveness == AgentLiveness.Gone)
            {
                connection.Close(new AgentEvent { Type = AgentEventType.SHUTDOWN, Shutdown = new AgentShutdown { Message = "Agent has been marked gone" } });
                return (CallResult.Ok, null);
            }

            agent = existing;
            var fromPartition = existing.Liveness == AgentLiveness.Unreachable;
            agent.Connection?.Close();
            RescindAgentOffers(agent);
            agent.Hostname = subscribe.Hostname!;
            agent.Port = subscribe.Port!.Value;
            agent.Total = RestoreReservations(agent.AgentId, total);
            agent.Attributes = attributes;
            agent.ReregisteredAt = now;
            _registry.UpsertAgent(new AgentRecord(agent.AgentId, agent.Hostname, agent.Port, AgentInfoJson(subscribe), AgentRegistryState.Admitted, now));
            agent.Liveness = AgentLiveness.Connected;
            agent.UnreachableSince = null;
            agent.Recovered = false;
            agent.Connection = connection;
            agent.LastSeen = now;
            Log.AgentReregistered(_log, agent.AgentId, agent.Hostname, agent.Port);
            OnAgentAdded(agent);
            ReconcileAgentTasks(agent, subscribe.Tasks ?? [], fromPartition);
            if (agent.Drain is { State: AgentDrainState.DRAINING } drain)
            {
                KillForDrain(agent, drain.MaxGracePeriod);
            }
        }
        else
        {
            if (IsOnDownMachine(subscribe.Hostname!))
            {
                connection.Close(new AgentEvent { Type = AgentEventType.SHUTDOWN, Shutdown = new AgentShutdown { Message = "Agent's machine is DOWN for maintenance" } });
                return (CallResult.Ok, null);
            }

            if (requestedId is null)
            {
                // A new agent where a registered one lives: that agent's host restarted (a new boot id makes an agent
                // start afresh), so nothing of it runs any more (Mesos removes it, reason "registered").
                foreach (var replaced in _agents.Values.Where(a => a.Hostname == subscribe.Hostname && a.Port == subscribe.Port!.Value && a.Liveness != AgentLiveness.Gone).ToList())
                {
                    Log.AgentReplaced(_log, replaced.AgentId, replaced.Hostname, replaced.Port);
                    RetireAgent(replaced, TaskState.TASK_GONE, TaskStatusReason.REASON_AGENT_REMOVED,
                        $"Agent {replaced.AgentId} was replaced by a new agent registering at {replaced.Hostname}:{replaced.Port} (its host restarted)");
                }
            }

            var id = requestedId ?? NewAgentId();
            _registry.UpsertAgent(new AgentRecord(id, subscribe.Hostname!, subscribe.Port!.Value, AgentInfoJson(subscribe), AgentRegistryState.Admitted, now));
            agent = new AgentEntry
            {
                AgentId = id,
                Hostname = subscribe.Hostname!,
                Port = subscribe.Port!.Value,
                Total = RestoreReservations(id, total),
                Attributes = attributes,
                RegisteredAt = now,
                LastSeen = now,
                Connection = connection,
                Version = subscribe.Version ?? "",
            };
            _agents[id] = agent;
            Log.AgentRegistered(_log, id, agent.Hostname, agent.Port, total.ToString());
            OnAgentAdded(agent);
            if (requestedId is not null)
            {
                // A restarted master, or one whose registry forgot this agent, adopts what it reports.
                ReconcileAgentTasks(agent, subscribe.Tasks ?? []);
            }
        }

        ReconcileAgentExecutors(agent, subscribe.Executors ?? []);
        connection.Send(new AgentEvent
        {
            Type = AgentEventType.SUBSCRIBED,
            Subscribed = new AgentSubscribed
            {
                AgentId = new AgentID { Value = agent.AgentId },
                PingIntervalSeconds = _options.AgentPingTimeout.TotalSeconds,
            },
        });
        _allocationPending = true;
        return (CallResult.Ok, agent.AgentId);
    }

    /// <summary>
    /// Brings the master's view of an agent's tasks in line with the agent's report. Tasks of removed frameworks are
    /// shut down; tasks the agent brings back from a partition are running again (Mesos 1.5+: for every framework);
    /// a task id the framework runs on another agent by now is killed here, so a task never runs twice.
    /// </summary>
    private void ReconcileAgentTasks(AgentEntry agent, IReadOnlyList<AgentTaskReport> reports, bool fromPartition = false)
    {
        var reported = new HashSet<(string, string)>();
        foreach (var report in reports)
        {
            var frameworkId = report.FrameworkId?.Value;
            var taskId = report.Task?.TaskId?.Value;
            if (frameworkId is null || taskId is null || report.Task is null)
            {
                continue;
            }

            reported.Add((frameworkId, taskId));
            var state = report.LatestStatus?.State ?? TaskState.TASK_STAGING;
            if (_removedFrameworkIds.Contains(frameworkId))
            {
                SendShutdownFramework(agent, frameworkId);
                continue;
            }

            if (!_frameworks.TryGetValue(frameworkId, out var framework))
            {
                // Known from before a master restart; it may resubscribe with this id.
                framework = new FrameworkEntry
                {
                    FrameworkId = frameworkId,
                    Info = new FrameworkInfo { Id = new FrameworkID { Value = frameworkId }, Name = "", User = "" },
                    RegisteredAt = _time.GetUtcNow(),
                    FailoverDeadline = null,
                };
                _frameworks[frameworkId] = framework;
            }

            if (framework.UnreachableTasks.TryGetValue(taskId, out var away) && away.AgentId == agent.AgentId)
            {
                ReturnUnreachableTask(agent, framework, away, report);
                continue;
            }

            if (framework.Tasks.TryGetValue(taskId, out var known) && known.AgentId != agent.AgentId)
            {
                if (!TaskStates.IsTerminal(state))
                {
                    KillDuplicate(agent, framework, taskId, known.AgentId);
                }

                continue;
            }

            if (known is not null)
            {
                if (!known.HoldsResources && !TaskStates.IsTerminal(state))
                {
                    known.HoldsResources = true;
                    framework.Used += known.Resources;
                    agent.Used += known.Resources.Unallocate();
                }

                var changed = known.State != state;
                known.State = state;
                known.LatestStatus = report.LatestStatus;
                if (changed)
                {
                    OnTaskUpdated(known);
                }

                continue;
            }

            if (TaskStates.IsTerminal(state))
            {
                continue;
            }

            Resources resources;
            try
            {
                resources = ResourceConversion.ToCore(report.Task.Resources ?? []).Unallocate().AllocateTo(framework.Role);
            }
            catch (FormatException)
            {
                resources = Resources.Empty;
            }

            var entry = new TaskEntry
            {
                TaskId = taskId,
                FrameworkId = frameworkId,
                AgentId = agent.AgentId,
                Info = report.Task,
                Resources = resources,
                User = Views.ViewFilter.TaskUser(report.Task),
                State = state,
                LatestStatus = report.LatestStatus,
            };
            framework.Tasks[taskId] = entry;
            framework.Used += resources;
            agent.Tasks[(frameworkId, taskId)] = entry;
            agent.Used += resources.Unallocate();
            OnTaskAdded(entry);
            if (fromPartition)
            {
                // An agent marked unreachable before this master learned its tasks (it never re-registered after a
                // master restart): reconciliation told the framework TASK_LOST or TASK_UNREACHABLE meanwhile.
                ReturnUnlearnedTask(agent, framework, entry);
            }
        }

        ForgetUnreportedUnreachableTasks(agent, reported);

        // Tasks the master launched that the agent never heard of (the RUN_TASK was lost in a reconnect).
        foreach (var task in agent.Tasks.Values.Where(t => !reported.Contains((t.FrameworkId, t.TaskId)) && !TaskStates.IsTerminal(t.State)).ToList())
        {
            if (_frameworks.TryGetValue(task.FrameworkId, out var framework))
            {
                var lost = framework.PartitionAware ? TaskState.TASK_DROPPED : TaskState.TASK_LOST;
                UpdateTaskFromMaster(framework, task, lost, TaskStatusReason.REASON_AGENT_REREGISTERED,
                    "Task was not found on the agent when it re-registered");
            }
        }
    }

    /// <summary>UPDATE call from an agent: status updates to forward to their frameworks, in order.</summary>
    public CallResult AgentStatusUpdates(string agentId, string? streamId, IReadOnlyList<AgentUpdate> updates)
    {
        if (AuthorizeAgent(agentId, streamId, out var agent) is { } error)
        {
            return error;
        }

        agent.LastSeen = _time.GetUtcNow();
        foreach (var update in updates)
        {
            ApplyStatusUpdate(agent, update);
        }

        return CallResult.Accepted;
    }

    private void ApplyStatusUpdate(AgentEntry agent, AgentUpdate update)
    {
        var status = update.Status!;
        var frameworkId = update.FrameworkId!.Value!;
        var taskId = status.TaskId!.Value!;
        if (_removedFrameworkIds.Contains(frameworkId) || !_frameworks.TryGetValue(frameworkId, out var framework))
        {
            SendShutdownFramework(agent, frameworkId);
            _counters.InvalidStatusUpdates++;
            return;
        }

        // A task id the framework relaunched elsewhere belongs to that agent; this is the killed older copy.
        if (framework.Tasks.TryGetValue(taskId, out var task) && task.AgentId == agent.AgentId)
        {
            var changed = task.State != status.State;
            if (changed)
            {
                Log.TaskStateChanged(_log, taskId, frameworkId, status.State.ToString() ?? "");
            }

            task.State = status.State ?? task.State;
            task.LatestStatus = status;
            task.Statuses.Add(status);
            if (task.Statuses.Count > 20)
            {
                task.Statuses.RemoveAt(1);
            }

            if (TaskStates.IsTerminal(task.State))
            {
                if (task.HoldsResources)
                {
                    CountTerminal(task.State);
                }

                ReleaseTaskResources(task);
            }

            // As Mesos: a retried update, or one that only changes health or checks, is no new event.
            if (changed)
            {
                OnTaskUpdated(task);
            }
        }

        _counters.ValidStatusUpdates++;
        framework.Connection?.Send(new Event { Type = EventType.UPDATE, Update = new EventUpdate { Status = status } });
    }

    public CallResult AgentPing(string agentId, string? streamId)
    {
        if (AuthorizeAgent(agentId, streamId, out var agent) is { } error)
        {
            return error;
        }

        agent.LastSeen = _time.GetUtcNow();
        return CallResult.Accepted;
    }

    public void AgentDisconnected(string agentId, AgentConnection connection)
    {
        if (!_agents.TryGetValue(agentId, out var agent) || agent.Connection != connection)
        {
            return;
        }

        agent.Connection = null;
        if (agent.Liveness == AgentLiveness.Connected)
        {
            agent.Liveness = AgentLiveness.Disconnected;
        }

        Log.AgentDisconnected(_log, agentId);
        RescindAgentOffers(agent);
    }

    private CallResult? AuthorizeAgent(string agentId, string? streamId, out AgentEntry agent)
    {
        if (!_agents.TryGetValue(agentId, out agent!))
        {
            return CallResult.NotFound($"Agent {agentId} is not registered");
        }

        if (agent.Connection is null || agent.Connection.StreamId != streamId)
        {
            return CallResult.Forbidden($"Agent {agentId} is not subscribed on stream '{streamId}'; subscribe again");
        }

        return null;
    }

    /// <summary>A state change the master decides on its own (agent lost, launch lost), told to the framework.</summary>
    private void UpdateTaskFromMaster(FrameworkEntry framework, TaskEntry task, TaskState state, TaskStatusReason reason, string message)
    {
        task.State = state;
        task.LatestStatus = new TaskStatus
        {
            TaskId = new TaskID { Value = task.TaskId },
            AgentId = new AgentID { Value = task.AgentId },
            State = state,
            Source = TaskStatusSource.SOURCE_MASTER,
            Reason = reason,
            Message = message,
            Timestamp = Now(),
        };
        task.Statuses.Add(task.LatestStatus);
        ReleaseTaskResources(task);
        OnTaskUpdated(task);
        SendMasterUpdate(framework, task.TaskId, task.AgentId, state, reason, message);
        if (TaskStates.IsTerminal(state))
        {
            ArchiveTask(framework, task);
        }
    }

    private static void SendShutdownFramework(AgentEntry agent, string frameworkId) =>
        agent.Connection?.Send(new AgentEvent
        {
            Type = AgentEventType.SHUTDOWN_FRAMEWORK,
            ShutdownFramework = new AgentShutdownFramework { FrameworkId = new FrameworkID { Value = frameworkId } },
        });

    private static string AgentInfoJson(AgentSubscribe subscribe) =>
        System.Text.Json.JsonSerializer.Serialize(new AgentSubscribe
        {
            AgentId = subscribe.AgentId,
            Hostname = subscribe.Hostname,
            Port = subscribe.Port,
            Resources = subscribe.Resources,
            Attributes = subscribe.Attributes,
            Version = subscribe.Version,
        }, MesosJsonContext.Default.AgentSubscribe);

    /// <summary>Loads the registry: removed framework ids stay removed; admitted agents must re-register in time.</summary>
    private void Recover()
    {
        RecoverMaintenance();
        var now = _time.GetUtcNow();
        foreach (var framework in _registry.LoadFrameworks())
        {
            if (framework.Removed)
            {
                _removedFrameworkIds.Add(framework.FrameworkId);
            }
            else
            {
                RecoverFramework(framework, now);
            }
        }

        foreach (var record in _registry.LoadAgents())
        {
            // Admitted agents are not connected until they re-register, and become unreachable if they don't in time.
            var liveness = record.State switch
            {
                AgentRegistryState.Gone => AgentLiveness.Gone,
                AgentRegistryState.Unreachable => AgentLiveness.Unreachable,
                _ => AgentLiveness.Disconnected,
            };
            _agents[record.AgentId] = new AgentEntry
            {
                AgentId = record.AgentId,
                Hostname = record.Hostname,
                Port = record.Port,
                Total = Resources.Empty,
                Attributes = RecoveredAttributes(record),
                RegisteredAt = record.ChangedAt,
                LastSeen = liveness == AgentLiveness.Disconnected ? now : record.ChangedAt,
                Liveness = liveness,
                UnreachableSince = liveness == AgentLiveness.Unreachable ? record.ChangedAt : null,
                Recovered = liveness == AgentLiveness.Disconnected,
            };
            RestoreAgentAdmin(_agents[record.AgentId]);
        }

        _admittedAtRecovery = _agents.Values.Count(a => a.Recovered);
    }
}
