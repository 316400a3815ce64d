using System.Globalization;
using System.Net;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.DependencyInjection;

namespace Mezzo.Hosting.Limits;

/// <summary>
/// ASP.NET Core's rate limiter with one token bucket per client on chosen paths. Over the limit a call is answered
/// 429 with <c>Retry-After</c> (whole seconds) and a plain-text reason, as Mesos's APIs answer errors. A streaming
/// call (SUBSCRIBE) is one request, so it takes one token when it connects and nothing while it stays open.
/// </summary>
public static class ClientRateLimiting
{
    /// <summary>Registers the limiter; <paramref name="limited"/> picks the requests it applies to.</summary>
    public static void Add(IServiceCollection services, ClientRateLimitOptions options, Func<HttpContext, bool> limited)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(limited);
        if (!options.Enabled)
        {
            return;
        }

        var perPeriod = Math.Max(1, (int)Math.Round(options.PermitsPerSecond * options.ReplenishmentPeriod.TotalSeconds));
        services.AddRateLimiter(limiter =>
        {
            limiter.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            // An authenticated client is its principal (so clients behind one proxy or NAT do not share a bucket,
            // and one principal cannot get more by spreading over addresses); an anonymous one is its address.
            limiter.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(context =>
            {
                var client = context.Connection.RemoteIpAddress ?? IPAddress.None;
                if (!limited(context) || (options.ExemptLoopback && IPAddress.IsLoopback(client)))
                {
                    return RateLimitPartition.GetNoLimiter(string.Empty);
                }

                var key = context.User.Identity is { IsAuthenticated: true, Name: { } principal } ? "principal:" + principal : "address:" + client;
                return RateLimitPartition.GetTokenBucketLimiter(key, _ => new TokenBucketRateLimiterOptions
                {
                    TokenLimit = options.Burst,
                    TokensPerPeriod = perPeriod,
                    ReplenishmentPeriod = options.ReplenishmentPeriod,
                    QueueLimit = 0,
                    AutoReplenishment = true,
                });
            });
            limiter.OnRejected = (rejected, cancellationToken) => RejectAsync(rejected, options, cancellationToken);
        });
    }

    /// <summary>Adds the limiter to the pipeline when <see cref="Add"/> registered one.</summary>
    public static void Use(IApplicationBuilder app, ClientRateLimitOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Enabled)
        {
            app.UseRateLimiter();
        }
    }

    private static async ValueTask RejectAsync(OnRejectedContext rejected, ClientRateLimitOptions options, CancellationToken cancellationToken)
    {
        var retryAfter = rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : options.ReplenishmentPeriod;
        var seconds = Math.Max(1, (long)Math.Ceiling(retryAfter.TotalSeconds));
        var response = rejected.HttpContext.Response;
        response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        response.ContentType = "text/plain; charset=utf-8";
        var client = rejected.HttpContext.User.Identity is { IsAuthenticated: true, Name: { } principal }
            ? $"principal '{principal}'"
            : rejected.HttpContext.Connection.RemoteIpAddress?.ToString();
        await response.WriteAsync(
            $"Too many requests from {client}: the limit is {options.PermitsPerSecond} calls per second "
            + $"with bursts of {options.Burst}; retry after {seconds}s",
            cancellationToken);
    }
}
