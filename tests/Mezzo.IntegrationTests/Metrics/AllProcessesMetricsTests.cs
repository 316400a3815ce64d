using System.Net;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Mezzo.IntegrationTests.Metrics;

/// <summary>
/// <c>/metrics</c> of all four processes scraped after real work and read with the strict checker, their domain
/// numbers checked against what was done, and the Grafana dashboard checked against the names the scrapes contain.
/// </summary>
public sealed partial class AllProcessesMetricsTests(ScrapedCluster cluster) : IClassFixture<ScrapedCluster>
{
    [Theory]
    [InlineData("master", "mezzo_master_")]
    [InlineData("agent", "mezzo_agent_")]
    [InlineData("services", "mezzo_services_")]
    [InlineData("jobs", "mezzo_jobs_")]
    public void Every_process_serves_a_valid_exposition_with_its_http_requests(string process, string prefix)
    {
        var (response, _) = cluster.Scrapes[process];
        response.StatusCode.Should().Be(HttpStatusCode.OK);
        response.Content.Headers.ContentType!.ToString().Should().Be("text/plain; version=0.0.4; charset=utf-8");
        var exposition = cluster.Checked(process);

        exposition.Families[prefix + "http_requests_total"].Type.Should().Be("counter");
        exposition.Families[prefix + "http_request_duration_seconds"].Type.Should().Be("histogram");
        exposition.Samples.Keys.Should().Contain(k => k.StartsWith(prefix + "http_requests_total{method=\"GET\",code=\"200\"}", StringComparison.Ordinal),
            "the fixture's first scrape was answered");
        exposition.Families.Keys.Where(n => !n.StartsWith(prefix, StringComparison.Ordinal) && !n.StartsWith("mezzo_", StringComparison.Ordinal))
            .Should().BeEmpty("every family carries the mezzo_ prefix");
    }

    [Fact]
    public void Master_exports_allocation_time_and_the_running_task()
    {
        var samples = cluster.Checked("master").Samples;
        samples["mezzo_master_allocation_runs_total"].Should().BeGreaterThan(0);
        samples["mezzo_master_allocation_seconds_total"].Should().BeGreaterThan(0);
        samples.Should().ContainKey("mezzo_master_allocation_last_seconds");
        samples["mezzo_master_tasks{state=\"running\"}"].Should().Be(1, "the services app's instance runs; the job's task finished");
        samples["mezzo_master_frameworks{state=\"connected\"}"].Should().Be(2);
        samples["mezzo_master_tasks_terminal_total{state=\"finished\"}"].Should().Be(1);
        samples["mezzo_master_tasks_terminal_total{state=\"killed\"}"].Should().Be(1, "/doomed's task");
    }

    [Fact]
    public void Services_exports_apps_instances_launches_kills_offers_and_a_404()
    {
        var samples = cluster.Checked("services").Samples;
        samples["mezzo_services_apps"].Should().Be(1);
        samples["mezzo_services_instances{state=\"running\"}"].Should().Be(1);
        samples["mezzo_services_instances{state=\"staging\"}"].Should().Be(0, "the usual states are exported at 0");
        samples["mezzo_services_instances_health{health=\"unknown\"}"].Should().Be(1, "the app has no health checks");
        samples["mezzo_services_instances_health{health=\"healthy\"}"].Should().Be(0);
        samples["mezzo_services_deployments"].Should().Be(0);
        samples["mezzo_services_launch_queue_instances"].Should().Be(0);
        samples["mezzo_services_subscribed"].Should().Be(1);
        samples["mezzo_services_tasks_launched_total"].Should().Be(2, "/web and /doomed");
        samples["mezzo_services_tasks_killed_total{reason=\"plan\"}"].Should().Be(1, "/doomed was removed");
        samples["mezzo_services_tasks_killed_total{reason=\"request\"}"].Should().Be(0);
        samples["mezzo_services_offers_total{result=\"used\"}"].Should().Be(2);
        samples.Should().ContainKey("mezzo_services_offers_total{result=\"declined\"}");
        samples["mezzo_services_http_requests_total{method=\"GET\",code=\"404\"}"].Should().Be(1);
        samples["mezzo_services_http_requests_total{method=\"POST\",code=\"201\"}"].Should().Be(2);
        samples["mezzo_services_http_requests_total{method=\"DELETE\",code=\"200\"}"].Should().Be(1);
    }

    [Fact]
    public async Task Services_also_serves_the_exposition_at_marathons_metrics_prometheus()
    {
        using var response = await cluster.Http.GetAsync(new Uri(cluster.Scrapes["services"].Response.RequestMessage!.RequestUri!, "/metrics/prometheus"));
        response.StatusCode.Should().Be(HttpStatusCode.OK);
        ExpositionChecker.Check(await response.Content.ReadAsStringAsync()).Samples["mezzo_services_apps"].Should().Be(1);
    }

    [Fact]
    public void Jobs_exports_jobs_runs_queue_and_tick_time()
    {
        var samples = cluster.Checked("jobs").Samples;
        (samples["mezzo_jobs_jobs{state=\"enabled\"}"] + samples["mezzo_jobs_jobs{state=\"disabled\"}"]).Should().Be(1);
        samples["mezzo_jobs_runs_started_total"].Should().Be(1);
        samples["mezzo_jobs_runs_finished_total{result=\"succeeded\"}"].Should().Be(1);
        samples["mezzo_jobs_runs_finished_total{result=\"failed\"}"].Should().Be(0);
        samples["mezzo_jobs_runs_skipped_total{reason=\"no_offer\"}"].Should().Be(0, "every reason is exported from the start");
        samples["mezzo_jobs_queue_length"].Should().Be(0);
        samples["mezzo_jobs_runs_in_flight"].Should().Be(0);
        samples["mezzo_jobs_tick_duration_seconds_count"].Should().BeGreaterThan(0, "the scheduler ticks every 100 ms");
        samples["mezzo_jobs_tick_duration_seconds_bucket{le=\"+Inf\"}"].Should().Be(samples["mezzo_jobs_tick_duration_seconds_count"]);
    }

    [Fact]
    public async Task Jobs_answers_ping_as_chronos_does()
    {
        using var response = await cluster.Http.GetAsync(new Uri(cluster.Jobs.Url, "ping"));
        response.StatusCode.Should().Be(HttpStatusCode.OK);
        (await response.Content.ReadAsStringAsync()).Should().Be("pong\n");
        response.Content.Headers.ContentType!.MediaType.Should().Be("text/plain");
        response.Headers.CacheControl!.NoCache.Should().BeTrue();
        response.Headers.CacheControl.NoStore.Should().BeTrue();
    }

    [Fact]
    public void Every_metric_the_grafana_dashboard_queries_exists_in_a_real_scrape()
    {
        var known = new HashSet<string>(StringComparer.Ordinal);
        foreach (var process in cluster.Scrapes.Keys)
        {
            known.UnionWith(cluster.Checked(process).QueryableNames);
        }

        var dashboard = JsonNode.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Metrics", "mezzo-dashboard.json")))!;
        dashboard["schemaVersion"]!.GetValue<int>().Should().BeGreaterThanOrEqualTo(39);
        dashboard["templating"]!["list"]!.AsArray().Should().Contain(v => (string?)v!["type"] == "datasource" && (string?)v["query"] == "prometheus");
        var panels = dashboard["panels"]!.AsArray().Where(p => (string?)p!["type"] != "row").ToList();
        panels.Should().NotBeEmpty();
        var referenced = new HashSet<string>(StringComparer.Ordinal);
        foreach (var panel in panels)
        {
            var title = (string?)panel!["title"];
            var expressions = panel["targets"]!.AsArray().Select(t => (string)t!["expr"]!).ToList();
            expressions.Should().NotBeEmpty($"panel '{title}' queries something");
            foreach (var expression in expressions)
            {
                var names = MetricName().Matches(expression).Select(m => m.Value).Where(n => n.StartsWith("mezzo_", StringComparison.Ordinal)).ToList();
                names.Should().NotBeEmpty($"panel '{title}' queries a Mezzo metric: {expression}");
                foreach (var name in names)
                {
                    known.Should().Contain(name, $"panel '{title}' queries {name}, which a scrape must contain");
                    referenced.Add(name);
                }
            }
        }

        foreach (var prefix in (string[])["mezzo_master_", "mezzo_agent_", "mezzo_services_", "mezzo_jobs_"])
        {
            referenced.Should().Contain(n => n.StartsWith(prefix, StringComparison.Ordinal), $"the dashboard covers {prefix}*");
        }
    }

    // A PromQL identifier not followed by '(' (a function) or inside a label matcher's quotes: names are what is left.
    [GeneratedRegex("""(?<![\w:"])[a-zA-Z_:][a-zA-Z0-9_:]*(?![\w:(])""")]
    private static partial Regex MetricName();
}
