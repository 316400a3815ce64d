using Mezzo.IntegrationTests.Infrastructure;

namespace Mezzo.IntegrationTests.Services;

/// <summary>Groups and dependencies through `mezzo services` on a real master and agent.</summary>
public sealed class ServicesGroupTests
{
    [Fact]
    public async Task An_app_starts_only_after_the_apps_it_depends_on_are_healthy()
    {
        await using var cluster = await ServicesCluster.StartAsync();
        var (status, body) = await cluster.SendAsync(HttpMethod.Post, "/v2/groups", """
            {
              "id": "/shop",
              "apps": [
                { "id": "web", "cmd": "sleep 600", "cpus": 0.1, "mem": 16, "dependencies": ["/shop/db"] },
                { "id": "db", "cmd": "exec python3 -m http.server $PORT0 --bind 127.0.0.1", "cpus": 0.1, "mem": 32,
                  "healthChecks": [{ "protocol": "MESOS_HTTP", "delaySeconds": 1, "intervalSeconds": 1, "gracePeriodSeconds": 20 }] }
              ]
            }
            """);
        status.Should().Be(201, body?.ToJsonString());

        await cluster.WaitForNoDeploymentsAsync("both apps");
        var db = (await cluster.AppAsync("/shop/db"))["tasks"]![0]!;
        var web = (await cluster.AppAsync("/shop/web"))["tasks"]![0]!;
        var dbHealthy = DateTimeOffset.Parse(db["healthCheckResults"]![0]!["firstSuccess"]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture);
        var webStaged = DateTimeOffset.Parse(web["stagedAt"]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture);
        webStaged.Should().BeOnOrAfter(dbHealthy, "web waits for its dependency to be healthy");

        (await cluster.SendAsync(HttpMethod.Delete, "/v2/groups/shop")).Status.Should().Be(200);
        await Poll.UntilAsync(async () => (await cluster.MasterRunningAsync()).Count == 0, "the group's tasks to be killed");
    }
}
