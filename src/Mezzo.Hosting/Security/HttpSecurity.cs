using System.Net.Http.Headers;
using System.Security.Claims;
using System.Text;
using Mezzo.Core.Security;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Mezzo.Hosting.Security;

/// <summary>
/// The two middlewares every Mezzo server puts in front of its routes. <see cref="UseAuthentication"/> (before the
/// rate limiter, so that limits are per principal) turns an <c>Authorization</c> header into
/// <see cref="HttpContext.User"/> and answers 401 to credentials that are wrong. <see cref="UseProtection"/> (after
/// routing, so that it sees the endpoint's <see cref="EndpointAccess"/>) answers 401 when the endpoint's kind
/// requires authentication and the caller has none, and 403 when the ACLs give the principal no way in.
/// </summary>
public static class HttpSecurity
{
    /// <summary>The realm of <c>WWW-Authenticate</c>, as Mesos's basic authenticator names it.</summary>
    public const string Realm = "mezzo";

    private const string BasicScheme = "Basic";
    private const string BearerScheme = "Bearer";

    /// <summary>A route without <see cref="EndpointAccess"/> (and a request no route matched) is read-write.</summary>
    private static readonly EndpointAccess Undeclared = new(AccessKind.ReadWrite, []);

    public static void UseAuthentication(IApplicationBuilder app, SecurityOptions options)
    {
        ArgumentNullException.ThrowIfNull(app);
        ArgumentNullException.ThrowIfNull(options);
        app.Use((context, next) =>
        {
            // For what middlewares serve outside the routing table (AdmitAsync).
            context.Features.Set(options);
            if (!context.Request.Headers.TryGetValue("Authorization", out var header) || header.Count == 0)
            {
                return next(context);
            }

            var outcome = Authenticate(header.ToString(), options);
            if (outcome.Error is not null)
            {
                return ChallengeAsync(context, outcome.Scheme ?? BasicScheme, outcome.Error);
            }

            if (outcome.User is not null)
            {
                context.User = outcome.User;
            }

            return next(context);
        });
    }

    public static void UseProtection(IApplicationBuilder app, SecurityOptions options)
    {
        ArgumentNullException.ThrowIfNull(app);
        ArgumentNullException.ThrowIfNull(options);
        app.Use((context, next) =>
        {
            var endpoint = context.GetEndpoint();
            var refusal = Refuse(context, options, endpoint?.Metadata.GetMetadata<EndpointAccess>() ?? Undeclared, EndpointPath(endpoint, context));
            return refusal ?? next(context);
        });
    }

    /// <summary>
    /// The same check as <see cref="UseProtection"/>, for what a middleware serves outside the routing table
    /// (<c>/metrics</c>, the logging toggle of a process whose routes change with leadership): true when the request may
    /// go on; false when a 401 or 403 has been written. Uses the options <see cref="UseAuthentication"/> left on the
    /// request, so a server that authenticates nothing protects nothing here either.
    /// </summary>
    public static async Task<bool> AdmitAsync(HttpContext context, EndpointAccess access, string path)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(access);
        if (context.Features.Get<SecurityOptions>() is not { } options)
        {
            return true;
        }

        var refusal = Refuse(context, options, access, path);
        if (refusal is null)
        {
            return true;
        }

        await refusal;
        return false;
    }

    /// <summary>A task writing the 401 or 403 the request gets, or null when it may go on.</summary>
    private static Task? Refuse(HttpContext context, SecurityOptions options, EndpointAccess access, string path)
    {
        if (access.Kind == AccessKind.Public)
        {
            return null;
        }

        var authenticated = context.User.Identity?.IsAuthenticated == true;
        if (!authenticated && options.Requires(access.Kind))
        {
            var scheme = access.Kind == AccessKind.Executor ? BearerScheme : BasicScheme;
            return ChallengeAsync(context, scheme, $"{context.Request.Path} requires authentication");
        }

        if (access.Kind == AccessKind.Executor)
        {
            // Executors are authorized by their token's claims (the handler checks them against the call);
            // an operator's Basic credentials are no executor's.
            return authenticated && options.AuthenticateHttpExecutors && context.User.Identity?.AuthenticationType != BearerScheme
                ? ForbidAsync(context, $"{context.Request.Path} is the executor API: only an executor's token is accepted")
                : null;
        }

        var principal = Principal(context);
        if (options.Acls.IsAllowed(AclAction.GetEndpoints, principal, path)
            || access.Gates.Any(gate => options.Acls.MayEver(gate, principal)))
        {
            return null;
        }

        var who = principal is null ? "an unauthenticated caller" : $"principal '{principal}'";
        var gates = access.Gates.Count == 0
            ? $"get_endpoints for '{path}'"
            : $"get_endpoints for '{path}' or one of {string.Join(", ", access.Gates.Select(AclActions.Key))}";
        return ForbidAsync(context, $"Forbidden: {who} may not use {path}: the ACLs allow it none of {gates}");
    }

    /// <summary>The authenticated principal of the request, or null (Mesos's subject ANY).</summary>
    public static string? Principal(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var identity = context.User.Identity;
        return identity?.IsAuthenticated == true ? identity.Name : null;
    }

    /// <summary>
    /// The path <c>get_endpoints</c> ACLs name for an endpoint: the route's template (so <c>/files/read</c>, or
    /// <c>/agent-proxy/{agentId}/files</c> for a parameterised route), or the request path when no route matched.
    /// </summary>
    public static string EndpointPath(Endpoint? endpoint, HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (endpoint is RouteEndpoint route && route.RoutePattern.RawText is { } raw)
        {
            return raw.StartsWith('/') ? raw : "/" + raw;
        }

        return context.Request.Path.HasValue ? context.Request.Path.Value! : "/";
    }

    private static (ClaimsPrincipal? User, string? Error, string? Scheme) Authenticate(string header, SecurityOptions options)
    {
        if (!AuthenticationHeaderValue.TryParse(header, out var parsed) || string.IsNullOrEmpty(parsed.Parameter))
        {
            return (null, "Malformed Authorization header", BasicScheme);
        }

        if (parsed.Scheme.Equals(BasicScheme, StringComparison.OrdinalIgnoreCase))
        {
            if (options.Credentials.Count == 0)
            {
                // As Mesos: with no credentials configured this server authenticates nobody, and ignores the header.
                return (null, null, null);
            }

            string decoded;
            try
            {
                decoded = Encoding.UTF8.GetString(Convert.FromBase64String(parsed.Parameter));
            }
            catch (FormatException)
            {
                return (null, "Malformed Basic credentials: not base64", BasicScheme);
            }

            var colon = decoded.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0)
            {
                return (null, "Malformed Basic credentials: expected principal:secret", BasicScheme);
            }

            var principal = decoded[..colon];
            if (!options.Verify(principal, decoded[(colon + 1)..]))
            {
                // One message for an unknown principal and a wrong secret, so the answer does not tell them apart.
                return (null, "Authentication failed: unknown principal or wrong secret", BasicScheme);
            }

            return (new ClaimsPrincipal(new ClaimsIdentity([new Claim(ClaimTypes.Name, principal)], BasicScheme)), null, null);
        }

        if (parsed.Scheme.Equals(BearerScheme, StringComparison.OrdinalIgnoreCase))
        {
            if (options.BearerTokens is null)
            {
                return (null, "This server accepts no bearer tokens", BearerScheme);
            }

            var user = options.BearerTokens.Validate(parsed.Parameter);
            return user is null ? (null, "Invalid or expired token", BearerScheme) : (user, null, null);
        }

        return (null, $"Unsupported authentication scheme '{parsed.Scheme}': use Basic (or Bearer for executors)", BasicScheme);
    }

    /// <summary>
    /// For a standby of services or jobs, which has no API routes to read the access of: classifies the call as the
    /// routes declare it (GET and HEAD read, every other method writes, a liveness probe is public) and answers 401 to
    /// a call without the credentials the leader would require, before it is proxied. Null: let it through;
    /// authorization (403) stays with the leader, which gets the caller's Authorization header.
    /// </summary>
    public static Task? ChallengeStandby(HttpContext context, SecurityOptions options, bool probe)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(options);
        var kind = probe ? AccessKind.Public
            : HttpMethods.IsGet(context.Request.Method) || HttpMethods.IsHead(context.Request.Method) ? AccessKind.ReadOnly
            : AccessKind.ReadWrite;
        return Principal(context) is not null || !options.Requires(kind)
            ? null
            : ChallengeAsync(context, BasicScheme, $"{context.Request.Path} requires authentication");
    }

    private static Task ChallengeAsync(HttpContext context, string scheme, string message)
    {
        context.Response.StatusCode = StatusCodes.Status401Unauthorized;
        context.Response.Headers.WWWAuthenticate = $"{scheme} realm=\"{Realm}\"";
        context.Response.ContentType = "text/plain; charset=utf-8";
        return context.Response.WriteAsync(message, context.RequestAborted);
    }

    private static Task ForbidAsync(HttpContext context, string message)
    {
        context.Response.StatusCode = StatusCodes.Status403Forbidden;
        context.Response.ContentType = "text/plain; charset=utf-8";
        return context.Response.WriteAsync(message, context.RequestAborted);
    }
}
