using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using AwesomeAssertions;
using Mezzo.IntegrationTests.Infrastructure;

namespace Mezzo.IntegrationTests;

/// <summary>The master's operator read calls over real HTTP, against a real agent running a real task.</summary>
public sealed class OperatorReadCallTests
{
    [Fact]
    public async Task State_agents_frameworks_executors_tasks_and_master_answer_in_master_proto_shapes()
    {
        await using var cluster = await InProcessCluster.StartAsync();
        await using var scheduler = new RawScheduler(cluster.MasterUrl);
        await scheduler.SubscribeAsync(RawScheduler.FrameworkInfo("reads"));
        var offer = await scheduler.NextOfferAsync();
        var agentId = (string)offer["agent_id"]!["value"]!;
        (await scheduler.LaunchAsync(offer, "sleeper", "sleep 60")).Status.Should().Be(HttpStatusCode.Accepted);
        await scheduler.WaitForUpdateAsync("sleeper", "TASK_RUNNING");

        var state = (await CallAsync(cluster, "GET_STATE"))["get_state"]!;
        var task = state["get_tasks"]!["tasks"]!.AsArray().Single()!;
        ((string?)task["task_id"]!["value"]).Should().Be("sleeper");
        ((string?)task["framework_id"]!["value"]).Should().Be(scheduler.FrameworkId);
        ((string?)task["agent_id"]!["value"]).Should().Be(agentId);
        ((string?)task["state"]).Should().Be("TASK_RUNNING");
        ((string?)task["status_update_state"]).Should().Be("TASK_RUNNING");
        task["status_update_uuid"].Should().NotBeNull("both or neither of the latest forwarded update's state and uuid");
        task["statuses"]!.AsArray().Select(s => (string?)s!["state"]).Should().Contain("TASK_RUNNING");
        task["resources"]!.AsArray().Should().Contain(r => (string?)r!["name"] == "cpus");
        state["get_executors"]!["executors"]!.AsArray().Should().BeEmpty("a command task's executor is the agent's business");
        var framework = state["get_frameworks"]!["frameworks"]!.AsArray().Single()!;
        ((string?)framework["framework_info"]!["id"]!["value"]).Should().Be(scheduler.FrameworkId);
        ((bool?)framework["connected"]).Should().BeTrue();
        ((bool?)framework["recovered"]).Should().BeFalse();
        framework["registered_time"]!["nanoseconds"]!.GetValue<long>().Should().BePositive();
        framework["allocated_resources"]!.AsArray().Should().Contain(r => (string?)r!["name"] == "cpus");
        var agent = state["get_agents"]!["agents"]!.AsArray().Single()!;
        ((string?)agent["agent_info"]!["id"]!["value"]).Should().Be(agentId);
        ((bool?)agent["active"]).Should().BeTrue();
        agent["total_resources"]!.AsArray().Single(r => (string?)r!["name"] == "cpus")!["scalar"]!["value"]!.GetValue<double>().Should().Be(4);
        agent["allocated_resources"]!.AsArray().Single(r => (string?)r!["name"] == "cpus")!["scalar"]!["value"]!.GetValue<double>().Should().Be(0.1);

        // Each part on its own call, the same as inside GET_STATE.
        (await CallAsync(cluster, "GET_TASKS"))["get_tasks"]!["tasks"]!.AsArray().Should().ContainSingle();
        (await CallAsync(cluster, "GET_AGENTS"))["get_agents"]!["agents"]!.AsArray().Should().ContainSingle();
        (await CallAsync(cluster, "GET_FRAMEWORKS"))["get_frameworks"]!["frameworks"]!.AsArray().Should().ContainSingle();
        ((string?)(await CallAsync(cluster, "GET_EXECUTORS"))["type"]).Should().Be("GET_EXECUTORS");
        (await CallAsync(cluster, "GET_OPERATIONS"))["get_operations"]!["operations"]!.AsArray().Should().BeEmpty();
        var master = (await CallAsync(cluster, "GET_MASTER"))["get_master"]!;
        ((string?)master["master_info"]!["id"]).Should().Be((string?)(await cluster.StateAsync())["id"]);
        ((int?)master["master_info"]!["port"]).Should().Be(cluster.MasterUrl.Port);
        master["start_time"]!.GetValue<double>().Should().BeGreaterThan(1.7e9);
        master["elected_time"]!.GetValue<double>().Should().BeGreaterThan(1.7e9);

        // Killed and acknowledged: a completed task.
        (await scheduler.KillAsync("sleeper")).Status.Should().Be(HttpStatusCode.Accepted);
        await scheduler.WaitForUpdateAsync("sleeper", "TASK_KILLED");
        await Poll.UntilAsync(async () => (await CallAsync(cluster, "GET_TASKS"))["get_tasks"]!["completed_tasks"]!.AsArray().Count == 1, "the killed task to be completed");
        var tasks = (await CallAsync(cluster, "GET_TASKS"))["get_tasks"]!;
        tasks["tasks"]!.AsArray().Should().BeEmpty();
        tasks["pending_tasks"]!.AsArray().Should().BeEmpty();
        tasks["unreachable_tasks"]!.AsArray().Should().BeEmpty();
        ((string?)tasks["completed_tasks"]![0]!["state"]).Should().Be("TASK_KILLED");
    }

    [Fact]
    public async Task Agents_known_only_from_the_registry_are_recovered_agents_until_they_return()
    {
        await using var cluster = await InProcessCluster.StartAsync();
        var agentId = (string)(await cluster.StateAsync())["slaves"]![0]!["id"]!;
        // The master counts the agent registered before the agent has written its id down; stopped before that, it
        // would come back as a new agent.
        var store = new Mezzo.Agent.Recovery.CheckpointStore(Path.Combine(cluster.WorkDir, "agent"));
        await Poll.UntilAsync(() => store.ReadAgentId() == agentId, "the agent to save its id");
        await cluster.Agent!.DisposeAsync();
        await cluster.RestartMasterAsync();

        var agents = (await CallAsync(cluster, "GET_AGENTS"))["get_agents"]!;
        agents["agents"]!.AsArray().Should().BeEmpty();
        ((string?)agents["recovered_agents"]!.AsArray().Single()!["id"]!["value"]).Should().Be(agentId);

        await cluster.StartAgentAsync();
        await Poll.UntilAsync(async () => (await CallAsync(cluster, "GET_AGENTS"))["get_agents"]!["agents"]!.AsArray().Count == 1, "the agent to re-register");
        (await CallAsync(cluster, "GET_AGENTS"))["get_agents"]!["recovered_agents"]!.AsArray().Should().BeEmpty();
    }

    [Fact]
    public async Task Completed_frameworks_are_listed_with_their_tasks_completed()
    {
        await using var cluster = await InProcessCluster.StartAsync();
        await using var scheduler = new RawScheduler(cluster.MasterUrl);
        await scheduler.SubscribeAsync(RawScheduler.FrameworkInfo("gone"));
        var offer = await scheduler.NextOfferAsync();
        (await scheduler.LaunchAsync(offer, "t", "sleep 60")).Status.Should().Be(HttpStatusCode.Accepted);
        await scheduler.WaitForUpdateAsync("t", "TASK_RUNNING");

        (await scheduler.CallAsync($$"""{"framework_id":{"value":"{{scheduler.FrameworkId}}"},"type":"TEARDOWN"}""")).Status.Should().Be(HttpStatusCode.Accepted);

        await Poll.UntilAsync(async () => (await CallAsync(cluster, "GET_FRAMEWORKS"))["get_frameworks"]!["completed_frameworks"]!.AsArray().Count == 1, "the framework to complete");
        var frameworks = (await CallAsync(cluster, "GET_FRAMEWORKS"))["get_frameworks"]!;
        frameworks["frameworks"]!.AsArray().Should().BeEmpty();
        ((string?)frameworks["completed_frameworks"]![0]!["framework_info"]!["id"]!["value"]).Should().Be(scheduler.FrameworkId);
        var completed = (await CallAsync(cluster, "GET_TASKS"))["get_tasks"]!["completed_tasks"]!.AsArray();
        ((string?)completed.Single()!["task_id"]!["value"]).Should().Be("t");
    }

    [Fact]
    public async Task Get_metrics_lists_the_snapshot_and_with_a_timeout_answers_without_a_busy_actor()
    {
        await using var cluster = await InProcessCluster.StartAsync();
        var metrics = Metrics(await CallAsync(cluster, "GET_METRICS"));
        metrics["master/slaves_active"].Should().Be(1);
        metrics["master/cpus_total"].Should().Be(4);
        metrics.Keys.Should().BeInAscendingOrder(StringComparer.Ordinal);
        Metrics(await CallAsync(cluster, "GET_METRICS", ""","get_metrics":{"timeout":{"nanoseconds":30000000000}}"""))["master/slaves_active"].Should().Be(1);

        // The actor is held busy: the call still answers by its timeout, with the metrics that do not need the actor.
        using var release = new ManualResetEventSlim();
        var actor = cluster.Master.Actor;
        actor.Post(() => release.Wait(TimeSpan.FromSeconds(60)));
        try
        {
            var partial = Metrics(await CallAsync(cluster, "GET_METRICS", ""","get_metrics":{"timeout":{"nanoseconds":200000000}}"""));
            partial.Should().ContainKey("master/uptime_secs").And.ContainKey("master/elected").And.NotContainKey("master/slaves_active");
        }
        finally
        {
            release.Set();
        }
    }

    [Fact]
    public async Task Logging_level_is_read_set_and_reverted_after_the_duration()
    {
        await using var cluster = await InProcessCluster.StartAsync(withAgent: false);
        ((uint?)(await CallAsync(cluster, "GET_LOGGING_LEVEL"))["get_logging_level"]!["level"]).Should().Be(0);

        var (status, body) = await cluster.PostJsonAsync("""{"type":"SET_LOGGING_LEVEL","set_logging_level":{"level":3,"duration":{"nanoseconds":3600000000000}}}""");
        status.Should().Be(HttpStatusCode.OK, body);
        ((uint?)(await CallAsync(cluster, "GET_LOGGING_LEVEL"))["get_logging_level"]!["level"]).Should().Be(3);
        cluster.Master.Actor.Verbosity.IsEnabled(Microsoft.Extensions.Logging.LogLevel.Trace).Should().BeTrue();

        (await cluster.PostJsonAsync("""{"type":"SET_LOGGING_LEVEL","set_logging_level":{"level":1,"duration":{"nanoseconds":1000000}}}""")).Status.Should().Be(HttpStatusCode.OK);
        await Poll.UntilAsync(async () => (uint?)(await CallAsync(cluster, "GET_LOGGING_LEVEL"))["get_logging_level"]!["level"] == 0, "the level to revert");
        cluster.Master.Actor.Verbosity.IsEnabled(Microsoft.Extensions.Logging.LogLevel.Debug).Should().BeFalse();
    }

    public static TheoryData<string, HttpStatusCode, string> BadCalls => new()
    {
        { """{"type":"GET_METRICS","get_metrics":{"timeout":{"nanoseconds":-1}}}""", HttpStatusCode.BadRequest, "'get_metrics.timeout.nanoseconds' must not be negative" },
        { """{"type":"GET_METRICS","get_metrics":{"timeout":{}}}""", HttpStatusCode.BadRequest, "'get_metrics.timeout.nanoseconds'" },
        { """{"type":"SET_LOGGING_LEVEL"}""", HttpStatusCode.BadRequest, "Expecting 'set_logging_level' to be present" },
        { """{"type":"SET_LOGGING_LEVEL","set_logging_level":{"level":1}}""", HttpStatusCode.BadRequest, "'set_logging_level.duration'" },
        { """{"type":"SET_LOGGING_LEVEL","set_logging_level":{"duration":{"nanoseconds":1}}}""", HttpStatusCode.BadRequest, "'set_logging_level.level'" },
        { """{"type":"SET_LOGGING_LEVEL","set_logging_level":{"level":1,"duration":{"nanoseconds":0}}}""", HttpStatusCode.BadRequest, "must be positive" },
        { """{"type":"SET_LOGGING_LEVEL","set_logging_level":{"level":-1,"duration":{"nanoseconds":1}}}""", HttpStatusCode.BadRequest, "Failed to parse body into Call" },
        { """{"type":"LIST_FILES"}""", HttpStatusCode.BadRequest, "Expecting 'list_files' to be present" },
        { """{"type":"LIST_FILES","list_files":{}}""", HttpStatusCode.BadRequest, "'list_files.path'" },
        { """{"type":"READ_FILE","read_file":{"path":"/master/log"}}""", HttpStatusCode.BadRequest, "'read_file.offset'" },
        { """{"type":"READ_FILE","read_file":{"offset":0}}""", HttpStatusCode.BadRequest, "'read_file.path'" },
        { """{"type":"LIST_FILES","list_files":{"path":"/master/log"}}""", HttpStatusCode.NotFound, "'/master/log'" },
        { """{"type":"READ_FILE","read_file":{"path":"/master/log","offset":0}}""", HttpStatusCode.NotFound, "'/master/log'" },
        { """{"type":"GET_EVERYTHING"}""", HttpStatusCode.BadRequest, "Failed to parse body into Call" },
        { """{"type":"UNKNOWN"}""", HttpStatusCode.NotImplemented, "UNKNOWN" },
        { """{"type":"GET_STATE",""", HttpStatusCode.BadRequest, "Failed to parse body into Call" },
    };

    [Theory]
    [MemberData(nameof(BadCalls))]
    public async Task Bad_read_calls_get_a_4xx_with_the_reason_and_change_nothing(string call, HttpStatusCode expected, string reason)
    {
        await using var cluster = await InProcessCluster.StartAsync(withAgent: false);

        var (status, body) = await cluster.PostJsonAsync(call);

        status.Should().Be(expected, body);
        body.Should().Contain(reason);
        cluster.Master.Actor.Verbosity.Level.Should().Be(0);
    }

    [Fact]
    public async Task Read_calls_without_json_content_type_or_accept_are_refused()
    {
        await using var cluster = await InProcessCluster.StartAsync(withAgent: false);
        using var plain = new StringContent("""{"type":"GET_STATE"}""", Encoding.UTF8, "text/plain");
        using var wrongType = await cluster.Http.PostAsync(new Uri(cluster.MasterUrl, "api/v1"), plain);
        wrongType.StatusCode.Should().Be(HttpStatusCode.UnsupportedMediaType);

        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(cluster.MasterUrl, "api/v1"))
        {
            Content = new StringContent("""{"type":"SUBSCRIBE"}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("Accept", "text/html");
        using var wrongAccept = await cluster.Http.SendAsync(request);
        wrongAccept.StatusCode.Should().Be(HttpStatusCode.NotAcceptable);
        (await wrongAccept.Content.ReadAsStringAsync()).Should().Contain("Accept");
    }

    private static Dictionary<string, double> Metrics(JsonNode response) =>
        response["get_metrics"]!["metrics"]!.AsArray().ToDictionary(m => (string)m!["name"]!, m => m!["value"]!.GetValue<double>());

    /// <summary>A read call that must answer 200 with JSON whose type is the call's.</summary>
    internal static async Task<JsonNode> CallAsync(InProcessCluster cluster, string type, string extra = "")
    {
        var (status, body) = await cluster.PostJsonAsync($$"""{"type":"{{type}}"{{extra}}}""");
        status.Should().Be(HttpStatusCode.OK, body);
        var json = JsonNode.Parse(body)!;
        ((string?)json["type"]).Should().Be(type);
        return json;
    }
}
