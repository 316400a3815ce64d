using System.Diagnostics;
using Mezzo.Master.Actor;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Prometheus;

namespace Mezzo.Master.Http;

/// <summary>
/// <c>GET /metrics</c> in Prometheus's text format: the numbers of /metrics/snapshot under Prometheus names (base
/// units: bytes and seconds; states as labels), and the master's HTTP requests. One registry per master process, so
/// masters in one test process never share a series.
/// </summary>
public sealed class PrometheusEndpoint
{
    /// <summary>Prometheus text exposition format 0.0.4.</summary>
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    private const string Prefix = "mezzo_master_";

    // Mesos keys with a Prometheus name of their own; keys not listed (added later) are exported as mezzo_<key>.
    private static readonly Dictionary<string, (string Name, string Help, string? Label, string? LabelValue, double Scale)> Known = Build();

    private readonly CollectorRegistry _registry = Metrics.NewCustomRegistry();
    private readonly IMetricFactory _factory;
    private readonly Counter _requests;
    private readonly Histogram _latency;
    private readonly Func<MasterActor?> _actor;

    public PrometheusEndpoint(Func<MasterActor?> actor)
    {
        _actor = actor;
        _factory = Metrics.WithCustomRegistry(_registry);
        _requests = _factory.CreateCounter(Prefix + "http_requests_total", "HTTP requests answered, by method and status code.", ["method", "code"]);
        _latency = _factory.CreateHistogram(Prefix + "http_request_duration_seconds", "Time to answer an HTTP request (streams: their whole life).", ["method"],
            new HistogramConfiguration { Buckets = Histogram.ExponentialBuckets(0.0005, 2, 16) });
        _registry.AddBeforeCollectCallback(UpdateAsync);
    }

    /// <summary>The exposition, as a scrape gets it (after the same update).</summary>
    public Task WriteAsync(Stream output, CancellationToken cancellation = default) => _registry.CollectAndExportAsTextAsync(output, cancellation);

    /// <summary>
    /// Serves <c>GET /metrics</c> and counts and times every request the process answers. Middleware rather than a
    /// route, so it answers whatever the rest of the pipeline is (a leading or a standby master alike).
    /// </summary>
    public void Use(IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            if (HttpMethods.IsGet(context.Request.Method) && context.Request.Path.Equals("/metrics", StringComparison.Ordinal))
            {
                context.Response.ContentType = ContentType;
                await _registry.CollectAndExportAsTextAsync(context.Response.Body, context.RequestAborted);
                return;
            }

            await next(context);
        }
        finally
        {
            var method = context.Request.Method;
            _requests.WithLabels(method, context.Response.StatusCode.ToString(System.Globalization.CultureInfo.InvariantCulture)).Inc();
            _latency.WithLabels(method).Observe(Stopwatch.GetElapsedTime(started).TotalSeconds);
        }
    });

    private async Task UpdateAsync(CancellationToken cancellation)
    {
        MasterSnapshot? snapshot = null;
        if (_actor() is { } actor)
        {
            try
            {
                snapshot = await actor.GetSnapshotAsync().WaitAsync(cancellation);
            }
            catch (ObjectDisposedException)
            {
                // The term ended between the look-up and the question: a standby now.
            }
        }

        if (snapshot is null)
        {
            // A standby has no cluster numbers, but says it does not lead.
            _factory.CreateGauge(Known["master/elected"].Name, Known["master/elected"].Help).Set(0);
            return;
        }

        Export(snapshot.Metrics);
    }

    /// <summary>Sets the series for /metrics/snapshot's keys; Mesos keys without a name of their own become mezzo_&lt;key&gt;.</summary>
    public void Export(IReadOnlyDictionary<string, double> metrics)
    {
        foreach (var (key, value) in metrics)
        {
            if (Known.TryGetValue(key, out var known))
            {
                var scaled = value * known.Scale;
                if (known.Name.EndsWith("_total", StringComparison.Ordinal))
                {
                    ICounter counter = known.Label is null
                        ? _factory.CreateCounter(known.Name, known.Help)
                        : _factory.CreateCounter(known.Name, known.Help, [known.Label]).WithLabels(known.LabelValue!);
                    counter.IncTo(scaled);
                }
                else
                {
                    IGauge gauge = known.Label is null
                        ? _factory.CreateGauge(known.Name, known.Help)
                        : _factory.CreateGauge(known.Name, known.Help, [known.Label]).WithLabels(known.LabelValue!);
                    gauge.Set(scaled);
                }
            }
            else
            {
                _factory.CreateGauge(Sanitize("mezzo_" + key), $"Mesos metric {key}.").Set(value);
            }
        }
    }

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

    private static Dictionary<string, (string, string, string?, string?, double)> Build()
    {
        var map = new Dictionary<string, (string, string, string?, string?, double)>
        {
            ["master/elected"] = (Prefix + "elected", "1 if this master leads.", null, null, 1),
            ["master/uptime_secs"] = (Prefix + "uptime_seconds", "Seconds since this master started.", null, null, 1),
            ["master/outstanding_offers"] = (Prefix + "offers_outstanding", "Offers sent and not yet accepted, declined or rescinded.", null, null, 1),
            ["master/event_queue_messages"] = (Prefix + "event_queue_messages", "Work items waiting in the master actor's queue.", null, null, 1),
            ["master/operator_event_stream_subscribers"] = (Prefix + "operator_event_stream_subscribers", "Open operator API SUBSCRIBE streams.", null, null, 1),
            ["master/tasks_launched"] = (Prefix + "tasks_launched_total", "Tasks launched.", null, null, 1),
            ["master/valid_status_updates"] = (Prefix + "status_updates_total", "Status updates from agents, by validity.", "valid", "true", 1),
            ["master/invalid_status_updates"] = (Prefix + "status_updates_total", "Status updates from agents, by validity.", "valid", "false", 1),
        };
        foreach (var state in (string[])["active", "connected", "disconnected", "inactive", "unreachable"])
        {
            map["master/slaves_" + state] = (Prefix + "agents", "Agents by state.", "state", state, 1);
        }

        foreach (var state in (string[])["active", "connected", "disconnected", "inactive"])
        {
            map["master/frameworks_" + state] = (Prefix + "frameworks", "Frameworks by state.", "state", state, 1);
        }

        foreach (var state in (string[])["staging", "starting", "running", "killing", "unreachable"])
        {
            map["master/tasks_" + state] = (Prefix + "tasks", "Tasks now in a state.", "state", state, 1);
        }

        foreach (var state in (string[])["finished", "failed", "killed", "lost", "error", "dropped", "gone", "gone_by_operator"])
        {
            map["master/tasks_" + state] = (Prefix + "tasks_terminal_total", "Tasks that reached a terminal state, by state.", "state", state, 1);
        }

        foreach (var (resource, name, scale) in (ValueTuple<string, string, double>[])[("cpus", "cpus", 1), ("gpus", "gpus", 1), ("mem", "mem_bytes", 1024 * 1024), ("disk", "disk_bytes", 1024 * 1024)])
        {
            map[$"master/{resource}_total"] = (Prefix + name, $"Agents' {resource} (mem and disk in bytes), total or used by tasks.", "kind", "total", scale);
            map[$"master/{resource}_used"] = (Prefix + name, $"Agents' {resource} (mem and disk in bytes), total or used by tasks.", "kind", "used", scale);
            map[$"master/{resource}_percent"] = (Prefix + "resource_used_ratio", "Share of each resource used by tasks (0 to 1).", "resource", resource, 1);
        }

        return map;
    }
}
