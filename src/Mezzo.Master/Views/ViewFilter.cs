using Mezzo.Core.Security;
using Mezzo.Protocol.V1;

namespace Mezzo.Master.Views;

/// <summary>
/// What one principal may see of the master's state, by Mesos's view ACLs: a framework by <c>view_frameworks</c> on
/// its <c>FrameworkInfo.user</c>; a task (of a framework it may see) by <c>view_tasks</c> on the user it runs as
/// (<c>command.user</c>, else its executor's, else the framework's); an executor by <c>view_executors</c> on its
/// command's user, else the framework's; a role by <c>view_roles</c>; a quota by <c>get_quotas</c> on its role.
/// Immutable, so a request thread or the actor may use one freely. <see cref="For"/> answers null for a principal
/// the ACLs let see everything: callers then serve the unfiltered view without a single per-object check.
/// </summary>
public sealed class ViewFilter
{
    private readonly Acls _acls;
    private readonly string? _principal;
    private readonly bool _allFrameworks;
    private readonly bool _allTasks;
    private readonly bool _allExecutors;
    private readonly bool _allRoles;
    private readonly bool _allQuotas;

    private ViewFilter(Acls acls, string? principal)
    {
        _acls = acls;
        _principal = principal;
        _allFrameworks = acls.MayAlways(AclAction.ViewFrameworks, principal);
        _allTasks = acls.MayAlways(AclAction.ViewTasks, principal);
        _allExecutors = acls.MayAlways(AclAction.ViewExecutors, principal);
        _allRoles = acls.MayAlways(AclAction.ViewRoles, principal);
        _allQuotas = acls.MayAlways(AclAction.GetQuotas, principal);
    }

    /// <summary>The filter for <paramref name="principal"/> (null: unauthenticated), or null when it sees everything.</summary>
    public static ViewFilter? For(Acls acls, string? principal)
    {
        ArgumentNullException.ThrowIfNull(acls);
        if (ReferenceEquals(acls, Acls.AllowAll))
        {
            return null;
        }

        var filter = new ViewFilter(acls, principal);
        return filter.SeesEverything ? null : filter;
    }

    public bool SeesEverything => _allFrameworks && _allTasks && _allExecutors && _allRoles && _allQuotas;

    /// <summary>Whether every role (and so every quota) is visible: role lists need no filtering.</summary>
    public bool SeesAllRoles => _allRoles && _allQuotas;

    public bool Framework(string? frameworkUser) =>
        _allFrameworks || _acls.IsAllowed(AclAction.ViewFrameworks, _principal, frameworkUser ?? "");

    /// <summary>A task of a framework run by <paramref name="frameworkUser"/>; <paramref name="taskUser"/> null: it names none.</summary>
    public bool Task(string? taskUser, string? frameworkUser) =>
        Framework(frameworkUser) && (_allTasks || _acls.IsAllowed(AclAction.ViewTasks, _principal, taskUser ?? frameworkUser ?? ""));

    /// <summary>An executor of a framework run by <paramref name="frameworkUser"/>; <paramref name="executorUser"/> null: it names none.</summary>
    public bool Executor(string? executorUser, string? frameworkUser) =>
        Framework(frameworkUser) && (_allExecutors || _acls.IsAllowed(AclAction.ViewExecutors, _principal, executorUser ?? frameworkUser ?? ""));

    public bool Role(string role) => _allRoles || _acls.IsAllowed(AclAction.ViewRoles, _principal, role);

    public bool Quota(string role) => _allQuotas || _acls.IsAllowed(AclAction.GetQuotas, _principal, role);

    /// <summary>
    /// A reservation is shown when its role may be viewed (Mesos hides reserved resources of roles the principal may
    /// not view); unreserved resources are always shown.
    /// </summary>
    public bool Resource(Resource resource)
    {
        ArgumentNullException.ThrowIfNull(resource);
        var role = ReservedRole(resource);
        return role is null || Role(role);
    }

    /// <summary>The role a resource is reserved to (the last refinement), or null when unreserved.</summary>
    public static string? ReservedRole(Resource resource)
    {
        ArgumentNullException.ThrowIfNull(resource);
        if (resource.Reservations is { Count: > 0 } reservations)
        {
            return reservations[^1].Role;
        }

        return resource.Role is { Length: > 0 } role && role != "*" ? role : null;
    }

    /// <summary>The user a task runs as when the task or its executor names one (null: the framework's).</summary>
    public static string? TaskUser(TaskInfo task, ExecutorInfo? groupExecutor = null)
    {
        ArgumentNullException.ThrowIfNull(task);
        return task.Command?.User ?? task.Executor?.Command?.User ?? groupExecutor?.Command?.User;
    }
}
