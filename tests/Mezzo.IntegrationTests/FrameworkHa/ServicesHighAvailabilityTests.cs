using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Mezzo.IntegrationTests.Infrastructure;
using Mezzo.IntegrationTests.Services;

namespace Mezzo.IntegrationTests.FrameworkHa;

/// <summary>Several real <c>mezzo services</c> processes on one etcd, in front of a real master and agent.</summary>
public sealed class ServicesHighAvailabilityTests
{
    private static string[] Args(InProcessCluster cluster, TempDir dir, string store) =>
        ["services", "--master", cluster.MasterAddress, "--port", "0", "--ip", "127.0.0.1", "--hostname", "127.0.0.1", "--work-dir", dir.Path,
         "--store", store, "--leader-lease-ttl", "3s"];

    private static async Task<string?> LeaderAsync(HttpClient http, Uri url)
    {
        using var response = await http.GetAsync(new Uri(url, "/v2/leader"));
        return response.StatusCode == HttpStatusCode.OK ? JsonNode.Parse(await response.Content.ReadAsStringAsync())!["leader"]!.GetValue<string>() : null;
    }

    private static async Task<HashSet<string>> RunningAsync(InProcessCluster cluster) =>
        [.. (await cluster.StateAsync())["frameworks"]!.AsArray()
            .SelectMany(f => f!["tasks"]!.AsArray())
            .Where(t => t!["state"]!.GetValue<string>() == "TASK_RUNNING")
            .Select(t => t!["id"]!.GetValue<string>())];

    [Fact]
    public async Task Kill_9_of_the_leader_mid_deployment_hands_over_to_the_standby_which_finishes_it_without_duplicates()
    {
        await using var etcd = await EtcdServer.StartAsync();
        var ports = PortRanges.Next();
        await using var cluster = await InProcessCluster.StartAsync(configureAgent: agent => agent.Resources = $"cpus:4;mem:4096;disk:10000;ports:{ports}");
        using var dirA = new TempDir();
        using var dirB = new TempDir();
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        await using var a = MezzoProcess.Start(Args(cluster, dirA, etcd.Url()));
        await using var b = MezzoProcess.Start(Args(cluster, dirB, etcd.Url()));
        var (urlA, urlB) = (await a.WaitForUrlAsync(), await b.WaitForUrlAsync());
        var leader = await Poll.UntilAsync(
            async () => await LeaderAsync(http, urlA) is { } seenByA && seenByA == await LeaderAsync(http, urlB) ? seenByA : null,
            "both instances to name one leader");
        var (leading, leaderUrl, standbyUrl) = leader == urlA.Authority ? (a, urlA, urlB) : (b, urlB, urlA);
        leader.Should().Be(leaderUrl.Authority);
        (await http.GetStringAsync(new Uri(standbyUrl, "/ping"))).Should().Be("pong", "a standby answers /ping itself");

        // Posted to the standby: Marathon's leader proxy forwards it and says who answered.
        var app = """
            {"id":"/web","cmd":"exec python3 -m http.server $PORT0 --bind 127.0.0.1","cpus":0.1,"mem":32,"instances":3,
             "healthChecks":[{"protocol":"MESOS_HTTP","delaySeconds":5,"intervalSeconds":1,"gracePeriodSeconds":30}]}
            """;
        using (var posted = await http.PostAsync(new Uri(standbyUrl, "/v2/apps"), new StringContent(app, Encoding.UTF8, "application/json")))
        {
            posted.StatusCode.Should().Be(HttpStatusCode.Created, await posted.Content.ReadAsStringAsync());
            posted.Headers.GetValues("X-Marathon-Leader").Should().Equal("http://" + leader);
            posted.Headers.GetValues("X-Marathon-Via").Should().Equal(standbyUrl.Authority);
        }

        var launched = await Poll.UntilAsync(async () => await RunningAsync(cluster) is { Count: 3 } running ? running : null, "3 tasks running");
        var proxiedApps = JsonNode.Parse(await http.GetStringAsync(new Uri(standbyUrl, "/v2/apps")))!["apps"]!.AsArray();
        proxiedApps.Select(x => x!["id"]!.GetValue<string>()).Should().Equal(["/web"], "the standby proxies /v2/apps to the leader");
        JsonNode.Parse(await http.GetStringAsync(new Uri(standbyUrl, "/v2/deployments")))!.AsArray()
            .Should().ContainSingle("the tasks are not healthy yet: the deployment is in progress");

        leading.Kill9();
        await Poll.UntilAsync(async () => await LeaderAsync(http, standbyUrl) == standbyUrl.Authority, "the standby to take over", TimeSpan.FromSeconds(30));
        try
        {
            await Poll.UntilAsync(
                async () => JsonNode.Parse(await http.GetStringAsync(new Uri(standbyUrl, "/v2/deployments")))!.AsArray().Count == 0,
                "the new leader to finish the deployment", TimeSpan.FromSeconds(60));
        }
        catch (TimeoutException ex)
        {
            throw new TimeoutException($"{ex.Message}\nnew leader:\n{(leading == a ? b : a).Output}", ex);
        }

        var web = JsonNode.Parse(await http.GetStringAsync(new Uri(standbyUrl, "/v2/apps/web")))!["app"]!;
        web["tasksHealthy"]!.GetValue<int>().Should().Be(3);
        web["tasks"]!.AsArray().Select(t => t!["id"]!.GetValue<string>()).Should().BeEquivalentTo(launched, "the new leader reconciled the tasks");
        (await RunningAsync(cluster)).Should().BeEquivalentTo(launched, "no task was launched twice");
        (await cluster.StateAsync())["frameworks"]!.AsArray().Should().ContainSingle("the new leader failed over to the same framework");

        using var delete = await http.DeleteAsync(new Uri(standbyUrl, "/v2/apps/web"));
        delete.StatusCode.Should().Be(HttpStatusCode.OK);
        await Poll.UntilAsync(async () => (await RunningAsync(cluster)).Count == 0, "the tasks to be killed");
    }

    [Fact]
    public async Task A_leader_whose_lease_is_revoked_stops_at_once_and_exits_as_Marathon_does()
    {
        await using var etcd = await EtcdServer.StartAsync();
        await using var cluster = await InProcessCluster.StartAsync();
        using var dir = new TempDir();
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        await using var only = MezzoProcess.Start(Args(cluster, dir, etcd.Url()));
        var url = await only.WaitForUrlAsync();
        await Poll.UntilAsync(async () => await LeaderAsync(http, url) == url.Authority, "the only instance to lead");

        using var admin = Storage.Etcd.EtcdConnection.Open(Mezzo.Services.ServicesServer.ParseStore(etcd.Url())!);
        var leases = await admin.Lease.LeaseLeasesAsync(new Etcdserverpb.LeaseLeasesRequest());
        foreach (var lease in leases.Leases)
        {
            await admin.Lease.LeaseRevokeAsync(new Etcdserverpb.LeaseRevokeRequest { ID = lease.ID });
        }

        (await only.WaitForExitAsync(TimeSpan.FromSeconds(30))).Should().Be(3, "a leader that lost its term ends for its supervisor to restart it");
        only.Output.Should().Contain("Terminating after loss of leadership");
    }

    [Theory]
    [InlineData("zk://127.0.0.1:2181/marathon", "--store: unknown store 'zk://127.0.0.1:2181/marathon'")]
    [InlineData("etcd://", "empty etcd endpoint")]
    [InlineData("etcd://127.0.0.1:99999", "bad etcd endpoint '127.0.0.1:99999'")]
    public async Task A_malformed_store_fails_fast_naming_it(string store, string message)
    {
        foreach (var command in new[] { "services", "jobs" })
        {
            await using var process = MezzoProcess.Start(command, "--master", "127.0.0.1:1", "--port", "0", "--store", store);
            (await process.WaitForExitAsync(TimeSpan.FromSeconds(30))).Should().NotBe(0);
            process.Output.Should().Contain(message);
        }
    }

    [Fact]
    public async Task An_unreachable_etcd_at_start_is_a_clear_error_naming_it()
    {
        using var dir = new TempDir();
        var store = $"etcd://127.0.0.1:{Ports.Free()}";
        foreach (var command in new[] { "services", "jobs" })
        {
            await using var process = MezzoProcess.Start(command, "--master", "127.0.0.1:1", "--port", "0", "--ip", "127.0.0.1", "--work-dir", dir.Path, "--store", store);
            (await process.WaitForExitAsync(TimeSpan.FromSeconds(30))).Should().Be(1);
            process.Output.Should().Contain($"Cannot start mezzo {command}: Cannot reach etcd at {store}");
        }
    }
}
