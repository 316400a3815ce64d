using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using AwesomeAssertions;
using Mezzo.IntegrationTests.Infrastructure;

namespace Mezzo.IntegrationTests;

/// <summary>Weights and quota end to end: real master, real agent, real tasks, schedulers on the HTTP API.</summary>
public sealed class AllocationTests
{
    private const string OneCpuTask = """[{"name":"cpus","type":"SCALAR","scalar":{"value":1}},{"name":"mem","type":"SCALAR","scalar":{"value":1024}}]""";

    [Fact]
    public async Task Two_frameworks_in_roles_weighted_1_and_3_share_one_agent_1_to_3()
    {
        await using var cluster = await InProcessCluster.StartAsync(configureAgent: a => a.Resources = "cpus:8;mem:8192;disk:1000");
        (await cluster.PostJsonAsync("""
            {"type":"UPDATE_WEIGHTS","update_weights":{"weight_infos":[{"role":"light","weight":1.0},{"role":"heavy","weight":3.0}]}}
            """)).Status.Should().Be(HttpStatusCode.OK);

        await using var light = new RawScheduler(cluster.MasterUrl);
        await using var heavy = new RawScheduler(cluster.MasterUrl);
        await light.SubscribeAsync(FrameworkInfo("light"));
        await heavy.SubscribeAsync(FrameworkInfo("heavy"));

        var counts = await FillAgentAsync(cluster, 8, light, heavy);

        counts[light].Should().BeInRange(1, 3, "weight 1 of 4 of 8 cpus is 2 tasks, give or take one");
        counts[heavy].Should().BeInRange(5, 7, "weight 3 of 4 of 8 cpus is 6 tasks, give or take one");
    }

    [Fact]
    public async Task A_quota_guarantee_is_held_for_its_role_before_a_greedy_framework_is_served()
    {
        await using var cluster = await InProcessCluster.StartAsync(configureAgent: a => a.Resources = "cpus:8;mem:8192;disk:1000");
        (await cluster.PostJsonAsync("""
            {"type":"UPDATE_QUOTA","update_quota":{"force":false,"quota_configs":[
              {"role":"dev","guarantees":{"cpus":{"value":4},"mem":{"value":4096}},"limits":{"cpus":{"value":4},"mem":{"value":4096}}}]}}
            """)).Status.Should().Be(HttpStatusCode.OK);

        await using var greedy = new RawScheduler(cluster.MasterUrl);
        await greedy.SubscribeAsync(FrameworkInfo("greedy"));
        var greedyTasks = await FillAgentAsync(cluster, 4, greedy);
        greedyTasks[greedy].Should().Be(4);

        await using var dev = new RawScheduler(cluster.MasterUrl);
        await dev.SubscribeAsync(FrameworkInfo("dev"));
        var devTasks = await FillAgentAsync(cluster, 8, dev);
        devTasks[dev].Should().Be(4, "the guarantee held back 4 cpus for dev although greedy wanted everything");

        // The greedy framework got nothing more while dev was being served: the agent is full at 8.
        var state = await cluster.StateAsync();
        state["frameworks"]!.AsArray().Single(f => (string?)f!["name"] == "greedy")!["used_resources"]!["cpus"]!.GetValue<double>().Should().Be(4);
    }

    [Fact]
    public async Task Multi_role_framework_over_http_gets_offers_per_role_and_bad_constraints_are_a_400()
    {
        await using var cluster = await InProcessCluster.StartAsync(configureAgent: a => a.Resources = "cpus:4;mem:4096;cpus(eng):1;mem(eng):512");
        const string info = """{"user":"root","name":"multi","roles":["eng","ops"],"capabilities":[{"type":"MULTI_ROLE"}]}""";

        await using var bad = new RawScheduler(cluster.MasterUrl);
        using (var content = new StringContent("""
            {"type":"SUBSCRIBE","subscribe":{"framework_info":@INFO@,"offer_constraints":{"role_constraints":{"eng":{"groups":[{"attribute_constraints":[
              {"selector":{"attribute_name":"rack"},"predicate":{"text_matches":{"regex":"("}}}]}]}}}}}
            """.Replace("@INFO@", info, StringComparison.Ordinal), Encoding.UTF8, "application/json"))
        {
            using var response = await cluster.Http.PostAsync(new Uri(cluster.MasterUrl, "api/v1/scheduler"), content);
            response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
            (await response.Content.ReadAsStringAsync()).Should().Contain("invalid regex");
        }

        await using var scheduler = new RawScheduler(cluster.MasterUrl);
        await scheduler.SubscribeAsync(info);
        var roles = new HashSet<string>();
        await Poll.UntilAsync(async () =>
        {
            var offer = await scheduler.NextOfferAsync();
            var role = offer["allocation_info"]!["role"]!.GetValue<string>();
            roles.Add(role);
            offer["resources"]!.AsArray().Should().OnlyContain(r => (string?)r!["allocation_info"]!["role"] == role);
            if (role == "ops")
            {
                offer["resources"]!.AsArray().Should().NotContain(r => r!["reservations"] != null, "eng's reservation is not offered to ops");
            }

            await scheduler.CallAsync(new JsonObject
            {
                ["framework_id"] = new JsonObject { ["value"] = scheduler.FrameworkId },
                ["type"] = "DECLINE",
                ["decline"] = new JsonObject { ["offer_ids"] = new JsonArray(new JsonObject { ["value"] = offer["id"]!["value"]!.GetValue<string>() }) },
            }.ToJsonString());
            return roles.SetEquals(["eng", "ops"]);
        }, "offers for both roles");
    }

    private static string FrameworkInfo(string role) =>
        new JsonObject { ["user"] = "root", ["name"] = role, ["role"] = role, ["capabilities"] = new JsonArray() }.ToJsonString();

    /// <summary>
    /// Each scheduler launches one 1-cpu task per offer it gets and gives the rest back at once (refuse_seconds 0), so
    /// the allocator decides every next task. Runs until the master reports <paramref name="usedCpus"/> cpus in use.
    /// </summary>
    private static async Task<Dictionary<RawScheduler, int>> FillAgentAsync(InProcessCluster cluster, int usedCpus, params RawScheduler[] schedulers)
    {
        var counts = schedulers.ToDictionary(s => s, _ => 0);
        using var done = new CancellationTokenSource();
        var loops = schedulers.Select(scheduler => Task.Run(async () =>
        {
            while (!done.IsCancellationRequested)
            {
                JsonObject offer;
                try
                {
                    offer = await scheduler.NextOfferAsync(timeout: TimeSpan.FromSeconds(1));
                }
                catch (TimeoutException)
                {
                    continue;
                }

                var cpus = offer["resources"]!.AsArray().Where(r => (string?)r!["name"] == "cpus").Sum(r => r!["scalar"]!["value"]!.GetValue<double>());
                var mem = offer["resources"]!.AsArray().Where(r => (string?)r!["name"] == "mem").Sum(r => r!["scalar"]!["value"]!.GetValue<double>());
                if (cpus >= 1 && mem >= 1024)
                {
                    var role = offer["allocation_info"]!["role"]!.GetValue<string>();
                    var resources = OneCpuTask.Replace("\"SCALAR\",", $"\"SCALAR\",\"allocation_info\":{{\"role\":\"{role}\"}},", StringComparison.Ordinal);
                    var (status, body) = await scheduler.LaunchAsync(offer, $"{role}-{counts[scheduler]}", "sleep 600", resources);
                    status.Should().Be(HttpStatusCode.Accepted, body);
                    counts[scheduler]++;
                }
                else
                {
                    await scheduler.CallAsync(new JsonObject
                    {
                        ["framework_id"] = new JsonObject { ["value"] = scheduler.FrameworkId },
                        ["type"] = "DECLINE",
                        ["decline"] = new JsonObject
                        {
                            ["offer_ids"] = new JsonArray(new JsonObject { ["value"] = offer["id"]!["value"]!.GetValue<string>() }),
                            ["filters"] = new JsonObject { ["refuse_seconds"] = 0 },
                        },
                    }.ToJsonString());
                }
            }
        })).ToList();

        try
        {
            await Poll.UntilAsync(async () => (await cluster.StateAsync())["slaves"]![0]!["used_resources"]!["cpus"]!.GetValue<double>() >= usedCpus,
                $"{usedCpus} cpus in use");
        }
        finally
        {
            await done.CancelAsync();
            await Task.WhenAll(loops);
        }

        return counts;
    }
}
