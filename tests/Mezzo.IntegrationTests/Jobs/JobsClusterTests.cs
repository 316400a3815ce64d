using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Mezzo.IntegrationTests.Infrastructure;
using Mezzo.Jobs;

namespace Mezzo.IntegrationTests.Jobs;

/// <summary><c>mezzo jobs</c> (in process, real time, real HTTP) scheduling on a real master and agent.</summary>
public sealed class JobsClusterTests
{
    private sealed class Jobs : IAsyncDisposable
    {
        private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(30) };

        private Jobs(InProcessCluster cluster, TempDir dir)
        {
            Cluster = cluster;
            Dir = dir;
        }

        public InProcessCluster Cluster { get; }

        public TempDir Dir { get; }

        public JobsServer Server { get; private set; } = null!;

        public static async Task<Jobs> StartAsync(InProcessCluster cluster, TempDir? dir = null)
        {
            var jobs = new Jobs(cluster, dir ?? new TempDir());
            await jobs.RestartAsync();
            return jobs;
        }

        /// <summary>Starts (again) on the same work dir, as a restarted <c>mezzo jobs</c> would.</summary>
        public async Task RestartAsync()
        {
            Server = JobsServer.Create(
                new JobsOptions
                {
                    Master = Cluster.MasterAddress,
                    Port = 0,
                    Ip = "127.0.0.1",
                    Hostname = "127.0.0.1",
                    WorkDir = Dir.Path,
                    FailureRetryDelay = TimeSpan.Zero,
                    TickInterval = TimeSpan.FromMilliseconds(100),
                },
                TestLogging.Configure);
            await Server.StartAsync();
        }

        public async Task PostAsync(string path, string json)
        {
            using var content = new StringContent(json, Encoding.UTF8, "application/json");
            using var response = await _http.PostAsync(new Uri(Server.Url, path), content);
            response.StatusCode.Should().Be(HttpStatusCode.NoContent, await response.Content.ReadAsStringAsync());
        }

        public async Task<JsonObject> JobAsync(string name) =>
            JsonNode.Parse(await _http.GetStringAsync(new Uri(Server.Url, "v1/scheduler/jobs")))!.AsArray()
                .Single(j => j!["name"]!.GetValue<string>() == name)!.AsObject();

        public async Task<long> SuccessesAsync(string name) => (await JobAsync(name))["successCount"]!.GetValue<long>();

        public async Task<JsonArray> HistoryAsync(string name) =>
            JsonNode.Parse(await _http.GetStringAsync(new Uri(Server.Url, $"v1/scheduler/job/stat/{name}")))!["taskStatHistory"]!.AsArray();

        public async ValueTask DisposeAsync()
        {
            await Server.DisposeAsync();
            _http.Dispose();
            Dir.Dispose();
        }
    }

    private static string In(TimeSpan delay) =>
        DateTimeOffset.UtcNow.Add(delay).ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    /// <summary>Tasks of the jobs framework the master knows, completed or not, by task id.</summary>
    private static async Task<List<string>> MasterTaskIdsAsync(InProcessCluster cluster, string job)
    {
        var frameworks = (await cluster.StateAsync())["frameworks"]!.AsArray();
        return [.. frameworks.SelectMany(f => f!["tasks"]!.AsArray().Concat(f["completed_tasks"]!.AsArray()))
            .Where(t => t!["name"]!.GetValue<string>() == $"ChronosTask:{job}")
            .Select(t => t!["id"]!.GetValue<string>())];
    }

    [Fact]
    public async Task A_job_scheduled_ahead_runs_on_time_on_the_cluster_and_records_success()
    {
        await using var cluster = await InProcessCluster.StartAsync();
        await using var jobs = await Jobs.StartAsync(cluster);
        var due = DateTimeOffset.UtcNow.AddSeconds(3);
        await jobs.PostAsync("v1/scheduler/iso8601", $$"""
            {"name": "hello", "command": "echo hello from $mesos_task_id", "schedule": "R1/{{due.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture)}}/PT1H", "owner": "ops@example.com"}
            """);
        await Poll.UntilAsync(async () => await jobs.SuccessesAsync("hello") == 1, "the scheduled job to succeed");
        var job = await jobs.JobAsync("hello");
        job["errorCount"]!.GetValue<long>().Should().Be(0);
        DateTimeOffset.Parse(job["lastSuccess"]!.GetValue<string>(), CultureInfo.InvariantCulture).Should().BeOnOrAfter(due);
        var run = (await jobs.HistoryAsync("hello")).Should().ContainSingle().Subject!;
        run["status"]!.GetValue<string>().Should().Be("Success");
        run["taskId"]!.GetValue<string>().Should().Be($"ct:{due.ToUnixTimeMilliseconds()}:0:hello:");
        (await MasterTaskIdsAsync(cluster, "hello")).Should().Equal(run["taskId"]!.GetValue<string>());
        run["exitCode"]!.GetValue<int>().Should().Be(0);
        using var http = new HttpClient();
        var sandbox = JsonNode.Parse(await http.GetStringAsync(new Uri(run["sandbox"]!.GetValue<string>())))!.AsArray();
        sandbox.Select(f => f!["path"]!.GetValue<string>()).Should().Contain(p => p.EndsWith("/stdout", StringComparison.Ordinal));
    }

    [Fact]
    public async Task R5_every_2_seconds_runs_exactly_5_times()
    {
        await using var cluster = await InProcessCluster.StartAsync();
        await using var jobs = await Jobs.StartAsync(cluster);
        var start = DateTimeOffset.UtcNow.AddSeconds(1);
        await jobs.PostAsync("v1/scheduler/iso8601", $$"""
            {"name": "five", "command": "true", "schedule": "R5/{{start.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture)}}/PT2S"}
            """);
        await Poll.UntilAsync(async () => await jobs.SuccessesAsync("five") == 5, "five runs");
        // Past the time a sixth run would have had: still five.
        await Poll.UntilAsync(() => DateTimeOffset.UtcNow > start.AddSeconds(12), "the sixth occurrence's time to pass");
        await Poll.UntilAsync(async () => (await jobs.HistoryAsync("five")).All(r => r!["status"]!.GetValue<string>() != "Running"), "runs to settle");
        (await jobs.SuccessesAsync("five")).Should().Be(5);
        (await MasterTaskIdsAsync(cluster, "five")).Should().HaveCount(5).And.OnlyHaveUniqueItems();
    }

    [Fact]
    public async Task A_failing_job_retries_then_records_the_error_and_its_child_does_not_run()
    {
        await using var cluster = await InProcessCluster.StartAsync();
        await using var jobs = await Jobs.StartAsync(cluster);
        await jobs.PostAsync("v1/scheduler/iso8601", $$"""{"name": "broken", "command": "exit 3", "retries": 2, "schedule": "R1/{{In(TimeSpan.FromSeconds(1))}}/PT1H"}""");
        await jobs.PostAsync("v1/scheduler/dependency", """{"name": "after_broken", "command": "true", "parents": ["broken"]}""");
        await Poll.UntilAsync(async () => (await jobs.JobAsync("broken"))["errorCount"]!.GetValue<long>() == 1, "the job to fail for good");
        var history = await jobs.HistoryAsync("broken");
        history.Select(r => r!["attempt"]!.GetValue<int>()).Order().Should().Equal(0, 1, 2);
        history.Should().AllSatisfy(r => r!["status"]!.GetValue<string>().Should().Be("Fail"));
        history.Should().AllSatisfy(r => r!["exitCode"]!.GetValue<int>().Should().Be(3));
        (await jobs.JobAsync("broken"))["errorsSinceLastSuccess"]!.GetValue<long>().Should().Be(1);
        (await MasterTaskIdsAsync(cluster, "broken")).Should().HaveCount(3);
        (await MasterTaskIdsAsync(cluster, "after_broken")).Should().BeEmpty();
        (await jobs.SuccessesAsync("after_broken")).Should().Be(0);
    }

    [Fact]
    public async Task A_diamond_runs_in_order_and_the_join_only_after_both_branches()
    {
        await using var cluster = await InProcessCluster.StartAsync();
        await using var jobs = await Jobs.StartAsync(cluster);
        await jobs.PostAsync("v1/scheduler/iso8601", $$"""{"name": "a", "command": "true", "schedule": "R1/{{In(TimeSpan.FromSeconds(1))}}/PT1H"}""");
        await jobs.PostAsync("v1/scheduler/dependency", """{"name": "b", "command": "sleep 1", "parents": ["a"]}""");
        await jobs.PostAsync("v1/scheduler/dependency", """{"name": "c", "command": "true", "parents": ["a"]}""");
        await jobs.PostAsync("v1/scheduler/dependency", """{"name": "d", "command": "true", "parents": ["b", "c"]}""");
        await Poll.UntilAsync(async () => await jobs.SuccessesAsync("d") == 1, "the join to run");
        DateTimeOffset Last(JsonObject job) => DateTimeOffset.Parse(job["lastSuccess"]!.GetValue<string>(), CultureInfo.InvariantCulture);
        var (a, b, c, d) = (Last(await jobs.JobAsync("a")), Last(await jobs.JobAsync("b")), Last(await jobs.JobAsync("c")), Last(await jobs.JobAsync("d")));
        b.Should().BeAfter(a);
        c.Should().BeAfter(a);
        d.Should().BeAfter(b).And.BeAfter(c);
        foreach (var name in new[] { "a", "b", "c", "d" })
        {
            (await MasterTaskIdsAsync(cluster, name)).Should().ContainSingle(name);
        }
    }

    [Fact]
    public async Task A_run_no_agent_can_take_within_epsilon_is_skipped_with_its_reason_and_never_run_late()
    {
        await using var cluster = await InProcessCluster.StartAsync();
        await using var jobs = await Jobs.StartAsync(cluster);
        await jobs.PostAsync("v1/scheduler/iso8601", $$"""{"name": "huge", "command": "true", "cpus": 64, "epsilon": "PT2S", "schedule": "R1/{{In(TimeSpan.FromSeconds(1))}}/PT1H"}""");
        var skipped = await Poll.UntilAsync(
            async () => (await jobs.HistoryAsync("huge")).FirstOrDefault(r => r!["state"]!.GetValue<string>() == "Skipped"),
            "the run to be skipped");
        skipped!["message"]!.GetValue<string>().Should().Contain("epsilon PT2S").And.Contain("cpus 64");
        (await MasterTaskIdsAsync(cluster, "huge")).Should().BeEmpty();
        var job = await jobs.JobAsync("huge");
        job["successCount"]!.GetValue<long>().Should().Be(0);
        job["errorCount"]!.GetValue<long>().Should().Be(0);
    }

    [Fact]
    public async Task Kill_stops_a_running_job_and_an_async_job_ends_on_its_callback()
    {
        await using var cluster = await InProcessCluster.StartAsync();
        await using var jobs = await Jobs.StartAsync(cluster);
        await jobs.PostAsync("v1/scheduler/iso8601", $$"""{"name": "stuck", "command": "sleep 300", "schedule": "R1/{{In(TimeSpan.FromSeconds(1))}}/PT1H"}""");
        await jobs.PostAsync("v1/scheduler/iso8601", $$"""{"name": "background", "command": "true", "async": true, "schedule": "R1/{{In(TimeSpan.FromSeconds(1))}}/PT1H"}""");
        await Poll.UntilAsync(async () => (await jobs.HistoryAsync("stuck")).Any(r => r!["startTime"]!.GetValue<string>() != "N/A"), "the stuck job to run");
        using (var http = new HttpClient())
        {
            using var kill = await http.DeleteAsync(new Uri(jobs.Server.Url, "v1/scheduler/task/kill/stuck"));
            kill.StatusCode.Should().Be(HttpStatusCode.NoContent);
            var waiting = await Poll.UntilAsync(
                async () => (await jobs.HistoryAsync("background")).FirstOrDefault(r => r!["message"]!.GetValue<string>().Contains("async callback", StringComparison.Ordinal)),
                "the async job's process to end");
            (await jobs.SuccessesAsync("background")).Should().Be(0, "an async job ends on its callback, not on its process");
            using var body = new StringContent("""{"statusCode": 0}""", Encoding.UTF8, "application/json");
            using var callback = await http.PutAsync(new Uri(jobs.Server.Url, $"v1/scheduler/task/{Uri.EscapeDataString(waiting!["taskId"]!.GetValue<string>())}"), body);
            callback.StatusCode.Should().Be(HttpStatusCode.NoContent);
        }

        await Poll.UntilAsync(async () => (await jobs.HistoryAsync("stuck")).Any(r => r!["state"]!.GetValue<string>() == "Killed"), "the kill");
        await Poll.UntilAsync(async () => await jobs.SuccessesAsync("background") == 1, "the async job's success");
        (await jobs.JobAsync("stuck"))["errorCount"]!.GetValue<long>().Should().Be(0, "a kill is not a failure");
    }

    [Fact]
    public async Task A_restart_mid_run_reconciles_the_running_task_and_runs_nothing_twice()
    {
        await using var cluster = await InProcessCluster.StartAsync();
        await using var jobs = await Jobs.StartAsync(cluster);
        await jobs.PostAsync("v1/scheduler/iso8601", $$"""{"name": "long", "command": "sleep 4", "schedule": "R/{{In(TimeSpan.FromSeconds(1))}}/PT1H"}""");
        await Poll.UntilAsync(async () => (await jobs.HistoryAsync("long")).Any(r => r!["status"]!.GetValue<string>() == "Running" && r["startTime"]!.GetValue<string>() != "N/A"), "the run to start");

        await jobs.Server.DisposeAsync();
        await jobs.RestartAsync();

        await Poll.UntilAsync(async () => await jobs.SuccessesAsync("long") == 1, "the reconciled run to finish");
        var history = await jobs.HistoryAsync("long");
        history.Should().ContainSingle().Which!["status"]!.GetValue<string>().Should().Be("Success");
        (await MasterTaskIdsAsync(cluster, "long")).Should().ContainSingle("the run was reconciled, not launched again");
        var frameworks = (await cluster.StateAsync())["frameworks"]!.AsArray();
        frameworks.Should().ContainSingle("the restarted service failed over to its own framework id");
    }
}
