using System.Net;
using System.Text.Json.Nodes;
using AwesomeAssertions;
using Mezzo.IntegrationTests.Infrastructure;

namespace Mezzo.IntegrationTests;

public sealed class EndpointTests
{
    [Fact]
    public async Task State_and_metrics_have_Mesos_shape_and_track_tasks()
    {
        await using var cluster = await InProcessCluster.StartAsync(configureAgent: a => a.Attributes = "rack:r1;zone:a");
        await using var scheduler = new RawScheduler(cluster.MasterUrl);
        await scheduler.SubscribeAsync(RawScheduler.FrameworkInfo("shape"));
        var offer = await scheduler.NextOfferAsync();
        await scheduler.LaunchAsync(offer, "shaped", "sleep 1000");
        await scheduler.WaitForUpdateAsync("shaped", "TASK_RUNNING");

        await Poll.UntilAsync(async () => (await Json(cluster, "metrics/snapshot"))["master/tasks_running"]!.GetValue<double>() == 1, "tasks_running to be 1");
        var metrics = await Json(cluster, "metrics/snapshot");
        foreach (var key in (string[])["master/slaves_active", "master/frameworks_active", "master/tasks_finished", "master/cpus_total", "master/cpus_used", "master/mem_total", "master/mem_used", "master/elected"])
        {
            metrics[key].Should().NotBeNull(key);
        }

        ((double?)metrics["master/cpus_total"]).Should().Be(4);
        ((double?)metrics["master/cpus_used"]).Should().Be(0.1);

        var state = await Json(cluster, "master/state");
        ((string?)state["version"]).Should().NotBeNullOrEmpty();
        var slave = state["slaves"]![0]!;
        ((double?)slave["resources"]!["cpus"]).Should().Be(4);
        ((string?)slave["resources"]!["ports"]).Should().Be("[31000-31100]");
        ((string?)slave["attributes"]!["rack"]).Should().Be("r1");
        var framework = state["frameworks"]![0]!;
        ((string?)framework["name"]).Should().Be("shape");
        var task = framework["tasks"]![0]!;
        ((string?)task["id"]).Should().Be("shaped");
        ((string?)task["state"]).Should().Be("TASK_RUNNING");
        ((string?)task["slave_id"]).Should().Be((string?)slave["id"]);
        ((double?)task["resources"]!["mem"]).Should().Be(32);
        (await Json(cluster, "state"))["id"]!.GetValue<string>().Should().Be((string?)state["id"]);

        var version = await Json(cluster, "version");
        ((string?)version["version"]).Should().NotBeNullOrEmpty();
        (await cluster.Http.GetAsync(new Uri(cluster.MasterUrl, "health"))).StatusCode.Should().Be(HttpStatusCode.OK);

        var agentState = JsonNode.Parse(await cluster.Http.GetStringAsync(new Uri(cluster.Agent!.Url, "state")))!;
        ((string?)agentState["id"]).Should().Be((string?)slave["id"]);
        ((string?)agentState["frameworks"]![0]!["executors"]![0]!["tasks"]![0]!["state"]).Should().Be("TASK_RUNNING");

        await scheduler.KillAsync("shaped");
        await scheduler.WaitForUpdateAsync("shaped", "TASK_KILLED");
    }

    [Fact]
    public async Task Task_sees_Mesos_environment_variables_and_its_own()
    {
        await using var cluster = await InProcessCluster.StartAsync();
        await using var scheduler = new RawScheduler(cluster.MasterUrl);
        await scheduler.SubscribeAsync(RawScheduler.FrameworkInfo());
        var offer2 = await scheduler.NextOfferAsync();
        var (status, body) = await scheduler.CallAsync($$"""
            {"framework_id":{"value":"{{scheduler.FrameworkId}}"},"type":"ACCEPT","accept":{
              "offer_ids":[{"value":"{{offer2["id"]!["value"]}}"}],
              "operations":[{"type":"LAUNCH","launch":{"task_infos":[{
                "name":"env2","task_id":{"value":"env2"},"agent_id":{"value":"{{offer2["agent_id"]!["value"]}}"},
                "resources":[{"name":"cpus","type":"SCALAR","scalar":{"value":0.1} },{"name":"ports","type":"RANGES","ranges":{"range":[{"begin":31005,"end":31005}]} }],
                "command":{"shell":true,"value":"test \"$GREETING\" = hello && test \"$PORT0\" = 31005 && test \"$MESOS_TASK_ID\" = env2 && test \"$MESOS_SANDBOX\" = \"$PWD\"",
                           "environment":{"variables":[{"name":"GREETING","value":"hello"}]} } }]} }]} }
            """);
        status.Should().Be(HttpStatusCode.Accepted, body);
        await scheduler.WaitForUpdateAsync("env2", "TASK_FINISHED");
    }

    [Fact]
    public async Task Non_shell_command_runs_value_with_arguments_as_argv()
    {
        await using var cluster = await InProcessCluster.StartAsync();
        await using var scheduler = new RawScheduler(cluster.MasterUrl);
        await scheduler.SubscribeAsync(RawScheduler.FrameworkInfo());
        var offer = await scheduler.NextOfferAsync();
        var (status, body) = await scheduler.CallAsync($$"""
            {"framework_id":{"value":"{{scheduler.FrameworkId}}"},"type":"ACCEPT","accept":{
              "offer_ids":[{"value":"{{offer["id"]!["value"]}}"}],
              "operations":[{"type":"LAUNCH","launch":{"task_infos":[{
                "name":"argv","task_id":{"value":"argv"},"agent_id":{"value":"{{offer["agent_id"]!["value"]}}"},
                "resources":[{"name":"cpus","type":"SCALAR","scalar":{"value":0.1} }],
                "command":{"shell":false,"value":"/bin/sh","arguments":["sh","-c","exit $#","zero","one","two"]} }]} }]} }
            """);
        status.Should().Be(HttpStatusCode.Accepted, body);
        var failed = await scheduler.WaitForUpdateAsync("argv", "TASK_FAILED");
        ((string?)failed["update"]!["status"]!["message"]).Should().Be("Command exited with status 2");
    }

    private static async Task<JsonNode> Json(InProcessCluster cluster, string path) =>
        JsonNode.Parse(await cluster.Http.GetStringAsync(new Uri(cluster.MasterUrl, path)))!;
}
