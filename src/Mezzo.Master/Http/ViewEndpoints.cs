using Mezzo.Core.Security;
using Mezzo.Hosting.Security;
using Mezzo.Master.Actor;
using Mezzo.Master.Views;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Mezzo.Master.Http;

/// <summary>
/// Mesos's <c>/frameworks</c>, <c>/state-summary</c> and <c>/tasks</c> (also under <c>/master/</c>), cut from the state snapshot, and the
/// view filter every read endpoint applies for the calling principal.
/// </summary>
public static class ViewEndpoints
{
    public static void Map(IEndpointRouteBuilder app, MasterActor master)
    {
        foreach (var prefix in (string[])["", "/master"])
        {
            foreach (var path in (string[])["/frameworks", "/frameworks.json"])
            {
                app.MapGet(prefix + path, async (HttpContext context) =>
                {
                    var snapshot = await master.GetSnapshotAsync();
                    var id = context.Request.Query["framework_id"].ToString();
                    return Results.Bytes(StateViews.Frameworks(snapshot.StateJson, For(context, master), id.Length == 0 ? null : id), HttpBodies.Json);
                }).Access(AccessKind.ReadOnly, AclAction.ViewFrameworks);
            }

            foreach (var path in (string[])["/state-summary", "/state-summary.json"])
            {
                app.MapGet(prefix + path, async (HttpContext context) =>
                {
                    var snapshot = await master.GetSnapshotAsync();
                    return Results.Bytes(StateViews.Summary(snapshot.StateJson, For(context, master)), HttpBodies.Json);
                }).Access(AccessKind.ReadOnly, AclAction.ViewFrameworks);
            }

            foreach (var path in (string[])["/tasks", "/tasks.json"])
            {
                app.MapGet(prefix + path, async (HttpContext context) =>
                {
                    var query = context.Request.Query;
                    string? Param(string name) => query.TryGetValue(name, out var value) ? value.ToString() : null;
                    var snapshot = await master.GetSnapshotAsync();
                    var (json, error) = StateViews.Tasks(snapshot.StateJson, For(context, master), Param("limit"), Param("offset"), Param("order"));
                    return error is not null
                        ? HttpBodies.Text(StatusCodes.Status400BadRequest, error)
                        : Results.Bytes(json!, HttpBodies.Json);
                }).Access(AccessKind.ReadOnly, AclAction.ViewTasks);
            }
        }
    }

    /// <summary>What the request's principal may see; null: everything (no ACLs, or ACLs that allow it all).</summary>
    public static ViewFilter? For(HttpContext context, MasterActor master)
    {
        ArgumentNullException.ThrowIfNull(master);
        return ViewFilter.For(master.Options.Security.Acls, HttpSecurity.Principal(context));
    }
}
