using Mezzo.Hosting.Metrics;
using Mezzo.Master.Actor;
using Microsoft.AspNetCore.Builder;
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
    public const string ContentType = PrometheusExposition.ContentType;

    private const string Prefix = "mezzo_master_";

    // Mesos keys with a Prometheus name of their own; keys not listed (added later) are exported as mezzo_<key>.
    private static readonly Dictionary<string, (string Name, string Help, string? Label, string? LabelValue, double Scale)> Known = Build();

    private readonly PrometheusExposition _exposition = new(Prefix);
    private readonly IMetricFactory _factory;
    private readonly Func<MasterActor?> _actor;

    public PrometheusEndpoint(Func<MasterActor?> actor)
    {
        _actor = actor;
        _factory = _exposition.Factory;
        _exposition.BeforeScrape(UpdateAsync);
    }

    /// <summary>The exposition, as a scrape gets it (after the same update).</summary>
    public Task WriteAsync(Stream output, CancellationToken cancellation = default) => _exposition.WriteAsync(output, cancellation);

    /// <summary>Serves <c>GET /metrics</c> and counts and times every request (leading or standby master alike).</summary>
    public void Use(IApplicationBuilder app) => _exposition.Use(app);

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
            if (RoleOfShare(key) is { } role)
            {
                // One series per role under a label, not a metric name per role.
                _factory.CreateGauge(Prefix + "role_dominant_share", "A role's dominant resource share (used and offered over the active agents' totals).", ["role"])
                    .WithLabels(role).Set(value);
            }
            else if (Known.TryGetValue(key, out var known))
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

    private static string? RoleOfShare(string key)
    {
        const string head = "allocator/mesos/roles/", tail = "/shares/dominant";
        return key.Length > head.Length + tail.Length && key.StartsWith(head, StringComparison.Ordinal) && key.EndsWith(tail, StringComparison.Ordinal)
            ? key[head.Length..^tail.Length]
            : null;
    }

    /// <summary>A Mesos key such as <c>allocator/mesos/roles/eng/shares/dominant</c> as a Prometheus name.</summary>
    public static string Sanitize(string key) => PrometheusExposition.Sanitize(key);

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
            ["allocator/mesos/allocation_runs"] = (Prefix + "allocation_runs_total", "Allocation cycles run.", null, null, 1),
            ["allocator/mesos/allocation_run_ms/sum"] = (Prefix + "allocation_seconds_total", "Time spent in allocation cycles (divide by allocation_runs_total for the average).", null, null, 0.001),
            ["allocator/mesos/allocation_run_ms"] = (Prefix + "allocation_last_seconds", "How long the last allocation cycle took.", null, null, 0.001),
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
