using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Net.Http.Headers;

namespace Mezzo.Web.Hosting;

/// <summary>
/// Serves the UI: the shell at <c>/</c>, files under <see cref="AssetPrefix"/>, and the shell again for every client
/// route under <see cref="RoutePrefix"/>. Everything lives under <c>/ui/</c> so no Mesos path (<c>/roles</c>,
/// <c>/quota</c>, <c>/master/...</c>, <c>/api/v1</c>, <c>/metrics</c>, ...) is ever answered by the UI.
/// </summary>
public static class WebUi
{
    public const string RoutePrefix = "/ui";

    public const string AssetPrefix = "/ui/assets";

    public static void Map(IEndpointRouteBuilder routes)
    {
        routes.MapMethods("/", [HttpMethods.Get, HttpMethods.Head], (HttpContext context) => Serve(context, WebAssets.Index));
        routes.MapMethods(AssetPrefix + "/{**name}", [HttpMethods.Get, HttpMethods.Head], (HttpContext context, string name) =>
            WebAssets.All.TryGetValue(name, out var asset)
                ? Serve(context, asset)
                : Results.Text($"No web UI asset '{name}'", "text/plain; charset=utf-8", statusCode: StatusCodes.Status404NotFound));
        // Client-side routes (history API): a reload or a shared link lands here and gets the shell.
        routes.MapMethods(RoutePrefix, [HttpMethods.Get, HttpMethods.Head], (HttpContext context) => Serve(context, WebAssets.Index));
        routes.MapMethods(RoutePrefix + "/{**route}", [HttpMethods.Get, HttpMethods.Head], (HttpContext context) => Serve(context, WebAssets.Index));
    }

    private static IResult Serve(HttpContext context, WebAsset asset)
    {
        var headers = context.Response.GetTypedHeaders();
        // Revalidate every time: the files are small and a new binary must never run against a stale cached module.
        headers.CacheControl = new CacheControlHeaderValue { NoCache = true };
        context.Response.Headers.ETag = asset.ETag;
        context.Response.Headers.XContentTypeOptions = "nosniff";
        var ifNoneMatch = context.Request.Headers.IfNoneMatch;
        if (ifNoneMatch.Count > 0 && ifNoneMatch.ToString().Split(',').Any(tag => tag.Trim() == asset.ETag || tag.Trim() == "*"))
        {
            return Results.StatusCode(StatusCodes.Status304NotModified);
        }

        return Results.Bytes(asset.Content, asset.ContentType);
    }
}
