using System.Globalization;
using System.Text.Json.Nodes;
using Mezzo.Core.Security;
using Mezzo.Hosting.Security;
using Mezzo.Master.Actor;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Mezzo.Master.Http;

/// <summary>The read-only GET endpoints people script against (Mesos's legacy HTTP endpoints).</summary>
public static class StateEndpoints
{
    /// <summary>What /state shows, each part filtered by its view action: a principal may read it if it may see any.</summary>
    public static readonly AclAction[] StateGates =
        [AclAction.ViewFrameworks, AclAction.ViewTasks, AclAction.ViewExecutors, AclAction.ViewRoles, AclAction.ViewFlags];

    public static void Map(IEndpointRouteBuilder app, MasterActor master)
    {
        app.MapGet("/health", () => Results.Ok()).Access(AccessKind.Public);
        app.MapGet("/master/health", () => Results.Ok()).Access(AccessKind.Public);
        app.MapGet("/version", () => Results.Json(VersionJson(), contentType: HttpBodies.Json)).Access(AccessKind.ReadOnly);
        app.MapGet("/master/redirect", (HttpContext context) =>
        {
            // A single master is always the leader; HA redirects to the elected one.
            context.Response.Headers.Location = $"//{master.Options.Hostname}:{master.Options.Port}";
            return Results.StatusCode(StatusCodes.Status307TemporaryRedirect);
        }).Access(AccessKind.ReadOnly);
        foreach (var path in (string[])["/state", "/state.json", "/master/state", "/master/state.json"])
        {
            app.MapGet(path, async (HttpContext context) =>
            {
                var snapshot = await master.GetSnapshotAsync();
                return Results.Bytes(
                    ViewEndpoints.For(context, master) is { } view ? Views.StateViews.State(snapshot.StateJson, view) : snapshot.StateJson,
                    HttpBodies.Json);
            }).Access(AccessKind.ReadOnly, StateGates);
        }

        foreach (var path in (string[])["/metrics/snapshot", "/master/metrics/snapshot"])
        {
            app.MapGet(path, async () =>
            {
                var snapshot = await master.GetSnapshotAsync();
                var json = new JsonObject();
                foreach (var (key, value) in snapshot.Metrics.OrderBy(kv => kv.Key, StringComparer.Ordinal))
                {
                    json[key] = value;
                }

                return Results.Text(json.ToJsonString(), HttpBodies.Json);
            }).Access(AccessKind.ReadOnly);
        }
    }

    public static JsonObject VersionJson() => new()
    {
        ["version"] = MezzoVersion.MesosCompatible,
        ["mezzo_version"] = MezzoVersion.Mezzo,
        ["build_date"] = "",
        ["build_time"] = 0,
        ["build_user"] = "",
        ["git_sha"] = ThisAssemblyVersion(),
    };

    private static string ThisAssemblyVersion() =>
        typeof(StateEndpoints).Assembly.GetName().Version?.ToString() ?? "0.0.0.0";

    public static string Format(double value) => value.ToString(CultureInfo.InvariantCulture);
}
