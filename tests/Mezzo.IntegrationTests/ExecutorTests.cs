using System.Net;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json.Nodes;
using AwesomeAssertions;
using Mezzo.IntegrationTests.Infrastructure;

namespace Mezzo.IntegrationTests;

/// <summary>
/// Custom executors through a real cluster: the agent starts tests/Mezzo.TestExecutor (a real process speaking the v1
/// executor HTTP API) and relays launches, kills, updates, acknowledgements and messages between it and the framework.
/// </summary>
public sealed class ExecutorTests
{
    /// <summary>The test executor's dll, built next to this project (same configuration and target framework).</summary>
    private static readonly string ExecutorDll = Path.GetFullPath(Path.Combine(
        AppContext.BaseDirectory, "..", "..", "..", "..", "Mezzo.TestExecutor", "bin",
        new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name, new DirectoryInfo(AppContext.BaseDirectory).Name, "Mezzo.TestExecutor.dll"));

    /// <summary>The dotnet host that runs this test process's runtime.</summary>
    private static readonly string Dotnet = Path.GetFullPath(Path.Combine(RuntimeEnvironment.GetRuntimeDirectory(), "..", "..", "..", "dotnet"));

    // The executor is fetched into its sandbox, as an operator ships one: its build output may sit under /tmp (a CI
    // checkout), which the executor's private /tmp would hide.
    private static string ExecutorCommand => $"exec '{Dotnet}' {Path.GetFileName(ExecutorDll)}";

    // Google.Protobuf.dll too: the executor speaks protobuf when TEST_EXECUTOR_PROTOBUF=1.
    private static JsonArray ExecutorUris() => new([.. ((string[])["dll", "deps.json", "runtimeconfig.json"])
        .Select(extension => Path.ChangeExtension(ExecutorDll, extension))
        .Append(Path.Combine(Path.GetDirectoryName(ExecutorDll)!, "Google.Protobuf.dll"))
        .Select(path => (JsonNode)new JsonObject { ["value"] = "file://" + path })]);

    private const string TaskResources = """[{"name":"cpus","type":"SCALAR","scalar":{"value":0.1}},{"name":"mem","type":"SCALAR","scalar":{"value":32}}]""";

    internal static JsonObject CustomExecutor(string id, string? command = null) => new()
    {
        ["executor_id"] = new JsonObject { ["value"] = id },
        ["type"] = "CUSTOM",
        ["name"] = "test executor",
        ["command"] = new JsonObject { ["value"] = command ?? ExecutorCommand, ["uris"] = ExecutorUris() },
        ["resources"] = JsonNode.Parse("""[{"name":"cpus","type":"SCALAR","scalar":{"value":0.1}},{"name":"mem","type":"SCALAR","scalar":{"value":256}}]"""),
        ["shutdown_grace_period"] = new JsonObject { ["nanoseconds"] = 5_000_000_000L },
    };

    /// <summary>ACCEPTs <paramref name="offer"/> with one LAUNCH of a task run by <paramref name="executor"/>.</summary>
    internal static Task<(HttpStatusCode Status, string Body)> LaunchOnExecutorAsync(RawScheduler scheduler, JsonObject offer, string taskId, JsonObject executor, string mode) =>
        scheduler.AcceptAsync(offer, new JsonObject
        {
            ["type"] = "LAUNCH",
            ["launch"] = new JsonObject
            {
                ["task_infos"] = new JsonArray(new JsonObject
                {
                    ["name"] = taskId,
                    ["task_id"] = new JsonObject { ["value"] = taskId },
                    ["agent_id"] = offer["agent_id"]!.DeepClone(),
                    ["resources"] = JsonNode.Parse(TaskResources),
                    ["executor"] = executor.DeepClone(),
                    ["data"] = Convert.ToBase64String(Encoding.UTF8.GetBytes(mode)),
                }),
            },
        });

    /// <summary>An OFFERS event for what a first launch left of the agent (its 4096 MB of memory no longer whole).</summary>
    private static bool LeftoverOffer(JsonObject offers) =>
        offers["offers"]!["offers"]![0]!["resources"]!.AsArray().Any(r => (string?)r!["name"] == "mem" && (double?)r["scalar"]!["value"] < 4096);

    private static string Status(JsonObject update, string field) => (string?)update["update"]!["status"]![field] ?? "";

    private static Task<JsonObject> WaitForMessageAsync(RawScheduler scheduler, string text) =>
        scheduler.WaitForAsync(
            e => (string?)e["type"] == "MESSAGE" && Encoding.UTF8.GetString(Convert.FromBase64String((string?)e["message"]?["data"] ?? "")) == text,
            $"MESSAGE '{text}'");

    private static async Task<JsonNode> AgentStateAsync(InProcessCluster cluster) =>
        JsonNode.Parse(await cluster.Http.GetStringAsync(new Uri(cluster.Agent!.Url, "state")))!;

    [Fact]
    public async Task Custom_executor_and_scheduler_speaking_protobuf_run_a_task_to_FINISHED()
    {
        File.Exists(ExecutorDll).Should().BeTrue($"the test executor must be built at {ExecutorDll}");
        await using var cluster = await InProcessCluster.StartAsync();
        await using var scheduler = new RawScheduler(cluster.MasterUrl) { Protobuf = true };
        await scheduler.SubscribeAsync(RawScheduler.FrameworkInfo());
        var offer = await scheduler.NextOfferAsync();
        var executor = CustomExecutor("proto-exec", "TEST_EXECUTOR_PROTOBUF=1 " + ExecutorCommand);

        (await LaunchOnExecutorAsync(scheduler, offer, "pt1", executor, "finish")).Status.Should().Be(HttpStatusCode.Accepted);

        var running = await scheduler.WaitForUpdateAsync("pt1", "TASK_RUNNING");
        Status(running, "source").Should().Be("SOURCE_EXECUTOR");
        ((string?)running["update"]!["status"]!["executor_id"]!["value"]).Should().Be("proto-exec");
        Status(await scheduler.WaitForUpdateAsync("pt1", "TASK_FINISHED"), "message").Should().Be("done");
        // The executor's MESSAGE call (bytes) went over protobuf too, and came back to the scheduler as a MESSAGE event.
        await WaitForMessageAsync(scheduler, "acknowledged:pt1");

        var directory = (string)(await AgentStateAsync(cluster))["frameworks"]![0]!["executors"]![0]!["directory"]!;
        (await File.ReadAllTextAsync(Path.Combine(directory, "stream.txt"))).Should().Be("application/x-protobuf");
    }

    [Fact]
    public async Task Custom_executor_runs_a_task_to_FINISHED_and_is_told_of_each_acknowledgement()
    {
        File.Exists(ExecutorDll).Should().BeTrue($"the test executor must be built at {ExecutorDll}");
        await using var cluster = await InProcessCluster.StartAsync();
        await using var scheduler = new RawScheduler(cluster.MasterUrl);
        await scheduler.SubscribeAsync(RawScheduler.FrameworkInfo());
        var offer = await scheduler.NextOfferAsync();

        (await LaunchOnExecutorAsync(scheduler, offer, "t1", CustomExecutor("exec-1"), "finish")).Status.Should().Be(HttpStatusCode.Accepted);

        var running = await scheduler.WaitForUpdateAsync("t1", "TASK_RUNNING");
        Status(running, "source").Should().Be("SOURCE_EXECUTOR");
        ((string?)running["update"]!["status"]!["executor_id"]!["value"]).Should().Be("exec-1");
        ((string?)running["update"]!["status"]!["agent_id"]!["value"]).Should().Be((string?)offer["agent_id"]!["value"]);
        var finished = await scheduler.WaitForUpdateAsync("t1", "TASK_FINISHED");
        Status(finished, "message").Should().Be("done");
        scheduler.Updates("t1").Select(u => Status(u, "state")).Should().Equal("TASK_RUNNING", "TASK_FINISHED");
        await WaitForMessageAsync(scheduler, "acknowledged:t1");

        var executor = (await AgentStateAsync(cluster))["frameworks"]![0]!["executors"]!.AsArray().Single()!;
        ((string?)executor["id"]).Should().Be("exec-1");
        ((string?)executor["type"]).Should().Be("CUSTOM");
        ((string?)executor["completed_tasks"]![0]!["id"]).Should().Be("t1");
        if (Environment.IsPrivilegedProcess)
        {
            Status(running, "message").Should().NotBe($"pid {(int)executor["pid"]!}", "the executor runs in its own pid namespace, as tasks do");
        }

        var sandbox = (string)executor["directory"]!;
        sandbox.Should().Contain($"/frameworks/{scheduler.FrameworkId}/executors/exec-1/runs/{(string?)executor["container"]}");

        var env = await File.ReadAllLinesAsync(Path.Combine(sandbox, "env.txt"));
        env.Should().Contain($"MESOS_FRAMEWORK_ID={scheduler.FrameworkId}")
            .And.Contain("MESOS_EXECUTOR_ID=exec-1")
            .And.Contain($"MESOS_SANDBOX={sandbox}")
            .And.Contain($"MESOS_DIRECTORY={sandbox}")
            .And.Contain($"MESOS_AGENT_ENDPOINT=127.0.0.1:{cluster.Agent!.Url.Port}")
            .And.Contain("MESOS_CHECKPOINT=0")
            .And.Contain("MESOS_HTTP_COMMAND_EXECUTOR=0")
            .And.Contain("MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD=5secs");
        var subscribed = JsonNode.Parse((await File.ReadAllLinesAsync(Path.Combine(sandbox, "events.log")))[0])!;
        ((string?)subscribed["type"]).Should().Be("SUBSCRIBED");
        ((string?)subscribed["subscribed"]!["executor_info"]!["executor_id"]!["value"]).Should().Be("exec-1");
        ((string?)subscribed["subscribed"]!["framework_info"]!["id"]!["value"]).Should().Be(scheduler.FrameworkId);
        ((string?)subscribed["subscribed"]!["agent_info"]!["id"]!["value"]).Should().Be((string?)offer["agent_id"]!["value"]);
        ((int?)subscribed["subscribed"]!["agent_info"]!["port"]).Should().Be(cluster.Agent.Url.Port);
        ((string?)subscribed["subscribed"]!["container_id"]!["value"]).Should().Be((string?)executor["container"]);

        var master = await cluster.StateAsync();
        var tracked = master["frameworks"]![0]!["executors"]!.AsArray().Single()!;
        ((string?)tracked["executor_id"]).Should().Be("exec-1");
        ((double?)tracked["resources"]!["mem"]).Should().Be(256, "the master holds the executor's resources while it runs");
    }

    [Fact]
    public async Task Two_tasks_on_one_executor_share_its_process_and_KILL_goes_to_the_executor()
    {
        await using var cluster = await InProcessCluster.StartAsync();
        await using var scheduler = new RawScheduler(cluster.MasterUrl);
        await scheduler.SubscribeAsync(RawScheduler.FrameworkInfo());
        var executor = CustomExecutor("shared");

        await LaunchOnExecutorAsync(scheduler, await scheduler.NextOfferAsync(), "first", executor, "run");
        var first = await scheduler.WaitForUpdateAsync("first", "TASK_RUNNING");
        var offer = await scheduler.NextOfferAsync(LeftoverOffer);
        await LaunchOnExecutorAsync(scheduler, offer, "second", executor, "finish");
        var second = await scheduler.WaitForUpdateAsync("second", "TASK_RUNNING");
        await scheduler.WaitForUpdateAsync("second", "TASK_FINISHED");

        Status(second, "message").Should().Be(Status(first, "message"), "both tasks run in the one executor process (its pid)");
        var metrics = JsonNode.Parse(await cluster.Http.GetStringAsync(new Uri(cluster.Agent!.Url, "metrics/snapshot")))!;
        ((double?)metrics["slave/executors_running"]).Should().Be(1);
        (await AgentStateAsync(cluster))["frameworks"]![0]!["executors"]!.AsArray().Should().ContainSingle();
        var used = (await cluster.StateAsync())["frameworks"]![0]!["used_resources"]!;
        ((double?)used["mem"]).Should().Be(256 + 32, "the executor's resources are held once, beside its one live task");

        (await scheduler.KillAsync("first")).Status.Should().Be(HttpStatusCode.Accepted);
        var killed = await scheduler.WaitForUpdateAsync("first", "TASK_KILLED");
        Status(killed, "source").Should().Be("SOURCE_EXECUTOR");
        Status(killed, "message").Should().Be("killed by the test executor");
    }

    [Fact]
    public async Task Executor_cgroups_follow_the_executor_and_its_live_tasks()
    {
        HostCgroups.SkipUnlessUsable();
        await using var cluster = await InProcessCluster.StartAsync();
        await using var scheduler = new RawScheduler(cluster.MasterUrl);
        await scheduler.SubscribeAsync(RawScheduler.FrameworkInfo());
        var executor = CustomExecutor("sized");
        await LaunchOnExecutorAsync(scheduler, await scheduler.NextOfferAsync(), "one", executor, "run");
        var running = await scheduler.WaitForUpdateAsync("one", "TASK_RUNNING");
        var containerId = (string)running["update"]!["status"]!["container_status"]!["container_id"]!["value"]!;
        var cgroup = $"/mezzo/{Mezzo.Agent.Isolation.CgroupIsolator.AgentKey(Path.Combine(cluster.WorkDir, "agent"))}/{containerId}";
        var limitFile = HostCgroups.Version("memory") == 1 ? "memory.limit_in_bytes" : "memory.max";
        long Limit() => long.Parse(HostCgroups.Read("memory", cgroup, limitFile), System.Globalization.CultureInfo.InvariantCulture);
        Limit().Should().Be((256 + 32) * 1024L * 1024, "the executor's container holds the executor and its first task");

        await LaunchOnExecutorAsync(scheduler, await scheduler.NextOfferAsync(LeftoverOffer), "two", executor, "run");
        await scheduler.WaitForUpdateAsync("two", "TASK_RUNNING");
        Limit().Should().Be((256 + 32 + 32) * 1024L * 1024, "a second task grows it");

        await scheduler.KillAsync("two");
        await scheduler.WaitForUpdateAsync("two", "TASK_KILLED");
        await Poll.UntilAsync(() => Limit() == (256 + 32) * 1024L * 1024, "the container to shrink back once the task is gone");
    }

    [Fact]
    public async Task Framework_and_executor_exchange_messages_both_ways()
    {
        await using var cluster = await InProcessCluster.StartAsync();
        await using var scheduler = new RawScheduler(cluster.MasterUrl);
        await scheduler.SubscribeAsync(RawScheduler.FrameworkInfo());
        var offer = await scheduler.NextOfferAsync();
        await LaunchOnExecutorAsync(scheduler, offer, "talker", CustomExecutor("chatty"), "run");
        await scheduler.WaitForUpdateAsync("talker", "TASK_RUNNING");

        var (status, body) = await scheduler.CallAsync(new JsonObject
        {
            ["framework_id"] = new JsonObject { ["value"] = scheduler.FrameworkId },
            ["type"] = "MESSAGE",
            ["message"] = new JsonObject
            {
                ["agent_id"] = offer["agent_id"]!.DeepClone(),
                ["executor_id"] = new JsonObject { ["value"] = "chatty" },
                ["data"] = Convert.ToBase64String(Encoding.UTF8.GetBytes("ping")),
            },
        }.ToJsonString());
        status.Should().Be(HttpStatusCode.Accepted, body);

        var echo = await WaitForMessageAsync(scheduler, "echo:ping");
        ((string?)echo["message"]!["agent_id"]!["value"]).Should().Be((string?)offer["agent_id"]!["value"]);
        ((string?)echo["message"]!["executor_id"]!["value"]).Should().Be("chatty");
    }

    [Fact]
    public async Task Scheduler_MESSAGE_without_executor_id_is_400()
    {
        await using var cluster = await InProcessCluster.StartAsync();
        await using var scheduler = new RawScheduler(cluster.MasterUrl);
        await scheduler.SubscribeAsync(RawScheduler.FrameworkInfo());
        var offer = await scheduler.NextOfferAsync();

        var (status, body) = await scheduler.CallAsync($$$"""
            {"framework_id":{"value":"{{{scheduler.FrameworkId}}}"},"type":"MESSAGE",
             "message":{"agent_id":{{{offer["agent_id"]!.ToJsonString()}}},"data":"cGluZw=="}}
            """);

        status.Should().Be(HttpStatusCode.BadRequest);
        body.Should().Contain("'message.executor_id'");
    }

    [Fact]
    public async Task Executor_crash_fails_its_tasks_with_REASON_EXECUTOR_TERMINATED_and_the_framework_hears_FAILURE()
    {
        await using var cluster = await InProcessCluster.StartAsync();
        await using var scheduler = new RawScheduler(cluster.MasterUrl);
        await scheduler.SubscribeAsync(RawScheduler.FrameworkInfo());
        var executor = CustomExecutor("fragile");
        await LaunchOnExecutorAsync(scheduler, await scheduler.NextOfferAsync(), "bystander", executor, "run");
        await scheduler.WaitForUpdateAsync("bystander", "TASK_RUNNING");
        var offer = await scheduler.NextOfferAsync(LeftoverOffer);

        await LaunchOnExecutorAsync(scheduler, offer, "crasher", executor, "crash");

        foreach (var taskId in (string[])["bystander", "crasher"])
        {
            var failed = await scheduler.WaitForUpdateAsync(taskId, "TASK_FAILED");
            Status(failed, "source").Should().Be("SOURCE_AGENT");
            Status(failed, "reason").Should().Be("REASON_EXECUTOR_TERMINATED");
            Status(failed, "message").Should().Contain("status 7");
        }

        var failure = await scheduler.WaitForAsync(e => (string?)e["type"] == "FAILURE", "FAILURE");
        ((string?)failure["failure"]!["executor_id"]!["value"]).Should().Be("fragile");
        ((int?)failure["failure"]!["status"]).Should().Be(7 << 8, "the wait status of exit(7)");
        await Poll.UntilAsync(
            async () => (await cluster.StateAsync())["frameworks"]![0]!["executors"]!.AsArray().Count == 0,
            "the master to let go of the crashed executor");
    }

    [Fact]
    public async Task Executor_that_never_subscribes_is_destroyed_and_its_task_fails_with_REASON_EXECUTOR_REGISTRATION_TIMEOUT()
    {
        await using var cluster = await InProcessCluster.StartAsync(configureAgent: o => o.ExecutorRegistrationTimeout = TimeSpan.FromSeconds(1));
        await using var scheduler = new RawScheduler(cluster.MasterUrl);
        await scheduler.SubscribeAsync(RawScheduler.FrameworkInfo());

        await LaunchOnExecutorAsync(scheduler, await scheduler.NextOfferAsync(), "stuck", CustomExecutor("silent", "sleep 1000"), "run");

        var failed = await scheduler.WaitForUpdateAsync("stuck", "TASK_FAILED");
        Status(failed, "reason").Should().Be("REASON_EXECUTOR_REGISTRATION_TIMEOUT");
        Status(failed, "source").Should().Be("SOURCE_AGENT");
        Status(failed, "message").Should().Be("Executor did not register within 1secs");
        await Poll.UntilAsync(() => Mezzo.Agent.Tasks.OrphanReaper.FindTaskProcesses(cluster.WorkDir).Count == 0, "the executor process to be gone");
    }

    [Fact]
    public async Task SHUTDOWN_call_makes_the_executor_kill_its_tasks_and_exit()
    {
        await using var cluster = await InProcessCluster.StartAsync();
        await using var scheduler = new RawScheduler(cluster.MasterUrl);
        await scheduler.SubscribeAsync(RawScheduler.FrameworkInfo());
        var offer = await scheduler.NextOfferAsync();
        await LaunchOnExecutorAsync(scheduler, offer, "long", CustomExecutor("stoppable"), "run");
        await scheduler.WaitForUpdateAsync("long", "TASK_RUNNING");

        var (status, body) = await scheduler.CallAsync($$$"""
            {"framework_id":{"value":"{{{scheduler.FrameworkId}}}"},"type":"SHUTDOWN",
             "shutdown":{"executor_id":{"value":"stoppable"},"agent_id":{{{offer["agent_id"]!.ToJsonString()}}}}}
            """);
        status.Should().Be(HttpStatusCode.Accepted, body);

        var killed = await scheduler.WaitForUpdateAsync("long", "TASK_KILLED");
        Status(killed, "message").Should().Be("executor shut down");
        var failure = await scheduler.WaitForAsync(e => (string?)e["type"] == "FAILURE", "FAILURE");
        ((int?)failure["failure"]!["status"]).Should().Be(0, "the executor exited by itself within its grace period");
    }

    [Fact]
    public async Task Bad_calls_to_the_executor_API_are_4xx_with_a_message()
    {
        await using var cluster = await InProcessCluster.StartAsync();
        await using var scheduler = new RawScheduler(cluster.MasterUrl);
        await scheduler.SubscribeAsync(RawScheduler.FrameworkInfo());
        await LaunchOnExecutorAsync(scheduler, await scheduler.NextOfferAsync(), "live", CustomExecutor("live-exec"), "run");
        await scheduler.WaitForUpdateAsync("live", "TASK_RUNNING");
        var api = new Uri(cluster.Agent!.Url, "api/v1/executor");
        var ids = $$"""{"framework_id":{"value":"{{scheduler.FrameworkId}}"},"executor_id":{"value":"live-exec"}""";
        var uuid = Convert.ToBase64String(Guid.NewGuid().ToByteArray());

        async Task Expect(string body, HttpStatusCode expected, string message, string contentType = "application/json")
        {
            using var content = new StringContent(body, Encoding.UTF8);
            content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue(contentType);
            using var response = await cluster.Http.PostAsync(api, content);
            ((int)response.StatusCode).Should().Be((int)expected, body);
            (await response.Content.ReadAsStringAsync()).Should().Contain(message, body);
        }

        await Expect("{not json", HttpStatusCode.BadRequest, "Failed to parse body into executor call");
        await Expect("""{"type":"SUBSCRIBE","framework_id":{"value":"f"}}""", HttpStatusCode.BadRequest, "Expecting 'executor_id' to be present");
        await Expect("""{"type":"BOGUS","framework_id":{"value":"f"},"executor_id":{"value":"e"}}""", HttpStatusCode.BadRequest, "Failed to parse body");
        await Expect("""{"type":"SUBSCRIBE","framework_id":{"value":"nope"},"executor_id":{"value":"e"}}""", HttpStatusCode.BadRequest, "Framework 'nope' cannot be found");
        await Expect((ids + ""","type":"SUBSCRIBE"}""").Replace("live-exec", "other", StringComparison.Ordinal), HttpStatusCode.BadRequest, "cannot be found");
        await Expect($$$"""{"framework_id":{"value":"{{{scheduler.FrameworkId}}}"},"executor_id":{"value":"ghost"},"type":"MESSAGE","message":{"data":"eA=="}}""", HttpStatusCode.BadRequest, "Executor 'ghost'");
        await Expect(ids + ""","type":"UPDATE"}""", HttpStatusCode.BadRequest, "Expecting 'update' to be present");
        await Expect(ids + ""","type":"UPDATE","update":{"status":{"task_id":{"value":"live"},"state":"TASK_RUNNING","uuid":"AQID"}}}""", HttpStatusCode.BadRequest, "16 byte UUID");
        await Expect(ids + $$$$""","type":"UPDATE","update":{"status":{"task_id":{"value":"live"},"state":"TASK_STAGING","uuid":"{{{{uuid}}}}"}}}""", HttpStatusCode.BadRequest, "TASK_STAGING");
        await Expect(ids + $$$$""","type":"UPDATE","update":{"status":{"task_id":{"value":"live"},"state":"TASK_RUNNING","source":"SOURCE_MASTER","uuid":"{{{{uuid}}}}"}}}""", HttpStatusCode.BadRequest, "SOURCE_EXECUTOR");
        await Expect(ids + $$$$""","type":"UPDATE","update":{"status":{"task_id":{"value":"nobody"},"state":"TASK_RUNNING","uuid":"{{{{uuid}}}}"}}}""", HttpStatusCode.BadRequest, "Task 'nobody' is not a task of executor 'live-exec'");
        await Expect(ids + ""","type":"MESSAGE"}""", HttpStatusCode.BadRequest, "Expecting 'message.data' to be present");
        await Expect(ids + ""","type":"MESSAGE","message":{"data":"eA=="}}""", HttpStatusCode.UnsupportedMediaType, "application/json or application/x-protobuf", "application/xml");
        await Expect("\u0012\u0005\u0001", HttpStatusCode.BadRequest, "Failed to parse body into executor call protobuf", "application/x-protobuf");

        // None of that disturbed the executor: its task still runs and it still answers.
        (await scheduler.KillAsync("live")).Status.Should().Be(HttpStatusCode.Accepted);
        await scheduler.WaitForUpdateAsync("live", "TASK_KILLED");
    }

    [Fact]
    public async Task Executor_URIs_are_fetched_into_its_sandbox_before_it_starts()
    {
        await using var cluster = await InProcessCluster.StartAsync();
        await using var scheduler = new RawScheduler(cluster.MasterUrl);
        await scheduler.SubscribeAsync(RawScheduler.FrameworkInfo());
        var script = Path.Combine(cluster.WorkDir, "run-executor.sh");
        await File.WriteAllTextAsync(script, $"#!/bin/sh\n{ExecutorCommand}\n");
        var executor = CustomExecutor("fetched", "./run-executor.sh");
        executor["command"]!["uris"]!.AsArray().Add(new JsonObject { ["value"] = "file://" + script, ["executable"] = true });

        await LaunchOnExecutorAsync(scheduler, await scheduler.NextOfferAsync(), "via-uri", executor, "finish");

        await scheduler.WaitForUpdateAsync("via-uri", "TASK_FINISHED");
        var sandbox = (string)(await AgentStateAsync(cluster))["frameworks"]![0]!["executors"]![0]!["directory"]!;
        File.Exists(Path.Combine(sandbox, "run-executor.sh")).Should().BeTrue();
    }

    [Fact]
    public async Task Executor_whose_URI_cannot_be_fetched_fails_its_task_and_gives_back_its_resources()
    {
        await using var cluster = await InProcessCluster.StartAsync();
        await using var scheduler = new RawScheduler(cluster.MasterUrl);
        await scheduler.SubscribeAsync(RawScheduler.FrameworkInfo());
        var executor = CustomExecutor("unfetchable", "./missing.sh");
        executor["command"]!["uris"]!.AsArray().Add(new JsonObject { ["value"] = "file:///nonexistent/missing.sh" });

        await LaunchOnExecutorAsync(scheduler, await scheduler.NextOfferAsync(), "no-executor", executor, "finish");

        var failed = await scheduler.WaitForUpdateAsync("no-executor", "TASK_FAILED");
        Status(failed, "reason").Should().Be("REASON_CONTAINER_LAUNCH_FAILED");
        Status(failed, "message").Should().Contain("/nonexistent/missing.sh");
        await Poll.UntilAsync(
            async () => (await cluster.StateAsync())["frameworks"]![0]!["executors"]!.AsArray().Count == 0,
            "the master to release the executor that could not be fetched");
    }

    [Fact]
    public async Task A_different_ExecutorInfo_under_a_running_executor_id_is_TASK_ERROR()
    {
        await using var cluster = await InProcessCluster.StartAsync();
        await using var scheduler = new RawScheduler(cluster.MasterUrl);
        await scheduler.SubscribeAsync(RawScheduler.FrameworkInfo());
        await LaunchOnExecutorAsync(scheduler, await scheduler.NextOfferAsync(), "original", CustomExecutor("same-id"), "run");
        await scheduler.WaitForUpdateAsync("original", "TASK_RUNNING");
        var changed = CustomExecutor("same-id");
        changed["command"]!["value"] = "sleep 1000";

        await LaunchOnExecutorAsync(scheduler, await scheduler.NextOfferAsync(LeftoverOffer), "impostor", changed, "run");

        var error = await scheduler.WaitForUpdateAsync("impostor", "TASK_ERROR");
        Status(error, "reason").Should().Be("REASON_TASK_INVALID");
        Status(error, "message").Should().Contain("not compatible");
    }

    [Fact]
    public async Task Custom_executor_without_a_command_is_TASK_ERROR()
    {
        await using var cluster = await InProcessCluster.StartAsync();
        await using var scheduler = new RawScheduler(cluster.MasterUrl);
        await scheduler.SubscribeAsync(RawScheduler.FrameworkInfo());
        var executor = CustomExecutor("commandless");
        executor.Remove("command");

        await LaunchOnExecutorAsync(scheduler, await scheduler.NextOfferAsync(), "orphan", executor, "run");

        var error = await scheduler.WaitForUpdateAsync("orphan", "TASK_ERROR");
        Status(error, "message").Should().Be("'ExecutorInfo.command' must be set for 'CUSTOM' executor");
    }

    [Fact]
    public async Task Executor_that_cannot_start_fails_its_task_with_REASON_CONTAINER_LAUNCH_FAILED()
    {
        await using var cluster = await InProcessCluster.StartAsync();
        await using var scheduler = new RawScheduler(cluster.MasterUrl);
        await scheduler.SubscribeAsync(RawScheduler.FrameworkInfo());
        var executor = CustomExecutor("missing");
        executor["command"] = new JsonObject { ["shell"] = false, ["value"] = "/nonexistent/executor", ["arguments"] = new JsonArray("executor") };

        await LaunchOnExecutorAsync(scheduler, await scheduler.NextOfferAsync(), "never", executor, "run");

        var failed = await scheduler.WaitForUpdateAsync("never", "TASK_FAILED");
        Status(failed, "reason").Should().Be("REASON_CONTAINER_LAUNCH_FAILED");
        Status(failed, "source").Should().Be("SOURCE_AGENT");
        Status(failed, "message").Should().Contain("/nonexistent/executor");
        await Poll.UntilAsync(
            async () => (await cluster.StateAsync())["frameworks"]![0]!["executors"]!.AsArray().Count == 0,
            "the master to release the resources of the executor that never started");
    }

    [Fact]
    public async Task DEFAULT_executor_in_a_plain_LAUNCH_is_TASK_ERROR()
    {
        await using var cluster = await InProcessCluster.StartAsync();
        await using var scheduler = new RawScheduler(cluster.MasterUrl);
        await scheduler.SubscribeAsync(RawScheduler.FrameworkInfo());
        var executor = new JsonObject { ["executor_id"] = new JsonObject { ["value"] = "d" }, ["type"] = "DEFAULT" };

        await LaunchOnExecutorAsync(scheduler, await scheduler.NextOfferAsync(), "wrong", executor, "finish");

        var error = await scheduler.WaitForUpdateAsync("wrong", "TASK_ERROR");
        Status(error, "reason").Should().Be("REASON_TASK_INVALID");
        Status(error, "message").Should().Contain("LAUNCH_GROUP");
    }
}
