using Mezzo.Hosting.Metrics;
using Mezzo.Jobs.Engine;
using Microsoft.AspNetCore.Builder;
using Prometheus;

namespace Mezzo.Jobs.Http;

/// <summary>
/// <c>GET /metrics</c> of <c>mezzo jobs</c> in Prometheus's text format: jobs, runs started and ended (skips by
/// reason), the run queue, scheduler tick time, and the HTTP requests. One registry per jobs process, so several in one
/// test process never share a series.
/// </summary>
public sealed class PrometheusEndpoint
{
    private const string Prefix = "mezzo_jobs_";

    // Exported from the start (at 0), so rate() has a baseline before the first skip of each kind.
    private static readonly string[] SkipReasons = [JobsCounters.SchedulerDown, JobsCounters.NotConcurrent, JobsCounters.NoOffer];

    private readonly PrometheusExposition _exposition = new(Prefix);
    private readonly Func<JobsActor?> _actor;
    private readonly Gauge _jobs;
    private readonly Gauge _queue;
    private readonly Gauge _inFlight;
    private readonly Counter _started;
    private readonly Counter _ended;
    private readonly Counter _skipped;
    private readonly Histogram _tick;

    /// <param name="actor">The actor, once there is one (the endpoint is made before it).</param>
    public PrometheusEndpoint(Func<JobsActor?> actor)
    {
        _actor = actor;
        var factory = _exposition.Factory;
        _jobs = factory.CreateGauge(Prefix + "jobs", "Jobs defined, by state (enabled or disabled).", ["state"]);
        _queue = factory.CreateGauge(Prefix + "queue_length", "Runs queued and waiting for an offer.");
        _inFlight = factory.CreateGauge(Prefix + "runs_in_flight", "Runs launching or running.");
        _started = factory.CreateCounter(Prefix + "runs_started_total", "Runs launched, retries included.");
        _ended = factory.CreateCounter(Prefix + "runs_finished_total", "Runs that ended, by result (succeeded, failed, killed).", ["result"]);
        _skipped = factory.CreateCounter(Prefix + "runs_skipped_total",
            "Scheduled runs never started, by reason: scheduler_down (missed while not running), not_concurrent (previous run still running), no_offer.", ["reason"]);
        _tick = factory.CreateHistogram(Prefix + "tick_duration_seconds", "Time a scheduler tick takes to queue what is due and expire what missed its epsilon.",
            new HistogramConfiguration { Buckets = Histogram.ExponentialBuckets(0.00001, 4, 10) });
        foreach (var result in (string[])["succeeded", "failed", "killed"])
        {
            _ended.WithLabels(result);
        }

        foreach (var reason in SkipReasons)
        {
            _skipped.WithLabels(reason);
        }

        _exposition.BeforeScrape(_ => Update());
    }

    /// <summary>Records one scheduler tick; give it to <see cref="JobsActor.TickTimed"/>.</summary>
    public void ObserveTick(TimeSpan duration) => _tick.Observe(duration.TotalSeconds);

    /// <summary>Serves <c>GET /metrics</c> and counts and times every request; add it before the other middleware.</summary>
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
        var disabled = snapshot.Jobs.Values.Count(j => j.Disabled);
        _jobs.WithLabels("enabled").Set(snapshot.Jobs.Count - disabled);
        _jobs.WithLabels("disabled").Set(disabled);
        var queued = 0;
        var inFlight = 0;
        foreach (var run in snapshot.Active.Values)
        {
            if (run.State == RunState.Queued)
            {
                queued++;
            }
            else if (run.IsInFlight)
            {
                inFlight++;
            }
        }

        _queue.Set(queued);
        _inFlight.Set(inFlight);
        var counters = snapshot.Counters;
        _started.IncTo(counters.Started);
        _ended.WithLabels("succeeded").IncTo(counters.Succeeded);
        _ended.WithLabels("failed").IncTo(counters.Failed);
        _ended.WithLabels("killed").IncTo(counters.Killed);
        foreach (var (reason, runs) in counters.SkippedByReason)
        {
            _skipped.WithLabels(reason).IncTo(runs);
        }

        return Task.CompletedTask;
    }
}
