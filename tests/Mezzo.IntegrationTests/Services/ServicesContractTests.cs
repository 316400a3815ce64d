using System.Text.Json.Nodes;
using Mezzo.IntegrationTests.Infrastructure;

namespace Mezzo.IntegrationTests.Services;

/// <summary>
/// Responses carry the fields of the examples in Marathon's docs (docs/docs/rest-api/public/api/v2/examples/*.json),
/// less the ones named here that Mezzo does not have (regions and zones, pods, offer statistics).
/// </summary>
public sealed class ServicesContractTests
{
    // examples/tasks.json, less "region" and "zone" (Mezzo agents have no fault domain).
    private static readonly string[] TaskFields = ["id", "host", "ports", "startedAt", "stagedAt", "version", "slaveId", "appId", "state", "servicePorts", "role", "cpus", "mem"];

    // examples/app.json fields Mezzo keeps as sent or fills with Marathon's defaults, and the status GET adds.
    private static readonly string[] AppFields =
    [
        "id", "instances", "cmd", "cpus", "disk", "mem", "backoffFactor", "backoffSeconds", "constraints", "dependencies", "env",
        "executor", "healthChecks", "readinessChecks", "labels", "maxLaunchDelaySeconds", "portDefinitions", "requirePorts",
        "upgradeStrategy", "fetch", "user", "container", "version", "versionInfo",
        "tasksStaged", "tasksRunning", "tasksHealthy", "tasksUnhealthy", "deployments", "tasks",
    ];

    // examples/deployments.json, less "affectedPods" content (no pods) — the field itself is there, empty.
    private static readonly string[] DeploymentFields = ["id", "version", "affectedApps", "affectedPods", "steps", "currentActions", "currentStep", "totalSteps"];

    // examples/queue.json (the fields of every entry).
    private static readonly string[] QueueFields = ["app", "count", "delay", "since"];

    private static IEnumerable<string> Keys(JsonNode node) => node.AsObject().Select(kv => kv.Key);

    [Fact]
    public async Task Apps_tasks_deployments_and_the_queue_have_the_fields_of_Marathons_examples()
    {
        await using var cluster = await ServicesCluster.StartAsync();
        (await cluster.SendAsync(HttpMethod.Post, "/v2/apps", """
            {"id":"/frontend","cmd":"exec python3 -m http.server $PORT0 --bind 127.0.0.1","cpus":0.1,"mem":32,"instances":1,
             "healthChecks":[{"protocol":"MESOS_HTTP","delaySeconds":3,"intervalSeconds":1}]}
            """)).Status.Should().Be(201);
        (await cluster.SendAsync(HttpMethod.Post, "/v2/apps", """{"id":"/waiting","cmd":"x","cpus":1000}""")).Status.Should().Be(201);

        var deployment = (await cluster.SendAsync(HttpMethod.Get, "/v2/deployments")).Body!.AsArray().First()!;
        Keys(deployment).Should().Contain(DeploymentFields);
        Keys(deployment["currentActions"]![0]!).Should().Contain(["action", "app", "readinessCheckResults"]);
        Keys(deployment["steps"]![0]!["actions"]![0]!).Should().Contain(["action", "app"]);

        var queued = await Poll.UntilAsync(
            async () => (await cluster.SendAsync(HttpMethod.Get, "/v2/queue")).Body!["queue"]!.AsArray().FirstOrDefault(q => q!["app"]!["id"]!.GetValue<string>() == "/waiting"),
            "the too-big app in the queue");
        Keys(queued!).Should().Contain(QueueFields);
        Keys(queued!["delay"]!).Should().Contain(["timeLeftSeconds", "overdue"]);

        await Poll.UntilAsync(async () => (await cluster.AppAsync("/frontend"))["tasksHealthy"]!.GetValue<int>() == 1, "the task to be healthy");
        var app = await cluster.AppAsync("/frontend");
        Keys(app).Should().Contain(AppFields);
        var task = (await cluster.SendAsync(HttpMethod.Get, "/v2/tasks")).Body!["tasks"]![0]!;
        Keys(task).Should().Contain(TaskFields);
        Keys(task["healthCheckResults"]![0]!).Should().Contain(["alive", "consecutiveFailures", "firstSuccess", "lastFailure", "lastSuccess", "instanceId"]);
        task["servicePorts"]![0]!.GetValue<int>().Should().Be(app["portDefinitions"]![0]!["port"]!.GetValue<int>());
        task["mem"]!.GetValue<double>().Should().Be(32);

        // The text form load balancer scripts read (Accept: text/plain): app, service port, host:port of each task.
        var expected = $"frontend\t{task["servicePorts"]![0]}\t127.0.0.1:{task["ports"]![0]}\t\n";
        foreach (var path in new[] { "/v2/tasks", "/v2/apps/frontend/tasks" })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(cluster.Services!.Url, path));
            request.Headers.Accept.ParseAdd("text/plain");
            using var response = await cluster.Http.SendAsync(request);
            response.Content.Headers.ContentType!.MediaType.Should().Be("text/plain");
            (await response.Content.ReadAsStringAsync()).Should().StartWith(expected, path);
        }
    }
}
