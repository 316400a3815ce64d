using System.Globalization;
using System.Text.Json.Nodes;
using AwesomeAssertions;
using Mezzo.Agent.Isolation;
using Mezzo.IntegrationTests.Infrastructure;

namespace Mezzo.IntegrationTests;

/// <summary>
/// namespaces/pid, filesystem/linux, disk/du and /monitor/statistics through a real cluster, on this machine's real
/// kernel: root, cgroups and namespaces (CI here has all three; elsewhere these skip and say why).
/// </summary>
public sealed class ContainerIsolationTests
{
    private static string Resources(double cpus, double mem, double disk = 0) => string.Create(CultureInfo.InvariantCulture,
        $$$"""[{"name":"cpus","type":"SCALAR","scalar":{"value":{{{cpus}}}}},{"name":"mem","type":"SCALAR","scalar":{"value":{{{mem}}}}}{{{(disk > 0 ? $$$""",{"name":"disk","type":"SCALAR","scalar":{"value":{{{disk}}}}}""" : "")}}}]""");

    private static void SkipUnlessRoot() =>
        Assert.SkipUnless(Environment.IsPrivilegedProcess, "Mount and pid namespaces need the agent to run as root.");

    /// <summary>The task's sandbox (runs/latest resolved).</summary>
    private static string Sandbox(InProcessCluster cluster, string taskId)
    {
        var executor = Directory.GetDirectories(cluster.SandboxRoot, taskId, SearchOption.AllDirectories)
            .Where(d => Path.GetFileName(Path.GetDirectoryName(d)) == "executors").MinBy(d => d.Length)!;
        return Directory.ResolveLinkTarget(Path.Combine(executor, "runs", "latest"), returnFinalTarget: true)!.FullName;
    }

    private static async Task<JsonArray> StatisticsAsync(InProcessCluster cluster, string path = "monitor/statistics") =>
        (JsonArray)JsonNode.Parse(await cluster.Http.GetStringAsync(new Uri(cluster.Agent!.Url, path)))!;

    private static async Task<JsonObject> StatisticsOfAsync(InProcessCluster cluster, string taskId) =>
        await Poll.UntilAsync(
            async () => (await StatisticsAsync(cluster)).OfType<JsonObject>().FirstOrDefault(e => (string?)e["executor_id"] == taskId),
            $"statistics of {taskId}");

    private static double CpuSeconds(JsonObject entry) =>
        (double)entry["statistics"]!["cpus_user_time_secs"]! + (double)entry["statistics"]!["cpus_system_time_secs"]!;

    [Fact]
    public async Task A_task_sees_only_its_own_processes_and_not_the_agent()
    {
        SkipUnlessRoot();
        await using var cluster = await InProcessCluster.StartAsync();
        await using var scheduler = new RawScheduler(cluster.MasterUrl);
        await scheduler.SubscribeAsync(RawScheduler.FrameworkInfo());

        var agentPid = Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
        // The background child is forked as "sh" and only becomes "sleep" at its exec: wait for that (with builtins only, so no other process appears) before ps looks.
        await scheduler.LaunchAsync(await scheduler.NextOfferAsync(), "ps", $"sleep 1000 & until read c < /proc/$!/comm 2>/dev/null && [ \"$c\" = sleep ]; do :; done; ps -e -o pid=,comm=; echo procs: $(ls /proc | grep -E '^[0-9]+$'); test -e /proc/{agentPid} && echo AGENT-VISIBLE; exit 0");

        await scheduler.WaitForUpdateAsync("ps", "TASK_FINISHED");
        var output = await File.ReadAllTextAsync(Path.Combine(Sandbox(cluster, "ps"), "stdout"));
        var processes = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Where(l => !l.StartsWith("procs:", StringComparison.Ordinal)).ToList();
        // The init is the task's supervisor (whose threads took the next few pids); then the task, its child and ps.
        processes.Select(p => p.Split(' ')[1]).Should().Equal(["mezzo-superviso", "sh", "sleep", "ps"], "ps lists the namespace's init, the task, its child and itself only");
        processes[0].Should().StartWith("1 ");
        output.Should().NotContain("AGENT-VISIBLE");
        var pids = output.Split('\n').Single(l => l.StartsWith("procs:", StringComparison.Ordinal))["procs:".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse);
        pids.Should().OnlyContain(p => p <= 10);
        Mezzo.Agent.Tasks.OrphanReaper.FindTaskProcesses(cluster.SandboxRoot).Should().BeEmpty("the background sleep died with the namespace");
    }

    [Fact]
    public async Task Tmp_is_the_sandboxs_tmp_and_the_host_tmp_is_untouched()
    {
        SkipUnlessRoot();
        await using var cluster = await InProcessCluster.StartAsync();
        await using var scheduler = new RawScheduler(cluster.MasterUrl);
        await scheduler.SubscribeAsync(RawScheduler.FrameworkInfo());
        var name = "mezzo-private-tmp-" + Guid.NewGuid().ToString("N");

        await scheduler.LaunchAsync(await scheduler.NextOfferAsync(), "tmp", $"echo inside > /tmp/{name} && test \"$MESOS_SANDBOX\" = \"$PWD\" && cat $MESOS_SANDBOX/tmp/{name}");

        await scheduler.WaitForUpdateAsync("tmp", "TASK_FINISHED");
        var sandbox = Sandbox(cluster, "tmp");
        (await File.ReadAllTextAsync(Path.Combine(sandbox, "tmp", name))).Should().Be("inside\n");
        (await File.ReadAllTextAsync(Path.Combine(sandbox, "stdout"))).Should().Be("inside\n", "MESOS_SANDBOX is the host path and resolves inside");
        File.Exists(Path.Combine("/tmp", name)).Should().BeFalse();
        File.ReadAllText("/proc/self/mountinfo").Should().NotContain(cluster.WorkDir);
    }

    [Fact]
    public async Task No_cgroup_mount_or_process_remains_after_100_tasks()
    {
        HostCgroups.SkipUnlessUsable();
        await using var cluster = await InProcessCluster.StartAsync();
        await using var scheduler = new RawScheduler(cluster.MasterUrl);
        await scheduler.SubscribeAsync(RawScheduler.FrameworkInfo());

        for (var i = 0; i < 100; i++)
        {
            // Each leaves a daemon in its namespace and writes to its private /tmp.
            await scheduler.LaunchAsync(await scheduler.NextOfferAsync(), $"t-{i}", i % 10 == 0 ? "setsid sleep 1000 & echo x > /tmp/x; exit 0" : "echo x > /tmp/x");
        }

        for (var i = 0; i < 100; i++)
        {
            var terminal = await scheduler.WaitForAsync(
                e => (string?)e["update"]?["status"]?["task_id"]?["value"] == $"t-{i}" && (string?)e["update"]!["status"]!["state"] is "TASK_FINISHED" or "TASK_FAILED" or "TASK_KILLED" or "TASK_LOST",
                $"t-{i} to end");
            ((string?)terminal["update"]!["status"]!["state"]).Should().Be("TASK_FINISHED", (string?)terminal["update"]!["status"]!["message"]);
        }

        HostCgroups.ContainerCgroups(cluster).Should().BeEmpty();
        File.ReadAllText("/proc/self/mountinfo").Should().NotContain(cluster.WorkDir);
        Mezzo.Agent.Tasks.OrphanReaper.FindTaskProcesses(cluster.SandboxRoot).Should().BeEmpty();
        File.Exists(Path.Combine(Sandbox(cluster, "t-99"), "tmp", "x")).Should().BeTrue();
    }

    [Fact]
    public async Task Two_busy_tasks_pinned_to_one_cpu_share_it_in_proportion_to_their_cpus()
    {
        HostCgroups.SkipUnlessUsable();
        await using var cluster = await InProcessCluster.StartAsync();
        await using var scheduler = new RawScheduler(cluster.MasterUrl);
        await scheduler.SubscribeAsync(RawScheduler.FrameworkInfo());

        await scheduler.LaunchAsync(await scheduler.NextOfferAsync(), "one", "exec taskset -c 0 sh -c 'while :; do :; done'", Resources(1, 32));
        await scheduler.LaunchAsync(await scheduler.NextOfferAsync(), "three", "exec taskset -c 0 sh -c 'while :; do :; done'", Resources(3, 32));
        await scheduler.WaitForUpdateAsync("one", "TASK_RUNNING");
        await scheduler.WaitForUpdateAsync("three", "TASK_RUNNING");

        // Measured from a point where both already compete, until the smaller share has had enough to be meaningful.
        var start = await Poll.UntilAsync(async () =>
        {
            var all = (await StatisticsAsync(cluster)).OfType<JsonObject>().ToList();
            return all.Count == 2 && all.All(e => CpuSeconds(e) > 0.05) ? all.ToDictionary(e => (string)e["executor_id"]!, CpuSeconds) : null;
        }, "both tasks to be burning cpu");
        var end = await Poll.UntilAsync(async () =>
        {
            var now = (await StatisticsAsync(cluster)).OfType<JsonObject>().ToDictionary(e => (string)e["executor_id"]!, CpuSeconds);
            return now["one"] - start["one"] >= 0.6 ? now : null;
        }, "the smaller task to accumulate 0.6 s of cpu", TimeSpan.FromSeconds(60));

        var ratio = (end["three"] - start["three"]) / (end["one"] - start["one"]);
        ratio.Should().BeInRange(2, 4.5, $"cpu shares 1024 and 3072 on one cpu (one: {end["one"] - start["one"]:0.00} s, three: {end["three"] - start["three"]:0.00} s)");
        await scheduler.KillAsync("one");
        await scheduler.KillAsync("three");
        await scheduler.WaitForUpdateAsync("one", "TASK_KILLED");
        await scheduler.WaitForUpdateAsync("three", "TASK_KILLED");
    }

    [Fact]
    public async Task A_task_outgrowing_its_disk_fails_with_REASON_CONTAINER_LIMITATION_DISK_from_the_agent()
    {
        await using var cluster = await InProcessCluster.StartAsync(configureAgent: o =>
        {
            o.Isolation = IsolationFlag.Default + "," + IsolationFlag.DiskDu;
            o.ContainerDiskWatchInterval = TimeSpan.FromMilliseconds(100);
        });
        await using var scheduler = new RawScheduler(cluster.MasterUrl);
        await scheduler.SubscribeAsync(RawScheduler.FrameworkInfo());

        await scheduler.LaunchAsync(await scheduler.NextOfferAsync(), "filler", "head -c 12582912 /dev/urandom > big && sleep 1000", Resources(0.1, 32, disk: 10));

        var status = (await scheduler.WaitForUpdateAsync("filler", "TASK_FAILED"))["update"]!["status"]!;
        ((string?)status["reason"]).Should().Be("REASON_CONTAINER_LIMITATION_DISK");
        ((string?)status["source"]).Should().Be("SOURCE_AGENT");
        ((string?)status["message"]).Should().MatchRegex(@"^Disk usage \(\d+(B|KB|MB)\) exceeds quota \(10MB\)$");
        Mezzo.Agent.Tasks.OrphanReaper.FindTaskProcesses(cluster.SandboxRoot).Should().BeEmpty();
    }

    [Fact]
    public async Task Without_enforcement_disk_usage_is_only_reported()
    {
        await using var cluster = await InProcessCluster.StartAsync(configureAgent: o =>
        {
            o.Isolation = "posix/cpu,posix/mem,disk/du";
            o.ContainerDiskWatchInterval = TimeSpan.FromMilliseconds(100);
            o.EnforceContainerDiskQuota = false;
        });
        await using var scheduler = new RawScheduler(cluster.MasterUrl);
        await scheduler.SubscribeAsync(RawScheduler.FrameworkInfo());

        await scheduler.LaunchAsync(await scheduler.NextOfferAsync(), "big", "head -c 3145728 /dev/urandom > big && sleep 1000", Resources(0.1, 32, disk: 1));
        await scheduler.WaitForUpdateAsync("big", "TASK_RUNNING");

        var entry = await Poll.UntilAsync(async () =>
            (await StatisticsAsync(cluster)).OfType<JsonObject>().FirstOrDefault(e => (ulong?)e["statistics"]!["disk_used_bytes"] >= 3145728), "disk usage of 3 MB to be reported");
        ((ulong)entry["statistics"]!["disk_limit_bytes"]!).Should().Be(1024 * 1024);
        scheduler.Updates("big").Select(u => (string?)u["update"]!["status"]!["state"]).Should().NotContain("TASK_FAILED");
        await scheduler.KillAsync("big");
        await scheduler.WaitForUpdateAsync("big", "TASK_KILLED");
    }

    [Fact]
    public async Task Monitor_statistics_reports_the_limits_and_growing_cpu_time_of_a_busy_task()
    {
        HostCgroups.SkipUnlessUsable();
        await using var cluster = await InProcessCluster.StartAsync();
        await using var scheduler = new RawScheduler(cluster.MasterUrl);
        await scheduler.SubscribeAsync(RawScheduler.FrameworkInfo());
        (await StatisticsAsync(cluster)).Should().BeEmpty("nothing runs yet");

        await scheduler.LaunchAsync(await scheduler.NextOfferAsync(), "busy", "while :; do :; done", Resources(0.5, 64));
        await scheduler.WaitForUpdateAsync("busy", "TASK_RUNNING");

        var first = await StatisticsOfAsync(cluster, "busy");
        ((string?)first["framework_id"]).Should().Be(scheduler.FrameworkId);
        ((string?)first["source"]).Should().Be("busy");
        ((string?)first["executor_name"]).Should().Be("Command Executor (Task: busy) (Command: sh -c 'while :; do :; done')");
        var statistics = first["statistics"]!;
        ((double)statistics["cpus_limit"]!).Should().Be(0.5);
        ((ulong)statistics["mem_limit_bytes"]!).Should().Be(64UL * 1024 * 1024);
        ((uint)statistics["processes"]!).Should().BeGreaterThanOrEqualTo(1);
        ((double)statistics["timestamp"]!).Should().BeApproximately(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0, 60);
        // The kernel flushes memory.stat lazily (every ~2 s), so rss may read 0 just after the start.
        await Poll.UntilAsync(async () =>
        {
            var entry = await StatisticsOfAsync(cluster, "busy");
            return CpuSeconds(entry) > CpuSeconds(first) + 0.05 && (ulong)entry["statistics"]!["mem_rss_bytes"]! > 0;
        }, "cpu time to grow and rss to be counted");
        (await StatisticsAsync(cluster, "monitor/statistics.json")).Should().ContainSingle();

        await scheduler.KillAsync("busy");
        await scheduler.WaitForUpdateAsync("busy", "TASK_KILLED");
        (await StatisticsAsync(cluster)).Should().BeEmpty("a finished task is no longer monitored");
    }

    [Fact]
    public async Task Without_cgroups_monitor_statistics_reads_the_process_group_from_proc()
    {
        await using var cluster = await InProcessCluster.StartAsync(configureAgent: o => o.Isolation = "posix/cpu,posix/mem");
        await using var scheduler = new RawScheduler(cluster.MasterUrl);
        await scheduler.SubscribeAsync(RawScheduler.FrameworkInfo());

        await scheduler.LaunchAsync(await scheduler.NextOfferAsync(), "busy", "sleep 1000 & while :; do :; done", Resources(0.25, 40));
        await scheduler.WaitForUpdateAsync("busy", "TASK_RUNNING");

        var first = await StatisticsOfAsync(cluster, "busy");
        ((double)first["statistics"]!["cpus_limit"]!).Should().Be(0.25);
        ((ulong)first["statistics"]!["mem_limit_bytes"]!).Should().Be(40UL * 1024 * 1024);
        await Poll.UntilAsync(async () =>
        {
            var entry = await StatisticsOfAsync(cluster, "busy");
            // The task's supervisor, its shell and the background sleep (Mesos counts its executor too).
            return (uint?)entry["statistics"]!["processes"] == 3 && CpuSeconds(entry) > CpuSeconds(first) + 0.05;
        }, "the supervisor and both task processes counted, and cpu time to grow");
        await scheduler.KillAsync("busy");
        await scheduler.WaitForUpdateAsync("busy", "TASK_KILLED");
    }

    [Fact]
    public async Task With_posix_isolation_only_a_task_shares_the_hosts_namespaces()
    {
        await using var cluster = await InProcessCluster.StartAsync(configureAgent: o => o.Isolation = "posix/cpu,posix/mem");
        await using var scheduler = new RawScheduler(cluster.MasterUrl);
        await scheduler.SubscribeAsync(RawScheduler.FrameworkInfo());

        await scheduler.LaunchAsync(await scheduler.NextOfferAsync(), "plain", $"test -e /proc/{Environment.ProcessId}");

        await scheduler.WaitForUpdateAsync("plain", "TASK_FINISHED");
        Directory.Exists(Path.Combine(Sandbox(cluster, "plain"), "tmp")).Should().BeFalse();
    }
}
