using System.Text.Json.Nodes;
using Mezzo.Agent.Tests.Images;
using Mezzo.IntegrationTests.Infrastructure;

namespace Mezzo.IntegrationTests.Services;

/// <summary>Marathon-side health checks (probed by `mezzo services` itself) and DOCKER apps on a real cluster.</summary>
public sealed class ServicesHealthTests
{
    [Fact]
    public async Task A_Marathon_side_HTTP_check_makes_tasks_healthy_and_one_that_stops_answering_is_killed_and_replaced()
    {
        await using var cluster = await ServicesCluster.StartAsync();
        // Each task serves until a file "stop" appears in its sandbox (tasks get a private /tmp), then freezes its
        // server (SIGSTOP): connections are still accepted by the kernel, but nothing answers, so only the probe's
        // timeout can tell.
        var app = """
            {
              "id": "/checked",
              "cmd": "python3 -m http.server $PORT0 --bind 127.0.0.1 & pid=$!; while [ ! -e \"$MESOS_SANDBOX/stop\" ]; do sleep 0.2; done; kill -STOP $pid; sleep 1000",
              "cpus": 0.1, "mem": 32, "instances": 2,
              "healthChecks": [
                { "protocol": "HTTP", "path": "/", "portIndex": 0, "gracePeriodSeconds": 30, "intervalSeconds": 1, "timeoutSeconds": 1, "maxConsecutiveFailures": 2 },
                { "protocol": "TCP", "portIndex": 0, "gracePeriodSeconds": 30, "intervalSeconds": 1, "timeoutSeconds": 1, "maxConsecutiveFailures": 0 }
              ]
            }
            """;

        var (created, body) = await cluster.SendAsync(HttpMethod.Post, "/v2/apps", app);
        created.Should().Be(201, body?.ToJsonString());
        await cluster.WaitForNoDeploymentsAsync("2 tasks healthy by the services process's own probes");
        var healthy = await cluster.AppAsync("/checked");
        healthy["tasksHealthy"]!.GetValue<int>().Should().Be(2);
        healthy["tasksUnhealthy"]!.GetValue<int>().Should().Be(0);
        var tasks = (await cluster.SendAsync(HttpMethod.Get, "/v2/apps/checked/tasks")).Body!["tasks"]!.AsArray();
        tasks.Should().HaveCount(2);
        foreach (var task in tasks)
        {
            var results = task!["healthCheckResults"]!.AsArray();
            results.Should().HaveCount(2, "one result per health check");
            foreach (var result in results)
            {
                result!["alive"]!.GetValue<bool>().Should().BeTrue();
                result["consecutiveFailures"]!.GetValue<int>().Should().Be(0);
                result["firstSuccess"]!.GetValue<string>().Should().NotBeEmpty();
                result["lastSuccess"]!.GetValue<string>().Should().NotBeEmpty();
                result["lastFailure"].Should().BeNull();
                result["lastFailureCause"].Should().BeNull();
                result["instanceId"]!.GetValue<string>().Should().Be(task["id"]!.GetValue<string>());
            }
        }

        var frozen = tasks[0]!["id"]!.GetValue<string>();
        var kept = tasks[1]!["id"]!.GetValue<string>();
        var sandbox = Directory.GetDirectories(cluster.Cluster.SandboxRoot, "*", SearchOption.AllDirectories)
            .Single(d => Path.GetFileName(Path.GetDirectoryName(Path.GetDirectoryName(d))) == frozen && Path.GetFileName(d) != "latest");
        await File.WriteAllTextAsync(Path.Combine(sandbox, "stop"), "");

        // Two failed HTTP probes in a row (1 s timeouts) and the task is killed; a new one takes its place.
        await Poll.UntilAsync(async () => !(await cluster.MasterRunningAsync()).Contains(frozen), "the frozen task to be killed", TimeSpan.FromSeconds(60));
        await Poll.UntilAsync(async () =>
        {
            var now = await cluster.AppAsync("/checked");
            var ids = now["tasks"]!.AsArray().Select(t => t!["id"]!.GetValue<string>()).ToList();
            return now["tasksHealthy"]!.GetValue<int>() == 2 && ids.Count == 2 && ids.Contains(kept) && !ids.Contains(frozen);
        }, "a healthy replacement for the frozen task", TimeSpan.FromSeconds(60));
        (await cluster.MasterRunningAsync()).Should().HaveCount(2).And.Contain(kept);

        (await cluster.SendAsync(HttpMethod.Delete, "/v2/apps/checked")).Status.Should().Be(200);
        await cluster.WaitForNoDeploymentsAsync("the app's tasks to be killed");
    }

    [Fact]
    public async Task A_DOCKER_app_on_the_bridge_pulled_from_a_registry_gets_healthy_through_its_mapped_port_and_scales_to_2()
    {
        BusyboxImage.SkipUnlessUsable();
        var image = TestImage.Create(
            [LayerBuilder.Busybox(), new LayerBuilder().Symlink("bin/httpd", "busybox").Dir("www/").File("www/index.html", "from the container\n")],
            cmd: ["/bin/httpd", "-f", "-p", "8080", "-h", "/www"]);
        await using var registry = new RegistryFixture();
        await registry.InitializeAsync();
        registry.SkipIfMissing();
        await RegistryPush.PushAsync(registry.Http, registry.Uri, "mezzo/httpd", "1", image);
        await using var cluster = await ServicesCluster.StartAsync();
        var app = $$"""
            {
              "id": "/boxed",
              "cpus": 0.1, "mem": 32, "instances": 1,
              "container": {
                "type": "DOCKER",
                "docker": { "image": "{{registry.Uri.Authority}}/mezzo/httpd:1" },
                "portMappings": [{ "containerPort": 8080, "hostPort": 0, "name": "http" }]
              },
              "networks": [{ "mode": "container/bridge" }],
              "healthChecks": [{ "protocol": "HTTP", "path": "/index.html", "portIndex": 0, "gracePeriodSeconds": 60, "intervalSeconds": 1, "timeoutSeconds": 2 }]
            }
            """;

        var (created, body) = await cluster.SendAsync(HttpMethod.Post, "/v2/apps", app);
        created.Should().Be(201, body?.ToJsonString());
        await cluster.WaitForNoDeploymentsAsync("the container to be pulled, started and healthy");
        (await cluster.SendAsync(HttpMethod.Put, "/v2/apps/boxed", """{"instances":2}""")).Status.Should().Be(200);
        await cluster.WaitForNoDeploymentsAsync("a second healthy container");

        var boxed = await cluster.AppAsync("/boxed");
        boxed["tasksHealthy"]!.GetValue<int>().Should().Be(2);
        var hostPorts = boxed["tasks"]!.AsArray().Select(t => t!["ports"]![0]!.GetValue<int>()).ToList();
        hostPorts.Should().HaveCount(2).And.OnlyHaveUniqueItems("hostPort 0 gets a port allocated from each offer");
        hostPorts.Should().NotContain(8080);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        foreach (var port in hostPorts)
        {
            (await http.GetStringAsync(new Uri($"http://127.0.0.1:{port}/index.html"))).Should().Be("from the container\n", $"host port {port} leads to the container's port 8080");
        }

        (await cluster.SendAsync(HttpMethod.Delete, "/v2/apps/boxed")).Status.Should().Be(200);
        await cluster.WaitForNoDeploymentsAsync("the containers to be killed");
    }
}
