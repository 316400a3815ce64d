using AwesomeAssertions;
using Mezzo.Agent.Containers;
using Mezzo.Protocol.V1;

namespace Mezzo.Agent.Tests.Containers;

/// <summary>The launch command table of apache/mesos docs/isolators/docker-runtime.md, row by row and column by column.</summary>
public sealed class ContainerCommandTests
{
    private static readonly string[] Entrypoint = ["/entry", "e1"];
    private static readonly string[] Cmd = ["/cmd", "c1"];

    private static ContainerImage Image(bool entrypoint, bool cmd) =>
        new("/rootfs", entrypoint ? Entrypoint : null, cmd ? Cmd : null);

    private static CommandInfo Command(bool shell, bool value, bool argv) => new()
    {
        Shell = shell,
        Value = value ? "/value" : null,
        Arguments = argv ? ["a0", "a1"] : null,
    };

    // Columns: (Entrypoint, Cmd) = (0,0), (0,1), (1,0), (1,1); null = Error.
    public static TheoryData<bool, bool, bool, string?, string?, string?, string?> Table => new()
    {
        { false, false, false, null, "/cmd c1", "/entry e1", "/entry e1 /cmd c1" },
        { false, false, true, null, "/cmd a0 a1", "/entry e1 a0 a1", "/entry e1 a0 a1" },
        { false, true, false, "/value", "/value", "/value", "/value" },
        { false, true, true, "/value a1", "/value a1", "/value a1", "/value a1" },
        { true, false, false, null, null, null, null },
        { true, false, true, null, null, null, null },
        { true, true, false, "/bin/sh -c /value", "/bin/sh -c /value", "/bin/sh -c /value", "/bin/sh -c /value" },
        { true, true, true, "/bin/sh -c /value", "/bin/sh -c /value", "/bin/sh -c /value", "/bin/sh -c /value" },
    };

    [Theory]
    [MemberData(nameof(Table))]
    public void Follows_the_Mesos_table(bool shell, bool value, bool argv, string? none, string? cmdOnly, string? entrypointOnly, string? both)
    {
        var command = Command(shell, value, argv);
        Check(command, Image(false, false), none);
        Check(command, Image(false, true), cmdOnly);
        Check(command, Image(true, false), entrypointOnly);
        Check(command, Image(true, true), both);
    }

    private static void Check(CommandInfo command, ContainerImage image, string? expected)
    {
        if (expected is null)
        {
            var act = () => ContainerCommand.Resolve(command, image);
            act.Should().Throw<ContainerLaunchException>().WithMessage("Failed to determine the launch command: *");
        }
        else
        {
            string.Join(' ', ContainerCommand.Resolve(command, image)).Should().Be(expected);
        }
    }

    [Fact]
    public void Shell_defaults_to_true_as_in_mesos_proto()
    {
        ContainerCommand.Resolve(new CommandInfo { Value = "echo hi" }, Image(true, true)).Should().Equal("/bin/sh", "-c", "echo hi");
    }

    [Fact]
    public void No_command_at_all_runs_the_image_entrypoint_and_cmd()
    {
        ContainerCommand.Resolve(null, Image(true, true)).Should().Equal("/entry", "e1", "/cmd", "c1");
    }

    [Fact]
    public void Shell_without_value_names_the_problem()
    {
        var act = () => ContainerCommand.Resolve(new CommandInfo { Shell = true }, Image(true, true));
        act.Should().Throw<ContainerLaunchException>().WithMessage("*shell specified but no command value provided*");
    }
}
