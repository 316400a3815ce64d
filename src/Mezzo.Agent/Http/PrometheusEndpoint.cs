using Mezzo.Hosting.Metrics;
using Mezzo.Protocol.V1;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Prometheus;

namespace Mezzo.Agent.Http;

/// <summary>
/// <c>GET /metrics</c> on the agent in Prometheus's text format: the numbers of /metrics/snapshot under Prometheus
/// names (bytes, seconds, states as labels), each running container's usage as /monitor/statistics reads it, and the
/// agent's HTTP requests. One registry per agent, so agents in one test process never share a series.
/// </summary>
public sealed class PrometheusEndpoint
{
    /// <summary>Prometheus text exposition format 0.0.4.</summary>
    public const string ContentType = PrometheusExposition.ContentType;

    private const string Prefix = "mezzo_agent_";
    private static readonly string[] ContainerLabels = ["framework_id", "executor_id"];

    private readonly PrometheusExposition _exposition = new(Prefix);
    private readonly IMetricFactory _factory;
    private readonly Func<AgentService?> _service;
    private readonly Dictionary<string, (Func<ResourceStatistics, double?> Read, Collector<Gauge.Child> Gauge)> _container = [];
    private readonly HashSet<(string FrameworkId, string ExecutorId)> _exported = [];

    public PrometheusEndpoint(Func<AgentService?> service)
    {
        _service = service;
        _factory = _exposition.Factory;
        void Container(string name, string help, Func<ResourceStatistics, double?> read) =>
            _container[name] = (read, _factory.CreateGauge(Prefix + "container_" + name, help, ContainerLabels));
        Container("cpu_user_seconds", "CPU time the container spent in user mode.", s => s.CpusUserTimeSecs);
        Container("cpu_system_seconds", "CPU time the container spent in the kernel.", s => s.CpusSystemTimeSecs);
        Container("cpus_limit", "The container's CPU limit (its tasks' cpus).", s => s.CpusLimit);
        Container("mem_total_bytes", "The container's memory use.", s => s.MemTotalBytes);
        Container("mem_rss_bytes", "The container's anonymous memory.", s => s.MemRssBytes);
        Container("mem_limit_bytes", "The container's memory limit.", s => s.MemLimitBytes);
        Container("processes", "Processes in the container.", s => s.Processes);
        Container("threads", "Threads in the container.", s => s.Threads);
        Container("disk_used_bytes", "Sandbox size at the last disk check.", s => s.DiskUsedBytes);
        Container("disk_limit_bytes", "The container's disk limit.", s => s.DiskLimitBytes);
        _exposition.BeforeScrape(UpdateAsync);
    }

    /// <summary>Serves <c>GET /metrics</c> and counts and times every request the agent answers.</summary>
    public void Use(IApplicationBuilder app) => _exposition.Use(app);

    /// <summary>The exposition as a response (what the middleware serves at <c>/metrics</c>).</summary>
    public Task WriteAsync(HttpContext context)
    {
        context.Response.ContentType = ContentType;
        return _exposition.WriteAsync(context.Response.Body, context.RequestAborted);
    }

    private async Task UpdateAsync(CancellationToken cancellation)
    {
        if (_service() is not { } service)
        {
            return;
        }

        foreach (var (key, value) in await service.GetMetricsAsync().WaitAsync(cancellation))
        {
            Export(key, value);
        }

        // Containers come and go: the series of one that ended are removed, not left at their last value.
        var seen = new HashSet<(string, string)>();
        foreach (var entry in await service.GetStatisticsAsync().WaitAsync(cancellation))
        {
            if (entry.Statistics is not { } statistics)
            {
                continue;
            }

            var labels = (entry.FrameworkId ?? "", entry.ExecutorId ?? "");
            seen.Add(labels);
            foreach (var (read, gauge) in _container.Values)
            {
                if (read(statistics) is { } value)
                {
                    gauge.WithLabels(labels.Item1, labels.Item2).Set(value);
                }
            }
        }

        foreach (var gone in _exported.Where(l => !seen.Contains(l)).ToList())
        {
            foreach (var (_, gauge) in _container.Values)
            {
                gauge.RemoveLabelled(gone.FrameworkId, gone.ExecutorId);
            }

            _exported.Remove(gone);
        }

        _exported.UnionWith(seen);
    }

    private void Export(string key, double value)
    {
        const string slave = "slave/";
        var name = key.StartsWith(slave, StringComparison.Ordinal) ? key[slave.Length..] : null;
        switch (name)
        {
            case "registered":
                _factory.CreateGauge(Prefix + "registered", "1 if the agent is registered with a master.").Set(value);
                return;
            case "uptime_secs":
                _factory.CreateGauge(Prefix + "uptime_seconds", "Seconds since this agent started.").Set(value);
                return;
            case "executors_running":
                _factory.CreateGauge(Prefix + "executors_running", "Executors (and command tasks) running.").Set(value);
                return;
            case not null when name.StartsWith("tasks_", StringComparison.Ordinal):
                _factory.CreateGauge(Prefix + "tasks", "Tasks the agent knows in each state (terminal ones while it remembers them).", ["state"])
                    .WithLabels(name["tasks_".Length..]).Set(value);
                return;
            case not null when name.EndsWith("_total", StringComparison.Ordinal) || name.EndsWith("_used", StringComparison.Ordinal):
                var underscore = name.LastIndexOf('_');
                var resource = name[..underscore];
                var kind = name[(underscore + 1)..];
                var (family, scale) = resource switch
                {
                    "mem" => ("mem_bytes", 1024.0 * 1024),
                    "disk" => ("disk_bytes", 1024.0 * 1024),
                    _ => (resource, 1.0),
                };
                _factory.CreateGauge(Prefix + family, $"The agent's {resource} (mem and disk in bytes), total or used by tasks.", ["kind"]).WithLabels(kind).Set(value * scale);
                return;
            default:
                _factory.CreateGauge(PrometheusExposition.Sanitize(name is null ? "mezzo_" + key : Prefix + name), $"Mesos metric {key}.").Set(value);
                return;
        }
    }
}
