using Mezzo.Agent.Isolation;

namespace Mezzo.Agent.Tests.Isolation;

public sealed class CgroupDetectionTests
{
    private const string ProcCgroups = """
        #subsys_name	hierarchy	num_cgroups	enabled
        cpuset	3	1	1
        cpu	1	1	1
        cpuacct	2	1	1
        memory	4	15	1
        pids	8	1	1
        """;

    // This project's CI host: per-controller v1 mounts beside an empty unified one.
    private const string Hybrid = """
        22 1 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw
        31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
        32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime shared:9 - cgroup cgroup rw,cpu,cpuacct
        35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
        39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
        40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
        41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
        """;

    private const string PureV2 = """
        25 1 0:23 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw
        30 25 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot
        """;

    [Fact]
    public void Hybrid_uses_the_v1_hierarchies_and_sees_the_unified_mount()
    {
        var layout = CgroupDetection.Parse(Hybrid, ProcCgroups, _ => "", "/sys/fs/cgroup");

        Assert.Equal(CgroupMode.Hybrid, layout.Mode);
        Assert.Equal(new CgroupHierarchy("/sys/fs/cgroup/cpu,cpuacct", 1), layout.Controllers["cpu"]);
        Assert.Equal(new CgroupHierarchy("/sys/fs/cgroup/cpu,cpuacct", 1), layout.Controllers["cpuacct"]);
        Assert.Equal(new CgroupHierarchy("/sys/fs/cgroup/memory", 1), layout.Controllers["memory"]);
        Assert.Equal(new CgroupHierarchy("/sys/fs/cgroup/pids", 1), layout.Controllers["pids"]);
        Assert.Equal("/sys/fs/cgroup/unified", layout.UnifiedMountPoint);
    }

    [Fact]
    public void Pure_v2_takes_the_controllers_the_root_offers()
    {
        string? asked = null;
        var layout = CgroupDetection.Parse(PureV2, "", mount => { asked = mount; return "cpuset cpu io memory hugetlb pids rdma misc\n"; }, "/sys/fs/cgroup");

        Assert.Equal("/sys/fs/cgroup", asked);
        Assert.Equal(CgroupMode.V2, layout.Mode);
        Assert.All(CgroupDetection.Wanted, c => Assert.Equal(new CgroupHierarchy("/sys/fs/cgroup", 2), layout.Controllers[c]));
    }

    [Fact]
    public void V2_without_a_controller_in_cgroup_controllers_does_not_offer_it()
    {
        var layout = CgroupDetection.Parse(PureV2, "", _ => "cpu io", "/sys/fs/cgroup");

        Assert.Equal(["cpu"], layout.Controllers.Keys);
    }

    [Fact]
    public void V1_only_with_a_controller_disabled_in_proc_cgroups()
    {
        var v1 = string.Join('\n', Hybrid.Split('\n').Where(l => !l.Contains("cgroup2", StringComparison.Ordinal)));
        var layout = CgroupDetection.Parse(v1, ProcCgroups.Replace("pids\t8\t1\t1", "pids\t8\t1\t0", StringComparison.Ordinal), _ => null, "/sys/fs/cgroup");

        Assert.Equal(CgroupMode.V1, layout.Mode);
        Assert.Equal(["cpu", "cpuacct", "memory"], layout.Controllers.Keys.Order());
        Assert.Null(layout.UnifiedMountPoint);
    }

    [Fact]
    public void Mounts_outside_the_hierarchy_root_do_not_count()
    {
        var layout = CgroupDetection.Parse(Hybrid, ProcCgroups, _ => "cpu memory pids", "/nonexistent/cgroups");

        Assert.Equal(CgroupMode.None, layout.Mode);
        Assert.Empty(layout.Controllers);
    }

    [Fact]
    public void Escaped_mount_points_and_garbage_lines_are_handled()
    {
        var text = "garbage\n\n50 31 0:40 / /srv/my\\040cgroups/memory rw - cgroup cgroup rw,memory\n";
        var layout = CgroupDetection.Parse(text, "", _ => null, "/srv/my cgroups");

        Assert.Equal(new CgroupHierarchy("/srv/my cgroups/memory", 1), layout.Controllers["memory"]);
    }

    [Theory]
    [InlineData(null, new[] { "cpu", "memory", "pids" })]
    [InlineData("cgroups/mem", new[] { "memory" })]
    [InlineData("posix/cpu,posix/mem", new string[0])]
    [InlineData(" cgroups/pids , cgroups/cpu ", new[] { "pids", "cpu" })]
    public void Isolation_flag_maps_isolators_to_controllers(string? flag, string[] controllers) =>
        Assert.Equal(controllers, IsolationFlag.Controllers(flag));

    [Fact]
    public void Isolation_flag_names_an_unknown_isolator()
    {
        Assert.Contains("unknown isolator 'namespaces/foo'", IsolationFlag.Check("cgroups/cpu,namespaces/foo"), StringComparison.Ordinal);
        Assert.Null(IsolationFlag.Check(IsolationFlag.Default));
    }

    [Theory]
    [InlineData(2, 1)]
    [InlineData(102, 9)]
    [InlineData(1024, 100)]
    [InlineData(4096, 400)]
    [InlineData(1_000_000, 10_000)]
    public void Cpu_shares_map_onto_v2_weight_as_systemd_does(long shares, long weight) =>
        Assert.Equal(weight, CgroupIsolator.SharesToWeight(shares));
}
