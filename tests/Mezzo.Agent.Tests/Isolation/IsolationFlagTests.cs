using AwesomeAssertions;
using Mezzo.Agent.Isolation;

namespace Mezzo.Agent.Tests.Isolation;

public sealed class IsolationFlagTests
{
    [Fact]
    public void The_default_asks_for_cgroups_and_namespaces_but_not_disk_du()
    {
        IsolationFlag.Has(null, IsolationFlag.PidNamespace).Should().BeTrue();
        IsolationFlag.Has("", IsolationFlag.LinuxFilesystem).Should().BeTrue();
        IsolationFlag.Has(IsolationFlag.Default, IsolationFlag.DiskDu).Should().BeFalse();
        IsolationFlag.Controllers(null).Should().Equal("cpu", "memory", "pids");
    }

    [Fact]
    public void Namespaces_and_disk_du_are_known_isolators_without_a_controller()
    {
        IsolationFlag.Check("posix/cpu, namespaces/pid ,filesystem/linux,disk/du").Should().BeNull();
        IsolationFlag.Controllers("namespaces/pid,disk/du").Should().BeEmpty();
        IsolationFlag.Has("posix/cpu, disk/du", IsolationFlag.DiskDu).Should().BeTrue();
        IsolationFlag.Has("posix/cpu", IsolationFlag.PidNamespace).Should().BeFalse();
    }

    [Fact]
    public void A_misspelt_isolator_is_named()
    {
        IsolationFlag.Check("namespace/pid").Should().Contain("unknown isolator 'namespace/pid'");
    }
}
