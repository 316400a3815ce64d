using System.Text.Json;
using System.Text.Json.Nodes;
using Mezzo.Core.Resources;
using Mezzo.Core.Security;
using Mezzo.Hosting.Security;
using Mezzo.Master.Actor;
using Mezzo.Master.Security;
using Mezzo.Master.Views;
using Mezzo.Protocol.V1;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Mezzo.Master.Http;

/// <summary>
/// Mesos's legacy REST endpoints for weights, quota and roles, with its JSON and status codes: <c>/weights</c>
/// (GET, PUT), <c>/quota</c> (GET, POST, DELETE <c>/quota/&lt;role&gt;</c>) and <c>/roles</c>, each also under
/// <c>/master/</c>. They share the operator API's actor methods, so both APIs validate and answer alike. Like Mesos,
/// they do not insist on a Content-Type: <c>curl -d</c> sends a form type.
/// </summary>
public static class RoleEndpoints
{
    public static void Map(IEndpointRouteBuilder app, MasterActor master)
    {
        foreach (var prefix in (string[])["", "/master"])
        {
            // Block bodies with a return: an expression-bodied async lambda on HttpContext would bind as a
            // RequestDelegate and drop the IResult.
            app.MapGet(prefix + "/weights", async (HttpContext context) =>
            {
                var weights = RoleViews.Weights(await master.Ask(master.GetWeights), ViewEndpoints.For(context, master));
                return Results.Bytes(MesosJson.SerializeToUtf8Bytes<List<WeightInfo>>([.. weights]), HttpBodies.Json);
            })
                .Access(AccessKind.ReadOnly, AclAction.ViewRoles);
            app.MapPut(prefix + "/weights", (HttpContext context) => RunAsync(context, UpdateWeightsAsync(context, master)))
                .Access(AccessKind.ReadWrite, AclAction.UpdateWeights);

            app.MapGet(prefix + "/quota", async (HttpContext context) =>
            {
                var quota = RoleViews.Quota(await master.Ask(master.GetQuotaStatus), ViewEndpoints.For(context, master));
                return Results.Bytes(MesosJson.SerializeToUtf8Bytes(quota), HttpBodies.Json);
            })
                .Access(AccessKind.ReadOnly, AclAction.GetQuotas);
            app.MapPost(prefix + "/quota", (HttpContext context) => RunAsync(context, SetQuotaAsync(context, master)))
                .Access(AccessKind.ReadWrite, AclAction.UpdateQuotas);
            app.MapDelete(prefix + "/quota", (HttpContext context) => RunAsync(context, Task.FromResult(
                HttpBodies.Text(StatusCodes.Status400BadRequest, $"Failed to parse remove quota request for path '{context.Request.Path}': expected '/quota/<role>'"))))
                .Access(AccessKind.ReadWrite, AclAction.UpdateQuotas);
            app.MapDelete(prefix + "/quota/{**role}", (HttpContext context) => RunAsync(context, RemoveQuotaAsync(context, master)))
                .Access(AccessKind.ReadWrite, AclAction.UpdateQuotas);

            foreach (var path in (string[])["/roles", "/roles.json"])
            {
                app.MapGet(prefix + path, async (HttpContext context) =>
                {
                    var roles = RoleViews.Roles(await master.Ask(master.GetRoles), ViewEndpoints.For(context, master));
                    return Results.Text(RolesJson(roles).ToJsonString(), HttpBodies.Json);
                })
                    .Access(AccessKind.ReadOnly, AclAction.ViewRoles);
            }
        }
    }

    /// <summary>Mesos's <c>/roles</c> model: per role its weight, quota with consumption, resources and frameworks.</summary>
    public static JsonObject RolesJson(IReadOnlyList<RoleReport> roles) => new()
    {
        ["roles"] = new JsonArray([.. roles.Select(role => (JsonNode)new JsonObject
        {
            ["name"] = role.Name,
            ["weight"] = role.Weight,
            ["quota"] = new JsonObject
            {
                ["role"] = role.Name,
                ["guarantee"] = Quantities(role.Quota?.Guarantees ?? ResourceQuantities.Empty),
                ["limit"] = Quantities(role.Quota?.Limits ?? ResourceQuantities.Empty),
                ["consumed"] = Quantities(role.Consumed),
            },
            // Deprecated in Mesos in favour of allocated/offered/reserved, still written for older tools.
            ["resources"] = Quantities(role.Allocated.Add(role.Offered)),
            ["allocated"] = Quantities(role.Allocated),
            ["offered"] = Quantities(role.Offered),
            ["reserved"] = Quantities(role.Reserved),
            ["frameworks"] = new JsonArray([.. role.Frameworks.Select(id => (JsonNode)JsonValue.Create(id))]),
        })]),
    };

    private static JsonObject Quantities(ResourceQuantities quantities)
    {
        var json = new JsonObject();
        foreach (var (name, milli) in quantities)
        {
            json[name] = milli / 1000.0;
        }

        return json;
    }

    private static async Task RunAsync(HttpContext context, Task<IResult> result) => await (await result).ExecuteAsync(context);

    private static async Task<IResult> UpdateWeightsAsync(HttpContext context, MasterActor master)
    {
        var (infos, error) = await HttpBodies.ReadJsonAsync<List<WeightInfo>>(
            context.Request, master.Options.MaxRequestBodyBytes, "Failed to parse update weights request JSON");
        if (error is not null)
        {
            return error;
        }

        if (infos is null || infos.Contains(null!))
        {
            return HttpBodies.Text(StatusCodes.Status400BadRequest, "Failed to parse update weights request JSON: expected an array of WeightInfo objects");
        }

        if (MasterAuthorization.Check(context, master.Options, AclAction.UpdateWeights, infos.Select(info => info.Role)) is { } forbidden)
        {
            return forbidden;
        }

        return OperatorEndpoint.Outcome(await master.Ask(() => master.UpdateWeights(infos)));
    }

    private static async Task<IResult> SetQuotaAsync(HttpContext context, MasterActor master)
    {
        var (request, error) = await HttpBodies.ReadJsonAsync<QuotaRequest>(
            context.Request, master.Options.MaxRequestBodyBytes, "Failed to parse set quota request JSON");
        if (error is not null)
        {
            return error;
        }

        if (request is null || request.Guarantee?.Contains(null!) == true)
        {
            return HttpBodies.Text(StatusCodes.Status400BadRequest, "Failed to parse set quota request JSON: expected a QuotaRequest object");
        }

        if (MasterAuthorization.Check(context, master.Options, AclAction.UpdateQuotas, [request.Role]) is { } forbidden)
        {
            return forbidden;
        }

        return OperatorEndpoint.Outcome(await master.Ask(() => master.SetQuota(request)));
    }

    private static async Task<IResult> RemoveQuotaAsync(HttpContext context, MasterActor master)
    {
        var role = Uri.UnescapeDataString(context.Request.RouteValues["role"] as string ?? "");
        if (role.Length == 0)
        {
            return HttpBodies.Text(StatusCodes.Status400BadRequest, $"Failed to parse remove quota request for path '{context.Request.Path}': expected '/quota/<role>'");
        }

        return MasterAuthorization.Check(context, master.Options, AclAction.UpdateQuotas, role)
            ?? OperatorEndpoint.Outcome(await master.Ask(() => master.RemoveQuota(role)));
    }
}
