using System.Text.Json.Nodes;
using Mezzo.Core.Tasks;
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
        });
        routes.MapGet("/v2/info", context => HttpJson.WriteAsync(context, 200, Info(actor)));
        routes.MapGet("/v2/leader", context => HttpJson.WriteAsync(context, 200, new JsonObject { ["leader"] = Leader(actor) }));
        routes.MapGet("/v2/deployments", context =>
        {
            var snapshot = actor.Snapshot;
            return HttpJson.WriteAsync(context, 200, new JsonArray([.. snapshot.Deployments.Values.OrderBy(d => d.Version, StringComparer.Ordinal).Select(d => (JsonNode)MarathonRender.Deployment(d, snapshot))]));
        });
        routes.MapDelete("/v2/deployments/{id}", async (HttpContext context, string id) =>
        {
            var result = await actor.CancelDeploymentAsync(id, HttpJson.Flag(context, "force"));
            if (result is ChangeResult.Done)
            {
                context.Response.StatusCode = StatusCodes.Status202Accepted;
                return;
            }

            await HttpJson.ResultAsync(context, result, deployed => HttpJson.DeploymentResultAsync(context, deployed));
        });
        routes.MapGet("/v2/tasks", context =>
        {
            var snapshot = actor.Snapshot;
            if (WantsText(context))
            {
                return EndpointsTextAsync(context, snapshot, snapshot.Apps.Values);
            }

            var states = context.Request.Query["status"].Select(s => s?.ToLowerInvariant()).ToHashSet();
            var tasks = snapshot.Instances.Values
                .Where(i => states.Count == 0 || (states.Contains("running") && i.State == TaskState.TASK_RUNNING) || (states.Contains("staging") && i.State is TaskState.TASK_STAGING or TaskState.TASK_STARTING))
                .OrderBy(i => i.AppId, StringComparer.Ordinal).ThenBy(i => i.StagedAt)
                .Select(i => (JsonNode)MarathonRender.Task(i, snapshot.Apps.GetValueOrDefault(i.AppId), snapshot.Health.GetValueOrDefault(i.TaskId)));
            return HttpJson.WriteAsync(context, 200, new JsonObject { ["tasks"] = new JsonArray([.. tasks]) });
        });
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
            await AppsEndpoints.KillAsync(context, actor, taskIds, single: false);
        });
        routes.MapGet("/v2/queue", context =>
        {
            var snapshot = actor.Snapshot;
            var now = actor.Now;
            var queue = snapshot.Queue.Values.Where(q => snapshot.Apps.ContainsKey(q.AppId)).OrderBy(q => q.AppId, StringComparer.Ordinal)
                .Select(q => (JsonNode)MarathonRender.QueueItem(q, snapshot.Apps[q.AppId], snapshot, now));
            return HttpJson.WriteAsync(context, 200, new JsonObject { ["queue"] = new JsonArray([.. queue]) });
        });
        routes.MapDelete("/v2/queue/{**path}", async (HttpContext context, string path) =>
        {
            if (!path.EndsWith("/delay", StringComparison.Ordinal))
            {
                await HttpJson.MessageAsync(context, 404, $"Unknown resource /v2/queue/{path}");
                return;
            }

            var appId = PathId.Canonical(path[..^"/delay".Length]);
            if (await actor.ResetDelayAsync(appId))
            {
                context.Response.StatusCode = StatusCodes.Status204NoContent;
                return;
            }

            await HttpJson.MessageAsync(context, 404, $"Application {appId} not found in tasks queue.");
        });
        routes.MapGet("/v2/groups", context => HttpJson.WriteAsync(context, 200, Group(actor.Snapshot, "/")));
        routes.MapGet("/v2/groups/{**path}", (HttpContext context, string path) =>
        {
            var id = PathId.Canonical(path);
            var snapshot = actor.Snapshot;
            return id == "/" || snapshot.Apps.Keys.Any(a => a.StartsWith(id + "/", StringComparison.Ordinal))
                ? HttpJson.WriteAsync(context, 200, Group(snapshot, id))
                : HttpJson.MessageAsync(context, 404, $"Group '{id}' does not exist");
        });
        routes.MapPost("/v2/groups", context => GroupChangeAsync(context, actor, null, create: true));
        routes.MapPut("/v2/groups", context => GroupChangeAsync(context, actor, "/", create: false));
        routes.MapPut("/v2/groups/{**path}", (HttpContext context, string path) => GroupChangeAsync(context, actor, path, create: false));
        routes.MapDelete("/v2/groups", async context =>
            await HttpJson.ResultAsync(context, await actor.DeleteGroupAsync("/", HttpJson.Flag(context, "force")), deployed => HttpJson.DeploymentResultAsync(context, deployed)));
        routes.MapDelete("/v2/groups/{**path}", async (HttpContext context, string path) =>
            await HttpJson.ResultAsync(context, await actor.DeleteGroupAsync(PathId.Canonical(path), HttpJson.Flag(context, "force")), deployed => HttpJson.DeploymentResultAsync(context, deployed)));
    }

    private static async Task GroupChangeAsync(HttpContext context, ServicesActor actor, string? path, bool create)
    {
        if (await HttpJson.ReadObjectAsync(context, actor.Options.MaxRequestBytes) is not { } body)
        {
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
    private static JsonObject Group(ServicesSnapshot snapshot, string root)
    {
        JsonObject Group(string id)
        {
            var prefix = id == "/" ? "/" : id + "/";
            var inside = snapshot.Apps.Values.Where(a => a.Id!.StartsWith(prefix, StringComparison.Ordinal)).ToList();
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
