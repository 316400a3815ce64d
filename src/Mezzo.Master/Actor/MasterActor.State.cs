using System.Text.Json;
using System.Text.Json.Nodes;
using Mezzo.Core.Resources;
using Mezzo.Core.Tasks;
using Mezzo.Master.State;
using Mezzo.Protocol.V1;

namespace Mezzo.Master.Actor;

/// <summary>An immutable picture of the master for readers: serialized once, served many times.</summary>
public sealed record MasterSnapshot(long Version, byte[] StateJson, IReadOnlyDictionary<string, double> Metrics);

public sealed partial class MasterActor
{
    private MasterSnapshot? _snapshot;

    /// <summary>The current snapshot, rebuilt only if something changed since the last one.</summary>
    public Task<MasterSnapshot> GetSnapshotAsync() => Ask(() =>
    {
        if (_snapshot is { } cached && cached.Version == _version)
        {
            return cached;
        }

        _snapshot = new MasterSnapshot(_version, JsonSerializer.SerializeToUtf8Bytes(BuildState()), BuildMetrics());
        return _snapshot;
    });

    private JsonObject BuildState()
    {
        var now = _time.GetUtcNow();
        return new JsonObject
        {
            ["version"] = MezzoVersion.MesosCompatible,
            ["mezzo_version"] = MezzoVersion.Mezzo,
            ["build_date"] = "",
            ["build_time"] = 0,
            ["build_user"] = "",
            ["start_time"] = StartTime.ToUnixTimeMilliseconds() / 1000.0,
            ["elected_time"] = StartTime.ToUnixTimeMilliseconds() / 1000.0,
            ["id"] = MasterId,
            ["pid"] = Pid,
            ["hostname"] = _options.Hostname,
            ["cluster"] = _options.Cluster,
            ["leader"] = Pid,
            ["leader_info"] = JsonSerializer.SerializeToNode(MasterInfo(), MesosJson.Options),
            ["activated_slaves"] = _agents.Values.Count(a => a.IsActive),
            ["deactivated_slaves"] = _agents.Values.Count(a => a.Liveness == AgentLiveness.Disconnected),
            ["unreachable_slaves"] = _agents.Values.Count(a => a.Liveness == AgentLiveness.Unreachable),
            ["flags"] = new JsonObject
            {
                ["work_dir"] = _options.WorkDir,
                ["port"] = _options.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["hostname"] = _options.Hostname,
                ["allocation_interval"] = $"{_options.AllocationInterval.TotalMilliseconds}ms",
                ["agent_ping_timeout"] = $"{_options.AgentPingTimeout.TotalSeconds}secs",
                ["max_agent_ping_timeouts"] = _options.MaxAgentPingTimeouts.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["offer_timeout"] = _options.OfferTimeout is { } t ? $"{t.TotalSeconds}secs" : null,
                ["registry_max_agent_age"] = $"{_options.RegistryMaxAgentAge.TotalSeconds}secs",
                ["registry_max_agent_count"] = _options.RegistryMaxAgentCount.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["registry_gc_interval"] = $"{_options.RegistryGcInterval.TotalSeconds}secs",
                ["agent_reregister_timeout"] = $"{_options.AgentReregisterTimeout.TotalSeconds}secs",
                ["recovery_agent_removal_limit"] = $"{_options.RecoveryAgentRemovalLimitPercent.ToString(System.Globalization.CultureInfo.InvariantCulture)}%",
                ["authenticate_frameworks"] = _options.Security.AuthenticateFrameworks ? "true" : "false",
                ["authenticate_agents"] = _options.Security.AuthenticateAgents ? "true" : "false",
                ["authenticate_http_readonly"] = _options.Security.AuthenticateHttpReadonly ? "true" : "false",
                ["authenticate_http_readwrite"] = _options.Security.AuthenticateHttpReadwrite ? "true" : "false",
            },
            ["slaves"] = new JsonArray([.. _agents.Values.Where(a => a.Liveness is AgentLiveness.Connected or AgentLiveness.Disconnected && !a.Recovered).Select(AgentJson)]),
            ["recovered_slaves"] = RecoveredAgentsJson(),
            ["frameworks"] = new JsonArray([.. _frameworks.Values.Select(f => FrameworkJson(f, now))]),
            ["completed_frameworks"] = new JsonArray([.. _completedFrameworks.Select(f => FrameworkJson(f, now))]),
            ["orphan_tasks"] = new JsonArray(),
            ["unregistered_frameworks"] = new JsonArray(),
        };
    }

    private static JsonObject AttributesJson(IEnumerable<AgentAttribute> agentAttributes)
    {
        var attributes = new JsonObject();
        foreach (var attribute in agentAttributes)
        {
            attributes[attribute.Name] = attribute.Type switch
            {
                AttributeType.Scalar => JsonValue.Create(attribute.Scalar),
                AttributeType.Ranges => JsonValue.Create(attribute.Ranges?.ToString()),
                AttributeType.Set => JsonValue.Create("{" + string.Join(",", attribute.Set ?? []) + "}"),
                _ => JsonValue.Create(attribute.Text),
            };
        }

        return attributes;
    }

    private JsonObject AgentJson(AgentEntry agent)
    {
        var attributes = AttributesJson(agent.Attributes);
        return new JsonObject
        {
            ["id"] = agent.AgentId,
            ["pid"] = agent.Pid,
            ["hostname"] = agent.Hostname,
            ["port"] = agent.Port,
            ["registered_time"] = agent.RegisteredAt.ToUnixTimeMilliseconds() / 1000.0,
            ["reregistered_time"] = agent.ReregisteredAt is { } r ? r.ToUnixTimeMilliseconds() / 1000.0 : null,
            ["resources"] = ResourcesModel(agent.Total),
            ["used_resources"] = ResourcesModel(agent.Used),
            ["offered_resources"] = ResourcesModel(agent.Offered),
            ["reserved_resources"] = new JsonObject([.. ReservedByRole(agent.Total).Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)ResourcesModel(kv.Value)))]),
            ["reserved_resources_full"] = new JsonObject([.. ReservedByRole(agent.Total).Select(kv => KeyValuePair.Create(kv.Key, JsonSerializer.SerializeToNode(ResourceConversion.ToWire(kv.Value), MesosJson.Options)))]),
            ["unreserved_resources"] = ResourcesModel(agent.Total.Unreserved),
            ["resources_full"] = JsonSerializer.SerializeToNode(ResourceConversion.ToWire(agent.Total), MesosJson.Options),
            ["used_resources_full"] = JsonSerializer.SerializeToNode(ResourceConversion.ToWire(agent.Used), MesosJson.Options),
            ["offered_resources_full"] = JsonSerializer.SerializeToNode(ResourceConversion.ToWire(agent.Offered), MesosJson.Options),
            ["attributes"] = attributes,
            ["active"] = agent.AcceptsOffers,
            ["deactivated"] = agent.Deactivated,
            ["drain_info"] = DrainInfoJson(agent),
            ["version"] = agent.Version,
            ["capabilities"] = new JsonArray("MULTI_ROLE", "HIERARCHICAL_ROLE", "RESERVATION_REFINEMENT"),
        };
    }

    private JsonObject FrameworkJson(FrameworkEntry framework, DateTimeOffset now)
    {
        var info = framework.Info;
        var active = framework.Connection is not null;
        return new JsonObject
        {
            ["id"] = framework.FrameworkId,
            ["name"] = info.Name,
            ["user"] = info.User,
            ["hostname"] = info.Hostname ?? "",
            ["webui_url"] = info.WebuiUrl ?? "",
            ["principal"] = info.Principal,
            ["role"] = framework.Role,
            ["roles"] = new JsonArray([.. framework.Roles.Select(r => JsonValue.Create(r))]),
            ["suppressed_roles"] = new JsonArray([.. framework.SuppressedRoles.Order(StringComparer.Ordinal).Select(r => JsonValue.Create(r))]),
            ["offer_constraints"] = framework.WireConstraints is { } constraints ? JsonSerializer.SerializeToNode(constraints, MesosJson.Options) : null,
            ["capabilities"] = new JsonArray([.. (info.Capabilities ?? []).Select(c => JsonValue.Create(c.Type.ToString()))]),
            ["failover_timeout"] = info.FailoverTimeout ?? 0,
            ["checkpoint"] = info.Checkpoint ?? false,
            ["active"] = active && !framework.Suppressed,
            ["connected"] = active,
            ["recovered"] = framework.Recovered,
            ["registered_time"] = framework.RegisteredAt.ToUnixTimeMilliseconds() / 1000.0,
            ["reregistered_time"] = framework.ReregisteredAt is { } r ? r.ToUnixTimeMilliseconds() / 1000.0 : null,
            ["unregistered_time"] = framework.UnregisteredAt is { } u ? u.ToUnixTimeMilliseconds() / 1000.0 : 0,
            ["resources"] = ResourcesModel(framework.Used + framework.Offered),
            ["used_resources"] = ResourcesModel(framework.Used),
            ["offered_resources"] = ResourcesModel(framework.Offered),
            ["tasks"] = new JsonArray([.. framework.Tasks.Values.Select(TaskJson)]),
            ["unreachable_tasks"] = new JsonArray([.. framework.UnreachableTasks.Values.Select(TaskJson)]),
            ["completed_tasks"] = new JsonArray([.. framework.CompletedTasks.Select(TaskJson)]),
            ["offers"] = new JsonArray([.. framework.OfferIds.Select(id => OfferJson(_offers[id]))]),
            ["executors"] = ExecutorsJson(framework.FrameworkId),
            ["completed_executors"] = new JsonArray(),
        };
    }

    private JsonObject OfferJson(OfferEntry offer) => new()
    {
        ["id"] = offer.OfferId,
        ["framework_id"] = offer.FrameworkId,
        ["slave_id"] = offer.AgentId,
        ["allocation_info"] = new JsonObject { ["role"] = offer.Role },
        ["resources"] = ResourcesModel(offer.Resources),
    };

    private JsonObject TaskJson(TaskEntry task)
    {
        var json = TaskJsonWithoutUser(task);
        if (task.User is { } user)
        {
            // As Mesos's Task model: the user the task runs as, when it names one (filtered views decide on it).
            json["user"] = user;
        }

        return json;
    }

    private JsonObject TaskJsonWithoutUser(TaskEntry task) => new()
    {
        ["id"] = task.TaskId,
        ["name"] = task.Info.Name,
        ["framework_id"] = task.FrameworkId,
        ["executor_id"] = task.Info.Executor?.ExecutorId?.Value ?? "",
        ["slave_id"] = task.AgentId,
        ["state"] = task.State.ToString(),
        ["resources"] = ResourcesModel(task.Resources),
        ["role"] = task.Resources.FirstOrDefault()?.AllocationRole ?? "*",
        ["statuses"] = new JsonArray([.. task.Statuses.Select(s => new JsonObject
        {
            ["state"] = s.State?.ToString(),
            ["timestamp"] = s.Timestamp,
        })]),
        ["labels"] = JsonSerializer.SerializeToNode(task.Info.Labels?.Items, MesosJson.Options),
    };

    /// <summary>Mesos's "model(Resources)": scalars as numbers, ranges and sets as strings.</summary>
    private static JsonObject ResourcesModel(Resources resources)
    {
        var model = new JsonObject { ["cpus"] = 0.0, ["mem"] = 0.0, ["disk"] = 0.0, ["gpus"] = 0.0 };
        foreach (var name in resources.Names)
        {
            var matching = resources.Filter(r => r.Name == name);
            var first = matching.First();
            model[name] = first.Type switch
            {
                ResourceType.Scalar => JsonValue.Create(matching.Scalar(name)),
                ResourceType.Ranges => JsonValue.Create(matching.Aggregate(Core.Resources.ValueRanges.Empty, (acc, r) => acc.Add(r.Ranges)).ToString()),
                _ => JsonValue.Create("{" + string.Join(",", matching.SelectMany(r => r.Set).Distinct()) + "}"),
            };
        }

        return model;
    }

    private Dictionary<string, double> BuildMetrics()
    {
        var tasks = _frameworks.Values.SelectMany(f => f.Tasks.Values.Concat(f.UnreachableTasks.Values)).ToList();
        double Count(TaskState state) => tasks.Count(t => t.State == state);
        double Total(string name) => _agents.Values.Where(a => a.IsActive).Sum(a => a.Total.Scalar(name));
        double Used(string name) => _agents.Values.Where(a => a.IsActive).Sum(a => a.Used.Scalar(name));
        var metrics = new Dictionary<string, double>
        {
            ["master/elected"] = 1,
            ["master/uptime_secs"] = (_time.GetUtcNow() - StartTime).TotalSeconds,
            ["master/slaves_active"] = _agents.Values.Count(a => a.IsActive),
            ["master/slaves_connected"] = _agents.Values.Count(a => a.Connection is not null),
            ["master/slaves_disconnected"] = _agents.Values.Count(a => a.Liveness == AgentLiveness.Disconnected),
            ["master/slaves_inactive"] = _agents.Values.Count(a => a.Liveness == AgentLiveness.Disconnected),
            ["master/slaves_unreachable"] = _agents.Values.Count(a => a.Liveness == AgentLiveness.Unreachable),
            ["master/frameworks_active"] = _frameworks.Values.Count(f => f.Connection is not null && !f.Suppressed),
            ["master/frameworks_connected"] = _frameworks.Values.Count(f => f.Connection is not null),
            ["master/frameworks_disconnected"] = _frameworks.Values.Count(f => f.Connection is null),
            ["master/frameworks_inactive"] = _frameworks.Values.Count(f => f.Connection is null || f.Suppressed),
            ["master/outstanding_offers"] = _offers.Count,
            ["master/tasks_staging"] = Count(TaskState.TASK_STAGING),
            ["master/tasks_starting"] = Count(TaskState.TASK_STARTING),
            ["master/tasks_running"] = Count(TaskState.TASK_RUNNING),
            ["master/tasks_killing"] = Count(TaskState.TASK_KILLING),
            ["master/tasks_unreachable"] = Count(TaskState.TASK_UNREACHABLE),
            ["master/valid_status_updates"] = _counters.ValidStatusUpdates,
            ["master/invalid_status_updates"] = _counters.InvalidStatusUpdates,
            ["master/tasks_launched"] = _counters.Launched,
            ["master/event_queue_messages"] = Interlocked.Read(ref _queued),
            ["master/operator_event_stream_subscribers"] = _operatorSubscribers.Count,
            ["allocator/mesos/allocation_runs"] = _counters.AllocationRuns,
            ["allocator/mesos/allocation_run_ms"] = _counters.LastAllocationSeconds * 1000,
            // Not a Mesos key (its timer keeps percentiles over a window instead): the running sum lets Prometheus
            // average allocation time over any range.
            ["allocator/mesos/allocation_run_ms/sum"] = _counters.AllocationSeconds * 1000,
        };
        foreach (var state in (TaskState[])[TaskState.TASK_FINISHED, TaskState.TASK_FAILED, TaskState.TASK_KILLED, TaskState.TASK_LOST,
                     TaskState.TASK_ERROR, TaskState.TASK_DROPPED, TaskState.TASK_GONE, TaskState.TASK_GONE_BY_OPERATOR])
        {
            metrics["master/tasks_" + state.ToString()["TASK_".Length..].ToLowerInvariant()] = _counters.Terminal.GetValueOrDefault(state);
        }

        foreach (var name in (string[])["cpus", "mem", "disk", "gpus"])
        {
            var total = Total(name);
            var used = Used(name);
            metrics[$"master/{name}_total"] = total;
            metrics[$"master/{name}_used"] = used;
            metrics[$"master/{name}_percent"] = total > 0 ? used / total : 0;
        }

        // Mesos's per-role DRF share: what the role holds (used and offered) over the active agents' totals, its
        // largest fraction across resources; what the allocator orders roles by.
        var totals = ((string[])["cpus", "mem", "disk", "gpus"]).ToDictionary(name => name, Total, StringComparer.Ordinal);
        foreach (var role in GetRoles())
        {
            var held = role.Allocated.Add(role.Offered);
            var amounts = totals.Keys.ToDictionary(name => name, held.Scalar, StringComparer.Ordinal);
            metrics[$"allocator/mesos/roles/{role.Name}/shares/dominant"] = Core.Allocation.HierarchicalAllocator.DominantShare(amounts, totals);
        }

        return metrics;
    }
}
