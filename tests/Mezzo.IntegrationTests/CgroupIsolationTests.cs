using System.Globalization;
using System.Text.Json.Nodes;
using AwesomeAssertions;
using Mezzo.Agent;
using Mezzo.Agent.Isolation;
using Mezzo.IntegrationTests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;

namespace Mezzo.IntegrationTests;

/// <summary>The cgroups isolators on this machine's real cgroups: limits, OOM, clean-up, and the fallback without them.</summary>
public sealed class CgroupIsolationTests
{
    private static string Resources(double cpus, double mem) => string.Create(CultureInfo.InvariantCulture,
        $$$"""[{"name":"cpus","type":"SCALAR","scalar":{"value":{{{cpus}}}}},{"name":"mem","type":"SCALAR","scalar":{"value":{{{mem}}}}}]""");

    [Fact]
    public async Task A_memory_hog_fails_with_REASON_CONTAINER_LIMITATION_MEMORY_from_the_agent()
    {
        HostCgroups.SkipUnlessUsable();
        await using var cluster = await InProcessCluster.StartAsync();
        await using var scheduler = new RawScheduler(cluster.MasterUrl);
        await scheduler.SubscribeAsync(RawScheduler.FrameworkInfo());

        // The string doubles until the shell's heap passes the 32 MB limit and the kernel's OOM killer steps in.
        await scheduler.LaunchAsync(await scheduler.NextOfferAsync(), "hog", "x=a; while true; do x=\"$x$x\"; done", Resources(0.1, 32));

        var status = (await scheduler.WaitForUpdateAsync("hog", "TASK_FAILED"))["update"]!["status"]!;
        ((string?)status["reason"]).Should().Be("REASON_CONTAINER_LIMITATION_MEMORY");
        ((string?)status["source"]).Should().Be("SOURCE_AGENT");
        ((string?)status["message"]).Should().StartWith("Memory limit exceeded: Requested: 32MB Maximum Used: ");
        await Poll.UntilAsync(() => HostCgroups.ContainerCgroups(cluster).Count == 0, "the hog's cgroups to be removed");
    }

    [Fact]
    public async Task Task_processes_run_in_their_cgroups_with_the_limits_written()
    {
        HostCgroups.SkipUnlessUsable();
        await using var cluster = await InProcessCluster.StartAsync(configureAgent: o => o.CgroupsMaxPids = 77);
        await using var scheduler = new RawScheduler(cluster.MasterUrl);
        await scheduler.SubscribeAsync(RawScheduler.FrameworkInfo());

        await scheduler.LaunchAsync(await scheduler.NextOfferAsync(), "limited", "sleep 1000 & sleep 1000", Resources(0.5, 64));

        var running = (await scheduler.WaitForUpdateAsync("limited", "TASK_RUNNING"))["update"]!["status"]!;
        var pid = (int)running["container_status"]!["executor_pid"]!;
        var containerId = (string)running["container_status"]!["container_id"]!["value"]!;
        var expected = $"/mezzo/{CgroupIsolator.AgentKey(Path.Combine(cluster.WorkDir, "agent"))}/{containerId}";
        // executor_pid is the task's supervisor, which joins the cgroups right after TASK_RUNNING and before it starts
        // the command.
        var cgroups = await Poll.UntilAsync(() => Task.FromResult(HostCgroups.Membership(pid) is var now && now["memory"] == expected ? now : null),
            "the supervisor to join the task's cgroups");
        foreach (var controller in (string[])["cpu", "memory", "pids"])
        {
            cgroups[controller].Should().Be(expected, $"the task must be in its {controller} cgroup");
        }

        // The forked child landed in the same cgroup: joining happened before the command ran.
        var procs = await Poll.UntilAsync(
            () => Task.FromResult<string[]?>(File.ReadAllLines(HostCgroups.Path("memory", expected, "cgroup.procs")) is { Length: >= 2 } all ? all : null),
            "the task and its forked child in its memory cgroup");
        procs.Should().Contain(pid.ToString(CultureInfo.InvariantCulture));

        HostCgroups.Read("memory", expected, HostCgroups.Version("memory") == 1 ? "memory.limit_in_bytes" : "memory.max").Should().Be((64L * 1024 * 1024).ToString(CultureInfo.InvariantCulture));
        HostCgroups.Read("cpu", expected, HostCgroups.Version("cpu") == 1 ? "cpu.shares" : "cpu.weight").Should().Be(HostCgroups.Version("cpu") == 1 ? "512" : "50");
        HostCgroups.Read("pids", expected, "pids.max").Should().Be("77");

        await scheduler.KillAsync("limited");
        await scheduler.WaitForUpdateAsync("limited", "TASK_KILLED");
        HostCgroups.ContainerCgroups(cluster).Should().BeEmpty("a terminal update is sent only once the container's cgroups are gone");
    }

    [Fact]
    public async Task No_cgroup_remains_after_many_tasks_a_killed_one_an_escaped_daemon_and_agent_shutdown()
    {
        HostCgroups.SkipUnlessUsable();
        var cluster = await InProcessCluster.StartAsync();
        try
        {
            await using var scheduler = new RawScheduler(cluster.MasterUrl);
            await scheduler.SubscribeAsync(RawScheduler.FrameworkInfo());
            for (var i = 0; i < 50; i++)
            {
                await scheduler.LaunchAsync(await scheduler.NextOfferAsync(), $"short-{i}", "true");
            }

            // A process that leaves the task's session escapes process-group kills, but not its cgroup.
            await scheduler.LaunchAsync(await scheduler.NextOfferAsync(), "daemon", "setsid sleep 1000 & exit 0");
            await scheduler.LaunchAsync(await scheduler.NextOfferAsync(), "killed", "sleep 1000");
            await scheduler.WaitForUpdateAsync("killed", "TASK_RUNNING");
            await scheduler.KillAsync("killed");
            await scheduler.WaitForUpdateAsync("killed", "TASK_KILLED");
            await scheduler.WaitForUpdateAsync("daemon", "TASK_FINISHED");
            for (var i = 0; i < 50; i++)
            {
                await scheduler.WaitForUpdateAsync($"short-{i}", "TASK_FINISHED");
            }

            HostCgroups.ContainerCgroups(cluster).Should().BeEmpty();
            Mezzo.Agent.Tasks.OrphanReaper.FindTaskProcesses(cluster.SandboxRoot).Should().BeEmpty("the daemon died with its cgroup");

            await scheduler.LaunchAsync(await scheduler.NextOfferAsync(), "running-at-shutdown", "sleep 1000");
            await scheduler.WaitForUpdateAsync("running-at-shutdown", "TASK_RUNNING");
        }
        finally
        {
            await cluster.DisposeAsync();
        }

        HostCgroups.AgentCgroups(cluster.WorkDir).Where(Directory.Exists).Should().BeEmpty("the agent removes its own cgroup on shutdown");
    }

    [Fact]
    public async Task A_previous_runs_leftover_cgroup_is_killed_and_removed_at_start()
    {
        HostCgroups.SkipUnlessUsable();
        using var dir = new TempDir();
        var options = new AgentOptions { WorkDir = dir.Path };
        var first = CgroupIsolator.Create(options, NullLogger.Instance);
        var leftover = first.Prepare("crashed-run", 0.1, 32);
        using var process = System.Diagnostics.Process.Start("/bin/sh", ["-c", $"echo $$ > {leftover.ProcsFiles[0]} && exec sleep 1000"]);
        await Poll.UntilAsync(() => File.ReadAllText(leftover.ProcsFiles[0]).Trim().Length > 0, "the process to join the leftover cgroup");

        var second = CgroupIsolator.Create(options, NullLogger.Instance);
        try
        {
            leftover.Directories.Should().OnlyContain(d => Directory.Exists(d.Path), "detection alone removes nothing: recovery decides what stays");
            (await second.RemoveLeftoversAsync(new HashSet<string>(), NullLogger.Instance)).Should().Be(leftover.Directories.Count);
            leftover.Directories.Should().OnlyContain(d => !Directory.Exists(d.Path));
            process.WaitForExit(TimeSpan.FromSeconds(10)).Should().BeTrue("the leftover's processes are killed");
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill();
            }

            await second.RemoveAllAsync(removeAgentCgroup: true);
        }

        second.AgentDirectories.Should().OnlyContain(d => !Directory.Exists(d.Path));
    }

    [Fact]
    public async Task Without_usable_cgroups_the_agent_falls_back_to_process_groups_and_still_runs_tasks()
    {
        await using var cluster = await InProcessCluster.StartAsync(configureAgent: o => o.CgroupsHierarchy = "/nonexistent/mezzo-cgroups");
        await using var scheduler = new RawScheduler(cluster.MasterUrl);
        await scheduler.SubscribeAsync(RawScheduler.FrameworkInfo());

        await scheduler.LaunchAsync(await scheduler.NextOfferAsync(), "plain", "grep -q mezzo /proc/self/cgroup && exit 3; exit 0");

        var finished = await scheduler.WaitForUpdateAsync("plain", "TASK_FINISHED");
        ((string?)finished["update"]!["status"]!["source"]).Should().Be("SOURCE_EXECUTOR");
        HostCgroups.AgentCgroups(cluster.WorkDir).Where(Directory.Exists).Should().BeEmpty();
    }

    [Fact]
    public async Task The_agent_says_loudly_at_start_when_it_falls_back_and_names_what_it_uses_otherwise()
    {
        using var dir = new TempDir();
        await using (var degraded = MezzoProcess.Start("agent", "--master", "127.0.0.1:1", "--port", "0", "--work-dir", Path.Combine(dir.Path, "a"), "--cgroups-hierarchy", "/nonexistent/mezzo-cgroups"))
        {
            await Poll.UntilAsync(() => degraded.Output.Contains("ISOLATION DEGRADED", StringComparison.Ordinal), "the fallback warning");
            degraded.Output.Should().Contain("process-group isolation only");
        }

        HostCgroups.SkipUnlessUsable();
        await using var isolated = MezzoProcess.Start("agent", "--master", "127.0.0.1:1", "--port", "0", "--work-dir", Path.Combine(dir.Path, "b"), "--isolation", "cgroups/mem,posix/cpu");
        var line = await Poll.UntilAsync(
            () => Task.FromResult(isolated.Output.Split('\n').FirstOrDefault(l => l.Contains("Isolation: cgroups", StringComparison.Ordinal))),
            "the isolation line");
        line.Should().Contain("memory (v").And.NotContain("cpu (v");
    }

    [Fact]
    public void An_unknown_isolator_is_refused_before_the_agent_starts()
    {
        var create = () => AgentServer.Create(new AgentOptions { Isolation = "cgroups/cpu,foo" });
        create.Should().Throw<ArgumentException>().WithMessage("*unknown isolator 'foo'*");
    }
}

/// <summary>This host's cgroup mounts, read the way the agent reads them.</summary>
internal static class HostCgroups
{
    private static readonly Lazy<CgroupLayout> Layout = new(() => CgroupDetection.Parse(
        File.ReadAllText("/proc/self/mountinfo"),
        File.Exists("/proc/cgroups") ? File.ReadAllText("/proc/cgroups") : "",
        mount => File.Exists(System.IO.Path.Combine(mount, "cgroup.controllers")) ? File.ReadAllText(System.IO.Path.Combine(mount, "cgroup.controllers")) : null,
        "/sys/fs/cgroup"));

    public static void SkipUnlessUsable() =>
        Assert.SkipUnless(
            Environment.IsPrivilegedProcess && CgroupDetection.Wanted.All(Layout.Value.Controllers.ContainsKey),
            "Needs root and cpu, memory and pids cgroup controllers under /sys/fs/cgroup (v1 or v2); this host has "
            + $"{Layout.Value.Mode} with [{string.Join(", ", Layout.Value.Controllers.Keys)}].");

    public static int Version(string controller) => Layout.Value.Controllers[controller].Version;

    public static string Path(string controller, string cgroup, string file) =>
        System.IO.Path.Combine(Layout.Value.Controllers[controller].MountPoint + cgroup, file);

    public static string Read(string controller, string cgroup, string file) => File.ReadAllText(Path(controller, cgroup, file)).Trim();

    /// <summary>controller → cgroup path, from /proc/pid/cgroup (v2's line is reported for every v2 controller).</summary>
    public static Dictionary<string, string> Membership(int pid)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in File.ReadAllLines($"/proc/{pid}/cgroup"))
        {
            var parts = line.Split(':', 3);
            var names = parts[1].Length == 0 ? Layout.Value.Controllers.Where(c => c.Value.Version == 2).Select(c => c.Key) : parts[1].Split(',');
            foreach (var name in names)
            {
                result.TryAdd(name, parts[2]);
            }
        }

        return result;
    }

    public static IEnumerable<string> AgentCgroups(string clusterWorkDir) =>
        Layout.Value.Controllers.Values.Select(h => System.IO.Path.Combine(h.MountPoint, "mezzo", CgroupIsolator.AgentKey(System.IO.Path.Combine(clusterWorkDir, "agent")))).Distinct();

    /// <summary>Container cgroups of the cluster's agent that still exist.</summary>
    public static List<string> ContainerCgroups(InProcessCluster cluster) =>
        [.. AgentCgroups(cluster.WorkDir).Where(Directory.Exists).SelectMany(Directory.EnumerateDirectories)];
}
