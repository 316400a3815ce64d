using System.Text.Json;
using Mezzo.Core.Security;
using Mezzo.Hosting.Security;
using Mezzo.Master.Actor;
using Mezzo.Master.Security;
using Mezzo.Protocol.V1;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Mezzo.Master.Http;

/// <summary>
/// Mesos's legacy <c>/reserve</c> and <c>/unreserve</c> (docs/endpoints/master/reserve.md): a form body with
/// <c>slaveId</c> and <c>resources</c> (a JSON array of Resource), answered 202 Accepted, or 400/404/409 with a reason.
/// Same actor methods as the operator API's RESERVE_RESOURCES / UNRESERVE_RESOURCES.
/// </summary>
public static class ReservationEndpoints
{
    public static void Map(IEndpointRouteBuilder app, MasterActor master)
    {
        foreach (var prefix in (string[])["", "/master"])
        {
            app.MapPost(prefix + "/reserve", (HttpContext context) => RunAsync(context, master, reserve: true))
                .Access(AccessKind.ReadWrite, AclAction.ReserveResources);
            app.MapPost(prefix + "/unreserve", (HttpContext context) => RunAsync(context, master, reserve: false))
                .Access(AccessKind.ReadWrite, AclAction.UnreserveResources);
        }
    }

    private static async Task RunAsync(HttpContext context, MasterActor master, bool reserve) =>
        await (await HandleAsync(context, master, reserve)).ExecuteAsync(context);

    private static async Task<IResult> HandleAsync(HttpContext context, MasterActor master, bool reserve)
    {
        if (!context.Request.HasFormContentType)
        {
            return HttpBodies.Text(StatusCodes.Status400BadRequest,
                "Expecting a form body (application/x-www-form-urlencoded) with 'slaveId' and 'resources'");
        }

        var (body, bodyError) = await HttpBodies.ReadAsync(context.Request, master.Options.MaxRequestBodyBytes);
        if (bodyError is not null)
        {
            return bodyError;
        }

        var form = Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(System.Text.Encoding.UTF8.GetString(body!));
        if (!form.TryGetValue("slaveId", out var agentIds) || agentIds.Count != 1 || string.IsNullOrEmpty(agentIds[0]))
        {
            return HttpBodies.Text(StatusCodes.Status400BadRequest, "Missing 'slaveId' query parameter in the request body");
        }

        if (!form.TryGetValue("resources", out var resourcesText) || resourcesText.Count != 1)
        {
            return HttpBodies.Text(StatusCodes.Status400BadRequest, "Missing 'resources' query parameter in the request body");
        }

        List<Resource>? resources;
        try
        {
            resources = JsonSerializer.Deserialize(resourcesText[0]!, MesosJsonContext.Default.ListResource);
        }
        catch (JsonException ex)
        {
            return HttpBodies.Text(StatusCodes.Status400BadRequest, $"Error in parsing 'resources' query parameter in the request body: {HttpBodies.Describe(ex)}");
        }

        if (resources is null || resources.Contains(null!))
        {
            return HttpBodies.Text(StatusCodes.Status400BadRequest, "Error in parsing 'resources' query parameter in the request body: expected a JSON array of resources");
        }

        var refusal = reserve
            ? OperatorEndpoint.ReservationPrincipalMismatch(HttpSecurity.Principal(context), resources)
                ?? MasterAuthorization.Check(context, master.Options, AclAction.ReserveResources, MasterAuthorization.ReservedRoles(resources))
            : MasterAuthorization.Check(context, master.Options, AclAction.UnreserveResources, MasterAuthorization.ReserverPrincipals(resources));
        if (refusal is not null)
        {
            return refusal;
        }

        var agentId = agentIds[0]!;
        var outcome = await master.Ask(() => reserve
            ? master.ReserveResources(agentId, null, resources, principal: null)
            : master.UnreserveResources(agentId, resources));
        return OperatorEndpoint.Outcome(outcome);
    }
}
