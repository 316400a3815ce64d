using Mezzo.Hosting.Metrics;
using Mezzo.Core.Tasks;
using Mezzo.Services.Engine;
using Microsoft.AspNetCore.Builder;
using Prometheus;

namespace Mezzo.Services.Http;

/// <summary>
/// <c>GET /metrics</c> (and Marathon 1.7's <c>/metrics/prometheus</c>) in Prometheus's text format: apps, instances by
/// state and health, deployments in flight, the launch queue, launches, kills and offers, and the HTTP requests. One
/// registry per services process, so several in one test process never share a series.
/// </summary>
public sealed class PrometheusEndpoint
{
    private const string Prefix = "mezzo_services_";

    // Always exported (at 0 when empty), so a dashboard shows a flat line rather than no data.
    private static readonly string[] ActiveStates = ["staging", "starting", "running", "killing", "unreachable"];
    private static readonly string[] Healths = ["healthy", "unhealthy", "unknown"];

    private readonly PrometheusExposition _exposition = new(Prefix, "/metrics/prometheus");
    private readonly Func<ServicesActor?> _actor;
    private readonly Gauge _apps;
    private readonly Gauge _instances;
    private readonly Gauge _health;
    private readonly Gauge _deployments;
    private readonly Gauge _queued;
    private readonly Gauge _subscribed;
    private readonly Counter _launched;
    private readonly Counter _killed;
    private readonly Counter _offers;
    private readonly HashSet<string> _states = new(ActiveStates, StringComparer.Ordinal);

    public PrometheusEndpoint(Func<ServicesActor?> actor)
    {
        _actor = actor;
        var factory = _exposition.Factory;
        _apps = factory.CreateGauge(Prefix + "apps", "Apps defined.");
        _instances = factory.CreateGauge(Prefix + "instances", "Instances (tasks) not yet terminal, by task state.", ["state"]);
        _health = factory.CreateGauge(Prefix + "instances_health", "Running instances by their last health check result (unknown: none yet, or no health checks).", ["health"]);
        _deployments = factory.CreateGauge(Prefix + "deployments", "Deployments in flight.");
        _queued = factory.CreateGauge(Prefix + "launch_queue_instances", "Instances waiting for an offer to launch.");
        _subscribed = factory.CreateGauge(Prefix + "subscribed", "1 while subscribed to a master.");
        _launched = factory.CreateCounter(Prefix + "tasks_launched_total", "Tasks sent to the master in ACCEPTs.");
        _killed = factory.CreateCounter(Prefix + "tasks_killed_total", "Kills sent, by reason: plan (scale, upgrade, removal), request (the API), unknown (no app owns it).", ["reason"]);
        _offers = factory.CreateCounter(Prefix + "offers_total", "Offers received, by what was done with them.", ["result"]);
        _exposition.BeforeScrape(_ => Update());
    }

    /// <summary>Serves the exposition and counts and times every request; add it before the other middleware.</summary>
    public void Use(IApplicationBuilder app) => _exposition.Use(app);

    /// <summary>Counts and times every request; the scrape itself is served by the routes <see cref="Map"/> adds.</summary>
    public void Count(IApplicationBuilder app) => _exposition.Count(app);

    /// <summary>GET /metrics (and its aliases) as routes, read-only like the rest of the API.</summary>
    public void Map(Microsoft.AspNetCore.Routing.IEndpointRouteBuilder routes, Core.Security.AclAction gate)
    {
        foreach (var route in _exposition.Map(routes))
        {
            Hosting.Security.EndpointAccessExtensions.Access(route, Hosting.Security.AccessKind.ReadOnly, gate);
        }
    }

    /// <summary>The exposition, as a scrape gets it.</summary>
    public Task WriteAsync(Stream output, CancellationToken cancellation = default) => _exposition.WriteAsync(output, cancellation);

    private Task Update()
    {
        if (_actor() is not { } actor)
        {
            return Task.CompletedTask;
        }

        var snapshot = actor.Snapshot;
        _apps.Set(snapshot.Apps.Count);
        _deployments.Set(snapshot.Deployments.Count);
        _queued.Set(snapshot.Queue.Values.Sum(q => q.Count));
        _subscribed.Set(snapshot.Subscribed ? 1 : 0);

        var byState = new Dictionary<string, int>(StringComparer.Ordinal);
        var byHealth = Healths.ToDictionary(h => h, _ => 0, StringComparer.Ordinal);
        foreach (var instance in snapshot.Instances.Values)
        {
            if (!instance.IsActive)
            {
                continue;
            }

            var state = StateLabel(instance.State);
            byState[state] = byState.GetValueOrDefault(state) + 1;
            if (instance.IsRunning)
            {
                byHealth[instance.Healthy switch { true => "healthy", false => "unhealthy", null => "unknown" }]++;
            }
        }

        // A state seen once stays exported (at 0 when empty) rather than vanishing between scrapes.
        _states.UnionWith(byState.Keys);
        foreach (var state in _states)
        {
            _instances.WithLabels(state).Set(byState.GetValueOrDefault(state));
        }

        foreach (var (health, count) in byHealth)
        {
            _health.WithLabels(health).Set(count);
        }

        var counters = snapshot.Counters;
        _launched.IncTo(counters.TasksLaunched);
        _killed.WithLabels("plan").IncTo(counters.TasksKilledByPlan);
        _killed.WithLabels("request").IncTo(counters.TasksKilledByRequest);
        _killed.WithLabels("unknown").IncTo(counters.UnknownTasksKilled);
        _offers.WithLabels("used").IncTo(counters.OffersUsed);
        _offers.WithLabels("declined").IncTo(counters.OffersDeclined);
        return Task.CompletedTask;
    }

    /// <summary><c>TASK_RUNNING</c> as <c>running</c>.</summary>
    internal static string StateLabel(TaskState state)
    {
        var name = state.ToString();
        const string task = "TASK_";
        return (name.StartsWith(task, StringComparison.Ordinal) ? name[task.Length..] : name).ToLowerInvariant();
    }
}
