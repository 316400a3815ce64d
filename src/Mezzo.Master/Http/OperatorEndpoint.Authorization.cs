using Mezzo.Core.Security;
using Mezzo.Hosting.Security;
using Mezzo.Master.Actor;
using Mezzo.Master.Security;
using Mezzo.Protocol.V1;
using Microsoft.AspNetCore.Http;

namespace Mezzo.Master.Http;

/// <summary>
/// Per-call authorization of the operator API, as Mesos's master authorizes each call type: changes are refused
/// (403, nothing changed) unless the principal may do the call's action on every object it touches; GET_QUOTA shows
/// only the roles the principal may see. The read calls' filtered views live with those calls.
/// </summary>
public static partial class OperatorEndpoint
{
    /// <summary>The route's gates: a principal that may ever do one of the operator API's actions gets in.</summary>
    public static readonly AclAction[] Gates =
    [
        AclAction.ViewFrameworks, AclAction.ViewTasks, AclAction.ViewExecutors, AclAction.ViewRoles, AclAction.ViewFlags,
        AclAction.SetLogLevel, AclAction.TeardownFrameworks, AclAction.ReserveResources, AclAction.UnreserveResources,
        AclAction.GetQuotas, AclAction.UpdateQuotas, AclAction.UpdateWeights,
        AclAction.UpdateMaintenanceSchedules, AclAction.GetMaintenanceSchedules, AclAction.StartMaintenances,
        AclAction.StopMaintenances, AclAction.GetMaintenanceStatuses,
        AclAction.DrainAgents, AclAction.DeactivateAgents, AclAction.ReactivateAgents, AclAction.MarkAgentsGone,
    ];

    /// <summary>
    /// The 403 that refuses <paramref name="call"/>, a response already filtered for the principal (GET_QUOTA), or null
    /// when the call goes on to its handler.
    /// </summary>
    private static async Task<IResult?> AuthorizeAsync(HttpContext context, MasterActor master, MasterCall call)
    {
        var options = master.Options;
        var acls = options.Security.Acls;
        var principal = HttpSecurity.Principal(context);
        if (call.Type == MasterCallType.RESERVE_RESOURCES && ReservationPrincipalMismatch(principal, call.ReserveResources!.Resources) is { } impersonation)
        {
            return impersonation;
        }

        if (ReferenceEquals(acls, Acls.AllowAll))
        {
            return null;
        }

        IResult? Refuse(AclAction action, IEnumerable<string?> objects) => MasterAuthorization.Check(context, options, action, objects);
        IResult? RefuseAny(AclAction action) => MasterAuthorization.Check(context, options, action);
        switch (call.Type)
        {
            case MasterCallType.TEARDOWN:
                var (known, frameworkPrincipal) = await master.Ask(() => master.FrameworkPrincipal(call.Teardown!.FrameworkId!.Value!));
                // An unknown framework is the handler's to answer; there is no principal to authorize against.
                return known ? Refuse(AclAction.TeardownFrameworks, [frameworkPrincipal]) : null;
            case MasterCallType.RESERVE_RESOURCES:
                var reserve = call.ReserveResources!;
                return Refuse(AclAction.ReserveResources, MasterAuthorization.ReservedRoles(reserve.Resources));
            case MasterCallType.UNRESERVE_RESOURCES:
                return Refuse(AclAction.UnreserveResources, MasterAuthorization.ReserverPrincipals(call.UnreserveResources!.Resources));
            case MasterCallType.UPDATE_QUOTA:
                return Refuse(AclAction.UpdateQuotas, (call.UpdateQuota!.QuotaConfigs ?? []).Where(c => c is not null).Select(c => c.Role));
            case MasterCallType.SET_QUOTA:
                return Refuse(AclAction.UpdateQuotas, [call.SetQuota!.QuotaRequest!.Role]);
            case MasterCallType.REMOVE_QUOTA:
                return Refuse(AclAction.UpdateQuotas, [call.RemoveQuota!.Role]);
            case MasterCallType.UPDATE_WEIGHTS:
                return Refuse(AclAction.UpdateWeights, (call.UpdateWeights!.WeightInfos ?? []).Where(w => w is not null).Select(w => w.Role));
            case MasterCallType.GET_QUOTA:
                var status = await master.Ask(master.GetQuotaStatus);
                return Response(new MasterResponse
                {
                    Type = MasterResponseType.GET_QUOTA,
                    GetQuota = new MasterResponseGetQuota { Status = VisibleQuota(status, acls, principal) },
                });
            case MasterCallType.DRAIN_AGENT:
                return RefuseAny(AclAction.DrainAgents);
            case MasterCallType.DEACTIVATE_AGENT:
                return RefuseAny(AclAction.DeactivateAgents);
            case MasterCallType.REACTIVATE_AGENT:
                return RefuseAny(AclAction.ReactivateAgents);
            case MasterCallType.MARK_AGENT_GONE:
                return RefuseAny(AclAction.MarkAgentsGone);
            case MasterCallType.UPDATE_MAINTENANCE_SCHEDULE:
                return RefuseAny(AclAction.UpdateMaintenanceSchedules);
            case MasterCallType.GET_MAINTENANCE_SCHEDULE:
                return RefuseAny(AclAction.GetMaintenanceSchedules);
            case MasterCallType.START_MAINTENANCE:
                return RefuseAny(AclAction.StartMaintenances);
            case MasterCallType.STOP_MAINTENANCE:
                return RefuseAny(AclAction.StopMaintenances);
            case MasterCallType.GET_MAINTENANCE_STATUS:
                return RefuseAny(AclAction.GetMaintenanceStatuses);
            case MasterCallType.SET_LOGGING_LEVEL:
                return RefuseAny(AclAction.SetLogLevel);
            case MasterCallType.GET_FLAGS:
                return RefuseAny(AclAction.ViewFlags);
            default:
                return null;
        }
    }

    /// <summary>
    /// Mesos: an authenticated operator reserves in its own name; a reservation naming another principal is refused
    /// (as the scheduler API refuses it).
    /// </summary>
    internal static IResult? ReservationPrincipalMismatch(string? principal, IEnumerable<Resource>? resources)
    {
        if (principal is null)
        {
            return null;
        }

        var other = (resources ?? []).Where(r => r?.Reservations is { Count: > 0 })
            .Select(r => r.Reservations![^1]?.Principal)
            .FirstOrDefault(p => p is not null && p != principal);
        return other is null
            ? null
            : HttpBodies.Text(StatusCodes.Status403Forbidden,
                $"Forbidden: principal '{principal}' may not make a reservation in the name of principal '{other}'");
    }

    /// <summary>Mesos's GET_QUOTA: only the roles whose quota <c>get_quotas</c> lets the principal see.</summary>
    internal static QuotaStatus VisibleQuota(QuotaStatus status, Acls acls, string? principal) => new()
    {
        Infos = status.Infos?.Where(info => acls.IsAllowed(AclAction.GetQuotas, principal, info.Role)).ToList(),
        Configs = status.Configs?.Where(config => acls.IsAllowed(AclAction.GetQuotas, principal, config.Role)).ToList(),
    };
}
