using AwesomeAssertions;
using Mezzo.Agent.Isolation;
using Mezzo.Agent.Monitoring;

namespace Mezzo.Agent.Tests.Monitoring;

/// <summary>
/// Parsing of v1 and v2 cgroup statistics against plain directories standing in for cgroups (this host's controllers
/// are all v1, so v2 is only covered here); the real kernel's figures are checked by the integration tests.
/// </summary>
public sealed class ContainerStatisticsTests : IDisposable
{
    private static readonly DateTimeOffset Now = DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_500);
    private readonly string _root = Directory.CreateTempSubdirectory("mezzo-stats-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private CgroupIsolator Isolator(int version, params string[] controllers)
    {
        var hierarchies = controllers.ToDictionary(c => c, c => new CgroupHierarchy(Path.Combine(_root, version == 1 ? c : "unified"), version));
        return CgroupIsolator.ForControllers(new AgentOptions { WorkDir = Path.Combine(_root, "work") }, hierarchies);
    }

    private static void Write(CgroupDirectory? directory, string file, string text) => File.WriteAllText(Path.Combine(directory!.Path, file), text);

    private static UsageTarget Target(CgroupContainer? container, int? pid = null, long? diskUsed = null) =>
        new("task-1", "Command Executor (Task: task-1) (Command: sh -c 'x')", "fw-1", "task-1", 1.5, 100, 20, pid, container, diskUsed);

    [Fact]
    public void V1_reads_cpuacct_ticks_memory_stat_and_counts_processes_and_threads()
    {
        var container = Isolator(1, "cpu", "cpuacct", "memory", "pids").Prepare("c1", 1.5, 100);
        Write(container.CpuAccounting, "cpuacct.stat", "user 250\nsystem 75\n");
        Write(container.Memory, "memory.stat", "cache 1\nrss 2\ntotal_cache 4096\ntotal_rss 1048576\ntotal_mapped_file 8192\n");
        Write(container.Memory, "memory.usage_in_bytes", "2000000\n");
        Write(container.Pids, "cgroup.procs", "10\n11\n");
        Write(container.Pids, "tasks", "10\n11\n12\n");

        var entry = ContainerStatistics.Read(Target(container, diskUsed: 12345), Now);

        entry.ExecutorId.Should().Be("task-1");
        entry.FrameworkId.Should().Be("fw-1");
        var statistics = entry.Statistics!;
        statistics.Timestamp.Should().Be(1_700_000_000.5);
        statistics.CpusUserTimeSecs.Should().Be(2.5);
        statistics.CpusSystemTimeSecs.Should().Be(0.75);
        statistics.CpusLimit.Should().Be(1.5);
        statistics.MemRssBytes.Should().Be(1048576);
        statistics.MemFileBytes.Should().Be(4096);
        statistics.MemMappedFileBytes.Should().Be(8192);
        statistics.MemTotalBytes.Should().Be(2000000);
        statistics.MemLimitBytes.Should().Be(100UL * 1024 * 1024);
        statistics.Processes.Should().Be(2);
        statistics.Threads.Should().Be(3);
        statistics.DiskLimitBytes.Should().Be(20UL * 1024 * 1024);
        statistics.DiskUsedBytes.Should().Be(12345);
    }

    [Fact]
    public void V2_reads_cpu_stat_microseconds_anon_memory_and_pids_current()
    {
        var container = Isolator(2, "cpu", "memory", "pids").Prepare("c2", 1.5, 100);
        Write(container.CpuAccounting, "cpu.stat", "usage_usec 3000000\nuser_usec 2000000\nsystem_usec 1000000\nnr_periods 10\nnr_throttled 3\nthrottled_usec 500000\n");
        Write(container.Memory, "memory.stat", "anon 4194304\nfile 1024\nfile_mapped 512\n");
        Write(container.Memory, "memory.current", "5000000");
        Write(container.Pids, "cgroup.procs", "7\n");
        Write(container.Pids, "pids.current", "4\n");

        var statistics = ContainerStatistics.Read(Target(container), Now).Statistics!;

        statistics.CpusUserTimeSecs.Should().Be(2);
        statistics.CpusSystemTimeSecs.Should().Be(1);
        statistics.CpusNrPeriods.Should().Be(10);
        statistics.CpusNrThrottled.Should().Be(3);
        statistics.CpusThrottledTimeSecs.Should().Be(0.5);
        statistics.MemRssBytes.Should().Be(4194304);
        statistics.MemTotalBytes.Should().Be(5000000);
        statistics.Processes.Should().Be(1);
        statistics.Threads.Should().Be(4);
        statistics.DiskUsedBytes.Should().BeNull("disk/du is off");
    }

    [Fact]
    public void Unreadable_or_missing_files_leave_their_fields_out_but_the_limits_stay()
    {
        var container = Isolator(1, "cpu", "cpuacct", "memory").Prepare("gone", 0.5, 64);
        Directory.Delete(container.CpuAccounting!.Path, recursive: true);
        Write(container.Memory, "memory.stat", "garbage line here\ntotal_rss notanumber\n");

        var statistics = ContainerStatistics.Read(Target(container), Now).Statistics!;

        statistics.CpusUserTimeSecs.Should().BeNull();
        statistics.MemRssBytes.Should().BeNull();
        statistics.CpusLimit.Should().Be(1.5);
        statistics.MemLimitBytes.Should().Be(64UL * 1024 * 1024);
    }

    [Fact]
    public async Task Without_cgroups_the_process_group_is_read_from_proc_and_a_vanished_one_reports_only_limits()
    {
        using var launcher = new Mezzo.Agent.Launcher.PosixProcessLauncher();
        var process = launcher.Launch(new Mezzo.Agent.Launcher.LaunchSpec(
            "/bin/sh", ["-c", "sleep 100 & sleep 100 & wait"], new Dictionary<string, string> { ["PATH"] = "/usr/bin:/bin" },
            _root, Path.Combine(_root, "stdout"), Path.Combine(_root, "stderr")));
        try
        {
            var counted = await Eventually.TrueAsync(() => ContainerStatistics.Read(Target(null, pid: process.Pid), Now).Statistics!.Processes == 3);
            counted.Should().BeTrue("the shell and its two children are in its process group");
            var statistics = ContainerStatistics.Read(Target(null, pid: process.Pid), Now).Statistics!;
            statistics.Threads.Should().Be(3);
            statistics.MemRssBytes.Should().BeGreaterThan(0);
            statistics.CpusUserTimeSecs.Should().NotBeNull();
        }
        finally
        {
            await process.KillAsync(TimeSpan.Zero, TestContext.Current.CancellationToken);
        }

        // The children got SIGKILL when the leader was reaped; they may take a moment to die.
        (await Eventually.TrueAsync(() => ContainerStatistics.Read(Target(null, pid: process.Pid), Now).Statistics!.Processes is null)).Should().BeTrue();
        var none = ContainerStatistics.Read(Target(null, pid: process.Pid), Now).Statistics!;
        none.CpusUserTimeSecs.Should().BeNull();
        none.CpusLimit.Should().Be(1.5);
        none.MemLimitBytes.Should().Be(100UL * 1024 * 1024);
    }
}
