using Mezzo.Agent.Isolation;
using Mezzo.Agent.Launcher;

namespace Mezzo.Agent.Tests.Isolation;

/// <summary>
/// What the isolator writes and reads, against a plain directory standing in for a hierarchy: this covers cgroup v2 on
/// hosts (like CI here) whose controllers are all bound to v1. The real-kernel behaviour is in the integration tests.
/// </summary>
public sealed class CgroupIsolatorFilesTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("mezzo-cgfiles-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private (CgroupIsolator Isolator, string Dir) Isolator(int version, bool cfs, string containerId)
    {
        var hierarchy = new CgroupHierarchy(_root, version);
        var options = new AgentOptions { WorkDir = Path.Combine(_root, "work"), CgroupsEnableCfs = cfs, CgroupsMaxPids = 321 };
        var isolator = CgroupIsolator.ForControllers(options, new Dictionary<string, CgroupHierarchy> { ["cpu"] = hierarchy, ["memory"] = hierarchy, ["pids"] = hierarchy });
        return (isolator, Path.Combine(_root, "mezzo", CgroupIsolator.AgentKey(options.WorkDir), containerId));
    }

    private static string Read(string dir, string file) => File.ReadAllText(Path.Combine(dir, file));

    [Fact]
    public void V2_gets_weight_cpu_max_memory_max_no_swap_and_pids_max()
    {
        var (isolator, dir) = Isolator(2, cfs: true, "c2");
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "memory.swap.max"), "max");

        var container = isolator.Prepare("c2", 1.5, 100);

        Assert.Equal([Path.Combine(dir, "cgroup.procs")], container.ProcsFiles);
        Assert.Equal("150", Read(dir, "cpu.weight"));
        Assert.Equal("150000 100000", Read(dir, "cpu.max"));
        Assert.Equal((100L * 1024 * 1024).ToString(System.Globalization.CultureInfo.InvariantCulture), Read(dir, "memory.max"));
        Assert.Equal("0", Read(dir, "memory.swap.max"));
        Assert.Equal("321", Read(dir, "pids.max"));
    }

    [Fact]
    public void V1_gets_shares_and_quota_only_with_cfs_and_at_least_32_MB()
    {
        var (isolator, dir) = Isolator(1, cfs: false, "c1");

        isolator.Prepare("c1", 0.001, 4);

        Assert.Equal("2", Read(dir, "cpu.shares"));
        Assert.False(File.Exists(Path.Combine(dir, "cpu.cfs_quota_us")));
        Assert.Equal((32L * 1024 * 1024).ToString(System.Globalization.CultureInfo.InvariantCulture), Read(dir, "memory.limit_in_bytes"));
        Assert.False(File.Exists(Path.Combine(dir, "memory.memsw.limit_in_bytes")), "memsw is only written where swap accounting offers it");
    }

    [Fact]
    public void An_oom_kill_in_memory_events_is_reported_with_the_peak()
    {
        var (isolator, dir) = Isolator(2, cfs: false, "oom");
        var container = isolator.Prepare("oom", 0.1, 64);
        File.WriteAllText(Path.Combine(dir, "memory.events"), "low 0\nhigh 0\nmax 12\noom 1\noom_kill 0\n");
        Assert.Null(container.MemoryLimitation(ExitStatus.Killed(Signals.SIGKILL)));

        File.WriteAllText(Path.Combine(dir, "memory.events"), "low 0\nhigh 0\nmax 12\noom 1\noom_kill 1\n");
        File.WriteAllText(Path.Combine(dir, "memory.peak"), (67_100_000L).ToString(System.Globalization.CultureInfo.InvariantCulture));

        Assert.Equal("Memory limit exceeded: Requested: 64MB Maximum Used: 63MB", container.MemoryLimitation(ExitStatus.Exited(137)));
    }

    [Fact]
    public void Old_v1_kernels_without_oom_kill_count_a_SIGKILL_after_hitting_the_limit()
    {
        var (isolator, dir) = Isolator(1, cfs: false, "old");
        var container = isolator.Prepare("old", 0.1, 32);
        File.WriteAllText(Path.Combine(dir, "memory.oom_control"), "oom_kill_disable 0\nunder_oom 0\n");
        File.WriteAllText(Path.Combine(dir, "memory.failcnt"), "5");

        Assert.Null(container.MemoryLimitation(ExitStatus.Exited(1)));
        Assert.StartsWith("Memory limit exceeded: Requested: 32MB", container.MemoryLimitation(ExitStatus.Killed(Signals.SIGKILL)), StringComparison.Ordinal);
    }
}
