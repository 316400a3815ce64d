namespace Mezzo.Core.Security;

/// <summary>
/// The actions of Mesos's local ACLs (<c>include/mesos/authorizer/acls.proto</c>, message <c>ACLs</c>) that Mezzo
/// enforces, plus Mezzo's own for its services and jobs frameworks. <see cref="AclActions"/> maps each to its key in
/// the <c>--acls</c> JSON and the name of its object field.
/// </summary>
public enum AclAction
{
    RegisterFrameworks,
    RunTasks,
    TeardownFrameworks,
    ReserveResources,
    UnreserveResources,
    CreateVolumes,
    DestroyVolumes,
    UpdateWeights,
    GetEndpoints,
    GetQuotas,
    UpdateQuotas,
    ViewFrameworks,
    ViewTasks,
    ViewExecutors,
    AccessSandboxes,
    AccessMesosLogs,
    ViewRoles,
    ViewFlags,
    SetLogLevel,
    RegisterAgents,
    UpdateMaintenanceSchedules,
    GetMaintenanceSchedules,
    StartMaintenances,
    StopMaintenances,
    GetMaintenanceStatuses,
    DrainAgents,
    DeactivateAgents,
    ReactivateAgents,
    MarkAgentsGone,
    ViewContainers,

    /// <summary>Mezzo: see apps and groups of the services framework under the given paths (prefix match).</summary>
    ViewAppGroups,

    /// <summary>Mezzo: create, change, restart and delete apps and groups under the given paths (prefix match).</summary>
    UpdateAppGroups,

    /// <summary>Mezzo: see jobs of the jobs framework with the given names (a trailing <c>*</c> matches a prefix).</summary>
    ViewJobs,

    /// <summary>Mezzo: create, change, run and delete jobs with the given names (a trailing <c>*</c> matches a prefix).</summary>
    UpdateJobs,
}

/// <summary>How an ACL's object values are compared with the object of a request.</summary>
public enum AclObjectMatch
{
    /// <summary>Mesos's rule: the request's value equals one of the ACL's values.</summary>
    Exact,

    /// <summary>
    /// The request's value is one of the ACL's values or lies below one, on '/' boundaries: <c>/team-a</c> covers
    /// <c>/team-a</c> and <c>/team-a/web</c>, not <c>/team-ab</c>. Used by Mezzo's app-group and job actions.
    /// </summary>
    PathPrefix,

    /// <summary>
    /// The request's value equals one of the ACL's values, or starts with one that ends in <c>*</c>: <c>team-a-*</c>
    /// covers <c>team-a-nightly</c>, not <c>team-ab</c>. Used by Mezzo's job actions (job names have no '/').
    /// </summary>
    NamePattern,
}

/// <summary>The JSON spelling of each action: its key in <c>ACLs</c> and the name of its object field.</summary>
public static class AclActions
{
    private static readonly (AclAction Action, string Key, string Objects, AclObjectMatch Match)[] Table =
    [
        (AclAction.RegisterFrameworks, "register_frameworks", "roles", AclObjectMatch.Exact),
        (AclAction.RunTasks, "run_tasks", "users", AclObjectMatch.Exact),
        (AclAction.TeardownFrameworks, "teardown_frameworks", "framework_principals", AclObjectMatch.Exact),
        (AclAction.ReserveResources, "reserve_resources", "roles", AclObjectMatch.Exact),
        (AclAction.UnreserveResources, "unreserve_resources", "reserver_principals", AclObjectMatch.Exact),
        (AclAction.CreateVolumes, "create_volumes", "roles", AclObjectMatch.Exact),
        (AclAction.DestroyVolumes, "destroy_volumes", "creator_principals", AclObjectMatch.Exact),
        (AclAction.UpdateWeights, "update_weights", "roles", AclObjectMatch.Exact),
        (AclAction.GetEndpoints, "get_endpoints", "paths", AclObjectMatch.Exact),
        (AclAction.GetQuotas, "get_quotas", "roles", AclObjectMatch.Exact),
        (AclAction.UpdateQuotas, "update_quotas", "roles", AclObjectMatch.Exact),
        (AclAction.ViewFrameworks, "view_frameworks", "users", AclObjectMatch.Exact),
        (AclAction.ViewTasks, "view_tasks", "users", AclObjectMatch.Exact),
        (AclAction.ViewExecutors, "view_executors", "users", AclObjectMatch.Exact),
        (AclAction.AccessSandboxes, "access_sandboxes", "users", AclObjectMatch.Exact),
        (AclAction.AccessMesosLogs, "access_mesos_logs", "logs", AclObjectMatch.Exact),
        (AclAction.ViewRoles, "view_roles", "roles", AclObjectMatch.Exact),
        (AclAction.ViewFlags, "view_flags", "flags", AclObjectMatch.Exact),
        (AclAction.SetLogLevel, "set_log_level", "level", AclObjectMatch.Exact),
        (AclAction.RegisterAgents, "register_agents", "agents", AclObjectMatch.Exact),
        (AclAction.UpdateMaintenanceSchedules, "update_maintenance_schedules", "machines", AclObjectMatch.Exact),
        (AclAction.GetMaintenanceSchedules, "get_maintenance_schedules", "machines", AclObjectMatch.Exact),
        (AclAction.StartMaintenances, "start_maintenances", "machines", AclObjectMatch.Exact),
        (AclAction.StopMaintenances, "stop_maintenances", "machines", AclObjectMatch.Exact),
        (AclAction.GetMaintenanceStatuses, "get_maintenance_statuses", "machines", AclObjectMatch.Exact),
        (AclAction.DrainAgents, "drain_agents", "agents", AclObjectMatch.Exact),
        (AclAction.DeactivateAgents, "deactivate_agents", "agents", AclObjectMatch.Exact),
        (AclAction.ReactivateAgents, "reactivate_agents", "agents", AclObjectMatch.Exact),
        (AclAction.MarkAgentsGone, "mark_agents_gone", "agents", AclObjectMatch.Exact),
        (AclAction.ViewContainers, "view_containers", "users", AclObjectMatch.Exact),
        (AclAction.ViewAppGroups, "view_app_groups", "paths", AclObjectMatch.PathPrefix),
        (AclAction.UpdateAppGroups, "update_app_groups", "paths", AclObjectMatch.PathPrefix),
        (AclAction.ViewJobs, "view_jobs", "jobs", AclObjectMatch.NamePattern),
        (AclAction.UpdateJobs, "update_jobs", "jobs", AclObjectMatch.NamePattern),
    ];

    /// <summary>
    /// Mesos ACL keys Mezzo accepts in a file but has nothing to enforce with (nested and standalone containers,
    /// resource providers, disks): a Mesos ACL file loads unchanged.
    /// </summary>
    private static readonly Dictionary<string, string> Accepted = new(StringComparer.Ordinal)
    {
        ["launch_nested_containers_as_user"] = "users",
        ["launch_nested_containers_under_parent_with_user"] = "users",
        ["kill_nested_containers"] = "users",
        ["wait_nested_containers"] = "users",
        ["launch_nested_container_sessions_as_user"] = "users",
        ["launch_nested_container_sessions_under_parent_with_user"] = "users",
        ["attach_containers_input"] = "users",
        ["attach_containers_output"] = "users",
        ["remove_nested_containers"] = "users",
        ["launch_standalone_containers"] = "users",
        ["kill_standalone_containers"] = "users",
        ["wait_standalone_containers"] = "users",
        ["remove_standalone_containers"] = "users",
        ["view_standalone_containers"] = "users",
        ["modify_resource_provider_configs"] = "resource_providers",
        ["mark_resource_providers_gone"] = "resource_providers",
        ["view_resource_providers"] = "resource_providers",
        ["prune_images"] = "images",
        ["resize_volumes"] = "roles",
        ["create_block_disks"] = "roles",
        ["destroy_block_disks"] = "roles",
        ["create_mount_disks"] = "roles",
        ["destroy_mount_disks"] = "roles",
        ["destroy_raw_disks"] = "roles",
    };

    private static readonly Dictionary<string, AclAction> ByKey = Table.ToDictionary(row => row.Key, row => row.Action, StringComparer.Ordinal);

    /// <summary>The key of <paramref name="action"/> in the ACL JSON, e.g. <c>register_frameworks</c>.</summary>
    public static string Key(AclAction action) => Table[(int)action].Key;

    /// <summary>The name of the action's object field, e.g. <c>roles</c> for <c>register_frameworks</c>.</summary>
    public static string ObjectField(AclAction action) => Table[(int)action].Objects;

    public static AclObjectMatch Match(AclAction action) => Table[(int)action].Match;

    public static bool TryParse(string key, out AclAction action) => ByKey.TryGetValue(key, out action);

    /// <summary>The object field of a Mesos key Mezzo accepts without enforcing, or null if the key is unknown.</summary>
    internal static string? AcceptedObjectField(string key) => Accepted.GetValueOrDefault(key);

    /// <summary>Every key a file may use, for error messages.</summary>
    internal static IEnumerable<string> AllKeys => Table.Select(row => row.Key).Concat(Accepted.Keys);
}
