using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Mezzo.IntegrationTests.Infrastructure;

namespace Mezzo.IntegrationTests.FrameworkHa;

/// <summary>Several real <c>mezzo jobs</c> processes on one etcd, in front of a real master and agent.</summary>
public sealed class JobsHighAvailabilityTests
{
    private static string[] Args(InProcessCluster cluster, TempDir dir, string store) =>
        ["jobs", "--master", cluster.MasterAddress, "--port", "0", "--ip", "127.0.0.1", "--hostname", "127.0.0.1", "--work-dir", dir.Path,
         "--store", store, "--leader-lease-ttl", "3s"];

    private static async Task<string?> LeaderAsync(HttpClient http, Uri url)
    {
        using var response = await http.GetAsync(new Uri(url, "/v1/scheduler/leader"));
        return response.StatusCode == HttpStatusCode.OK ? JsonNode.Parse(await response.Content.ReadAsStringAsync())!["leader"]!.GetValue<string>() : null;
    }

    private static async Task<JsonObject?> JobAsync(HttpClient http, Uri jobs, string name) =>
        JsonNode.Parse(await http.GetStringAsync(new Uri(jobs, "/v1/scheduler/jobs")))!.AsArray().FirstOrDefault(j => j!["name"]!.GetValue<string>() == name)?.AsObject();

    [Fact]
    public async Task Kill_9_of_the_leader_between_a_runs_launch_and_its_status_records_one_run_and_the_next_runs_go_on_under_the_new_leader()
    {
        await using var etcd = await EtcdServer.StartAsync();
        await using var cluster = await InProcessCluster.StartAsync();
        using var dirA = new TempDir();
        using var dirB = new TempDir();
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        await using var a = MezzoProcess.Start(Args(cluster, dirA, etcd.Url()));
        await using var b = MezzoProcess.Start(Args(cluster, dirB, etcd.Url()));
        var (urlA, urlB) = (await a.WaitForUrlAsync(), await b.WaitForUrlAsync());
        var leader = await Poll.UntilAsync(
            async () => await LeaderAsync(http, urlA) is { } seenByA && seenByA == await LeaderAsync(http, urlB) ? seenByA : null,
            "both instances to name one leader");
        var (leading, standby, standbyUrl) = leader == urlA.Authority ? (a, b, urlB) : (b, a, urlA);

        // Three runs 8 s apart, the first one 1 s from now; posted through the standby, which proxies to the leader.
        var start = DateTimeOffset.UtcNow.AddSeconds(1).ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture);
        using (var posted = await http.PostAsync(new Uri(standbyUrl, "/v1/scheduler/iso8601"),
                   new StringContent($$"""{"name": "survivor", "command": "sleep 4", "schedule": "R3/{{start}}/PT8S"}""", Encoding.UTF8, "application/json")))
        {
            posted.StatusCode.Should().Be(HttpStatusCode.NoContent, await posted.Content.ReadAsStringAsync());
        }

        (await JobAsync(http, standbyUrl, "survivor")).Should().NotBeNull("the standby proxies reads to the leader");
        using (var ping = await http.GetAsync(new Uri(standbyUrl, "/ping")))
        {
            (await ping.Content.ReadAsStringAsync()).Should().Be("pong\n", "a standby answers /ping itself");
            ping.Headers.Contains(Mezzo.Jobs.JobsServer.ViaHeader).Should().BeFalse("a proxied answer would carry the via header");
        }

        await Poll.UntilAsync(
            async () => JsonNode.Parse(await http.GetStringAsync(new Uri(standbyUrl, "/v1/scheduler/job/stat/survivor")))!["taskStatHistory"]!.AsArray()
                .Any(r => r!["status"]!.GetValue<string>() == "Running"),
            "the first run to be launched");
        leading.Kill9();

        await Poll.UntilAsync(async () => await LeaderAsync(http, standbyUrl) == standbyUrl.Authority, "the standby to take over", TimeSpan.FromSeconds(30));
        try
        {
            await Poll.UntilAsync(async () => (await JobAsync(http, standbyUrl, "survivor"))?["successCount"]!.GetValue<long>() == 3,
                "all three runs to succeed", TimeSpan.FromSeconds(60));
        }
        catch (TimeoutException ex)
        {
            throw new TimeoutException($"{ex.Message}\nnew leader:\n{standby.Output}\nstat: {await http.GetStringAsync(new Uri(standbyUrl, "/v1/scheduler/job/stat/survivor"))}", ex);
        }

        var tasks = (await cluster.StateAsync())["frameworks"]!.AsArray()
            .SelectMany(f => f!["tasks"]!.AsArray().Concat(f["completed_tasks"]!.AsArray()))
            .Where(t => t!["name"]!.GetValue<string>() == "ChronosTask:survivor")
            .Select(t => t!["id"]!.GetValue<string>())
            .ToList();
        tasks.Should().HaveCount(3, "the run in flight at the kill was reconciled, not launched again, and no occurrence ran twice");
        tasks.Should().OnlyHaveUniqueItems();
        (await cluster.StateAsync())["frameworks"]!.AsArray().Should().ContainSingle("the new leader subscribed as the same framework");
        var job = await JobAsync(http, standbyUrl, "survivor");
        job!["errorCount"]!.GetValue<long>().Should().Be(0);
    }

    [Fact]
    public async Task A_leader_whose_lease_is_revoked_drops_its_term_and_campaigns_again_as_Chronos_does()
    {
        await using var etcd = await EtcdServer.StartAsync();
        await using var cluster = await InProcessCluster.StartAsync();
        using var dir = new TempDir();
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        await using var only = MezzoProcess.Start(Args(cluster, dir, etcd.Url()));
        var url = await only.WaitForUrlAsync();
        await Poll.UntilAsync(async () => await LeaderAsync(http, url) == url.Authority, "the only instance to lead");
        using (var posted = await http.PostAsync(new Uri(url, "/v1/scheduler/iso8601"),
                   new StringContent("""{"name": "kept", "command": "true", "schedule": "R/2030-01-01T00:00:00Z/P1D"}""", Encoding.UTF8, "application/json")))
        {
            posted.StatusCode.Should().Be(HttpStatusCode.NoContent);
        }

        using var admin = Storage.Etcd.EtcdConnection.Open(Mezzo.Jobs.JobsServer.ParseStore(etcd.Url())!);
        // Revoked only once the term has stored its framework id: before that there is nothing for a new term to resume.
        var frameworkIdKey = Google.Protobuf.ByteString.CopyFromUtf8("/mezzo/jobs/state/meta/framework_id");
        await Poll.UntilAsync(async () => (await admin.Kv.RangeAsync(new Etcdserverpb.RangeRequest { Key = frameworkIdKey })).Kvs.Count == 1, "the framework id in etcd");
        foreach (var lease in (await admin.Lease.LeaseLeasesAsync(new Etcdserverpb.LeaseLeasesRequest())).Leases)
        {
            await admin.Lease.LeaseRevokeAsync(new Etcdserverpb.LeaseRevokeRequest { ID = lease.ID });
        }

        await Poll.UntilAsync(() => only.Output.Contains("stepped down", StringComparison.Ordinal), "the leader to step down");
        await Poll.UntilAsync(async () => await LeaderAsync(http, url) == url.Authority, "the instance to be elected again");
        only.HasExited.Should().BeFalse("Chronos goes back to standby rather than exiting");
        (await JobAsync(http, url, "kept")).Should().NotBeNull("the new term loaded the job from etcd");
        (await cluster.StateAsync())["frameworks"]!.AsArray().Should().ContainSingle("the new term subscribed as the same framework");
    }
}
