using Mezzo.Core.Security;
using Mezzo.Hosting.Security;
using Mezzo.Services.Engine;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Mezzo.Services.Http;

/// <summary>GET /v2/events: Marathon's event stream as Server-Sent Events ("event: type" + "data: json"), optionally filtered by event_type.</summary>
internal static class EventsEndpoint
{
    public static void Map(IEndpointRouteBuilder routes, ServicesActor actor) => routes.MapGet("/v2/events", context => StreamAsync(context, actor))
        .Access(AccessKind.ReadOnly, AclAction.ViewAppGroups);

    private static async Task StreamAsync(HttpContext context, ServicesActor actor)
    {
        var types = context.Request.Query["event_type"].Where(t => !string.IsNullOrEmpty(t)).Select(t => t!).ToHashSet();
        context.Response.StatusCode = 200;
        context.Response.ContentType = "text/event-stream";
        context.Response.Headers.CacheControl = "no-cache, no-store, must-revalidate";
        await context.Response.Body.FlushAsync(context.RequestAborted);
        var remote = AppsEndpoints.ClientIp(context);
        var reader = await actor.SubscribeEventsAsync(remote, [.. types]);
        var filtered = !AppAccess.SeesEverything(actor);
        try
        {
            await foreach (var ev in reader.ReadAllAsync(context.RequestAborted))
            {
                if ((types.Count > 0 && !types.Contains(ev.Type)) || (filtered && !AppAccess.EventVisible(context, actor, ev)))
                {
                    continue;
                }

                await context.Response.WriteAsync($"event: {ev.Type}\ndata: {ev.Json}\n\n", context.RequestAborted);
                await context.Response.Body.FlushAsync(context.RequestAborted);
            }
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
        }
        catch (IOException)
        {
            // The client went away mid-write.
        }
        finally
        {
            actor.UnsubscribeEvents(reader, remote);
        }
    }
}
