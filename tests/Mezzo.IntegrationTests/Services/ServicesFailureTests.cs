using System.Text;
using System.Text.Json.Nodes;
using Mezzo.Agent.Tasks;
using Mezzo.IntegrationTests.Infrastructure;

namespace Mezzo.IntegrationTests.Services;

/// <summary>Crashes: a task process killed with SIGKILL, and the `mezzo services` process itself killed mid-deployment.</summary>
public sealed class ServicesFailureTests
{
    [Fact]
    public async Task A_task_killed_with_SIGKILL_is_reported_failed_and_replaced()
    {
        await using var cluster = await ServicesCluster.StartAsync();
        await cluster.SendAsync(HttpMethod.Post, "/v2/apps", """{"id":"/victim","cmd":"exec sleep 600","cpus":0.1,"mem":16}""");
        await cluster.WaitForNoDeploymentsAsync("the task to run");
        var original = (await cluster.MasterRunningAsync()).Single();
        // RUNNING can come before the shell has exec'ed sleep: wait for the process itself.
        var sleeper = await Poll.UntilAsync(
            () => Task.FromResult<int?>(OrphanReaper.FindTaskProcesses(cluster.Cluster.SandboxRoot)
                .Where(pid => File.ReadAllText($"/proc/{pid}/cmdline").StartsWith("sleep\0", StringComparison.Ordinal))
                .Select(pid => (int?)pid).SingleOrDefault()),
            "the task's sleep process");

        System.Diagnostics.Process.GetProcessById(sleeper!.Value).Kill();

        await Poll.UntilAsync(async () => (await cluster.MasterRunningAsync()) is { Count: 1 } running && !running.Contains(original), "a replacement task");
        var failure = (await cluster.AppAsync("/victim"))["lastTaskFailure"]!;
        failure["taskId"]!.GetValue<string>().Should().Be(original);
        failure["state"]!.GetValue<string>().Should().Be("TASK_FAILED");
    }

    [Fact]
    public async Task A_failing_health_check_is_reported_on_the_event_stream_and_in_the_counts()
    {
        await using var cluster = await ServicesCluster.StartAsync();
        using var stream = await cluster.Http.GetStreamAsync(new Uri(cluster.Services!.Url, "/v2/events?event_type=failed_health_check_event&event_type=health_status_changed_event"));
        using var events = new StreamReader(stream);
        (await cluster.SendAsync(HttpMethod.Post, "/v2/apps", """
            {"id":"/sick","cmd":"exec sleep 600","cpus":0.1,"mem":16,
             "healthChecks":[{"protocol":"COMMAND","command":{"value":"exit 1"},"delaySeconds":0,"intervalSeconds":1,"gracePeriodSeconds":0,"maxConsecutiveFailures":100}]}
            """)).Status.Should().Be(201);

        var seen = new Dictionary<string, JsonNode>();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (seen.Count < 2)
        {
            var line = await events.ReadLineAsync(timeout.Token) ?? throw new EndOfStreamException();
            if (line.StartsWith("data: ", StringComparison.Ordinal))
            {
                var data = JsonNode.Parse(line["data: ".Length..])!;
                seen[data["eventType"]!.GetValue<string>()] = data;
            }
        }

        seen["failed_health_check_event"]["appId"]!.GetValue<string>().Should().Be("/sick");
        seen["failed_health_check_event"]["healthCheck"]!["protocol"]!.GetValue<string>().Should().Be("COMMAND");
        seen["health_status_changed_event"]["alive"]!.GetValue<bool>().Should().BeFalse();
        var app = await cluster.AppAsync("/sick");
        app["tasksUnhealthy"]!.GetValue<int>().Should().Be(1);
        app["tasks"]![0]!["healthCheckResults"]![0]!["alive"]!.GetValue<bool>().Should().BeFalse();
        (await cluster.SendAsync(HttpMethod.Get, "/v2/deployments")).Body!.AsArray().Should().ContainSingle("an unhealthy app has not arrived");
    }

    [Fact]
    public async Task Killing_mezzo_services_mid_deployment_resumes_it_after_a_restart_without_duplicate_tasks()
    {
        var ports = PortRanges.Next();
        await using var cluster = await InProcessCluster.StartAsync(configureAgent: agent => agent.Resources = $"cpus:4;mem:4096;disk:10000;ports:{ports}");
        using var dir = new TempDir();
        string[] Args() => ["services", "--master", cluster.MasterAddress, "--port", "0", "--ip", "127.0.0.1", "--hostname", "127.0.0.1", "--work-dir", dir.Path];
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        var app = """
            {"id":"/web","cmd":"exec python3 -m http.server $PORT0 --bind 127.0.0.1","cpus":0.1,"mem":32,"instances":3,
             "healthChecks":[{"protocol":"MESOS_HTTP","delaySeconds":5,"intervalSeconds":1,"gracePeriodSeconds":30}]}
            """;
        HashSet<string> launched;
        await using (var first = MezzoProcess.Start(Args()))
        {
            var url = await first.WaitForUrlAsync();
            using var response = await http.PostAsync(new Uri(url, "/v2/apps"), new StringContent(app, Encoding.UTF8, "application/json"));
            ((int)response.StatusCode).Should().Be(201);
            launched = await Poll.UntilAsync(async () => await RunningAsync(cluster) is { Count: 3 } running ? running : null, "3 tasks running");
            var deployments = JsonNode.Parse(await http.GetStringAsync(new Uri(url, "/v2/deployments")))!.AsArray();
            deployments.Should().ContainSingle("the tasks are not healthy yet: the deployment is in progress");

            first.Kill9();
        }

        await using var second = MezzoProcess.Start(Args());
        var restarted = await second.WaitForUrlAsync();
        await Poll.UntilAsync(
            async () => JsonNode.Parse(await http.GetStringAsync(new Uri(restarted, "/v2/deployments")))!.AsArray().Count == 0,
            "the resumed deployment to finish", TimeSpan.FromSeconds(60));
        var web = JsonNode.Parse(await http.GetStringAsync(new Uri(restarted, "/v2/apps/web")))!["app"]!;
        web["tasksHealthy"]!.GetValue<int>().Should().Be(3);
        web["tasks"]!.AsArray().Select(t => t!["id"]!.GetValue<string>()).Should().BeEquivalentTo(launched);
        (await RunningAsync(cluster)).Should().BeEquivalentTo(launched, "no task was launched twice");
        (await cluster.StateAsync())["frameworks"]!.AsArray().Should().ContainSingle("the restart failed over to the same framework");

        using var delete = await http.DeleteAsync(new Uri(restarted, "/v2/apps/web"));
        ((int)delete.StatusCode).Should().Be(200);
        await Poll.UntilAsync(async () => (await RunningAsync(cluster)).Count == 0, "the tasks to be killed");
    }

    private static async Task<HashSet<string>> RunningAsync(InProcessCluster cluster) =>
        [.. (await cluster.StateAsync())["frameworks"]!.AsArray()
            .SelectMany(f => f!["tasks"]!.AsArray())
            .Where(t => t!["state"]!.GetValue<string>() == "TASK_RUNNING")
            .Select(t => t!["id"]!.GetValue<string>())];
}
