using System.Text.Json;
using Mezzo.Core.Resources;
using Resources = Mezzo.Core.Resources.Resources;
using Mezzo.Master.State;
using Mezzo.Protocol.V1;
using Microsoft.Extensions.Logging;
using CoreResources = Mezzo.Core.Resources.Resources;
using WireResource = Mezzo.Protocol.V1.Resource;

namespace Mezzo.Master.Actor;

/// <summary>
/// Dynamic reservations (Mesos's RESERVE / UNRESERVE, docs/reservation.md). A reservation changes the agent's total:
/// the unreserved (or parent-role) resources become reserved to a role. The master keeps each agent's dynamically
/// reserved resources in the registry, written before the change is applied, and puts them back on the agent's
/// reported resources whenever it (re)registers, so reservations survive master and agent restarts.
/// </summary>
public sealed partial class MasterActor
{
    private const string ReservationsKeyPrefix = "reservations/";

    /// <summary>
    /// Validates a RESERVE from a framework's offer (or the operator, when <paramref name="framework"/> is null) and
    /// returns the source resources it consumes and the reserved resources it produces, both unallocated.
    /// </summary>
    private static string? ValidateReserve(IReadOnlyList<WireResource>? wire, FrameworkEntry? framework, string? principal, out CoreResources source, out CoreResources reserved)
    {
        source = CoreResources.Empty;
        reserved = CoreResources.Empty;
        if (ParseOperationResources(wire, "reserve", out var resources) is { } parseError)
        {
            return parseError;
        }

        foreach (var resource in resources)
        {
            if (!resource.IsDynamicallyReserved)
            {
                return $"Invalid RESERVE operation: resource '{resource}' is not dynamically reserved (its last reservation must be DYNAMIC)";
            }

            var reservation = resource.Reservations[^1];
            if (reservation.Principal is { } reservationPrincipal && principal is not null && reservationPrincipal != principal)
            {
                return $"Invalid RESERVE operation: the reservation's principal '{reservationPrincipal}' does not match the caller's principal '{principal}'";
            }

            if (framework is not null && !framework.Roles.Contains(reservation.Role))
            {
                return $"Invalid RESERVE operation: role '{reservation.Role}' is not one of the framework's roles [{string.Join(", ", framework.Roles)}]";
            }

            if (resource.Reservations.Count > 1 && framework is not null && !framework.HasCapability(FrameworkInfoCapabilityType.RESERVATION_REFINEMENT))
            {
                return "Invalid RESERVE operation: refining a reservation needs the RESERVATION_REFINEMENT capability";
            }
        }

        reserved = resources.Unallocate();
        source = reserved.PopReservations();
        return null;
    }

    /// <summary>Validates an UNRESERVE: every resource's innermost reservation must be dynamic.</summary>
    private static string? ValidateUnreserve(IReadOnlyList<WireResource>? wire, out CoreResources reserved, out CoreResources released)
    {
        reserved = CoreResources.Empty;
        released = CoreResources.Empty;
        if (ParseOperationResources(wire, "unreserve", out var resources) is { } parseError)
        {
            return parseError;
        }

        foreach (var resource in resources)
        {
            if (!resource.IsDynamicallyReserved)
            {
                return $"Invalid UNRESERVE operation: resource '{resource}' is not dynamically reserved";
            }
        }

        reserved = resources.Unallocate();
        released = reserved.PopReservations();
        return null;
    }

    private static string? ParseOperationResources(IReadOnlyList<WireResource>? wire, string field, out CoreResources resources)
    {
        resources = CoreResources.Empty;
        if (wire is not { Count: > 0 })
        {
            return $"Invalid {field.ToUpperInvariant()} operation: '{field}.resources' must not be empty";
        }

        if (ResourceConversion.Validate(wire) is { } error)
        {
            return $"Invalid {field.ToUpperInvariant()} operation: {error}";
        }

        resources = ResourceConversion.ToCore(wire);
        return null;
    }

    /// <summary>
    /// The operator's RESERVE_RESOURCES (and <c>/reserve</c>). Resources asked for that the agent does not have at all
    /// are a bad request; ones it has but that running tasks hold are a conflict (409, as Mesos); ones sitting in
    /// outstanding offers are taken back (the offers are rescinded) as Mesos does.
    /// </summary>
    public CallResult ReserveResources(string agentId, IReadOnlyList<WireResource>? source, IReadOnlyList<WireResource>? resources, string? principal)
    {
        if (ValidateReserve(resources, framework: null, principal, out var from, out var reserved) is { } error)
        {
            return CallResult.BadRequest(error);
        }

        if (source is { Count: > 0 })
        {
            if (ParseOperationResources(source, "reserve", out var explicitSource) is { } sourceError)
            {
                return CallResult.BadRequest(sourceError.Replace("reserve.resources", "source", StringComparison.Ordinal));
            }

            if (!explicitSource.Unallocate().Flatten().Equals(reserved.Flatten()))
            {
                return CallResult.BadRequest("Invalid RESERVE operation: 'source' and 'resources' must hold the same quantities");
            }

            from = explicitSource.Unallocate();
        }

        return ChangeAgentResources(agentId, from, reserved, "RESERVE");
    }

    /// <summary>The operator's UNRESERVE_RESOURCES (and <c>/unreserve</c>); same rules as <see cref="ReserveResources"/>.</summary>
    public CallResult UnreserveResources(string agentId, IReadOnlyList<WireResource>? resources)
    {
        if (ValidateUnreserve(resources, out var reserved, out var released) is { } error)
        {
            return CallResult.BadRequest(error);
        }

        return ChangeAgentResources(agentId, reserved, released, "UNRESERVE");
    }

    private CallResult ChangeAgentResources(string agentId, Resources from, Resources to, string operation)
    {
        if (!_agents.TryGetValue(agentId, out var agent) || agent.Liveness == AgentLiveness.Gone)
        {
            return CallResult.NotFound($"Agent {agentId} not found");
        }

        if (!agent.IsActive)
        {
            return CallResult.Conflict($"Agent {agentId} is not connected; its resources are not known");
        }

        if (!agent.Total.Contains(from))
        {
            return CallResult.BadRequest($"Invalid {operation} operation: agent {agentId} does not have {from} (it has {agent.Total})");
        }

        if (!(agent.Total - agent.Used).Contains(from))
        {
            return CallResult.Conflict($"Invalid {operation} operation: {from} on agent {agentId} is in use by tasks");
        }

        if (!agent.Available.Contains(from))
        {
            RescindAgentOffers(agent);
        }

        if (ApplyReservationChange(agent, from, to) is { } failed)
        {
            return failed;
        }

        Log.ReservationApplied(_log, agentId, operation, to.ToString());
        return CallResult.Accepted;
    }

    /// <summary>Replaces <paramref name="from"/> with <paramref name="to"/> in the agent's total, persisted first.</summary>
    /// <returns>Null when applied; the failure (503) when the registry could not be written, and nothing changed.</returns>
    private CallResult? ApplyReservationChange(AgentEntry agent, CoreResources from, CoreResources to)
    {
        var total = agent.Total - from + to;
        if (PersistReservations(agent.AgentId, total) is { } failed)
        {
            return failed;
        }

        agent.Total = total;
        _version++;
        _allocationPending = true;
        return null;
    }

    private CallResult? PersistReservations(string agentId, CoreResources total)
    {
        var dynamic = total.Filter(r => r.IsDynamicallyReserved);
        return Persist(ReservationsKeyPrefix + agentId, JsonSerializer.Serialize(ResourceConversion.ToWire(dynamic), MesosJsonContext.Default.ListResource));
    }

    /// <summary>
    /// Puts the agent's checkpointed dynamic reservations back onto the resources it reports. A reservation whose
    /// source is no longer there (the operator shrank the agent's --resources) is dropped with a warning.
    /// </summary>
    private CoreResources RestoreReservations(string agentId, CoreResources reported)
    {
        if (_registry.GetValue(ReservationsKeyPrefix + agentId) is not { } json)
        {
            return reported;
        }

        List<WireResource>? stored;
        try
        {
            stored = JsonSerializer.Deserialize(json, MesosJsonContext.Default.ListResource);
        }
        catch (JsonException ex)
        {
            Log.ReservationsUnreadable(_log, agentId, ex.Message);
            return reported;
        }

        CoreResources checkpointed;
        try
        {
            checkpointed = ResourceConversion.ToCore(stored ?? []);
        }
        catch (FormatException ex)
        {
            Log.ReservationsUnreadable(_log, agentId, ex.Message);
            return reported;
        }

        var total = reported;
        foreach (var resource in checkpointed)
        {
            var source = new CoreResources([resource.PopReservation()]);
            if (total.Contains(source))
            {
                total = total - source + new CoreResources([resource]);
            }
            else
            {
                Log.ReservationDropped(_log, agentId, resource.ToString());
            }
        }

        if (!total.Equals(reported))
        {
            PersistReservations(agentId, total);
        }

        return total;
    }

    /// <summary>Mesos's "reserved_resources" of /state: by reservation role.</summary>
    private static Dictionary<string, CoreResources> ReservedByRole(CoreResources total)
    {
        var byRole = new Dictionary<string, CoreResources>(StringComparer.Ordinal);
        foreach (var resource in total)
        {
            if (resource.IsReserved)
            {
                byRole[resource.Role] = byRole.GetValueOrDefault(resource.Role, CoreResources.Empty).Add(resource);
            }
        }

        return byRole;
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "Agent {AgentId}: {Operation} {Resources}")]
        public static partial void ReservationApplied(ILogger logger, string agentId, string operation, string resources);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Framework {FrameworkId}: offer operation dropped: {Reason}")]
        public static partial void OperationDropped(ILogger logger, string frameworkId, string reason);

        [LoggerMessage(Level = LogLevel.Error, Message = "Agent {AgentId}: checkpointed reservations unreadable, ignored: {Reason}")]
        public static partial void ReservationsUnreadable(ILogger logger, string agentId, string reason);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Agent {AgentId}: checkpointed reservation {Resource} no longer fits the agent's resources; dropped")]
        public static partial void ReservationDropped(ILogger logger, string agentId, string resource);
    }
}
