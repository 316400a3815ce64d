using System.Diagnostics;
using System.Globalization;
using Mezzo.Hosting.Security;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Prometheus;

namespace Mezzo.Hosting.Metrics;

/// <summary>
/// One process's Prometheus exposition: its own registry (so several servers in one test process never share a
/// series), the HTTP request counter and latency histogram every Mezzo server exports under its prefix, and the
/// middleware that serves <c>GET /metrics</c> in the text format.
/// </summary>
public sealed class PrometheusExposition
{
    /// <summary>Prometheus text exposition format 0.0.4.</summary>
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    /// <summary>
    /// Who may scrape: a read-only endpoint with no ACL action of its own (Mesos's <c>/metrics/snapshot</c> is
    /// authorized by <c>get_endpoints</c> alone).
    /// </summary>
    public static readonly EndpointAccess Access = new(AccessKind.ReadOnly, []);

    private readonly CollectorRegistry _registry = Prometheus.Metrics.NewCustomRegistry();
    private readonly Counter _requests;
    private readonly Histogram _latency;
    private readonly string[] _paths;

    /// <param name="prefix">Each family's name starts with it, e.g. <c>mezzo_master_</c>.</param>
    /// <param name="extraPaths">Paths that serve the exposition besides <c>/metrics</c> (Marathon's <c>/metrics/prometheus</c>).</param>
    public PrometheusExposition(string prefix, params string[] extraPaths)
    {
        ArgumentException.ThrowIfNullOrEmpty(prefix);
        if (!IsValidName(prefix))
        {
            throw new ArgumentException($"'{prefix}' is not a valid Prometheus metric name prefix", nameof(prefix));
        }

        Prefix = prefix;
        _paths = ["/metrics", .. extraPaths];
        Factory = Prometheus.Metrics.WithCustomRegistry(_registry);
        _requests = Factory.CreateCounter(prefix + "http_requests_total", "HTTP requests answered, by method and status code.", ["method", "code"]);
        _latency = Factory.CreateHistogram(prefix + "http_request_duration_seconds", "Time to answer an HTTP request (streams: their whole life).", ["method"],
            new HistogramConfiguration { Buckets = Histogram.ExponentialBuckets(0.0005, 2, 16) });
    }

    /// <summary>The name prefix of this process's families.</summary>
    public string Prefix { get; }

    /// <summary>Creates the process's metrics in its own registry.</summary>
    public IMetricFactory Factory { get; }

    /// <summary>Runs before every scrape (and <see cref="WriteAsync"/>), to bring gauges up to date from a snapshot.</summary>
    public void BeforeScrape(Func<CancellationToken, Task> update) => _registry.AddBeforeCollectCallback(update);

    /// <summary>The exposition, as a scrape gets it (after the same updates).</summary>
    public Task WriteAsync(Stream output, CancellationToken cancellation = default) => _registry.CollectAndExportAsTextAsync(output, cancellation);

    /// <summary>
    /// Serves <c>GET /metrics</c> and counts and times every request the process answers. Middleware rather than a
    /// route, so it answers whatever the rest of the pipeline is (a leading or a standby server alike) and sees the
    /// status codes other middleware sets. Add it first.
    /// </summary>
    public void Use(IApplicationBuilder app) => Use(app, serve: true);

    /// <summary>
    /// Counts and times every request without serving the scrape, for a server that maps <see cref="Map"/> as routes
    /// (so that the scrape is authenticated and authorized like every other route).
    /// </summary>
    public void Count(IApplicationBuilder app) => Use(app, serve: false);

    /// <summary>
    /// Maps <c>GET /metrics</c> (and the extra paths) as routes; returns one builder per path. Other methods answer
    /// 404, as they did when the scrape was middleware, rather than routing's 405.
    /// </summary>
    public IReadOnlyList<IEndpointConventionBuilder> Map(IEndpointRouteBuilder routes)
    {
        ArgumentNullException.ThrowIfNull(routes);
        return [.. _paths.Select(path => routes.Map(path, async context =>
        {
            if (!HttpMethods.IsGet(context.Request.Method))
            {
                context.Response.StatusCode = StatusCodes.Status404NotFound;
                return;
            }

            context.Response.ContentType = ContentType;
            await _registry.CollectAndExportAsTextAsync(context.Response.Body, context.RequestAborted);
        }))];
    }

    private void Use(IApplicationBuilder app, bool serve) => app.Use(async (context, next) =>
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            if (serve && HttpMethods.IsGet(context.Request.Method) && IsMetricsPath(context.Request.Path))
            {
                if (!await HttpSecurity.AdmitAsync(context, Access, context.Request.Path.Value!))
                {
                    return;
                }

                context.Response.ContentType = ContentType;
                await _registry.CollectAndExportAsTextAsync(context.Response.Body, context.RequestAborted);
                return;
            }

            await next(context);
        }
        finally
        {
            var method = NormalizeMethod(context.Request.Method);
            _requests.WithLabels(method, context.Response.StatusCode.ToString(CultureInfo.InvariantCulture)).Inc();
            _latency.WithLabels(method).Observe(Stopwatch.GetElapsedTime(started).TotalSeconds);
        }
    });

    private bool IsMetricsPath(PathString path)
    {
        foreach (var candidate in _paths)
        {
            if (path.Equals(candidate, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    // A client can send any token as the method: left as is, each would be a new series for ever.
    private static string NormalizeMethod(string method) => method switch
    {
        "GET" or "HEAD" or "POST" or "PUT" or "DELETE" or "PATCH" or "OPTIONS" => method,
        _ => "OTHER",
    };

    /// <summary>A Mesos key such as <c>allocator/mesos/roles/eng/shares/dominant</c> as a Prometheus name.</summary>
    public static string Sanitize(string key) =>
        string.Create(key.Length, key, (span, source) =>
        {
            for (var i = 0; i < source.Length; i++)
            {
                var c = source[i];
                span[i] = char.IsAsciiLetterOrDigit(c) || c == '_' ? c : '_';
            }
        });

    /// <summary>Prometheus's metric name grammar, <c>[a-zA-Z_:][a-zA-Z0-9_:]*</c>.</summary>
    public static bool IsValidName(string name)
    {
        if (name.Length == 0 || char.IsAsciiDigit(name[0]))
        {
            return false;
        }

        foreach (var c in name)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c != '_' && c != ':')
            {
                return false;
            }
        }

        return true;
    }
}
