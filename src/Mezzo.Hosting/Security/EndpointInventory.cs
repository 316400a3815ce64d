using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Mezzo.Hosting.Security;

/// <summary>One route of a server's routing table: its methods, template and declared access.</summary>
public sealed record EndpointEntry(IReadOnlyList<string> Methods, string Template, EndpointAccess? Access, string DisplayName);

/// <summary>
/// A server's routing table, read from its endpoint data sources, so that a test can call every route and prove
/// that it is protected, including routes added after the test was written.
/// </summary>
public static class EndpointInventory
{
    public static IReadOnlyList<EndpointEntry> Of(IEndpointRouteBuilder routes)
    {
        ArgumentNullException.ThrowIfNull(routes);
        return routes.DataSources
            .SelectMany(source => source.Endpoints)
            .OfType<RouteEndpoint>()
            .Select(route => new EndpointEntry(
                route.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods.ToArray() ?? [],
                route.RoutePattern.RawText is { } raw ? (raw.StartsWith('/') ? raw : "/" + raw) : "/",
                route.Metadata.GetMetadata<EndpointAccess>(),
                route.DisplayName ?? string.Empty))
            .ToList();
    }
}
