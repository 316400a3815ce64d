using System.Text.Json.Nodes;
using Mezzo.Core.Security;
using Mezzo.Hosting.Security;
using Mezzo.Services.Engine;
using Mezzo.Protocol.Marathon;
using Mezzo.Services.Model;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Mezzo.Services.Http;

/// <summary>/v2/apps: list, create, update, delete, restart, tasks, versions.</summary>
internal static class AppsEndpoints
{
    private static readonly string[] SubResources = ["restart", "tasks", "versions"];

    public static void Map(IEndpointRouteBuilder routes, ServicesActor actor)
    {
        routes.MapGet("/v2/apps", context => ListAsync(context, actor)).Access(AccessKind.ReadOnly, AclAction.ViewAppGroups);
        routes.MapPost("/v2/apps", context => CreateAsync(context, actor)).Access(AccessKind.ReadWrite, AclAction.UpdateAppGroups);
        routes.MapPut("/v2/apps", context => UpdateManyAsync(context, actor, allowCreation: true)).Access(AccessKind.ReadWrite, AclAction.UpdateAppGroups);
        routes.MapPatch("/v2/apps", context => UpdateManyAsync(context, actor, allowCreation: false)).Access(AccessKind.ReadWrite, AclAction.UpdateAppGroups);
        routes.MapGet("/v2/apps/{**path}", context => AppAsync(context, actor)).Access(AccessKind.ReadOnly, AclAction.ViewAppGroups);
        routes.MapMethods("/v2/apps/{**path}", ["PUT", "PATCH", "DELETE", "POST"], context => AppAsync(context, actor)).Access(AccessKind.ReadWrite, AclAction.UpdateAppGroups);
    }

    private static async Task ListAsync(HttpContext context, ServicesActor actor)
    {
        var snapshot = actor.Snapshot;
        var embed = context.Request.Query["embed"].Select(e => e ?? "").ToHashSet();
        var cmd = context.Request.Query["cmd"].FirstOrDefault();
        var id = context.Request.Query["id"].FirstOrDefault();
        var label = context.Request.Query["label"].FirstOrDefault();
        Func<IReadOnlyDictionary<string, string>, bool> labels;
        try
        {
            labels = LabelSelector.Parse(label);
        }
        catch (FormatException ex)
        {
            await HttpJson.MessageAsync(context, StatusCodes.Status400BadRequest, ex.Message);
            return;
        }

        var apps = snapshot.Apps.Values
            .Where(a => cmd is null || (a.Cmd?.Contains(cmd, StringComparison.OrdinalIgnoreCase) ?? false))
            .Where(a => id is null || a.Id!.Contains(id, StringComparison.OrdinalIgnoreCase))
            .Where(a => labels(a.Labels ?? []))
            .Where(a => AppAccess.CanView(context, actor, a.Id!))
            .Select(a => (JsonNode)MarathonRender.App(a, snapshot,
                tasks: embed.Contains("apps.tasks") || embed.Contains("apps.failures"),
                lastFailure: embed.Contains("apps.lastTaskFailure") || embed.Contains("apps.failures")));
        await HttpJson.WriteAsync(context, 200, new JsonObject { ["apps"] = new JsonArray([.. apps]) });
    }

    private static async Task CreateAsync(HttpContext context, ServicesActor actor)
    {
        if (await HttpJson.ReadObjectAsync(context, actor.Options.MaxRequestBytes) is not { } body)
        {
            return;
        }

        if (body["id"] is JsonValue id && id.TryGetValue<string>(out var appId) && !AppAccess.CanUpdate(context, actor, PathId.Canonical(appId)))
        {
            await AppAccess.ForbiddenAsync(context);
            return;
        }

        var result = await actor.CreateAppAsync(body, HttpJson.Flag(context, "force"));
        await HttpJson.ResultAsync(context, result, async deployed =>
        {
            var app = deployed.App!;
            actor.ApiPosted(ClientIp(context), context.Request.Path, app);
            context.Response.Headers.Location = $"{context.Request.Scheme}://{context.Request.Host}/v2/apps{app.Id}";
            context.Response.Headers["Marathon-Deployment-Id"] = deployed.Deployment.Id;
            await HttpJson.WriteAsync(context, StatusCodes.Status201Created, MarathonRender.App(app, actor.Snapshot, tasks: true));
        });
    }

    private static async Task UpdateManyAsync(HttpContext context, ServicesActor actor, bool allowCreation)
    {
        var node = await HttpJson.ReadAsync(context, actor.Options.MaxRequestBytes);
        if (node is null)
        {
            return;
        }

        if (node is not JsonArray array || array.Any(n => n is not JsonObject))
        {
            await HttpJson.WriteAsync(context, 400, HttpJson.ExpectedDetail("error.expected.jsarray"));
            return;
        }

        foreach (var app in array.Cast<JsonObject>())
        {
            // All or nothing: one app outside the principal's paths refuses the whole batch.
            if (app["id"] is JsonValue id && id.TryGetValue<string>(out var appId) && !AppAccess.CanUpdate(context, actor, PathId.Canonical(appId)))
            {
                await AppAccess.ForbiddenAsync(context);
                return;
            }
        }

        var partial = allowCreation ? HttpJson.Flag(context, "partialUpdate", fallback: true) : true;
        var result = await actor.UpdateAppsAsync([.. array.Cast<JsonObject>()], partial, allowCreation, HttpJson.Flag(context, "force"));
        await HttpJson.ResultAsync(context, result, deployed => HttpJson.DeploymentResultAsync(context, deployed));
    }

    /// <summary>Splits "prod/web/tasks/x" into the longest existing app id and what follows it.</summary>
    private static (string AppId, string[] Remainder) Resolve(string path, ServicesSnapshot snapshot)
    {
        var segments = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        for (var k = segments.Length; k >= 1; k--)
        {
            var candidate = "/" + string.Join('/', segments[..k]);
            if (snapshot.Apps.ContainsKey(candidate))
            {
                return (candidate, segments[k..]);
            }
        }

        // Unknown app: a trailing sub-resource still belongs to the (missing) app before it.
        for (var k = segments.Length - 1; k >= Math.Max(1, segments.Length - 2); k--)
        {
            if (SubResources.Contains(segments[k]))
            {
                return ("/" + string.Join('/', segments[..k]), segments[k..]);
            }
        }

        return (PathId.Canonical(path), []);
    }

    private static async Task AppAsync(HttpContext context, ServicesActor actor)
    {
        var path = (string?)context.Request.RouteValues["path"] ?? "";
        var snapshot = actor.Snapshot;
        var (appId, rest) = Resolve(path, snapshot);
        var method = context.Request.Method;
        var force = HttpJson.Flag(context, "force");
        var known = snapshot.Apps.TryGetValue(appId, out var app);
        var notFound = $"App '{appId}' does not exist";
        // Checked before existence, so a principal cannot probe for apps outside its paths.
        if (!(HttpMethods.IsGet(method) ? AppAccess.CanView(context, actor, appId) : AppAccess.CanUpdate(context, actor, appId)))
        {
            await AppAccess.ForbiddenAsync(context);
            return;
        }

        switch (rest, method)
        {
            case ([], "GET"):
                if (!known)
                {
                    await HttpJson.MessageAsync(context, 404, notFound);
                    return;
                }

                await HttpJson.WriteAsync(context, 200, new JsonObject { ["app"] = MarathonRender.App(app!, snapshot, tasks: true, lastFailure: true) });
                return;
            case ([], "PUT" or "PATCH"):
            {
                if (await HttpJson.ReadObjectAsync(context, actor.Options.MaxRequestBytes) is not { } body)
                {
                    return;
                }

                var partial = method == "PATCH" || HttpJson.Flag(context, "partialUpdate", fallback: true);
                var result = await actor.UpdateAppAsync(path, body, partial, allowCreation: method == "PUT", force);
                await HttpJson.ResultAsync(context, result, async deployed =>
                {
                    actor.ApiPosted(ClientIp(context), context.Request.Path, deployed.App);
                    if (deployed.Created)
                    {
                        context.Response.Headers.Location = $"{context.Request.Scheme}://{context.Request.Host}/v2/apps{deployed.App!.Id}";
                        await HttpJson.DeploymentResultAsync(context, deployed, StatusCodes.Status201Created);
                        return;
                    }

                    await HttpJson.DeploymentResultAsync(context, deployed);
                });
                return;
            }

            case ([], "DELETE"):
                await HttpJson.ResultAsync(context, await actor.DeleteAppAsync(appId, force), deployed => HttpJson.DeploymentResultAsync(context, deployed));
                return;
            case (["restart"], "POST"):
                await HttpJson.ResultAsync(context, await actor.RestartAppAsync(appId, force), deployed => HttpJson.DeploymentResultAsync(context, deployed));
                return;
            case (["tasks"], "GET"):
                if (!known)
                {
                    await HttpJson.MessageAsync(context, 404, notFound);
                    return;
                }

                if (ClusterEndpoints.WantsText(context))
                {
                    await ClusterEndpoints.EndpointsTextAsync(context, snapshot, [app!]);
                    return;
                }

                await HttpJson.WriteAsync(context, 200, new JsonObject { ["tasks"] = new JsonArray([.. snapshot.InstancesOf(appId).Select(i => (JsonNode)MarathonRender.Task(i, app, snapshot.Health.GetValueOrDefault(i.TaskId)))]) });
                return;
            case (["tasks"], "DELETE"):
            {
                if (!known)
                {
                    await HttpJson.MessageAsync(context, 404, notFound);
                    return;
                }

                var host = context.Request.Query["host"].FirstOrDefault();
                var ids = snapshot.InstancesOf(appId).Where(i => i.IsActive && (host is null or "*" || i.Host == host)).Select(i => i.TaskId).ToList();
                await KillAsync(context, actor, ids, single: false);
                return;
            }

            case (["tasks", var taskId], "DELETE"):
                if (!known)
                {
                    await HttpJson.MessageAsync(context, 404, notFound);
                    return;
                }

                if (!snapshot.Instances.TryGetValue(taskId, out var task) || task.AppId != appId)
                {
                    await HttpJson.MessageAsync(context, 404, $"Task '{taskId}' does not exist");
                    return;
                }

                await KillAsync(context, actor, [taskId], single: true);
                return;
            case (["versions"], "GET"):
                if (!known)
                {
                    await HttpJson.MessageAsync(context, 404, notFound);
                    return;
                }

                await HttpJson.WriteAsync(context, 200, new JsonObject { ["versions"] = new JsonArray([.. actor.Store.Versions(appId).Select(v => (JsonNode)v)]) });
                return;
            case (["versions", var version], "GET"):
                if (known && actor.Store.Version(appId, version) is { } old)
                {
                    await HttpJson.WriteAsync(context, 200, AppJson.ToNode(old));
                    return;
                }

                await HttpJson.MessageAsync(context, 404, known ? $"App '{appId}' does not exist in version {version}" : notFound);
                return;
            default:
                await HttpJson.MessageAsync(context, known || rest.Length == 0 ? 405 : 404, known || rest.Length == 0 ? $"{method} is not supported here" : notFound);
                return;
        }
    }

    /// <summary>Kills tasks: with scale=true a deployment (200 {version, deploymentId}), else the killed tasks.</summary>
    internal static async Task KillAsync(HttpContext context, ServicesActor actor, IReadOnlyList<string> ids, bool single)
    {
        var scale = HttpJson.Flag(context, "scale");
        if (scale && HttpJson.Flag(context, "wipe"))
        {
            await HttpJson.MessageAsync(context, 400, "You cannot use scale and wipe at the same time.");
            return;
        }

        var result = await actor.KillTasksAsync(ids, scale, HttpJson.Flag(context, "force"));
        if (result is ChangeResult.Killed killed)
        {
            var snapshot = actor.Snapshot;
            var tasks = killed.Tasks.Select(t => MarathonRender.Task(t, snapshot.Apps.GetValueOrDefault(t.AppId), snapshot.Health.GetValueOrDefault(t.TaskId))).ToList();
            await HttpJson.WriteAsync(context, 200, single && tasks.Count == 1 ? new JsonObject { ["task"] = tasks[0] } : new JsonObject { ["tasks"] = new JsonArray([.. tasks]) });
            return;
        }

        await HttpJson.ResultAsync(context, result, deployed => HttpJson.DeploymentResultAsync(context, deployed));
    }

    internal static string ClientIp(HttpContext context) => context.Connection.RemoteIpAddress?.ToString() ?? "";
}
