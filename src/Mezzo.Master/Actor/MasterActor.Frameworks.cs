using Mezzo.Core.Allocation;
using Mezzo.Core.Resources;
using Mezzo.Core.Tasks;
using Mezzo.Master.Scheduler;
using Mezzo.Master.State;
using Mezzo.Protocol.V1;
using Mezzo.Storage.Registry;
using Microsoft.Extensions.Logging;

namespace Mezzo.Master.Actor;

public sealed partial class MasterActor
{
    /// <summary>Mesos's default DECLINE/ACCEPT refuse_seconds.</summary>
    private static readonly TimeSpan DefaultRefuse = TimeSpan.FromSeconds(5);

    /// <summary>SUBSCRIBE (new or failover). On success the connection receives SUBSCRIBED first.</summary>
    public (CallResult Result, string? FrameworkId) Subscribe(Call call, SchedulerConnection connection)
    {
        var info = call.Subscribe!.FrameworkInfo!;
        var now = _time.GetUtcNow();
        var requestedId = call.FrameworkId?.Value ?? info.Id?.Value;
        if (requestedId is not null && _removedFrameworkIds.Contains(requestedId))
        {
            // Mesos answers a removed framework with an ERROR event on the stream, then closes it.
            connection.Close(new Event
            {
                Type = EventType.ERROR,
                Error = new EventError { Message = "Framework has been removed" },
            });
            return (CallResult.Ok, null);
        }

        if (SubscribeRefusal(info, requestedId) is { } refusal)
        {
            // As Mesos refuses an HTTP subscription: an ERROR event on the stream, which then closes.
            connection.Close(new Event { Type = EventType.ERROR, Error = new EventError { Message = refusal } });
            return (CallResult.Ok, null);
        }

        FrameworkEntry framework;
        var resubscribed = false;
        if (requestedId is not null && _frameworks.TryGetValue(requestedId, out var existing))
        {
            framework = existing;
            resubscribed = true;
            if (framework.Connection is { } old)
            {
                old.Close(new Event { Type = EventType.ERROR, Error = new EventError { Message = "Framework failed over" } });
            }

            RescindFrameworkOffers(framework, notify: false);
            info.Id = new FrameworkID { Value = framework.FrameworkId };
            framework.Info = info;
            framework.ReregisteredAt = now;
        }
        else if (FrameworkLimitError() is { } refused)
        {
            return (refused, null);
        }
        else
        {
            var id = requestedId ?? NewFrameworkId();
            info.Id = new FrameworkID { Value = id };
            framework = new FrameworkEntry { FrameworkId = id, Info = info, RegisteredAt = now };
            _frameworks[id] = framework;
        }

        // Persisted before the framework learns its id, so the id survives a master crash.
        _registry.UpsertFramework(new FrameworkRecord(framework.FrameworkId, MesosJson.Serialize(info), Removed: false, now));

        framework.Connection = connection;
        framework.FailoverDeadline = null;
        framework.Recovered = false;
        framework.UnregisteredAt = null;
        // Validated by SchedulerCallValidation before the call reached the actor.
        ApplyRoleSettings(framework, call.Subscribe.SuppressedRoles, call.Subscribe.OfferConstraints);
        framework.LastHeartbeat = now;
        connection.Send(new Event
        {
            Type = EventType.SUBSCRIBED,
            Subscribed = new EventSubscribed
            {
                FrameworkId = new FrameworkID { Value = framework.FrameworkId },
                HeartbeatIntervalSeconds = _options.HeartbeatInterval.TotalSeconds,
                MasterInfo = MasterInfo(),
            },
        });
        Log.FrameworkSubscribed(_log, framework.FrameworkId, info.Name, resubscribed ? " (failover)" : "");
        if (resubscribed)
        {
            OnFrameworkUpdated(framework);
        }
        else
        {
            OnFrameworkAdded(framework);
        }

        _allocationPending = true;
        return (CallResult.Ok, framework.FrameworkId);
    }

    /// <summary>The scheduler's SUBSCRIBE response stream ended (client went away or we closed it).</summary>
    public void SchedulerDisconnected(string frameworkId, SchedulerConnection connection)
    {
        if (!_frameworks.TryGetValue(frameworkId, out var framework) || framework.Connection != connection)
        {
            return;
        }

        var now = _time.GetUtcNow();
        framework.Connection = null;
        framework.UnregisteredAt = now;
        RescindFrameworkOffers(framework, notify: false);
        var timeout = framework.Info.FailoverTimeout ?? 0;
        framework.FailoverDeadline = now + TimeSpan.FromSeconds(timeout);
        Log.FrameworkDisconnected(_log, frameworkId, timeout);
        OnFrameworkUpdated(framework);
        if (timeout <= 0)
        {
            RemoveFramework(framework, "failover timeout elapsed");
        }
    }

    /// <summary>Any call but SUBSCRIBE, after the HTTP layer validated its shape.</summary>
    /// <param name="principal">The authenticated principal of the request (null: none): it must be the framework's.</param>
    public CallResult HandleCall(Call call, string? streamId, string? principal = null)
    {
        var frameworkId = call.FrameworkId!.Value!;
        if (!_frameworks.TryGetValue(frameworkId, out var framework))
        {
            return CallResult.BadRequest("Framework cannot be found");
        }

        if (framework.Connection is null)
        {
            return CallResult.Forbidden("Framework is not subscribed");
        }

        if (framework.Connection.StreamId != streamId)
        {
            return CallResult.BadRequest(
                $"The stream ID '{streamId}' included in this request didn't match the stream ID currently associated with framework ID {frameworkId}");
        }

        if (principal is not null && principal != framework.Info.Principal)
        {
            return CallResult.BadRequest(
                $"Authenticated principal '{principal}' does not match principal '{framework.Info.Principal}' set in `FrameworkInfo`");
        }

        switch (call.Type)
        {
            case CallType.TEARDOWN:
                RemoveFramework(framework, "TEARDOWN call");
                return CallResult.Accepted;
            case CallType.ACCEPT:
                return Accept(framework, call.Accept!);
            case CallType.DECLINE:
                return Decline(framework, call.Decline!);
            case CallType.ACCEPT_INVERSE_OFFERS:
                return AnswerInverseOffers(framework, call.AcceptInverseOffers!, InverseOfferStatusType.ACCEPT);
            case CallType.DECLINE_INVERSE_OFFERS:
                return AnswerInverseOffers(framework, call.DeclineInverseOffers!, InverseOfferStatusType.DECLINE);
            case CallType.REVIVE:
                return Revive(framework, call.Revive?.Roles);
            case CallType.SUPPRESS:
                return Suppress(framework, call.Suppress?.Roles);
            case CallType.KILL:
                Kill(framework, call.Kill!);
                return CallResult.Accepted;
            case CallType.ACKNOWLEDGE:
                return Acknowledge(framework, call.Acknowledge!);
            case CallType.RECONCILE:
                Reconcile(framework, call.Reconcile?.Tasks ?? []);
                return CallResult.Accepted;
            case CallType.SHUTDOWN:
                ShutdownExecutor(framework, call.Shutdown!);
                return CallResult.Accepted;
            case CallType.MESSAGE:
                return FrameworkMessage(framework, call.Message!);
            case CallType.REQUEST:
                // Mesos passes REQUEST to allocator modules; its built-in allocator ignores it, and so does this one.
                return CallResult.Accepted;
            case CallType.UPDATE_FRAMEWORK:
                return UpdateFramework(framework, call.UpdateFramework!);
            default:
                return CallResult.BadRequest($"Unsupported call type {call.Type}");
        }
    }

    /// <summary>
    /// Mesos's UPDATE_FRAMEWORK: every field may change except user, principal and checkpoint; all or nothing, answered
    /// 200. Offers the framework holds are rescinded, since they may carry a role it left or break new constraints.
    /// </summary>
    private CallResult UpdateFramework(FrameworkEntry framework, CallUpdateFramework update)
    {
        var info = update.FrameworkInfo!;
        if (info.Id?.Value != framework.FrameworkId)
        {
            return CallResult.BadRequest("'framework_info.id' must match the framework's id");
        }

        if (info.User != framework.Info.User)
        {
            return CallResult.BadRequest("Updating 'FrameworkInfo.user' is unsupported");
        }

        if (info.Principal != framework.Info.Principal)
        {
            return CallResult.BadRequest("Updating 'FrameworkInfo.principal' is unsupported");
        }

        if ((info.Checkpoint ?? false) != (framework.Info.Checkpoint ?? false))
        {
            return CallResult.BadRequest("Updating 'FrameworkInfo.checkpoint' is unsupported");
        }

        if (info.Name is null)
        {
            return CallResult.BadRequest("Expecting 'update_framework.framework_info.name' to be present");
        }

        if (info.FailoverTimeout is { } timeout && (!double.IsFinite(timeout) || timeout < 0))
        {
            return CallResult.BadRequest("'framework_info.failover_timeout' must be a non-negative number of seconds");
        }

        if (FrameworkRoleValidation.ValidateRoles(info) is { } rolesError)
        {
            return CallResult.BadRequest(rolesError);
        }

        var roles = FrameworkRoleValidation.RolesOf(info);
        if (FrameworkRoleValidation.ValidateSuppressedRoles(update.SuppressedRoles, roles) is { } suppressedError)
        {
            return CallResult.BadRequest(suppressedError);
        }

        if (FrameworkRoleValidation.CompileConstraints(update.OfferConstraints, roles, out _) is { } constraintsError)
        {
            return CallResult.BadRequest(constraintsError);
        }

        if (RolesRefusal(info.Principal, roles) is { } forbidden)
        {
            return CallResult.Forbidden(forbidden);
        }

        _registry.UpsertFramework(new FrameworkRecord(framework.FrameworkId, MesosJson.Serialize(info), false, _time.GetUtcNow()));
        framework.Info = info;
        ApplyRoleSettings(framework, update.SuppressedRoles, update.OfferConstraints);
        RescindFrameworkOffers(framework, notify: true);
        Log.FrameworkUpdated(_log, framework.FrameworkId, string.Join(",", framework.Roles));
        OnFrameworkUpdated(framework);
        _allocationPending = true;
        return CallResult.Ok;
    }

    /// <summary>Suppressed roles, offer constraints and offer filters from an already validated SUBSCRIBE/UPDATE_FRAMEWORK.</summary>
    private static void ApplyRoleSettings(FrameworkEntry framework, IReadOnlyList<string>? suppressedRoles, OfferConstraints? constraints)
    {
        framework.SuppressedRoles.Clear();
        framework.SuppressedRoles.UnionWith(suppressedRoles ?? []);
        FrameworkRoleValidation.CompileConstraints(constraints, framework.Roles, out var compiled);
        framework.Constraints = compiled;
        framework.WireConstraints = constraints;
        FrameworkRoleValidation.ValidateOfferFilters(framework.Info, framework.Roles, out var minAllocatable);
        framework.MinAllocatable = minAllocatable;

        // Filters of roles the framework left can never match again.
        framework.Filters.RemoveAll(f => !framework.Roles.Contains(f.Role));
    }

    /// <summary>REVIVE: unsuppress the roles (all when none are named) and drop their offer filters.</summary>
    private CallResult Revive(FrameworkEntry framework, IReadOnlyList<string>? roles)
    {
        if (UnknownRole(framework, roles) is { } error)
        {
            return CallResult.BadRequest(error);
        }

        var revived = roles is { Count: > 0 } ? roles : framework.Roles;
        framework.SuppressedRoles.ExceptWith(revived);
        framework.Filters.RemoveAll(f => revived.Contains(f.Role));
        ReviveInverseOffers(framework);
        _allocationPending = true;
        return CallResult.Accepted;
    }

    /// <summary>SUPPRESS: no more offers for the roles (all when none are named) until REVIVE.</summary>
    private CallResult Suppress(FrameworkEntry framework, IReadOnlyList<string>? roles)
    {
        if (UnknownRole(framework, roles) is { } error)
        {
            return CallResult.BadRequest(error);
        }

        framework.SuppressedRoles.UnionWith(roles is { Count: > 0 } ? roles : framework.Roles);
        return CallResult.Accepted;
    }

    private static string? UnknownRole(FrameworkEntry framework, IReadOnlyList<string>? roles) =>
        roles?.FirstOrDefault(r => !framework.Roles.Contains(r)) is { } unknown
            ? $"Role '{unknown}' is not one of the framework's roles [{string.Join(", ", framework.Roles)}]"
            : null;

    private CallResult Decline(FrameworkEntry framework, CallDecline decline)
    {
        var refuse = RefuseDuration(decline.Filters);
        foreach (var offerId in decline.OfferIds ?? [])
        {
            if (offerId.Value is { } id && _offers.TryGetValue(id, out var offer) && offer.FrameworkId == framework.FrameworkId)
            {
                RemoveOffer(offer);
                AddFilter(framework, offer.AgentId, offer.Role, offer.Resources, refuse);
            }
        }

        _allocationPending = true;
        return CallResult.Accepted;
    }

    private static TimeSpan RefuseDuration(Filters? filters)
    {
        var seconds = filters?.RefuseSeconds;
        if (seconds is null)
        {
            return DefaultRefuse;
        }

        return double.IsFinite(seconds.Value) && seconds.Value > 0
            ? TimeSpan.FromSeconds(Math.Min(seconds.Value, 365 * 24 * 3600))
            : TimeSpan.Zero;
    }

    private void AddFilter(FrameworkEntry framework, string agentId, string role, Resources refused, TimeSpan duration)
    {
        if (duration > TimeSpan.Zero && !refused.IsEmpty)
        {
            framework.Filters.Add(new OfferFilter(agentId, role, refused, _time.GetUtcNow() + duration));
        }
    }

    private CallResult Accept(FrameworkEntry framework, CallAccept accept)
    {
        var offerIds = accept.OfferIds ?? [];
        var operations = accept.Operations ?? [];
        var offers = new List<OfferEntry>();
        string? offerError = offerIds.Count == 0 ? "No offers specified" : null;
        foreach (var offerId in offerIds)
        {
            if (offerId.Value is not { } id || !_offers.TryGetValue(id, out var offer))
            {
                offerError ??= $"Offer {offerId.Value} is no longer valid";
                continue;
            }

            if (offer.FrameworkId != framework.FrameworkId)
            {
                offerError ??= $"Offer {id} has invalid framework";
                continue;
            }

            if (offers.Count > 0 && offers[0].Role != offer.Role)
            {
                offerError ??= $"Aggregated offers must be allocated to the same role. Offer {id} uses role {offer.Role} and offer {offers[0].OfferId} uses role {offers[0].Role}";
            }

            if (offers.Count > 0 && offers[0].AgentId != offer.AgentId)
            {
                offerError ??= $"Aggregated offers must belong to one single agent. Offer {id} uses agent {offer.AgentId} and offer {offers[0].OfferId} uses agent {offers[0].AgentId}";
            }

            if (offers.Any(o => o.OfferId == id))
            {
                offerError ??= $"Offer {id} appears more than once";
                continue;
            }

            offers.Add(offer);
        }

        // The offers are used up either way: consumed by the operations or given back to the pool.
        foreach (var offer in offers)
        {
            RemoveOffer(offer);
        }

        _allocationPending = true;
        if (offerError is not null)
        {
            foreach (var task in operations.Where(o => o.Launch is not null).SelectMany(o => o.Launch!.TaskInfos ?? []))
            {
                SendMasterUpdate(framework, task.TaskId?.Value ?? "", task.AgentId?.Value,
                    framework.PartitionAware ? TaskState.TASK_DROPPED : TaskState.TASK_LOST,
                    TaskStatusReason.REASON_INVALID_OFFERS, $"Task launched with invalid offers: {offerError}");
            }

            return CallResult.Accepted;
        }

        var agentId = offers[0].AgentId;
        var role = offers[0].Role;
        var agent = _agents[agentId];
        var pool = offers.Aggregate(Resources.Empty, (sum, o) => sum + o.Resources);
        foreach (var operation in operations)
        {
            switch (operation.Type)
            {
                case OfferOperationType.LAUNCH:
                    foreach (var task in operation.Launch?.TaskInfos ?? [])
                    {
                        pool = Launch(framework, agent, role, task, pool);
                    }

                    break;
                case OfferOperationType.LAUNCH_GROUP:
                    pool = LaunchGroup(framework, agent, role, operation.LaunchGroup, pool);
                    break;
                case OfferOperationType.RESERVE:
                    pool = Reserve(framework, agent, role, operation, pool);
                    break;
                case OfferOperationType.UNRESERVE:
                    pool = Unreserve(framework, agent, role, operation, pool);
                    break;
                default:
                    // Mesos drops operations it cannot apply; one with an id hears why.
                    DropOperation(framework, agent, operation, $"Offer operation {operation.Type} is not supported by this master");
                    break;
            }
        }

        AddFilter(framework, agentId, role, pool, RefuseDuration(accept.Filters));
        return CallResult.Accepted;
    }

    /// <summary>RESERVE from an offer: the source leaves the pool, the reserved resources join it (still allocated to the role).</summary>
    private Resources Reserve(FrameworkEntry framework, AgentEntry agent, string role, OfferOperation operation, Resources pool)
    {
        var error = ValidateReserve(operation.Reserve?.Resources, framework, framework.Info.Principal, out var source, out var reserved);
        if (error is null && reserved.FirstOrDefault(r => r.Role != role) is { } other)
        {
            // As Mesos: a framework reserves for the role the offer is allocated to, nothing else.
            error = $"Invalid RESERVE operation: resource '{other}' is reserved to role '{other.Role}' but the offer is allocated to role '{role}'";
        }

        error ??= Security.MasterAuthorization.Refusal(_options.Security.Acls, framework.Info.Principal, Core.Security.AclAction.ReserveResources, reserved.Select(r => (string?)r.Role));

        return ChangeOfferedResources(framework, agent, role, operation, pool, "RESERVE", error, source, reserved);
    }

    /// <summary>UNRESERVE from an offer: the reserved resources leave the pool, what they were reserved from joins it.</summary>
    private Resources Unreserve(FrameworkEntry framework, AgentEntry agent, string role, OfferOperation operation, Resources pool)
    {
        var error = ValidateUnreserve(operation.Unreserve?.Resources, out var reserved, out var released);
        error ??= Security.MasterAuthorization.Refusal(_options.Security.Acls, framework.Info.Principal, Core.Security.AclAction.UnreserveResources,
            reserved.Select(r => r.Reservations[^1].Principal));
        return ChangeOfferedResources(framework, agent, role, operation, pool, "UNRESERVE", error, reserved, released);
    }

    /// <summary>
    /// The shared end of RESERVE and UNRESERVE from an offer: <paramref name="from"/> must be in the offered pool; the
    /// agent's total changes (persisted first) and the pool holds <paramref name="to"/> instead. Returns the pool left.
    /// </summary>
    private Resources ChangeOfferedResources(
        FrameworkEntry framework, AgentEntry agent, string role, OfferOperation operation, Resources pool,
        string name, string? error, Resources from, Resources to)
    {
        if (error is null && !pool.Contains(from.AllocateTo(role)))
        {
            error = $"Invalid {name} operation: {from} is not available in the offered resources {pool.Unallocate()}";
        }

        if (error is null && ApplyReservationChange(agent, from, to) is { } failed)
        {
            error = failed.Error ?? "the registry could not be written";
        }

        if (error is not null)
        {
            DropOperation(framework, agent, operation, error);
            return pool;
        }

        Log.ReservationApplied(_log, agent.AgentId, name, to.ToString());
        FinishOperation(framework, agent, operation);
        return pool - from.AllocateTo(role) + to.AllocateTo(role);
    }

    private void DropOperation(FrameworkEntry framework, AgentEntry agent, OfferOperation operation, string reason)
    {
        Log.OperationDropped(_log, framework.FrameworkId, reason);
        SendOperationStatus(framework, agent, operation, OperationState.OPERATION_ERROR, reason);
    }

    private void FinishOperation(FrameworkEntry framework, AgentEntry agent, OfferOperation operation) =>
        SendOperationStatus(framework, agent, operation, OperationState.OPERATION_FINISHED, null);

    /// <summary>
    /// Operation feedback goes only to operations with an id (Mesos). Reservations are applied by the master itself,
    /// so the status is final and carries no uuid: nothing to acknowledge.
    /// </summary>
    private static void SendOperationStatus(FrameworkEntry framework, AgentEntry agent, OfferOperation operation, OperationState state, string? message)
    {
        if (operation.Id?.Value is not { } id)
        {
            return;
        }

        framework.Connection?.Send(new Event
        {
            Type = EventType.UPDATE_OPERATION_STATUS,
            UpdateOperationStatus = new EventUpdateOperationStatus
            {
                Status = new OperationStatus
                {
                    OperationId = new OperationID { Value = id },
                    State = state,
                    Message = message,
                    AgentId = new AgentID { Value = agent.AgentId },
                },
            },
        });
    }

    /// <summary>Validates one task against Mesos's rules and, if it passes, sends it to the agent. Returns the pool left.</summary>
    private Resources Launch(FrameworkEntry framework, AgentEntry agent, string role, TaskInfo task, Resources pool)
    {
        if (RefuseUnauthorizedTask(framework, agent, task))
        {
            return pool;
        }

        var taskId = task.TaskId?.Value ?? "";
        var error = TaskValidation.Validate(task, framework, agent.AgentId, role, pool, out var resources) ?? TaskLimitError(framework, 1);
        var executorResources = Resources.Empty;
        if (error is null && task.Executor is { } executor)
        {
            error = UseExecutor(framework, agent, role, executor, pool - resources, out executorResources);
        }

        if (error is not null)
        {
            Log.TaskRejected(_log, taskId, framework.FrameworkId, error);
            SendMasterUpdate(framework, taskId, agent.AgentId, TaskState.TASK_ERROR, TaskStatusReason.REASON_TASK_INVALID, error);
            return pool;
        }

        var entry = new TaskEntry
        {
            TaskId = taskId,
            FrameworkId = framework.FrameworkId,
            AgentId = agent.AgentId,
            Info = task,
            Resources = resources,
            User = Views.ViewFilter.TaskUser(task),
        };
        framework.Tasks[taskId] = entry;
        framework.Used += resources;
        agent.Tasks[(framework.FrameworkId, taskId)] = entry;
        agent.Used += resources.Unallocate();
        _counters.Launched++;
        OnTaskAdded(entry);
        agent.Connection?.Send(new Protocol.Agents.AgentEvent
        {
            Type = Protocol.Agents.AgentEventType.RUN_TASK,
            RunTask = new Protocol.Agents.AgentRunTask { Framework = framework.Info, Task = task },
        });
        return pool - resources - executorResources;
    }

    private void Kill(FrameworkEntry framework, CallKill kill)
    {
        var taskId = kill.TaskId?.Value ?? "";
        if (!framework.Tasks.TryGetValue(taskId, out var task))
        {
            // Mesos answers a kill for an unknown task with reconciliation for it.
            Reconcile(framework, [new CallReconcileTask { TaskId = kill.TaskId, AgentId = kill.AgentId }]);
            return;
        }

        if (_agents.TryGetValue(task.AgentId, out var agent))
        {
            agent.Connection?.Send(new Protocol.Agents.AgentEvent
            {
                Type = Protocol.Agents.AgentEventType.KILL_TASK,
                KillTask = new Protocol.Agents.AgentKillTask
                {
                    FrameworkId = new FrameworkID { Value = framework.FrameworkId },
                    TaskId = kill.TaskId,
                    KillPolicy = kill.KillPolicy ?? task.Info.KillPolicy,
                },
            });
        }
    }

    private void ShutdownExecutor(FrameworkEntry framework, CallShutdown shutdown)
    {
        // Command tasks run under an executor whose id is the task id (as Mesos's command executor).
        var executorId = shutdown.ExecutorId?.Value;
        if (ShutdownTrackedExecutor(framework, shutdown))
        {
            return;
        }

        foreach (var task in framework.Tasks.Values.Where(t => (t.Info.Executor?.ExecutorId?.Value ?? t.TaskId) == executorId).ToList())
        {
            Kill(framework, new CallKill { TaskId = new TaskID { Value = task.TaskId }, AgentId = new AgentID { Value = task.AgentId } });
        }
    }

    private CallResult Acknowledge(FrameworkEntry framework, CallAcknowledge ack)
    {
        if (ack.Uuid is not { Length: 16 })
        {
            return CallResult.BadRequest("'uuid' must be a 16 byte UUID (base64 in JSON)");
        }

        var taskId = ack.TaskId?.Value ?? "";
        var agentId = ack.AgentId?.Value ?? "";
        if (_agents.TryGetValue(agentId, out var agent))
        {
            agent.Connection?.Send(new Protocol.Agents.AgentEvent
            {
                Type = Protocol.Agents.AgentEventType.ACKNOWLEDGE,
                Acknowledge = new Protocol.Agents.AgentAcknowledge
                {
                    FrameworkId = new FrameworkID { Value = framework.FrameworkId },
                    TaskId = ack.TaskId,
                    Uuid = ack.Uuid,
                },
            });
        }

        if (framework.Tasks.TryGetValue(taskId, out var task) && TaskStates.IsTerminal(task.State)
            && task.LatestStatus?.Uuid is { } latest && latest.AsSpan().SequenceEqual(ack.Uuid))
        {
            ArchiveTask(framework, task);
        }

        return CallResult.Accepted;
    }

    /// <summary>An update the master itself originates. It carries no uuid, so schedulers need not acknowledge it.</summary>
    private void SendMasterUpdate(FrameworkEntry framework, string taskId, string? agentId, TaskState state, TaskStatusReason reason, string message)
    {
        CountTerminal(state);
        framework.Connection?.Send(new Event
        {
            Type = EventType.UPDATE,
            Update = new EventUpdate
            {
                Status = new TaskStatus
                {
                    TaskId = new TaskID { Value = taskId },
                    AgentId = agentId is null ? null : new AgentID { Value = agentId },
                    State = state,
                    Source = TaskStatusSource.SOURCE_MASTER,
                    Reason = reason,
                    Message = message,
                    Timestamp = Now(),
                },
            },
        });
    }

    private void RemoveFramework(FrameworkEntry framework, string reason)
    {
        var now = _time.GetUtcNow();
        _registry.UpsertFramework(new FrameworkRecord(framework.FrameworkId, MesosJson.Serialize(framework.Info), Removed: true, now));
        Log.FrameworkRemoved(_log, framework.FrameworkId, reason);
        RescindFrameworkOffers(framework, notify: false);
        ForgetFrameworkInverseOffers(framework.FrameworkId);
        var agentsWithTasks = new HashSet<string>(_executors.Keys.Where(k => k.FrameworkId == framework.FrameworkId).Select(k => k.AgentId));
        RemoveFrameworkExecutors(framework);
        foreach (var task in framework.Tasks.Values.Concat(framework.UnreachableTasks.Values).ToList())
        {
            agentsWithTasks.Add(task.AgentId);
            if (!TaskStates.IsTerminal(task.State))
            {
                task.State = TaskState.TASK_KILLED;
                CountTerminal(TaskState.TASK_KILLED);
                OnTaskUpdated(task);
            }

            ArchiveTask(framework, task);
        }

        foreach (var agentId in agentsWithTasks)
        {
            if (_agents.TryGetValue(agentId, out var agent))
            {
                agent.Connection?.Send(new Protocol.Agents.AgentEvent
                {
                    Type = Protocol.Agents.AgentEventType.SHUTDOWN_FRAMEWORK,
                    ShutdownFramework = new Protocol.Agents.AgentShutdownFramework { FrameworkId = new FrameworkID { Value = framework.FrameworkId } },
                });
            }
        }

        OnFrameworkRemoved(framework);
        framework.Connection?.Close();
        framework.Connection = null;
        framework.UnregisteredAt = now;
        _frameworks.Remove(framework.FrameworkId);
        _removedFrameworkIds.Add(framework.FrameworkId);
        _completedFrameworks.AddLast(framework);
        while (_completedFrameworks.Count > _options.MaxCompletedFrameworks)
        {
            _completedFrameworks.RemoveFirst();
        }

        _allocationPending = true;
    }

    private void CheckFrameworkFailover(DateTimeOffset now)
    {
        List<FrameworkEntry>? expired = null;
        foreach (var framework in _frameworks.Values)
        {
            if (framework.Connection is null && framework.FailoverDeadline is { } deadline && deadline <= now)
            {
                (expired ??= []).Add(framework);
            }
        }

        foreach (var framework in expired ?? [])
        {
            RemoveFramework(framework, "failover timeout elapsed");
        }
    }

    private void SendHeartbeats(DateTimeOffset now)
    {
        foreach (var framework in _frameworks.Values)
        {
            if (framework.Connection is { } connection && now - framework.LastHeartbeat >= _options.HeartbeatInterval)
            {
                framework.LastHeartbeat = now;
                connection.Send(new Event { Type = EventType.HEARTBEAT });
            }
        }
    }

    /// <summary>Moves a terminal task out of the active set into the bounded completed list.</summary>
    private void ArchiveTask(FrameworkEntry framework, TaskEntry task)
    {
        ReleaseTaskResources(task);

        // The same id may name a relaunch on another agent: only this entry goes.
        if (framework.Tasks.TryGetValue(task.TaskId, out var current) && current == task)
        {
            framework.Tasks.Remove(task.TaskId);
        }

        if (framework.UnreachableTasks.TryGetValue(task.TaskId, out var away) && away == task)
        {
            framework.UnreachableTasks.Remove(task.TaskId);
        }

        if (_agents.TryGetValue(task.AgentId, out var agent) && agent.Tasks.TryGetValue((task.FrameworkId, task.TaskId), out var onAgent) && onAgent == task)
        {
            agent.Tasks.Remove((task.FrameworkId, task.TaskId));
        }

        task.TerminalAcknowledged = true;
        framework.CompletedTasks.AddLast(task);
        while (framework.CompletedTasks.Count > _options.MaxCompletedTasksPerFramework)
        {
            framework.CompletedTasks.RemoveFirst();
        }
    }

    private void ReleaseTaskResources(TaskEntry task)
    {
        if (!task.HoldsResources)
        {
            return;
        }

        task.HoldsResources = false;
        if (_frameworks.TryGetValue(task.FrameworkId, out var framework))
        {
            framework.Used -= task.Resources;
        }

        if (_agents.TryGetValue(task.AgentId, out var agent))
        {
            agent.Used -= task.Resources.Unallocate();
        }

        _allocationPending = true;
    }

    internal MasterInfo MasterInfo() => new()
    {
        Id = MasterId,
        Ip = AdvertisedIpNumber(_options.Ip),
        Port = (uint)_options.Port,
        Hostname = _options.Hostname,
        Pid = Pid,
        Version = MezzoVersion.MesosCompatible,
        Address = new Address { Hostname = _options.Hostname, Ip = _options.Ip, Port = _options.Port },
    };

    /// <summary>
    /// MasterInfo.ip is an IPv4 address as libprocess stores it: the in_addr bytes in network order read as a
    /// little-endian uint32 (127.0.0.1 is 16777343). 0 when we listen on something that is not one IPv4 address.
    /// </summary>
    internal static uint AdvertisedIpNumber(string ip) =>
        System.Net.IPAddress.TryParse(ip, out var address) && address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork
            ? System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(address.GetAddressBytes())
            : 0;

    private double Now() => _time.GetUtcNow().ToUnixTimeMilliseconds() / 1000.0;

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "Framework {FrameworkId} updated; roles now [{Roles}]")]
        public static partial void FrameworkUpdated(ILogger logger, string frameworkId, string roles);
    }
}
