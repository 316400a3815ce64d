using Mezzo.Core.Resources;
using Mezzo.Protocol.V1;

namespace Mezzo.Master.Scheduler;

/// <summary>Shape checks on a scheduler Call before it reaches the actor, worded as Mesos words them.</summary>
public static class SchedulerCallValidation
{
    public static string? Validate(Call call)
    {
        if (call.Type is null or CallType.UNKNOWN)
        {
            return "Expecting 'type' to be present";
        }

        if (call.Type == CallType.SUBSCRIBE)
        {
            return ValidateSubscribe(call);
        }

        if (call.FrameworkId?.Value is not { Length: > 0 })
        {
            return "Expecting 'framework_id' to be present";
        }

        return call.Type switch
        {
            CallType.ACCEPT when call.Accept is null => "Expecting 'accept' to be present",
            CallType.DECLINE when call.Decline is null => "Expecting 'decline' to be present",
            CallType.ACCEPT_INVERSE_OFFERS when call.AcceptInverseOffers is null => "Expecting 'accept_inverse_offers' to be present",
            CallType.DECLINE_INVERSE_OFFERS when call.DeclineInverseOffers is null => "Expecting 'decline_inverse_offers' to be present",
            CallType.KILL when call.Kill?.TaskId?.Value is null => "Expecting 'kill' with 'task_id' to be present",
            CallType.SHUTDOWN when call.Shutdown?.ExecutorId?.Value is null => "Expecting 'shutdown' with 'executor_id' to be present",
            CallType.ACKNOWLEDGE when call.Acknowledge is null => "Expecting 'acknowledge' to be present",
            CallType.ACKNOWLEDGE when call.Acknowledge.AgentId?.Value is null => "Expecting 'acknowledge.agent_id' to be present",
            CallType.ACKNOWLEDGE when call.Acknowledge.TaskId?.Value is null => "Expecting 'acknowledge.task_id' to be present",
            CallType.ACKNOWLEDGE when call.Acknowledge.Uuid is null => "Expecting 'acknowledge.uuid' to be present",
            CallType.MESSAGE when call.Message is null => "Expecting 'message' to be present",
            CallType.UPDATE_FRAMEWORK when call.UpdateFramework?.FrameworkInfo is null => "Expecting 'update_framework.framework_info' to be present",
            CallType.RECONCILE when call.Reconcile?.Tasks?.Any(t => t.TaskId?.Value is null) == true => "Expecting 'reconcile.tasks[].task_id' to be present",
            _ => null,
        };
    }

    private static string? ValidateSubscribe(Call call)
    {
        var info = call.Subscribe?.FrameworkInfo;
        if (info is null)
        {
            return "Expecting 'subscribe.framework_info' to be present";
        }

        if (info.User is null)
        {
            return "Expecting 'subscribe.framework_info.user' to be present";
        }

        if (info.Name is null)
        {
            return "Expecting 'subscribe.framework_info.name' to be present";
        }

        if (call.FrameworkId?.Value is { } id && info.Id?.Value is { } infoId && id != infoId)
        {
            return "'framework_id' differs from 'subscribe.framework_info.id'";
        }

        if (info.Id?.Value is { } given && TaskValidation.ValidateId(given) is { } idError)
        {
            return $"'framework_info.id' is invalid: {idError}";
        }

        if (info.FailoverTimeout is { } timeout && (!double.IsFinite(timeout) || timeout < 0))
        {
            return "'framework_info.failover_timeout' must be a non-negative number of seconds";
        }

        if (FrameworkRoleValidation.ValidateRoles(info) is { } rolesError)
        {
            return rolesError;
        }

        var roles = FrameworkRoleValidation.RolesOf(info);
        if (FrameworkRoleValidation.ValidateSuppressedRoles(call.Subscribe!.SuppressedRoles, roles) is { } suppressedError)
        {
            return suppressedError;
        }

        if (FrameworkRoleValidation.CompileConstraints(call.Subscribe.OfferConstraints, roles, out _) is { } constraintsError)
        {
            return constraintsError;
        }

        return null;
    }
}
