using Mezzo.Core.Security;
using Mezzo.Master.Scheduler;
using Mezzo.Protocol.V1;

namespace Mezzo.Master.Actor;

public sealed partial class MasterActor
{
    /// <summary>
    /// Whether the framework is known (active or recovered) and the principal in its FrameworkInfo: the object of
    /// <c>teardown_frameworks</c>.
    /// </summary>
    public (bool Known, string? Principal) FrameworkPrincipal(string frameworkId) =>
        _frameworks.TryGetValue(frameworkId, out var framework) ? (true, framework.Info.Principal) : (false, null);

    /// <summary>
    /// Why a SUBSCRIBE may not go on: a failover that changes the framework's principal (so no one takes over another
    /// principal's framework by its id), or a role the FrameworkInfo's principal may not <c>register_frameworks</c> with.
    /// </summary>
    private string? SubscribeRefusal(FrameworkInfo info, string? requestedId)
    {
        if (requestedId is not null && _frameworks.TryGetValue(requestedId, out var existing) && existing.Info.Principal != info.Principal)
        {
            return "Updating 'FrameworkInfo.principal' is unsupported";
        }

        return RolesRefusal(info.Principal, FrameworkRoleValidation.RolesOf(info));
    }

    /// <summary>Mesos's <c>authorizeFramework</c>: every role of the framework must be allowed to its principal.</summary>
    private string? RolesRefusal(string? principal, IReadOnlyList<string> roles)
    {
        foreach (var role in roles)
        {
            if (!_options.Security.Acls.IsAllowed(AclAction.RegisterFrameworks, principal, role))
            {
                var who = principal is null ? "a framework without a principal" : $"principal '{principal}'";
                return $"Not authorized to use roles '{role}': {who} may not register_frameworks with role '{role}'";
            }
        }

        return null;
    }
}
