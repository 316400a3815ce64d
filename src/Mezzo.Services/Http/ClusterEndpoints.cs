using System.Text.Json.Nodes;
using Mezzo.Core.Security;
using Mezzo.Core.Tasks;
using Mezzo.Hosting.Security;
using Mezzo.Services.Engine;
using Mezzo.Protocol.Marathon;
using Mezzo.Services.Model;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Mezzo.Services.Http;

/// <summary>/v2/deployments, /v2/tasks, /v2/queue, /v2/groups (read), /v2/info, /v2/leader, /ping.</summary>
internal static class ClusterEndpoints
{
    public const string MarathonVersion = "1.9.0";

    public static void Map(IEndpointRouteBuilder routes, ServicesActor actor)
    {
        routes.MapGet("/ping", context =>
        {
            context.Response.ContentType = "text/plain";
            return context.Response.WriteAsync("pong", context.RequestAborted);
        }).Access(AccessKind.Public);
        routes.MapGet("/v2/info", context => HttpJson.WriteAsync(context, 200, Info(actor))).Access(AccessKind.ReadOnly, AclAction.ViewAppGroups);
        routes.MapGet("/v2/leader", context => HttpJson.WriteAsync(context, 200, new JsonObject { ["leader"] = Leader(actor) })).Access(AccessKind.ReadOnly, AclAction.ViewAppGroups);
        routes.MapGet("/v2/deployments", context =>
        {
            var snapshot = actor.Snapshot;
            // A deployment is shown to a principal who may see every app it touches.
            return HttpJson.WriteAsync(context, 200, new JsonArray([.. snapshot.Deployments.Values
                .Where(d => d.AffectedApps.All(app => AppAccess.CanView(context, actor, app)))
                .OrderBy(d => d.Version, StringComparer.Ordinal).Select(d => (JsonNode)MarathonRender.Deployment(d, snapshot))]));
        }).Access(AccessKind.ReadOnly, AclAction.ViewAppGroups);
        routes.MapDelete("/v2/deployments/{id}", async (HttpContext context, string id) =>
        {
            if (actor.Snapshot.Deployments.TryGetValue(id, out var deployment) && !deployment.AffectedApps.All(app => AppAccess.CanUpdate(context, actor, app)))
            {
                await AppAccess.ForbiddenAsync(context);
                return;
            }

            var result = await actor.CancelDeploymentAsync(id, HttpJson.Flag(context, "force"));
            if (result is ChangeResult.Done)
            {
                context.Response.StatusCode = StatusCodes.Status202Accepted;
                return;
            }

            await HttpJson.ResultAsync(context, result, deployed => HttpJson.DeploymentResultAsync(context, deployed));
        }).Access(AccessKind.ReadWrite, AclAction.UpdateAppGroups);
        routes.MapGet("/v2/tasks", context =>
        {
            var snapshot = actor.Snapshot;
            if (WantsText(context))
            {
                return EndpointsTextAsync(context, snapshot, snapshot.Apps.Values.Where(a => AppAccess.CanView(context, actor, a.Id!)));
            }

            var states = context.Request.Query["status"].Select(s => s?.ToLowerInvariant()).ToHashSet();
            var tasks = snapshot.Instances.Values
                .Where(i => AppAccess.CanView(context, actor, i.AppId))
                .Where(i => states.Count == 0 || (states.Contains("running") && i.State == TaskState.TASK_RUNNING) || (states.Contains("staging") && i.State is TaskState.TASK_STAGING or TaskState.TASK_STARTING))
                .OrderBy(i => i.AppId, StringComparer.Ordinal).ThenBy(i => i.StagedAt)
                .Select(i => (JsonNode)MarathonRender.Task(i, snapshot.Apps.GetValueOrDefault(i.AppId), snapshot.Health.GetValueOrDefault(i.TaskId)));
            return HttpJson.WriteAsync(context, 200, new JsonObject { ["tasks"] = new JsonArray([.. tasks]) });
        }).Access(AccessKind.ReadOnly, AclAction.ViewAppGroups);
        routes.MapPost("/v2/tasks/delete", async context =>
        {
            if (await HttpJson.ReadObjectAsync(context, actor.Options.MaxRequestBytes) is not { } body)
            {
                return;
            }

            if (body["ids"] is not JsonArray ids || ids.Any(i => i is not JsonValue v || !v.TryGetValue<string>(out _)))
            {
                await HttpJson.WriteAsync(context, 400, new JsonObject
                {
                    ["message"] = "Invalid JSON",
                    ["details"] = new JsonArray(new JsonObject { ["path"] = "/ids", ["errors"] = new JsonArray("error.expected.jsarray") }),
                });
                return;
            }

            var known = actor.Snapshot.Instances;
            var taskIds = ids.Select(i => i!.GetValue<string>()).Where(known.ContainsKey).ToList();
            if (!taskIds.All(task => AppAccess.CanUpdate(context, actor, known[task].AppId)))
            {
                await AppAccess.ForbiddenAsync(context);
                return;
            }

            await AppsEndpoints.KillAsync(context, actor, taskIds, single: false);
        }).Access(AccessKind.ReadWrite, AclAction.UpdateAppGroups);
        routes.MapGet("/v2/queue", context =>
        {
            var snapshot = actor.Snapshot;
            var now = actor.Now;
            var queue = snapshot.Queue.Values.Where(q => snapshot.Apps.ContainsKey(q.AppId) && AppAccess.CanView(context, actor, q.AppId)).OrderBy(q => q.AppId, StringComparer.Ordinal)
                .Select(q => (JsonNode)MarathonRender.QueueItem(q, snapshot.Apps[q.AppId], snapshot, now));
            return HttpJson.WriteAsync(context, 200, new JsonObject { ["queue"] = new JsonArray([.. queue]) });
        }).Access(AccessKind.ReadOnly, AclAction.ViewAppGroups);
        routes.MapDelete("/v2/queue/{**path}", async (HttpContext context, string path) =>
        {
            if (!path.EndsWith("/delay", StringComparison.Ordinal))
            {
                await HttpJson.MessageAsync(context, 404, $"Unknown resource /v2/queue/{path}");
                return;
            }

            var appId = PathId.Canonical(path[..^"/delay".Length]);
            if (!AppAccess.CanUpdate(context, actor, appId))
            {
                await AppAccess.ForbiddenAsync(context);
                return;
            }

            if (await actor.ResetDelayAsync(appId))
            {
                context.Response.StatusCode = StatusCodes.Status204NoContent;
                return;
            }

            await HttpJson.MessageAsync(context, 404, $"Application {appId} not found in tasks queue.");
        }).Access(AccessKind.ReadWrite, AclAction.UpdateAppGroups);
        // The root group shows what the principal may see of it: apps outside its paths are left out.
        routes.MapGet("/v2/groups", context => HttpJson.WriteAsync(context, 200, Group(actor.Snapshot, "/", app => AppAccess.CanView(context, actor, app))))
            .Access(AccessKind.ReadOnly, AclAction.ViewAppGroups);
        routes.MapGet("/v2/groups/{**path}", (HttpContext context, string path) =>
        {
            var id = PathId.Canonical(path);
            var snapshot = actor.Snapshot;
            if (id != "/" && !AppAccess.CanView(context, actor, id))
            {
                return AppAccess.ForbiddenAsync(context);
            }

            return id == "/" || snapshot.Apps.Keys.Any(a => a.StartsWith(id + "/", StringComparison.Ordinal))
                ? HttpJson.WriteAsync(context, 200, Group(snapshot, id, app => AppAccess.CanView(context, actor, app)))
                : HttpJson.MessageAsync(context, 404, $"Group '{id}' does not exist");
        }).Access(AccessKind.ReadOnly, AclAction.ViewAppGroups);
        routes.MapPost("/v2/groups", context => GroupChangeAsync(context, actor, null, create: true)).Access(AccessKind.ReadWrite, AclAction.UpdateAppGroups);
        routes.MapPut("/v2/groups", context => GroupChangeAsync(context, actor, "/", create: false)).Access(AccessKind.ReadWrite, AclAction.UpdateAppGroups);
        routes.MapPut("/v2/groups/{**path}", (HttpContext context, string path) => GroupChangeAsync(context, actor, path, create: false))
            .Access(AccessKind.ReadWrite, AclAction.UpdateAppGroups);
        routes.MapDelete("/v2/groups", context => DeleteGroupAsync(context, actor, "/")).Access(AccessKind.ReadWrite, AclAction.UpdateAppGroups);
        routes.MapDelete("/v2/groups/{**path}", (HttpContext context, string path) => DeleteGroupAsync(context, actor, PathId.Canonical(path)))
            .Access(AccessKind.ReadWrite, AclAction.UpdateAppGroups);
    }

    private static async Task DeleteGroupAsync(HttpContext context, ServicesActor actor, string id)
    {
        if (!AppAccess.CanUpdate(context, actor, id))
        {
            await AppAccess.ForbiddenAsync(context);
            return;
        }

        await HttpJson.ResultAsync(context, await actor.DeleteGroupAsync(id, HttpJson.Flag(context, "force")), deployed => HttpJson.DeploymentResultAsync(context, deployed));
    }

    private static async Task GroupChangeAsync(HttpContext context, ServicesActor actor, string? path, bool create)
    {
        if (await HttpJson.ReadObjectAsync(context, actor.Options.MaxRequestBytes) is not { } body)
        {
            return;
        }

        // A group change replaces what is under the group: the principal must be allowed the group itself and every
        // app and group the body names (relative or absolute), or nothing is changed.
        var parent = path is null ? "/" : PathId.Canonical(path);
        var touched = path is null ? AppAccess.PathsIn(body, "/") : [parent, .. AppAccess.PathsIn(body, parent)];
        if (!touched.All(p => AppAccess.CanUpdate(context, actor, p)))
        {
            await AppAccess.ForbiddenAsync(context);
            return;
        }

        var result = await actor.DeployGroupAsync(path, body, create, HttpJson.Flag(context, "force"));
        await HttpJson.ResultAsync(context, result, deployed =>
        {
            if (create)
            {
                var id = PathId.Canonical(body["id"]!.GetValue<string>());
                context.Response.Headers.Location = $"{context.Request.Scheme}://{context.Request.Host}/v2/groups{id}";
            }

            return HttpJson.DeploymentResultAsync(context, deployed, create ? StatusCodes.Status201Created : StatusCodes.Status200OK);
        });
    }

    /// <summary>True when the client asks for text/plain rather than JSON (Marathon's tasks endpoints then answer in text).</summary>
    internal static bool WantsText(HttpContext context)
    {
        var accept = context.Request.Headers.Accept.ToString();
        return accept.Contains("text/plain", StringComparison.OrdinalIgnoreCase) && !accept.Contains("application/json", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>
    /// Marathon's text form of the tasks, read by load balancer scripts (haproxy-marathon-bridge): per app and service
    /// port one line "app_id TAB servicePort TAB host:port TAB ...", ids with '/' as '_'.
    /// </summary>
    internal static Task EndpointsTextAsync(HttpContext context, ServicesSnapshot snapshot, IEnumerable<AppDefinition> apps)
    {
        var text = new System.Text.StringBuilder();
        foreach (var app in apps)
        {
            var tasks = snapshot.InstancesOf(app.Id!).Where(i => i.IsRunning).ToList();
            var servicePorts = app.ServicePorts;
            for (var i = 0; i < servicePorts.Count; i++)
            {
                text.Append(PathId.Safe(app.Id!)).Append('\t').Append(servicePorts[i]).Append('\t');
                foreach (var task in tasks.Where(t => i < t.Ports.Count))
                {
                    text.Append(task.Host).Append(':').Append(task.Ports[i]).Append('\t');
                }

                text.Append('\n');
            }
        }

        context.Response.ContentType = "text/plain";
        return context.Response.WriteAsync(text.ToString(), context.RequestAborted);
    }

    private static string Leader(ServicesActor actor) => $"{actor.Options.Hostname}:{actor.Options.Port}";

    private static JsonObject Info(ServicesActor actor) => new()
    {
        ["name"] = "marathon",
        ["version"] = MarathonVersion,
        ["buildref"] = "mezzo",
        ["elected"] = true,
        ["leader"] = Leader(actor),
        ["frameworkId"] = actor.Snapshot.FrameworkId,
        ["marathon_config"] = new JsonObject
        {
            ["master"] = actor.Options.Master,
            ["framework_name"] = actor.Options.FrameworkName,
            ["failover_timeout"] = (long)actor.Options.FailoverTimeout.TotalSeconds,
            ["hostname"] = actor.Options.Hostname,
            ["local_port_min"] = actor.Options.LocalPortMin,
            ["local_port_max"] = actor.Options.LocalPortMax,
            ["decline_offer_duration"] = (long)actor.Options.DeclineOfferDuration.TotalMilliseconds,
            ["mesos_role"] = null,
            ["mesos_user"] = actor.Options.User,
            ["checkpoint"] = true,
        },
        ["http_config"] = new JsonObject { ["http_port"] = actor.Options.Port },
        ["event_subscriber"] = actor.Options.HttpCallbacks
            ? new JsonObject { ["type"] = "http_callback", ["http_endpoints"] = new JsonArray([.. actor.Snapshot.CallbackUrls.Select(u => (JsonNode)u)]) }
            : null,
    };

    /// <summary>A group as Marathon shows it: its apps and, nested by path, its subgroups.</summary>
    private static JsonObject Group(ServicesSnapshot snapshot, string root, Func<string, bool> visible)
    {
        JsonObject Group(string id)
        {
            var prefix = id == "/" ? "/" : id + "/";
            var inside = snapshot.Apps.Values.Where(a => a.Id!.StartsWith(prefix, StringComparison.Ordinal) && visible(a.Id!)).ToList();
            var apps = inside.Where(a => PathId.Parent(a.Id!) == id).Select(a => (JsonNode)MarathonRender.App(a, snapshot, counts: false, deployments: false));
            var children = inside.Select(a => a.Id!).Where(a => PathId.Parent(a) != id)
                .Select(a => prefix + a[prefix.Length..].Split('/')[0]).Distinct().Order(StringComparer.Ordinal);
            return new JsonObject
            {
                ["id"] = id,
                ["apps"] = new JsonArray([.. apps]),
                ["groups"] = new JsonArray([.. children.Select(c => (JsonNode)Group(c))]),
                ["dependencies"] = new JsonArray(),
                ["version"] = inside.Select(a => a.Version).Max(StringComparer.Ordinal),
            };
        }

        return Group(root);
    }
}
