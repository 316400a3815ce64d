using System.Text.Json.Nodes;
using Mezzo.IntegrationTests.Infrastructure;

namespace Mezzo.IntegrationTests.Services;

/// <summary>Marathon's app lifecycle through `mezzo services` on a real master and agent.</summary>
public sealed class ServicesLifecycleTests
{
    private const string WebApp = """
        {
          "id": "/web",
          "cmd": "exec python3 -m http.server $PORT0 --bind 127.0.0.1",
          "cpus": 0.1,
          "mem": 32,
          "instances": 2,
          "healthChecks": [{ "protocol": "MESOS_HTTP", "path": "/", "delaySeconds": 0, "intervalSeconds": 1, "timeoutSeconds": 2, "gracePeriodSeconds": 20 }],
          "upgradeStrategy": { "minimumHealthCapacity": 0.5, "maximumOverCapacity": 0 }
        }
        """;

    [Fact]
    public async Task An_app_is_deployed_scaled_rolled_with_its_healthy_floor_kept_and_deleted()
    {
        await using var cluster = await ServicesCluster.StartAsync();

        var (created, body) = await cluster.SendAsync(HttpMethod.Post, "/v2/apps", WebApp);
        created.Should().Be(201, body?.ToJsonString());
        await cluster.WaitForNoDeploymentsAsync("the app's 2 tasks to run and be healthy");
        var first = await cluster.MasterRunningAsync();
        first.Should().HaveCount(2);
        var app = await cluster.AppAsync("/web");
        app["tasksHealthy"]!.GetValue<int>().Should().Be(2);
        app["tasks"]!.AsArray().Select(t => t!["id"]!.GetValue<string>()).Should().BeEquivalentTo(first);
        var port = app["tasks"]![0]!["ports"]![0]!.GetValue<int>();
        using (var probe = new HttpClient())
        {
            (await probe.GetAsync(new Uri($"http://127.0.0.1:{port}/"))).IsSuccessStatusCode.Should().BeTrue("PORT0 is the host port the task got");
        }

        (await cluster.SendAsync(HttpMethod.Put, "/v2/apps/web", """{"instances":3}""")).Status.Should().Be(200);
        await cluster.WaitForNoDeploymentsAsync("the third task");
        var scaled = await cluster.MasterRunningAsync();
        scaled.Should().HaveCount(3).And.Contain(first, "scaling keeps the running tasks");

        // Rolling restart with a new command, watched on the event stream: 3 instances at minimumHealthCapacity 0.5 must
        // keep 2 healthy throughout.
        using var events = await EventStream.OpenAsync(cluster.Http, new Uri(cluster.Services!.Url, "/v2/events"));
        var (status, result) = await cluster.SendAsync(HttpMethod.Put, "/v2/apps/web", WebApp.Replace("--bind 127.0.0.1", "--bind 127.0.0.1 --directory /tmp", StringComparison.Ordinal).Replace("\"instances\": 2", "\"instances\": 3", StringComparison.Ordinal));
        status.Should().Be(200, result?.ToJsonString());
        var deploymentId = result!["deploymentId"]!.GetValue<string>();
        var lowest = await LowestHealthyUntilDoneAsync(events, scaled, deploymentId);

        lowest.Should().Be(2, "ceil(3 × 0.5) healthy tasks are kept while old ones are replaced one at a time (capacity 3)");
        var rolled = await cluster.MasterRunningAsync();
        rolled.Should().HaveCount(3).And.NotIntersectWith(scaled);
        app = await cluster.AppAsync("/web");
        app["tasks"]!.AsArray().Select(t => t!["version"]!.GetValue<string>()).Distinct().Should().Equal(app["version"]!.GetValue<string>());

        (await cluster.SendAsync(HttpMethod.Delete, "/v2/apps/web")).Status.Should().Be(200);
        await cluster.WaitForNoDeploymentsAsync("the app's tasks to be killed");
        (await cluster.MasterRunningAsync()).Should().BeEmpty();
        (await cluster.SendAsync(HttpMethod.Get, "/v2/apps/web")).Status.Should().Be(404);
    }

    [Fact]
    public async Task Ten_healthy_instances_scale_to_twenty_and_back_to_five_and_roll_at_half_health_capacity()
    {
        await using var cluster = await ServicesCluster.StartAsync();
        var app = WebApp.Replace("\"instances\": 2", "\"instances\": 10", StringComparison.Ordinal).Replace("\"mem\": 32", "\"mem\": 24", StringComparison.Ordinal);
        (await cluster.SendAsync(HttpMethod.Post, "/v2/apps", app)).Status.Should().Be(201);
        await cluster.WaitForNoDeploymentsAsync("10 healthy tasks");
        (await cluster.AppAsync("/web"))["tasksHealthy"]!.GetValue<int>().Should().Be(10);

        (await cluster.SendAsync(HttpMethod.Put, "/v2/apps/web", """{"instances":20}""")).Status.Should().Be(200);
        await cluster.WaitForNoDeploymentsAsync("20 healthy tasks");
        (await cluster.AppAsync("/web"))["tasksHealthy"]!.GetValue<int>().Should().Be(20);
        (await cluster.MasterRunningAsync()).Should().HaveCount(20);

        (await cluster.SendAsync(HttpMethod.Put, "/v2/apps/web", """{"instances":5}""")).Status.Should().Be(200);
        await cluster.WaitForNoDeploymentsAsync("15 tasks killed");
        var five = await cluster.MasterRunningAsync();
        five.Should().HaveCount(5);

        // 5 instances at minimumHealthCapacity 0.5 and maximumOverCapacity 0: at least 3 healthy throughout.
        using var events = await EventStream.OpenAsync(cluster.Http, new Uri(cluster.Services!.Url, "/v2/events"));
        var (status, result) = await cluster.SendAsync(HttpMethod.Post, "/v2/apps/web/restart", "");
        status.Should().Be(200);
        var lowest = await LowestHealthyUntilDoneAsync(events, five, result!["deploymentId"]!.GetValue<string>());

        lowest.Should().Be(3, "ceil(5 × 0.5) = 3 stay healthy, and the restart does go below full strength");
        (await cluster.MasterRunningAsync()).Should().HaveCount(5).And.NotIntersectWith(five);
    }

    [Fact]
    public async Task A_new_version_that_never_gets_healthy_leaves_the_old_tasks_serving_and_is_rolled_back()
    {
        await using var cluster = await ServicesCluster.StartAsync();
        var app = WebApp.Replace("\"upgradeStrategy\": { \"minimumHealthCapacity\": 0.5, \"maximumOverCapacity\": 0 }", "\"upgradeStrategy\": { \"minimumHealthCapacity\": 1, \"maximumOverCapacity\": 1 }", StringComparison.Ordinal);
        (await cluster.SendAsync(HttpMethod.Post, "/v2/apps", app)).Status.Should().Be(201);
        await cluster.WaitForNoDeploymentsAsync("2 healthy tasks");
        var serving = await cluster.MasterRunningAsync();

        // Nothing listens on $PORT0: the new tasks run but never pass the HTTP check.
        var (status, result) = await cluster.SendAsync(HttpMethod.Put, "/v2/apps/web", app.Replace("exec python3 -m http.server $PORT0 --bind 127.0.0.1", "sleep 600", StringComparison.Ordinal));
        status.Should().Be(200);
        await Poll.UntilAsync(async () => (await cluster.MasterRunningAsync()).Count == 4, "the 2 new tasks next to the 2 old ones");
        var web = await cluster.AppAsync("/web");
        web["tasksHealthy"]!.GetValue<int>().Should().Be(2);
        (await cluster.MasterRunningAsync()).Should().Contain(serving, "the old tasks keep serving while the new ones are not healthy");
        (await cluster.SendAsync(HttpMethod.Get, "/v2/deployments")).Body!.AsArray().Should().ContainSingle();

        var (rolledBack, rollback) = await cluster.SendAsync(HttpMethod.Delete, $"/v2/deployments/{result!["deploymentId"]!.GetValue<string>()}");
        rolledBack.Should().Be(200);
        rollback!["deploymentId"].Should().NotBeNull();
        await cluster.WaitForNoDeploymentsAsync("the rollback");
        (await cluster.MasterRunningAsync()).Should().BeEquivalentTo(serving, "the rollback keeps the old tasks and removes the new ones");
        (await cluster.AppAsync("/web"))["cmd"]!.GetValue<string>().Should().Contain("http.server");
    }

    [Fact]
    public async Task A_deployment_past_its_deadline_is_rolled_back_and_reported_failed()
    {
        await using var cluster = await ServicesCluster.StartAsync();
        // minimumHealthCapacity 1: no old task goes before a new one is healthy, so the rollback finds them all.
        var app = WebApp
            .Replace("\"instances\": 2,", "\"instances\": 2, \"labels\": {\"MEZZO_DEPLOYMENT_DEADLINE_SECONDS\": \"4\"},", StringComparison.Ordinal)
            .Replace("\"minimumHealthCapacity\": 0.5, \"maximumOverCapacity\": 0", "\"minimumHealthCapacity\": 1, \"maximumOverCapacity\": 1", StringComparison.Ordinal);
        (await cluster.SendAsync(HttpMethod.Post, "/v2/apps", app)).Status.Should().Be(201);
        await cluster.WaitForNoDeploymentsAsync("2 healthy tasks");
        var serving = await cluster.MasterRunningAsync();
        using var events = await EventStream.OpenAsync(cluster.Http, new Uri(cluster.Services!.Url, "/v2/events?event_type=deployment_failed"));

        var (status, result) = await cluster.SendAsync(HttpMethod.Put, "/v2/apps/web", app.Replace("exec python3 -m http.server $PORT0 --bind 127.0.0.1", "sleep 600", StringComparison.Ordinal));
        status.Should().Be(200);

        var (type, failed) = await events.NextAsync();
        type.Should().Be("deployment_failed");
        failed["id"]!.GetValue<string>().Should().Be(result!["deploymentId"]!.GetValue<string>());
        failed["reason"]!.GetValue<string>().Should().Contain("deadline");
        await cluster.WaitForNoDeploymentsAsync("the automatic rollback");
        (await cluster.AppAsync("/web"))["cmd"]!.GetValue<string>().Should().Contain("http.server");
        (await cluster.MasterRunningAsync()).Should().BeEquivalentTo(serving, "the old version kept serving throughout");
    }

    [Fact]
    public async Task A_deployment_waits_for_the_readiness_check_of_its_new_tasks()
    {
        await using var cluster = await ServicesCluster.StartAsync();
        (await cluster.SendAsync(HttpMethod.Post, "/v2/apps", """
            {"id":"/slow","cmd":"(sleep 3; touch ready) & exec python3 -m http.server $PORT0 --bind 127.0.0.1","cpus":0.1,"mem":32,
             "portDefinitions":[{"port":0,"name":"http"}],
             "readinessChecks":[{"name":"ready-file","portName":"http","path":"/ready","intervalSeconds":1,"timeoutSeconds":0}]}
            """)).Status.Should().Be(201);

        await Poll.UntilAsync(async () => (await cluster.AppAsync("/slow"))["tasksRunning"]!.GetValue<int>() == 1, "the task to run");
        var deployment = (await cluster.SendAsync(HttpMethod.Get, "/v2/deployments")).Body!.AsArray().Single()!;
        var result = deployment["currentActions"]![0]!["readinessCheckResults"]![0]!;
        result["name"]!.GetValue<string>().Should().Be("ready-file");
        result["ready"]!.GetValue<bool>().Should().BeFalse("/ready answers 404 for the first 3 seconds");

        await cluster.WaitForNoDeploymentsAsync("the task to become ready");
    }

    [Fact]
    public async Task A_restarted_services_process_keeps_its_apps_and_tasks_and_launches_no_duplicates()
    {
        await using var cluster = await ServicesCluster.StartAsync();
        await cluster.SendAsync(HttpMethod.Post, "/v2/apps", """{"id":"/sleepy","cmd":"sleep 600","cpus":0.1,"mem":16,"instances":2}""");
        await cluster.WaitForNoDeploymentsAsync("2 tasks to run");
        var before = await cluster.MasterRunningAsync();
        before.Should().HaveCount(2);
        var frameworkId = (await cluster.SendAsync(HttpMethod.Get, "/v2/info")).Body!["frameworkId"]!.GetValue<string>();

        await cluster.StopServicesAsync();
        await cluster.StartServicesAsync();

        // Subscribed again as the same framework and reconciled: the same two tasks, known and running.
        await Poll.UntilAsync(async () => (await cluster.SendAsync(HttpMethod.Get, "/v2/info")).Body!["frameworkId"]?.GetValue<string>() == frameworkId, "the same framework id");
        await Poll.UntilAsync(async () => (await cluster.AppAsync("/sleepy"))["tasksRunning"]!.GetValue<int>() == 2, "the tasks to be reconciled");
        var app = await cluster.AppAsync("/sleepy");
        app["tasks"]!.AsArray().Select(t => t!["id"]!.GetValue<string>()).Should().BeEquivalentTo(before);
        (await cluster.SendAsync(HttpMethod.Get, "/v2/queue")).Body!["queue"]!.AsArray().Should().BeEmpty("nothing is missing");
        (await cluster.MasterTasksAsync()).Keys.Should().BeEquivalentTo(before, "no task was launched twice");
        (await cluster.Cluster.StateAsync())["frameworks"]!.AsArray().Should().ContainSingle();

        (await cluster.SendAsync(HttpMethod.Delete, "/v2/apps/sleepy")).Status.Should().Be(200);
        await Poll.UntilAsync(async () => (await cluster.MasterRunningAsync()).Count == 0, "the tasks to be killed");
    }

    [Fact]
    public async Task A_killed_task_is_replaced_and_one_that_keeps_failing_backs_off_with_its_failure_shown()
    {
        await using var cluster = await ServicesCluster.StartAsync();
        await cluster.SendAsync(HttpMethod.Post, "/v2/apps", """{"id":"/sleepy","cmd":"sleep 600","cpus":0.1,"mem":16,"instances":1}""");
        await cluster.WaitForNoDeploymentsAsync("the task to run");
        var original = (await cluster.MasterRunningAsync()).Single();

        var (status, killed) = await cluster.SendAsync(HttpMethod.Delete, $"/v2/apps/sleepy/tasks/{original}");
        status.Should().Be(200);
        killed!["task"]!["id"]!.GetValue<string>().Should().Be(original);
        await Poll.UntilAsync(async () => (await cluster.MasterRunningAsync()) is { Count: 1 } running && !running.Contains(original), "a replacement");

        (await cluster.SendAsync(HttpMethod.Post, "/v2/apps", """{"id":"/crashy","cmd":"exit 3","cpus":0.1,"mem":16,"backoffSeconds":30}""")).Status.Should().Be(201);
        var failure = await Poll.UntilAsync(async () => (await cluster.AppAsync("/crashy"))["lastTaskFailure"], "the first failure");
        failure!["state"]!.GetValue<string>().Should().Be("TASK_FAILED");
        var queued = (await cluster.SendAsync(HttpMethod.Get, "/v2/queue")).Body!["queue"]!.AsArray().Single(q => q!["app"]!["id"]!.GetValue<string>() == "/crashy")!;
        queued["delay"]!["overdue"]!.GetValue<bool>().Should().BeFalse("the next launch waits backoffSeconds");
        queued["delay"]!["timeLeftSeconds"]!.GetValue<int>().Should().BeInRange(1, 30);

        // Resetting the delay launches it again at once (and it fails again).
        (await cluster.SendAsync(HttpMethod.Delete, "/v2/queue/crashy/delay")).Status.Should().Be(204);
        await Poll.UntilAsync(async () => (await cluster.AppAsync("/crashy"))["lastTaskFailure"]!["taskId"]!.GetValue<string>() != failure["taskId"]!.GetValue<string>(), "a second attempt");
    }

    /// <summary>
    /// Follows the event stream until <paramref name="deploymentId"/> succeeds, tracking which tasks are running and
    /// healthy after each event, and returns the fewest seen.
    /// </summary>
    private static async Task<int> LowestHealthyUntilDoneAsync(EventStream events, IEnumerable<string> healthyAtStart, string deploymentId)
    {
        var healthy = healthyAtStart.ToHashSet();
        var lowest = healthy.Count;
        while (true)
        {
            var (type, data) = await events.NextAsync();
            var taskId = data["taskId"]?.GetValue<string>() ?? data["instanceId"]?.GetValue<string>();
            if (type == "status_update_event" && data["taskStatus"]!.GetValue<string>() != "TASK_RUNNING")
            {
                healthy.Remove(taskId!);
            }
            else if (type == "health_status_changed_event")
            {
                if (data["alive"]!.GetValue<bool>())
                {
                    healthy.Add(taskId!);
                }
                else
                {
                    healthy.Remove(taskId!);
                }
            }

            lowest = Math.Min(lowest, healthy.Count);
            if (type == "deployment_success" && data["id"]!.GetValue<string>() == deploymentId)
            {
                return lowest;
            }

            type.Should().NotBe("deployment_failed");
        }
    }

    private sealed class EventStream : IDisposable
    {
        private readonly HttpResponseMessage _response;
        private readonly StreamReader _reader;

        private EventStream(HttpResponseMessage response, StreamReader reader)
        {
            _response = response;
            _reader = reader;
        }

        public static async Task<EventStream> OpenAsync(HttpClient http, Uri url)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, url);
            var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            return new EventStream(response, new StreamReader(await response.Content.ReadAsStreamAsync()));
        }

        public async Task<(string Type, JsonNode Data)> NextAsync()
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            string? type = null;
            while (true)
            {
                var line = await _reader.ReadLineAsync(timeout.Token) ?? throw new EndOfStreamException("The event stream ended");
                if (line.StartsWith("event: ", StringComparison.Ordinal))
                {
                    type = line["event: ".Length..];
                }
                else if (line.StartsWith("data: ", StringComparison.Ordinal))
                {
                    return (type!, JsonNode.Parse(line["data: ".Length..])!);
                }
            }
        }

        public void Dispose()
        {
            _reader.Dispose();
            _response.Dispose();
        }
    }
}
