using Mezzo.Agent;
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

    [Fact]
    public async Task Unique_hostname_puts_one_task_on_each_agent_and_queues_the_rest()
    {
        await using var cluster = await ServicesCluster.StartAsync();
        var secondOptions = new AgentOptions
        {
            Master = cluster.Cluster.MasterAddress,
            Port = 0,
            Ip = "127.0.0.1",
            Hostname = "node-b",
            WorkDir = Path.Combine(cluster.Cluster.WorkDir, "agent-b"),
            Resources = $"cpus:4;mem:4096;disk:10000;ports:{PortRanges.Next()}",
            Attributes = "rack:r2",
            StatusUpdateRetryInterval = TimeSpan.FromSeconds(1),
            AllowRootTasks = true,
        };
        var second = AgentServer.Create(secondOptions, TestLogging.Configure);
        try
        {
            await second.StartAsync();
            await Poll.UntilAsync(async () => (await cluster.Cluster.StateAsync())["slaves"]!.AsArray().Count == 2, "the second agent");

            (await cluster.SendAsync(HttpMethod.Post, "/v2/apps", """{"id":"/spread","cmd":"sleep 600","cpus":0.1,"mem":16,"instances":3,"constraints":[["hostname","UNIQUE"]]}""")).Status.Should().Be(201);

            await Poll.UntilAsync(async () => (await cluster.AppAsync("/spread"))["tasksRunning"]!.GetValue<int>() == 2, "one task on each agent");
            var hosts = (await cluster.AppAsync("/spread"))["tasks"]!.AsArray().Select(t => t!["host"]!.GetValue<string>());
            hosts.Should().BeEquivalentTo("127.0.0.1", "node-b");
            var queue = (await cluster.SendAsync(HttpMethod.Get, "/v2/queue")).Body!["queue"]!.AsArray();
            queue.Should().ContainSingle().Which!["count"]!.GetValue<int>().Should().Be(1, "a third agent would be needed");

            (await cluster.SendAsync(HttpMethod.Delete, "/v2/apps/spread?force=true")).Status.Should().Be(200);
            await Poll.UntilAsync(async () => (await cluster.MasterRunningAsync()).Count == 0, "the tasks to be killed");
        }
        finally
        {
            // The cluster cleans up after its own agent; this one is the test's.
            await second.DisposeAsync();
            await Mezzo.Agent.Isolation.CgroupIsolator.RemoveAgentCgroupsAsync(secondOptions);
        }
    }
}
