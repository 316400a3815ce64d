using AwesomeAssertions;
using Mezzo.Agent.Executors;
using Mezzo.Protocol.V1;

namespace Mezzo.Agent.Tests.Executors;

public sealed class GroupVolumesTests
{
    private static TaskInfo Task(string? containerPath, string? source, VolumeSourceSandboxPathType type = VolumeSourceSandboxPathType.PARENT) => new()
    {
        TaskId = new TaskID { Value = "t" },
        Container = new ContainerInfo
        {
            Volumes =
            [
                new Volume
                {
                    ContainerPath = containerPath,
                    Source = new VolumeSource { Type = VolumeSourceType.SANDBOX_PATH, SandboxPath = new VolumeSourceSandboxPath { Type = type, Path = source } },
                },
            ],
        },
    };

    [Theory]
    [InlineData("data", "shared")]
    [InlineData("a/b", "x/./y")]
    public void Relative_paths_inside_the_sandboxes_are_accepted(string containerPath, string source)
    {
        GroupVolumes.Validate(Task(containerPath, source)).Should().BeNull();
    }

    [Theory]
    [InlineData("data", "../x", "'../x'")]
    [InlineData("data", "/etc", "'/etc'")]
    [InlineData("data", "", "source ''")]
    [InlineData("../up", "shared", "container_path '../up'")]
    [InlineData("/abs", "shared", "container_path '/abs'")]
    [InlineData(null, "shared", "container_path ''")]
    public void Paths_that_leave_a_sandbox_are_refused_with_the_path_named(string? containerPath, string source, string named)
    {
        GroupVolumes.Validate(Task(containerPath, source)).Should().Contain(named).And.Contain("task 't'");
    }

    [Fact]
    public void SELF_volumes_are_not_group_volumes()
    {
        GroupVolumes.Validate(Task("data", "../x", VolumeSourceSandboxPathType.SELF)).Should().BeNull();
    }

    [Theory]
    [InlineData("data", "MEZZO_VOLUME_DATA")]
    [InlineData("my-vol/sub", "MEZZO_VOLUME_MY_VOL_SUB")]
    public void Variable_names_come_from_the_container_path(string containerPath, string expected)
    {
        GroupVolumes.VariableName(containerPath).Should().Be(expected);
    }
}
