using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using AwesomeAssertions;
using Mezzo.IntegrationTests.Infrastructure;

namespace Mezzo.IntegrationTests;

/// <summary>The agent's operator API (<c>POST /api/v1</c> on the agent) and its Prometheus <c>/metrics</c>, with a real task.</summary>
public sealed class AgentOperatorApiTests
{
    [Fact]
    public async Task Read_calls_describe_the_agent_its_task_executor_framework_container_and_sandbox()
    {
        await using var cluster = await InProcessCluster.StartAsync();
        await using var scheduler = new RawScheduler(cluster.MasterUrl);
        await scheduler.SubscribeAsync(RawScheduler.FrameworkInfo("agent-reads"));
        var offer = await scheduler.NextOfferAsync();
        var agentId = (string)offer["agent_id"]!["value"]!;
        (await scheduler.LaunchAsync(offer, "talker", "echo hello-sandbox; sleep 60")).Status.Should().Be(HttpStatusCode.Accepted);
        await scheduler.WaitForUpdateAsync("talker", "TASK_RUNNING");

        ((bool?)(await CallAsync(cluster, "GET_HEALTH"))["get_health"]!["healthy"]).Should().BeTrue();
        ((string?)(await CallAsync(cluster, "GET_VERSION"))["get_version"]!["version_info"]!["version"]).Should().Be("1.11.0");
        var flags = (await CallAsync(cluster, "GET_FLAGS"))["get_flags"]!["flags"]!.AsArray();
        ((string?)flags.Single(f => (string?)f!["name"] == "work_dir")!["value"]).Should().Be(Path.Combine(cluster.WorkDir, "agent"));
        var metrics = (await CallAsync(cluster, "GET_METRICS"))["get_metrics"]!["metrics"]!.AsArray();
        metrics.Single(m => (string?)m!["name"] == "slave/tasks_running")!["value"]!.GetValue<double>().Should().Be(1);

        var agent = (await CallAsync(cluster, "GET_AGENT"))["get_agent"]!["agent_info"]!;
        ((string?)agent["id"]!["value"]).Should().Be(agentId);
        ((int?)agent["port"]).Should().Be(cluster.Agent!.Url.Port);
        agent["resources"]!.AsArray().Single(r => (string?)r!["name"] == "cpus")!["scalar"]!["value"]!.GetValue<double>().Should().Be(4);

        var state = (await CallAsync(cluster, "GET_STATE"))["get_state"]!;
        var task = state["get_tasks"]!["launched_tasks"]!.AsArray().Single()!;
        ((string?)task["task_id"]!["value"]).Should().Be("talker");
        ((string?)task["framework_id"]!["value"]).Should().Be(scheduler.FrameworkId);
        ((string?)task["agent_id"]!["value"]).Should().Be(agentId);
        ((string?)task["state"]).Should().Be("TASK_RUNNING");
        foreach (var bucket in (string[])["pending_tasks", "queued_tasks", "terminated_tasks", "completed_tasks"])
        {
            state["get_tasks"]![bucket]!.AsArray().Should().BeEmpty(bucket);
        }

        ((string?)state["get_executors"]!["executors"]!.AsArray().Single()!["executor_info"]!["executor_id"]!["value"]).Should().Be("talker");
        ((string?)state["get_frameworks"]!["frameworks"]!.AsArray().Single()!["framework_info"]!["id"]!["value"]).Should().Be(scheduler.FrameworkId);
        (await CallAsync(cluster, "GET_TASKS"))["get_tasks"]!["launched_tasks"]!.AsArray().Should().ContainSingle();
        (await CallAsync(cluster, "GET_EXECUTORS"))["get_executors"]!["executors"]!.AsArray().Should().ContainSingle();
        (await CallAsync(cluster, "GET_FRAMEWORKS"))["get_frameworks"]!["completed_frameworks"]!.AsArray().Should().BeEmpty();

        var container = (await CallAsync(cluster, "GET_CONTAINERS"))["get_containers"]!["containers"]!.AsArray().Single()!;
        ((string?)container["executor_id"]!["value"]).Should().Be("talker");
        ((string?)container["framework_id"]!["value"]).Should().Be(scheduler.FrameworkId);
        ((string?)container["container_id"]!["value"]).Should().NotBeNullOrEmpty();
        ((string?)container["container_status"]!["container_id"]!["value"]).Should().Be((string?)container["container_id"]!["value"]);
        container["container_status"]!["executor_pid"]!.GetValue<uint>().Should().BePositive();
        container["resource_statistics"]!["cpus_limit"]!.GetValue<double>().Should().Be(0.1);

        // The sandbox, through the same confinement as /files.
        var sandbox = (string)JsonNode.Parse(await cluster.Http.GetStringAsync(new Uri(cluster.Agent.Url, "state")))!["frameworks"]![0]!["executors"]![0]!["directory"]!;
        await Poll.UntilAsync(() => File.ReadAllText(Path.Combine(sandbox, "stdout")).Contains("hello-sandbox", StringComparison.Ordinal), "the task's output");
        var files = (await CallAsync(cluster, "LIST_FILES", $$""","list_files":{"path":{{JsonValue.Create(sandbox).ToJsonString()}}}"""))["list_files"]!["file_infos"]!.AsArray();
        var stdout = files.Single(f => (string?)f!["path"] == sandbox + "/stdout")!;
        stdout["size"]!.GetValue<ulong>().Should().Be((ulong)new FileInfo(Path.Combine(sandbox, "stdout")).Length);
        (stdout["mode"]!.GetValue<uint>() & 0xF000).Should().Be(0x8000, "a regular file's st_mode");
        stdout["mtime"]!["nanoseconds"]!.GetValue<long>().Should().BePositive();

        var read = (await CallAsync(cluster, "READ_FILE", $$""","read_file":{"path":{{JsonValue.Create(sandbox + "/stdout").ToJsonString()}},"offset":0}"""))["read_file"]!;
        Encoding.UTF8.GetString(Convert.FromBase64String((string)read["data"]!)).Should().Contain("hello-sandbox");
        read["size"]!.GetValue<ulong>().Should().Be((ulong)new FileInfo(Path.Combine(sandbox, "stdout")).Length);
        var part = (await CallAsync(cluster, "READ_FILE", $$""","read_file":{"path":{{JsonValue.Create(sandbox + "/stdout").ToJsonString()}},"offset":6,"length":7}"""))["read_file"]!;
        Encoding.UTF8.GetString(Convert.FromBase64String((string)part["data"]!)).Should().Be("sandbox");

        // Killed: a terminated or completed task, a completed executor, no container.
        (await scheduler.KillAsync("talker")).Status.Should().Be(HttpStatusCode.Accepted);
        await scheduler.WaitForUpdateAsync("talker", "TASK_KILLED");
        await Poll.UntilAsync(async () => (await CallAsync(cluster, "GET_TASKS"))["get_tasks"]!["completed_tasks"]!.AsArray().Count == 1, "the task to complete");
        (await CallAsync(cluster, "GET_TASKS"))["get_tasks"]!["launched_tasks"]!.AsArray().Should().BeEmpty();
        ((string?)(await CallAsync(cluster, "GET_TASKS"))["get_tasks"]!["completed_tasks"]![0]!["state"]).Should().Be("TASK_KILLED");
        (await CallAsync(cluster, "GET_EXECUTORS"))["get_executors"]!["completed_executors"]!.AsArray().Should().ContainSingle();
        (await CallAsync(cluster, "GET_CONTAINERS"))["get_containers"]!["containers"]!.AsArray().Should().BeEmpty();
        var frameworks = (await CallAsync(cluster, "GET_FRAMEWORKS"))["get_frameworks"]!;
        frameworks["frameworks"]!.AsArray().Should().BeEmpty();
        frameworks["completed_frameworks"]!.AsArray().Should().ContainSingle();
    }

    [Fact]
    public async Task Get_metrics_with_a_timeout_answers_without_a_busy_agent()
    {
        await using var cluster = await InProcessCluster.StartAsync();
        using var release = new ManualResetEventSlim();
        var busy = cluster.Agent!.Service.Ask(() => release.Wait(TimeSpan.FromSeconds(60)));
        try
        {
            var metrics = (await CallAsync(cluster, "GET_METRICS", ""","get_metrics":{"timeout":{"nanoseconds":200000000}}"""))["get_metrics"]!["metrics"]!.AsArray()
                .Select(m => (string?)m!["name"]).ToList();
            metrics.Should().Contain("slave/uptime_secs").And.NotContain("slave/tasks_running", "those need the agent's actor, which is busy");
        }
        finally
        {
            release.Set();
            await busy;
        }

        var full = (await CallAsync(cluster, "GET_METRICS", ""","get_metrics":{"timeout":{"nanoseconds":30000000000}}"""))["get_metrics"]!["metrics"]!.AsArray();
        full.Select(m => (string?)m!["name"]).Should().Contain("slave/tasks_running");
    }

    public static TheoryData<string, string?, string?, HttpStatusCode, string> BadCalls => new()
    {
        { """{"type":"GET_STATE"}""", null, null, HttpStatusCode.UnsupportedMediaType, "Content-Type" },
        { """{"type":"GET_STATE"}""", "text/plain", null, HttpStatusCode.UnsupportedMediaType, "Expecting 'Content-Type' of application/json or application/x-protobuf" },
        { """{"type":"GET_STATE"}""", "application/json", "text/html", HttpStatusCode.NotAcceptable, "Expecting 'Accept' to allow 'application/x-protobuf' or 'application/json'" },
        { """{"type":"GET_STATE"}""", "application/x-protobuf", null, HttpStatusCode.BadRequest, "Failed to parse body into Call protobuf" },
        { """{"type":"GET_STATE",""", "application/json", null, HttpStatusCode.BadRequest, "Failed to parse body into Call" },
        { "", "application/json", null, HttpStatusCode.BadRequest, "Failed to parse body into Call" },
        { """{"type":"GET_NOTHING"}""", "application/json", null, HttpStatusCode.BadRequest, "Failed to parse body into Call" },
        { """{}""", "application/json", null, HttpStatusCode.BadRequest, "Expecting 'type' to be present" },
        { """{"type":"GET_METRICS","get_metrics":{"timeout":{"nanoseconds":-5}}}""", "application/json", null, HttpStatusCode.BadRequest, "'get_metrics.timeout.nanoseconds'" },
        { """{"type":"LIST_FILES"}""", "application/json", null, HttpStatusCode.BadRequest, "Expecting 'list_files' to be present" },
        { """{"type":"READ_FILE","read_file":{"path":"x"}}""", "application/json", null, HttpStatusCode.BadRequest, "'read_file.offset'" },
        { """{"type":"LIST_FILES","list_files":{"path":"/etc"}}""", "application/json", null, HttpStatusCode.BadRequest, "inaccessible" },
        { """{"type":"READ_FILE","read_file":{"path":"/etc/passwd","offset":0}}""", "application/json", null, HttpStatusCode.BadRequest, "inaccessible" },
        { """{"type":"READ_FILE","read_file":{"path":"@SANDBOX@/no-such-file","offset":0}}""", "application/json", null, HttpStatusCode.NotFound, "does not exist" },
        { """{"type":"READ_FILE","read_file":{"path":"@SANDBOX@","offset":0}}""", "application/json", null, HttpStatusCode.BadRequest, "Cannot read a directory" },
        { """{"type":"LAUNCH_CONTAINER"}""", "application/json", null, HttpStatusCode.NotImplemented, "LAUNCH_CONTAINER is not supported" },
        { """{"type":"UNKNOWN"}""", "application/json", null, HttpStatusCode.NotImplemented, "UNKNOWN" },
    };

    [Theory]
    [MemberData(nameof(BadCalls))]
    public async Task Bad_calls_get_a_4xx_or_501_with_the_reason(string body, string? contentType, string? accept, HttpStatusCode expected, string reason)
    {
        await using var cluster = await InProcessCluster.StartAsync();
        Directory.CreateDirectory(cluster.SandboxRoot);

        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(cluster.Agent!.Url, "api/v1"))
        {
            Content = new ByteArrayContent(Encoding.UTF8.GetBytes(body.Replace("@SANDBOX@", cluster.SandboxRoot, StringComparison.Ordinal))),
        };
        if (contentType is not null)
        {
            request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue(contentType);
        }

        if (accept is not null)
        {
            request.Headers.Add("Accept", accept);
        }

        using var response = await cluster.Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        response.StatusCode.Should().Be(expected, text);
        text.Should().Contain(reason);
    }

    [Fact]
    public async Task Agent_metrics_scrape_cleanly_with_task_and_container_series()
    {
        await using var cluster = await InProcessCluster.StartAsync();
        await using var scheduler = new RawScheduler(cluster.MasterUrl);
        await scheduler.SubscribeAsync(RawScheduler.FrameworkInfo("agent-scraped"));
        var offer = await scheduler.NextOfferAsync();
        (await scheduler.LaunchAsync(offer, "busy", "sleep 60")).Status.Should().Be(HttpStatusCode.Accepted);
        await scheduler.WaitForUpdateAsync("busy", "TASK_RUNNING");
        var container = $"framework_id=\"{scheduler.FrameworkId}\",executor_id=\"busy\"";

        (await cluster.Http.GetAsync(new Uri(cluster.Agent!.Url, "health"))).Dispose();
        var samples = await ScrapeAsync(cluster);
        samples["mezzo_agent_tasks{state=\"running\"}"].Should().Be(1);
        samples["mezzo_agent_registered"].Should().Be(1);
        samples["mezzo_agent_cpus{kind=\"total\"}"].Should().Be(4);
        samples["mezzo_agent_cpus{kind=\"used\"}"].Should().Be(0.1);
        samples["mezzo_agent_mem_bytes{kind=\"total\"}"].Should().Be(4096.0 * 1024 * 1024);
        samples["mezzo_agent_container_cpus_limit{" + container + "}"].Should().Be(0.1);
        samples.Should().ContainKey("mezzo_agent_container_processes{" + container + "}");
        samples["mezzo_agent_http_requests_total{method=\"GET\",code=\"200\"}"].Should().BeGreaterThanOrEqualTo(1);
        samples.Should().ContainKey("mezzo_agent_valid_status_updates");

        (await scheduler.KillAsync("busy")).Status.Should().Be(HttpStatusCode.Accepted);
        await scheduler.WaitForUpdateAsync("busy", "TASK_KILLED");
        await Poll.UntilAsync(async () => !(await ScrapeAsync(cluster)).ContainsKey("mezzo_agent_container_cpus_limit{" + container + "}"),
            "the ended container's series to go");
    }

    private static async Task<Dictionary<string, double>> ScrapeAsync(InProcessCluster cluster)
    {
        using var response = await cluster.Http.GetAsync(new Uri(cluster.Agent!.Url, "metrics"));
        response.StatusCode.Should().Be(HttpStatusCode.OK);
        response.Content.Headers.ContentType!.MediaType.Should().Be("text/plain");
        return PrometheusMetricsTests.Parse(await response.Content.ReadAsStringAsync());
    }

    private static async Task<JsonNode> CallAsync(InProcessCluster cluster, string type, string extra = "")
    {
        using var content = new StringContent($$"""{"type":"{{type}}"{{extra}}}""", Encoding.UTF8, "application/json");
        using var response = await cluster.Http.PostAsync(new Uri(cluster.Agent!.Url, "api/v1"), content);
        var body = await response.Content.ReadAsStringAsync();
        response.StatusCode.Should().Be(HttpStatusCode.OK, body);
        var json = JsonNode.Parse(body)!;
        ((string?)json["type"]).Should().Be(type);
        return json;
    }
}
