using System.Text.Json;
using Mezzo.Core.Resources;
using Mezzo.Core.Roles;
using Mezzo.Master.State;
using Mezzo.Protocol.V1;
using Microsoft.Extensions.Logging;
using CoreQuota = Mezzo.Core.Roles.QuotaConfig;
using WireQuota = Mezzo.Protocol.V1.QuotaConfig;

namespace Mezzo.Master.Actor;

/// <summary>
/// One role as the operator APIs report it. Amounts cover the role and its subroles, as Mesos's role breakdown does;
/// <see cref="Consumed"/> is what counts against quota: reservations plus unreserved allocations.
/// </summary>
public sealed record RoleReport(
    string Name,
    double Weight,
    IReadOnlyList<string> Frameworks,
    ResourceQuantities Allocated,
    ResourceQuantities Offered,
    ResourceQuantities Reserved,
    ResourceQuantities Consumed,
    CoreQuota? Quota);

/// <summary>Weights, quota and the roles report. Every change: validate, persist, apply, then allocate.</summary>
public sealed partial class MasterActor
{
    public const string WeightsRegistryKey = "weights";
    public const string QuotaRegistryKey = "quota";

    // Replaced whole on every change and never mutated, so the allocator can take them as its immutable input and a
    // failed change leaves nothing half-applied.
    private IReadOnlyDictionary<string, double> _weights = new Dictionary<string, double>(StringComparer.Ordinal);
    private IReadOnlyDictionary<string, CoreQuota> _quotas = new Dictionary<string, CoreQuota>(StringComparer.Ordinal);

    public IReadOnlyList<WeightInfo> GetWeights() =>
        [.. _weights.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => new WeightInfo { Role = kv.Key, Weight = kv.Value })];

    /// <summary>UPDATE_WEIGHTS and <c>PUT /weights</c>: sets the given roles' weights, leaving the others as they are.</summary>
    public CallResult UpdateWeights(IReadOnlyList<WeightInfo> infos)
    {
        var (updates, error) = WeightValidation.Validate(infos.Select(i => (i.Role, i.Weight)));
        if (error is not null)
        {
            return CallResult.BadRequest($"Failed to validate update weights request: {error}");
        }

        if (updates!.Count == 0)
        {
            return CallResult.Ok;
        }

        var weights = new Dictionary<string, double>(_weights, StringComparer.Ordinal);
        foreach (var (role, weight) in updates)
        {
            weights[role] = weight;
        }

        if (Persist(WeightsRegistryKey, WeightsJson(weights)) is { } failed)
        {
            return failed;
        }

        _weights = weights;
        Log.WeightsUpdated(_log, string.Join(",", updates.Select(kv => $"{kv.Key}={kv.Value}")));

        // As Mesos does: if a role that has frameworks changed weight, every outstanding offer goes back to the pool
        // so the next cycle can share it by the new weights.
        if (_frameworks.Values.Any(f => FrameworkRoles(f).Any(updates.ContainsKey)))
        {
            foreach (var offer in _offers.Values.ToList())
            {
                Rescind(offer, notify: true);
            }
        }

        _allocationPending = true;
        return CallResult.Ok;
    }

    /// <summary>GET_QUOTA and <c>GET /quota</c>: every non-default quota, in both the current and the legacy shape.</summary>
    public QuotaStatus GetQuotaStatus()
    {
        var configs = _quotas.Values.OrderBy(c => c.Role, StringComparer.Ordinal).ToList();
        return new QuotaStatus
        {
            Infos = [.. configs.Select(c => new QuotaInfo { Role = c.Role, Guarantee = ScalarResources(c.Guarantees) })],
            Configs = [.. configs.Select(ToWire)],
        };
    }

    /// <summary>
    /// UPDATE_QUOTA: replaces the quota of each named role (an empty config removes it), all or nothing. Mesos answers
    /// every refusal of this call, the forceable ones included, with 400.
    /// </summary>
    public CallResult UpdateQuota(IReadOnlyList<WireQuota> configs, bool force)
    {
        var nonScalar = NonScalarNames();
        var updates = new List<CoreQuota>(configs.Count);
        foreach (var wire in configs)
        {
            var (config, error) = QuotaValidation.Create(wire.Role, Amounts(wire.Guarantees), Amounts(wire.Limits), nonScalar);
            if (error is not null)
            {
                return CallResult.BadRequest($"Invalid QuotaConfig: {error}");
            }

            updates.Add(config!);
        }

        var consumed = new Dictionary<string, ResourceQuantities>(StringComparer.Ordinal);
        foreach (var config in updates)
        {
            consumed[config.Role] = ConsumedQuota(config.Role);
        }

        var (quotas, violation) = QuotaValidation.ValidateUpdate(_quotas, updates, ClusterCapacity(), consumed, force);
        return violation is not null
            ? CallResult.BadRequest($"Invalid QuotaConfig: {violation.Message}")
            : ApplyQuotas(quotas!, updates);
    }

    /// <summary>
    /// Deprecated SET_QUOTA and <c>POST /quota</c>: a guarantee, which also becomes the limit, for a role that has no
    /// quota yet. A guarantee the cluster cannot hold is a 409 unless forced, as in Mesos.
    /// </summary>
    public CallResult SetQuota(QuotaRequest request)
    {
        const string prefix = "Failed to validate set quota request: ";
        if (string.IsNullOrEmpty(request.Role))
        {
            return CallResult.BadRequest(prefix + "QuotaInfo must specify a role");
        }

        if (request.Guarantee is not { Count: > 0 } guarantee)
        {
            return CallResult.BadRequest(prefix + "QuotaInfo with empty 'guarantee'");
        }

        var amounts = new List<KeyValuePair<string, double?>>();
        foreach (var resource in guarantee)
        {
            if (resource.Reservations is { Count: > 0 } || (resource.Role is not null && resource.Role != RoleNames.Any))
            {
                return CallResult.BadRequest(prefix + $"QuotaInfo must not contain any ReservationInfo (resource '{resource.Name}')");
            }

            if (resource.Disk is not null || resource.Revocable is not null || resource.Shared is not null)
            {
                return CallResult.BadRequest(prefix + $"QuotaInfo must not contain DiskInfo, RevocableInfo or SharedInfo (resource '{resource.Name}')");
            }

            if (resource.Type != Protocol.V1.ValueType.SCALAR)
            {
                return CallResult.BadRequest(prefix + $"QuotaInfo must not include non-scalar resources (resource '{resource.Name}')");
            }

            amounts.Add(KeyValuePair.Create(resource.Name ?? "", resource.Scalar?.Value));
        }

        var (config, error) = QuotaValidation.Create(request.Role, amounts, amounts, NonScalarNames());
        if (error is not null)
        {
            return CallResult.BadRequest(prefix + error);
        }

        if (_quotas.ContainsKey(config!.Role))
        {
            return CallResult.BadRequest(prefix + $"Cannot set quota for role '{config.Role}' which already has quota");
        }

        var empty = new Dictionary<string, ResourceQuantities>();
        var (quotas, violation) = QuotaValidation.ValidateUpdate(_quotas, [config], ClusterCapacity(), empty, request.Force ?? false);
        return violation switch
        {
            null => ApplyQuotas(quotas!, [config]),
            { Kind: QuotaViolationKind.ExceedsCapacity } => CallResult.Conflict(
                $"Quota guarantees overcommit the cluster: {violation.Message}"),
            _ => CallResult.BadRequest(prefix + violation.Message),
        };
    }

    /// <summary>Deprecated REMOVE_QUOTA and <c>DELETE /quota/&lt;role&gt;</c>.</summary>
    public CallResult RemoveQuota(string role)
    {
        if (RoleNames.Validate(role) is { } roleError)
        {
            return CallResult.BadRequest($"Failed to validate remove quota request: Invalid role '{role}': {roleError}");
        }

        if (!_quotas.ContainsKey(role))
        {
            return CallResult.BadRequest($"Failed to remove quota: Role '{role}' has no quota set");
        }

        var quotas = new Dictionary<string, CoreQuota>(_quotas, StringComparer.Ordinal);
        quotas.Remove(role);
        if (QuotaValidation.ValidateHierarchy(quotas) is { } error)
        {
            return CallResult.BadRequest($"Failed to remove quota for role '{role}': {error}");
        }

        return ApplyQuotas(quotas, [new CoreQuota(role, ResourceQuantities.Empty, ResourceQuantities.Empty)]);
    }

    /// <summary>
    /// Every known role: those with frameworks, a weight, quota or reservations, and their ancestors (a parent's
    /// amounts include its subroles', so it is reported too). Sorted by name.
    /// </summary>
    public IReadOnlyList<RoleReport> GetRoles()
    {
        var names = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var framework in _frameworks.Values)
        {
            names.UnionWith(FrameworkRoles(framework));
        }

        names.UnionWith(_weights.Keys);
        names.UnionWith(_quotas.Keys);
        foreach (var agent in RegisteredAgents())
        {
            foreach (var resource in agent.Total)
            {
                names.UnionWith(resource.Reservations.Select(r => r.Role));
            }
        }

        foreach (var name in names.ToList())
        {
            names.UnionWith(RoleNames.Ancestors(name));
        }

        return [.. names.Select(name => new RoleReport(
            name,
            _weights.GetValueOrDefault(name, WeightValidation.DefaultWeight),
            [.. _frameworks.Values.Where(f => FrameworkRoles(f).Contains(name)).Select(f => f.FrameworkId).Order(StringComparer.Ordinal)],
            Allocated(name, reservedToo: true),
            Offered(name),
            Reserved(name),
            ConsumedQuota(name),
            _quotas.GetValueOrDefault(name)))];
    }

    /// <summary>
    /// Loads weights and quota from the registry. Mesos's rule for <c>--weights</c>: weights found in the registry win
    /// (the flag is ignored with a warning); with none there, the flag's weights are used and stored, so from then on
    /// the registry is what counts.
    /// </summary>
    private void RecoverRoles()
    {
        IReadOnlyDictionary<string, double>? flagWeights = null;
        if (!string.IsNullOrWhiteSpace(_options.Weights))
        {
            var (parsed, error) = WeightValidation.ParseFlag(_options.Weights);
            flagWeights = parsed ?? throw new ArgumentException($"Invalid --weights '{_options.Weights}': {error}");
        }

        var stored = ReadRegistry<List<WeightInfo>>(WeightsRegistryKey);
        if (stored is { Count: > 0 })
        {
            if (flagWeights is not null)
            {
                Log.WeightsFlagIgnored(_log, _options.Weights!);
            }

            _weights = stored.Where(w => w.Role is not null && w.Weight is not null)
                .ToDictionary(w => w.Role!, w => w.Weight!.Value, StringComparer.Ordinal);
        }
        else if (flagWeights is { Count: > 0 })
        {
            var weights = new Dictionary<string, double>(flagWeights, StringComparer.Ordinal);
            _registry.SetValue(WeightsRegistryKey, WeightsJson(weights));
            _weights = weights;
        }

        var quotas = new Dictionary<string, CoreQuota>(StringComparer.Ordinal);
        foreach (var wire in ReadRegistry<List<WireQuota>>(QuotaRegistryKey) ?? [])
        {
            // Only validated configs are ever written; one that no longer passes is dropped loudly, not fatally.
            var (config, error) = QuotaValidation.Create(wire.Role, Amounts(wire.Guarantees), Amounts(wire.Limits));
            if (config is null)
            {
                Log.StoredQuotaDropped(_log, wire.Role ?? "", error ?? "");
                continue;
            }

            quotas[config.Role] = config;
        }

        _quotas = quotas;
    }

    private CallResult ApplyQuotas(IReadOnlyDictionary<string, CoreQuota> quotas, IReadOnlyList<CoreQuota> changed)
    {
        var json = MesosJson.Serialize<List<WireQuota>>([.. quotas.Values.OrderBy(c => c.Role, StringComparer.Ordinal).Select(ToWire)]);
        if (Persist(QuotaRegistryKey, json) is { } failed)
        {
            return failed;
        }

        _quotas = quotas;
        foreach (var config in changed)
        {
            Log.QuotaUpdated(_log, config.Role, config.Guarantees.ToString(), config.Limits.ToString());
        }

        RescindForQuota(changed);
        _allocationPending = true;
        return CallResult.Ok;
    }

    /// <summary>
    /// Mesos's best effort after a quota change: take back offers of a role's subtree until what it holds fits its
    /// limits, then other roles' offers until the role's guarantees could be met from what is free.
    /// </summary>
    private void RescindForQuota(IReadOnlyList<CoreQuota> changed)
    {
        foreach (var config in changed)
        {
            bool InSubtree(OfferEntry offer) =>
                offer.Resources.Any(r => r.AllocationRole is { } role && RoleNames.IsSelfOrDescendant(role, config.Role));

            var held = ConsumedQuota(config.Role).Add(Offered(config.Role));
            foreach (var offer in _offers.Values.Where(InSubtree).OrderBy(o => o.OfferId, StringComparer.Ordinal).ToList())
            {
                if (QuotaValidation.LimitsContain(config.Limits, held))
                {
                    break;
                }

                held = held.SubtractFloor(ResourceQuantities.FromResources(offer.Resources));
                Rescind(offer, notify: true);
            }

            if (config.Guarantees.IsEmpty)
            {
                continue;
            }

            var rescinded = ResourceQuantities.Empty;
            foreach (var agent in RegisteredAgents().OrderBy(a => a.AgentId, StringComparer.Ordinal))
            {
                foreach (var offerId in agent.OfferIds.Order(StringComparer.Ordinal).ToList())
                {
                    if (rescinded.Add(held).Contains(config.Guarantees))
                    {
                        return;
                    }

                    var offer = _offers[offerId];
                    if (!InSubtree(offer))
                    {
                        rescinded = rescinded.Add(ResourceQuantities.FromResources(offer.Resources));
                        Rescind(offer, notify: true);
                    }
                }
            }
        }
    }

    /// <summary>Writes to the registry before anything changes in memory; a failed write changes nothing.</summary>
    private CallResult? Persist(string key, string json)
    {
        try
        {
            _registry.SetValue(key, json);
            return null;
        }
        catch (Exception ex)
        {
            Log.RegistryWriteFailed(_log, key, ex);
            return new CallResult(503, $"Failed to persist '{key}' in the registry: {ex.Message}");
        }
    }

    private T? ReadRegistry<T>(string key)
    {
        var json = _registry.GetValue(key);
        try
        {
            return json is null ? default : MesosJson.Deserialize<T>(json);
        }
        catch (JsonException ex)
        {
            throw new InvalidOperationException($"The registry's '{key}' entry is not valid JSON: {ex.Message}", ex);
        }
    }

    private static string WeightsJson(IReadOnlyDictionary<string, double> weights) =>
        MesosJson.Serialize<List<WeightInfo>>([.. weights.OrderBy(kv => kv.Key, StringComparer.Ordinal)
            .Select(kv => new WeightInfo { Role = kv.Key, Weight = kv.Value })]);

    /// <summary>Agents Mesos counts as registered: connected, or disconnected but not yet unreachable.</summary>
    private IEnumerable<AgentEntry> RegisteredAgents() =>
        _agents.Values.Where(a => a.Liveness is AgentLiveness.Connected or AgentLiveness.Disconnected);

    /// <summary>
    /// Mesos's capacity for the quota heuristic: the scalar totals of all registered agents, disconnected ones
    /// included, since a disconnection is usually brief.
    /// </summary>
    private ResourceQuantities ClusterCapacity() =>
        RegisteredAgents().Aggregate(ResourceQuantities.Empty, (sum, a) => sum.Add(ResourceQuantities.FromResources(a.Total)));

    private HashSet<string> NonScalarNames()
    {
        var names = new HashSet<string>(QuotaValidation.KnownNonScalar, StringComparer.Ordinal);
        foreach (var agent in _agents.Values)
        {
            names.UnionWith(agent.Total.Where(r => r.Type != ResourceType.Scalar).Select(r => r.Name));
        }

        return names;
    }

    private static IReadOnlyList<string> FrameworkRoles(FrameworkEntry framework) =>
        framework.HasCapability(FrameworkInfoCapabilityType.MULTI_ROLE) && framework.Info.Roles is { Count: > 0 } roles
            ? roles
            : [framework.Role];

    private ResourceQuantities Allocated(string role, bool reservedToo) =>
        _frameworks.Values.Aggregate(ResourceQuantities.Empty, (sum, f) => sum.Add(ResourceQuantities.FromResources(
            f.Used.Filter(r => AllocatedTo(r, role) && (reservedToo || !r.IsReserved)))));

    private ResourceQuantities Offered(string role) =>
        _frameworks.Values.Aggregate(ResourceQuantities.Empty, (sum, f) => sum.Add(ResourceQuantities.FromResources(
            f.Offered.Filter(r => AllocatedTo(r, role)))));

    private ResourceQuantities Reserved(string role) =>
        RegisteredAgents().Aggregate(ResourceQuantities.Empty, (sum, a) => sum.Add(ResourceQuantities.FromResources(
            a.Total.Filter(r => r.IsReserved && RoleNames.IsSelfOrDescendant(r.Role, role)))));

    /// <summary>What counts against a role's quota (Mesos 1.9+): its reservations, used or not, plus unreserved allocations.</summary>
    private ResourceQuantities ConsumedQuota(string role) => Reserved(role).Add(Allocated(role, reservedToo: false));

    private static bool AllocatedTo(Core.Resources.Resource resource, string role) =>
        resource.AllocationRole is { } allocated && RoleNames.IsSelfOrDescendant(allocated, role);

    private static IEnumerable<KeyValuePair<string, double?>>? Amounts(Dictionary<string, ValueScalar>? scalars) =>
        scalars?.Select(kv => KeyValuePair.Create(kv.Key, kv.Value?.Value));

    private static WireQuota ToWire(CoreQuota config) => new()
    {
        Role = config.Role,
        Guarantees = config.Guarantees.IsEmpty ? null : ScalarMap(config.Guarantees),
        Limits = config.Limits.IsEmpty ? null : ScalarMap(config.Limits),
    };

    private static Dictionary<string, ValueScalar> ScalarMap(ResourceQuantities quantities) =>
        quantities.ToDictionary(kv => kv.Key, kv => new ValueScalar { Value = kv.Value / 1000.0 }, StringComparer.Ordinal);

    private static List<Protocol.V1.Resource> ScalarResources(ResourceQuantities quantities) =>
        [.. quantities.Select(kv => new Protocol.V1.Resource
        {
            Name = kv.Key,
            Type = Protocol.V1.ValueType.SCALAR,
            Scalar = new ValueScalar { Value = kv.Value / 1000.0 },
        })];

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "Weights updated: {Weights}")]
        public static partial void WeightsUpdated(ILogger logger, string weights);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Ignoring --weights '{Flag}': weights are recovered from the registry, which an UPDATE_WEIGHTS or an earlier start with --weights wrote")]
        public static partial void WeightsFlagIgnored(ILogger logger, string flag);

        [LoggerMessage(Level = LogLevel.Information, Message = "Quota of role {Role} set: guarantees {Guarantees}; limits {Limits}")]
        public static partial void QuotaUpdated(ILogger logger, string role, string guarantees, string limits);

        [LoggerMessage(Level = LogLevel.Error, Message = "Stored quota of role '{Role}' dropped at recovery: {Reason}")]
        public static partial void StoredQuotaDropped(ILogger logger, string role, string reason);

        [LoggerMessage(Level = LogLevel.Error, Message = "Registry write of '{Key}' failed; nothing was changed")]
        public static partial void RegistryWriteFailed(ILogger logger, string key, Exception exception);
    }
}
