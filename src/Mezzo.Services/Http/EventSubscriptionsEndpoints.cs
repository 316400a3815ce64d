using System.Text.Json.Nodes;
using Mezzo.Core.Security;
using Mezzo.Hosting.Security;
using Mezzo.Services.Engine;
using Mezzo.Services.Model;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Mezzo.Services.Http;

/// <summary>/v2/eventSubscriptions: Marathon's HTTP callback subscribers (GET list, POST and DELETE ?callbackUrl=).</summary>
internal static class EventSubscriptionsEndpoints
{
    /// <summary>Marathon's answer while the callback system is off (word for word: clients look for it).</summary>
    public const string NotRunning = "http event callback system is not running on this Marathon instance. Please re-start this instance with \"--event_subscriber http_callback\".";

    public static void Map(IEndpointRouteBuilder routes, ServicesActor actor)
    {
        // A callback receives every event of every app: only a principal who may see (and, to change them, update)
        // everything, "/", may use them.
        routes.MapGet("/v2/eventSubscriptions", context => !AppAccess.CanView(context, actor, "/") ? AppAccess.ForbiddenAsync(context)
            : !actor.Options.HttpCallbacks ? HttpJson.MessageAsync(context, StatusCodes.Status400BadRequest, NotRunning)
            : HttpJson.WriteAsync(context, 200, new JsonObject { ["callbackUrls"] = new JsonArray([.. actor.Snapshot.CallbackUrls.Select(u => (JsonNode)u)]) }))
            .Access(AccessKind.ReadOnly, AclAction.ViewAppGroups);
        routes.MapPost("/v2/eventSubscriptions", context => ChangeAsync(context, actor, subscribe: true)).Access(AccessKind.ReadWrite, AclAction.UpdateAppGroups);
        routes.MapDelete("/v2/eventSubscriptions", context => ChangeAsync(context, actor, subscribe: false)).Access(AccessKind.ReadWrite, AclAction.UpdateAppGroups);
    }

    private static async Task ChangeAsync(HttpContext context, ServicesActor actor, bool subscribe)
    {
        if (!AppAccess.CanView(context, actor, "/") || !AppAccess.CanUpdate(context, actor, "/"))
        {
            await AppAccess.ForbiddenAsync(context);
            return;
        }

        if (!actor.Options.HttpCallbacks)
        {
            await HttpJson.MessageAsync(context, StatusCodes.Status400BadRequest, NotRunning);
            return;
        }

        var callbackUrl = context.Request.Query["callbackUrl"].LastOrDefault();
        if (!IsValid(callbackUrl))
        {
            await HttpJson.WriteAsync(context, StatusCodes.Status422UnprocessableEntity, ValidationError.Body(
                [new ValidationError("/callbackUrl", callbackUrl is null ? "callbackUrl is missing: ?callbackUrl=http://host:port/path" : $"URL has invalid syntax: '{callbackUrl}' is not an absolute http or https URL")]));
            return;
        }

        var ip = AppsEndpoints.ClientIp(context);
        var ev = subscribe ? await actor.SubscribeCallbackAsync(ip, callbackUrl!) : await actor.UnsubscribeCallbackAsync(ip, callbackUrl!);
        await HttpJson.WriteAsync(context, 200, ev);
    }

    /// <summary>An absolute http(s) URL with a host: where events can be POSTed.</summary>
    public static bool IsValid(string? url) =>
        Uri.TryCreate(url, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps) && uri.Host.Length > 0;
}
