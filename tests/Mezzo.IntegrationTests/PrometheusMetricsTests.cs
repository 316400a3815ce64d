using System.Net;
using System.Text.Json.Nodes;
using AwesomeAssertions;
using Mezzo.IntegrationTests.Infrastructure;

namespace Mezzo.IntegrationTests;

/// <summary><c>GET /metrics</c> in Prometheus's text format, scraped and parsed as Prometheus would.</summary>
public sealed class PrometheusMetricsTests
{
    [Fact]
    public async Task Master_metrics_scrape_cleanly_and_match_the_snapshot()
    {
        await using var cluster = await InProcessCluster.StartAsync();
        await using var scheduler = new RawScheduler(cluster.MasterUrl);
        await scheduler.SubscribeAsync(RawScheduler.FrameworkInfo("scraped"));
        var offer = await scheduler.NextOfferAsync();
        (await scheduler.LaunchAsync(offer, "t", "sleep 60")).Status.Should().Be(HttpStatusCode.Accepted);
        await scheduler.WaitForUpdateAsync("t", "TASK_RUNNING");

        using var response = await cluster.Http.GetAsync(new Uri(cluster.MasterUrl, "metrics"));
        response.StatusCode.Should().Be(HttpStatusCode.OK);
        response.Content.Headers.ContentType!.MediaType.Should().Be("text/plain");
        var samples = Parse(await response.Content.ReadAsStringAsync());

        var snapshot = JsonNode.Parse(await cluster.Http.GetStringAsync(new Uri(cluster.MasterUrl, "metrics/snapshot")))!.AsObject();
        double Snapshot(string key) => snapshot[key]!.GetValue<double>();
        samples["mezzo_master_agents{state=\"active\"}"].Should().Be(Snapshot("master/slaves_active")).And.Be(1);
        samples["mezzo_master_frameworks{state=\"connected\"}"].Should().Be(1);
        samples["mezzo_master_tasks{state=\"running\"}"].Should().Be(Snapshot("master/tasks_running")).And.Be(1);
        samples["mezzo_master_tasks_launched_total"].Should().Be(1);
        samples["mezzo_master_cpus{kind=\"total\"}"].Should().Be(4);
        samples["mezzo_master_cpus{kind=\"used\"}"].Should().Be(0.1);
        samples["mezzo_master_mem_bytes{kind=\"total\"}"].Should().Be(4096.0 * 1024 * 1024);
        samples["mezzo_master_resource_used_ratio{resource=\"cpus\"}"].Should().BeApproximately(0.025, 1e-9);
        samples["mezzo_master_offers_outstanding"].Should().Be(Snapshot("master/outstanding_offers"));
        samples["mezzo_master_operator_event_stream_subscribers"].Should().Be(0);
        samples.Should().ContainKey("mezzo_master_uptime_seconds");
        samples.Keys.Should().Contain(k => k.StartsWith("mezzo_master_http_requests_total{method=\"POST\",code=\"202\"}", StringComparison.Ordinal));
        samples.Keys.Should().Contain(k => k.StartsWith("mezzo_master_http_request_duration_seconds_bucket{", StringComparison.Ordinal));
    }

    [Fact]
    public async Task With_etcd_the_leader_and_the_standby_both_serve_metrics_and_only_the_leader_says_it_is_elected()
    {
        await using var etcd = await EtcdServer.StartAsync();
        using var dir = new TempDir();
        await using var first = await StartEtcdMasterAsync(etcd, Path.Combine(dir.Path, "m1"));
        await using var second = await StartEtcdMasterAsync(etcd, Path.Combine(dir.Path, "m2"));
        await Poll.UntilAsync(() => first.IsLeading || second.IsLeading, "a leader to be elected");
        var (leader, standby) = first.IsLeading ? (first, second) : (second, first);
        using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false });

        var leading = Parse(await http.GetStringAsync(new Uri(leader.Url, "metrics")));
        leading["mezzo_master_elected"].Should().Be(1);
        leading.Should().ContainKey("mezzo_master_agents{state=\"active\"}");
        var standing = Parse(await http.GetStringAsync(new Uri(standby.Url, "metrics")));
        standing["mezzo_master_elected"].Should().Be(0);
        standing.Should().NotContainKey("mezzo_master_agents{state=\"active\"}", "a standby knows no cluster");
    }

    private static async Task<Mezzo.Master.MasterServer> StartEtcdMasterAsync(EtcdServer etcd, string workDir)
    {
        var master = Mezzo.Master.MasterServer.Create(new Mezzo.Master.MasterOptions
        {
            Port = 0,
            Ip = "127.0.0.1",
            Hostname = "127.0.0.1",
            WorkDir = workDir,
            Store = etcd.Url(),
            LeaderLeaseTtl = TimeSpan.FromSeconds(2),
        }, TestLogging.Configure);
        await master.StartAsync();
        return master;
    }

    /// <summary>The samples of a scrape that passed the strict checker (<see cref="Metrics.ExpositionChecker"/>), by "name{labels}".</summary>
    internal static Dictionary<string, double> Parse(string text) => new(Metrics.ExpositionChecker.Check(text).Samples, StringComparer.Ordinal);
}
