using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using AwesomeAssertions;
using Mezzo.IntegrationTests.Infrastructure;

namespace Mezzo.IntegrationTests;

/// <summary>Health checks, checks and kill policies on a real cluster, seen through a scheduler's status updates.</summary>
public sealed class HealthCheckTests
{
    private const string KillingCapable = """{"user":"root","name":"health","capabilities":[{"type":"TASK_KILLING_STATE"}]}""";

    private static async Task<RawScheduler> SchedulerAsync(InProcessCluster cluster, string frameworkInfo = KillingCapable)
    {
        var scheduler = new RawScheduler(cluster.MasterUrl);
        await scheduler.SubscribeAsync(frameworkInfo);
        return scheduler;
    }

    private static JsonNode Status(JsonObject update) => update["update"]!["status"]!;

    private static Task<JsonObject> WaitForStatusAsync(RawScheduler scheduler, string taskId, Func<JsonNode, bool> match, string what, TimeSpan? timeout = null) =>
        scheduler.WaitForAsync(
            e => (string?)e["type"] == "UPDATE" && (string?)Status(e)["task_id"]?["value"] == taskId && match(Status(e)),
            what,
            timeout);

    private static List<JsonNode> Statuses(RawScheduler scheduler, string taskId) => [.. scheduler.Updates(taskId).Select(Status)];

    private static bool Is(JsonNode status, string state, string? reason = null) =>
        (string?)status["state"] == state && (reason is null || (string?)status["reason"] == reason);


    private static string Sandbox(InProcessCluster cluster, string taskId) =>
        Directory.GetDirectories(cluster.SandboxRoot, taskId, SearchOption.AllDirectories).Single(d => Path.GetFileName(Path.GetDirectoryName(d)) == "executors") + "/runs/latest";

    private static void WriteAtomically(string path, string text)
    {
        File.WriteAllText(path + ".tmp", text);
        File.Move(path + ".tmp", path, overwrite: true);
    }

    [Fact]
    public async Task An_HTTP_health_check_against_the_tasks_server_turns_the_task_healthy()
    {
        await using var cluster = await InProcessCluster.StartAsync();
        await using var scheduler = await SchedulerAsync(cluster);
        var port = Ports.Free();

        await scheduler.LaunchAsync(await scheduler.NextOfferAsync(), "web", $"exec python3 -m http.server {port} --bind 127.0.0.1",
            extra: $$"""
                "health_check": {"type": "HTTP", "http": {"port": {{port}}, "path": "/"}, "delay_seconds": 0, "interval_seconds": 0.2, "timeout_seconds": 5, "grace_period_seconds": 60},
                """);

        var healthy = Status(await WaitForStatusAsync(scheduler, "web", s => Is(s, "TASK_RUNNING", "REASON_TASK_HEALTH_CHECK_STATUS_UPDATED"), "a health update"));
        ((bool?)healthy["healthy"]).Should().BeTrue();
        ((string?)healthy["source"]).Should().Be("SOURCE_EXECUTOR");
        var first = Statuses(scheduler, "web").First(s => Is(s, "TASK_RUNNING"));
        first["healthy"].Should().BeNull("the launch's TASK_RUNNING comes before any health result");
        first["reason"].Should().BeNull();
        Statuses(scheduler, "web").Count(s => (string?)s["reason"] == "REASON_TASK_HEALTH_CHECK_STATUS_UPDATED").Should().Be(1, "later successes are not reported again");

        await scheduler.KillAsync("web");
        var killed = Status(await scheduler.WaitForUpdateAsync("web", "TASK_KILLED"));
        killed["healthy"].Should().BeNull("only a task killed for failing health checks ends unhealthy");
    }

    [Fact]
    public async Task A_failing_COMMAND_health_check_reports_unhealthy_then_kills_the_task_after_consecutive_failures()
    {
        await using var cluster = await InProcessCluster.StartAsync();
        await using var scheduler = await SchedulerAsync(cluster);

        await scheduler.LaunchAsync(await scheduler.NextOfferAsync(), "h", "touch ok && exec sleep 1000",
            extra: """
                "health_check": {"type": "COMMAND", "command": {"value": "test -f ok"}, "delay_seconds": 0, "interval_seconds": 0.2, "consecutive_failures": 3, "grace_period_seconds": 60},
                """);
        await WaitForStatusAsync(scheduler, "h", s => (bool?)s["healthy"] == true, "healthy=true");

        File.Delete(Path.Combine(Sandbox(cluster, "h"), "ok"));

        var killed = Status(await scheduler.WaitForUpdateAsync("h", "TASK_KILLED"));
        ((bool?)killed["healthy"]).Should().BeFalse();
        ((string?)killed["message"]).Should().Be("Command terminated with signal Terminated");
        var states = Statuses(scheduler, "h").Select(s => $"{s["state"]}{(s["healthy"] is { } h ? $"/{h}" : "")}").ToList();
        states.Should().Equal(
            "TASK_STARTING", "TASK_RUNNING", "TASK_RUNNING/true",
            "TASK_RUNNING/false", "TASK_RUNNING/false", "TASK_RUNNING/false",
            "TASK_KILLING", "TASK_KILLED/false");
        Statuses(scheduler, "h").Where(s => s["healthy"] is not null && Is(s, "TASK_RUNNING"))
            .Should().OnlyContain(s => (string?)s["reason"] == "REASON_TASK_HEALTH_CHECK_STATUS_UPDATED");
    }

    [Fact]
    public async Task A_TCP_health_check_and_a_TCP_check_each_report_and_keep_the_others_field()
    {
        await using var cluster = await InProcessCluster.StartAsync();
        await using var scheduler = await SchedulerAsync(cluster);
        var port = Ports.Free();
        var closed = Ports.Free();

        await scheduler.LaunchAsync(await scheduler.NextOfferAsync(), "tcp", $"exec python3 -m http.server {port} --bind 127.0.0.1",
            extra: $$"""
                "health_check": {"type": "TCP", "tcp": {"port": {{port}}}, "delay_seconds": 0, "interval_seconds": 0.2, "grace_period_seconds": 60}, "check": {"type": "TCP", "tcp": {"port": {{closed}}}, "delay_seconds": 0, "interval_seconds": 0.2},
                """);

        await WaitForStatusAsync(scheduler, "tcp", s => (bool?)s["healthy"] == true, "healthy=true");
        await WaitForStatusAsync(scheduler, "tcp", s => (bool?)s["check_status"]?["tcp"]?["succeeded"] == false, "a failed TCP check result");

        var running = Statuses(scheduler, "tcp").Where(s => Is(s, "TASK_RUNNING")).ToList();
        running.Should().OnlyContain(s => (string?)s["check_status"]!["type"] == "TCP", "a task with a check carries check_status on every status");
        ((JsonObject)running[0]["check_status"]!["tcp"]!).Count.Should().Be(0, "before the first result the check status is empty");
        var checkUpdate = running.Single(s => (string?)s["reason"] == "REASON_TASK_CHECK_STATUS_UPDATED");
        var healthUpdate = running.Single(s => (string?)s["reason"] == "REASON_TASK_HEALTH_CHECK_STATUS_UPDATED");
        if (running.IndexOf(checkUpdate) < running.IndexOf(healthUpdate))
        {
            ((bool?)healthUpdate["check_status"]!["tcp"]!["succeeded"]).Should().BeFalse("a health update keeps the last check result");
        }
        else
        {
            ((bool?)checkUpdate["healthy"]).Should().BeTrue("a check update keeps the last health");
        }

        await scheduler.KillAsync("tcp");
        var killed = Status(await scheduler.WaitForUpdateAsync("tcp", "TASK_KILLED"));
        ((JsonObject)killed["check_status"]!["tcp"]!).Count.Should().Be(0, "a status built afresh has the empty check status, as in Mesos");
    }

    [Fact]
    public async Task A_COMMAND_check_reports_each_new_exit_code_once()
    {
        await using var cluster = await InProcessCluster.StartAsync();
        await using var scheduler = await SchedulerAsync(cluster);

        await scheduler.LaunchAsync(await scheduler.NextOfferAsync(), "c", "exec sleep 1000",
            extra: """
                "check": {"type": "COMMAND", "command": {"command": {"value": "exit $(cat code 2>/dev/null || echo 9)"}}, "delay_seconds": 0, "interval_seconds": 0.2},
                """);
        await WaitForStatusAsync(scheduler, "c", s => (int?)s["check_status"]?["command"]?["exit_code"] == 9, "exit code 9 (no file yet)");
        var sandbox = Sandbox(cluster, "c");

        WriteAtomically(Path.Combine(sandbox, "code"), "3");
        await WaitForStatusAsync(scheduler, "c", s => (int?)s["check_status"]?["command"]?["exit_code"] == 3, "exit code 3");
        WriteAtomically(Path.Combine(sandbox, "code"), "0");
        await WaitForStatusAsync(scheduler, "c", s => (int?)s["check_status"]?["command"]?["exit_code"] == 0, "exit code 0");

        var updates = Statuses(scheduler, "c").Where(s => (string?)s["reason"] == "REASON_TASK_CHECK_STATUS_UPDATED").ToList();
        updates.Select(s => (int?)s["check_status"]!["command"]!["exit_code"]).Should().Equal(9, 3, 0);
        updates.Should().OnlyContain(s => Is(s, "TASK_RUNNING") && (string?)s["check_status"]!["type"] == "COMMAND");
        var running = Statuses(scheduler, "c").First(s => Is(s, "TASK_RUNNING"));
        ((JsonObject)running["check_status"]!["command"]!).Count.Should().Be(0);
        await scheduler.KillAsync("c");
        await scheduler.WaitForUpdateAsync("c", "TASK_KILLED");
    }

    [Fact]
    public async Task A_command_check_past_its_timeout_is_killed_and_gives_no_result()
    {
        await using var cluster = await InProcessCluster.StartAsync();
        await using var scheduler = await SchedulerAsync(cluster);

        await scheduler.LaunchAsync(await scheduler.NextOfferAsync(), "slow", "exec sleep 1000",
            extra: """
                "check": {"type": "COMMAND", "command": {"command": {"value": "sleep 1000 & echo $! >> pids; wait"}}, "delay_seconds": 0, "interval_seconds": 0.1, "timeout_seconds": 0.3},
                """);
        await scheduler.WaitForUpdateAsync("slow", "TASK_RUNNING");
        var pids = Path.Combine(Sandbox(cluster, "slow"), "pids");

        var first = await Poll.UntilAsync(() => Task.FromResult(File.Exists(pids) && File.ReadAllLines(pids) is { Length: >= 2 } lines ? lines[0] : null), "two check attempts");

        IsGone(int.Parse(first, CultureInfo.InvariantCulture)).Should().BeTrue("the timed-out attempt's whole process group was killed");
        Statuses(scheduler, "slow").Should().NotContain(s => (string?)s["reason"] == "REASON_TASK_CHECK_STATUS_UPDATED", "a timed-out check has no result to report");
        await scheduler.KillAsync("slow");
        await scheduler.WaitForUpdateAsync("slow", "TASK_KILLED");
        var all = File.ReadAllLines(pids).Select(p => int.Parse(p, CultureInfo.InvariantCulture)).ToList();
        await Poll.UntilAsync(() => all.All(IsGone), "every check process to be gone");
    }

    /// <summary>A killed, reparented process may stay a zombie if nothing reaps it here; that counts as gone.</summary>
    private static bool IsGone(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/stat");
            return stat[(stat.LastIndexOf(')') + 2)] is 'Z' or 'X';
        }
        catch (IOException)
        {
            return true;
        }
    }

    [Fact]
    public async Task Invalid_health_checks_and_checks_are_refused_with_TASK_ERROR_naming_the_field()
    {
        await using var cluster = await InProcessCluster.StartAsync();
        await using var scheduler = await SchedulerAsync(cluster);

        await scheduler.LaunchAsync(await scheduler.NextOfferAsync(), "bad-port", "sleep 1000",
            extra: """
                "health_check": {"type": "TCP", "tcp": {"port": 0}},
                """);
        await scheduler.LaunchAsync(await scheduler.NextOfferAsync(), "bad-interval", "sleep 1000",
            extra: """
                "health_check": {"type": "COMMAND", "command": {"value": "true"}, "interval_seconds": -1},
                """);
        await scheduler.LaunchAsync(await scheduler.NextOfferAsync(), "bad-check", "sleep 1000",
            extra: """
                "check": {"type": "HTTP"},
                """);

        foreach (var (task, message) in new[]
        {
            ("bad-port", "Task uses invalid health check: Expecting 'tcp.port' of TCP health check to be between 1 and 65535, not 0"),
            ("bad-interval", "Task uses invalid health check: Expecting 'interval_seconds' to be non-negative"),
            ("bad-check", "Task uses invalid check: Expecting 'http' to be set for HTTP check"),
        })
        {
            var error = Status(await scheduler.WaitForUpdateAsync(task, "TASK_ERROR"));
            ((string?)error["message"]).Should().Be(message);
            ((string?)error["reason"]).Should().Be("REASON_TASK_INVALID");
        }
    }

    [Fact]
    public async Task A_task_that_exits_on_SIGTERM_is_killed_well_within_its_grace_period()
    {
        await using var cluster = await InProcessCluster.StartAsync();
        await using var scheduler = await SchedulerAsync(cluster);
        await scheduler.LaunchAsync(await scheduler.NextOfferAsync(), "polite", "trap 'echo bye; exit 0' TERM; touch up; while true; do sleep 0.1; done",
            extra: """
                "kill_policy": {"grace_period": {"nanoseconds": 60000000000}},
                """);
        await scheduler.WaitForUpdateAsync("polite", "TASK_RUNNING");
        await Poll.UntilAsync(() => File.Exists(Path.Combine(Sandbox(cluster, "polite"), "up")), "the trap to be set");

        var clock = Stopwatch.StartNew();
        await scheduler.KillAsync("polite");
        var killed = Status(await scheduler.WaitForUpdateAsync("polite", "TASK_KILLED"));

        clock.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(30), "the task left on SIGTERM; nothing waited for the 60 s grace period");
        ((string?)killed["message"]).Should().Be("Command exited with status 0");
        Statuses(scheduler, "polite").Select(s => (string?)s["state"]).Should().Equal("TASK_STARTING", "TASK_RUNNING", "TASK_KILLING", "TASK_KILLED");
    }

    [Fact]
    public async Task A_task_that_ignores_SIGTERM_is_SIGKILLed_after_its_grace_period_and_no_TASK_KILLING_without_the_capability()
    {
        await using var cluster = await InProcessCluster.StartAsync();
        await using var scheduler = await SchedulerAsync(cluster, RawScheduler.FrameworkInfo());
        await scheduler.LaunchAsync(await scheduler.NextOfferAsync(), "stubborn", "trap '' TERM; touch up; while true; do sleep 0.1; done",
            extra: """
                "kill_policy": {"grace_period": {"nanoseconds": 1500000000}},
                """);
        await scheduler.WaitForUpdateAsync("stubborn", "TASK_RUNNING");
        await Poll.UntilAsync(() => File.Exists(Path.Combine(Sandbox(cluster, "stubborn"), "up")), "the trap to be set");

        var clock = Stopwatch.StartNew();
        await scheduler.KillAsync("stubborn");
        var killed = Status(await scheduler.WaitForUpdateAsync("stubborn", "TASK_KILLED"));

        clock.Elapsed.Should().BeGreaterThanOrEqualTo(TimeSpan.FromSeconds(1.5));
        ((string?)killed["message"]).Should().Be("Command terminated with signal Killed");
        Statuses(scheduler, "stubborn").Select(s => (string?)s["state"]).Should().Equal("TASK_STARTING", "TASK_RUNNING", "TASK_KILLED");
    }

    [Fact]
    public async Task A_KILL_calls_own_kill_policy_overrides_the_tasks_and_a_later_KILL_can_only_shorten_the_grace()
    {
        await using var cluster = await InProcessCluster.StartAsync();
        await using var scheduler = await SchedulerAsync(cluster);
        const string stubborn = "trap '' TERM; touch up; while true; do sleep 0.1; done";
        const string taskPolicy = """
                "kill_policy": {"grace_period": {"nanoseconds": 600000000000}},
                """;
        await scheduler.LaunchAsync(await scheduler.NextOfferAsync(), "overridden", stubborn, extra: taskPolicy);
        await scheduler.LaunchAsync(await scheduler.NextOfferAsync(), "shortened", stubborn, extra: taskPolicy);
        await scheduler.WaitForUpdateAsync("overridden", "TASK_RUNNING");
        await scheduler.WaitForUpdateAsync("shortened", "TASK_RUNNING");
        await Poll.UntilAsync(() => File.Exists(Path.Combine(Sandbox(cluster, "overridden"), "up")) && File.Exists(Path.Combine(Sandbox(cluster, "shortened"), "up")), "the traps to be set");

        string Kill(string task, long? graceNanos)
        {
            var kill = new JsonObject { ["task_id"] = new JsonObject { ["value"] = task } };
            if (graceNanos is { } nanos)
            {
                kill["kill_policy"] = new JsonObject { ["grace_period"] = new JsonObject { ["nanoseconds"] = nanos } };
            }

            return new JsonObject { ["framework_id"] = new JsonObject { ["value"] = scheduler.FrameworkId }, ["type"] = "KILL", ["kill"] = kill }.ToJsonString();
        }

        (await scheduler.CallAsync(Kill("overridden", 300_000_000))).Status.Should().Be(HttpStatusCode.Accepted);
        (await scheduler.CallAsync(Kill("shortened", null))).Status.Should().Be(HttpStatusCode.Accepted);
        await scheduler.WaitForUpdateAsync("shortened", "TASK_KILLING");
        (await scheduler.CallAsync(Kill("shortened", 600_000_000_000 * 2))).Status.Should().Be(HttpStatusCode.Accepted);
        (await scheduler.CallAsync(Kill("shortened", 200_000_000))).Status.Should().Be(HttpStatusCode.Accepted);

        // The task's own policy (10 minutes) would outlast the default poll deadline; these end in well under it.
        ((string?)Status(await scheduler.WaitForUpdateAsync("overridden", "TASK_KILLED"))["message"]).Should().Be("Command terminated with signal Killed");
        ((string?)Status(await scheduler.WaitForUpdateAsync("shortened", "TASK_KILLED"))["message"]).Should().Be("Command terminated with signal Killed");
    }

    [Fact]
    public async Task Without_any_kill_policy_the_agents_default_grace_period_applies()
    {
        await using var cluster = await InProcessCluster.StartAsync(configureAgent: o => o.DefaultKillGracePeriod = TimeSpan.FromMinutes(10));
        await using var scheduler = await SchedulerAsync(cluster);
        await scheduler.LaunchAsync(await scheduler.NextOfferAsync(), "stubborn", "trap '' TERM; touch up; while true; do sleep 0.1; done");
        await scheduler.WaitForUpdateAsync("stubborn", "TASK_RUNNING");
        await Poll.UntilAsync(() => File.Exists(Path.Combine(Sandbox(cluster, "stubborn"), "up")), "the trap to be set");

        await scheduler.KillAsync("stubborn");
        await scheduler.WaitForUpdateAsync("stubborn", "TASK_KILLING");

        var act = () => scheduler.WaitForUpdateAsync("stubborn", "TASK_KILLED", TimeSpan.FromSeconds(4));
        await act.Should().ThrowAsync<TimeoutException>("the 10 minute default grace period holds the SIGKILL back");
    }
}
