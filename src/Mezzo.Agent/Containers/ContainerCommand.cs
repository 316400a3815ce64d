using Mezzo.Protocol.V1;

namespace Mezzo.Agent.Containers;

/// <summary>
/// The process a container starts, from the task's CommandInfo and the image's Entrypoint/Cmd, exactly as Mesos's
/// docker/runtime isolator merges them (apache/mesos <c>docs/isolators/docker-runtime.md</c>, "Determine the Launch
/// Command", and <c>DockerRuntimeIsolatorProcess::getLaunchCommand</c>):
/// <list type="bullet">
/// <item>shell=true: <c>/bin/sh -c value</c> inside the image; Entrypoint and Cmd are ignored; no value is an error.</item>
/// <item>shell=false with a value: the value is the executable and <c>arguments[1..]</c> its arguments (arguments[0]
/// is argv[0], as for command tasks); Entrypoint and Cmd are ignored.</item>
/// <item>shell=false without a value: Entrypoint followed by the task's arguments, or by Cmd when it has none; with no
/// Entrypoint, Cmd[0] followed by the task's arguments, or by Cmd[1..]; neither is an error.</item>
/// </list>
/// The OCI process has no separate argv[0]: args[0] is both what is executed and argv[0].
/// </summary>
public static class ContainerCommand
{
    /// <summary>A task without a CommandInfo runs the image's own command (shell=false, no value, no arguments).</summary>
    public static IReadOnlyList<string> Resolve(CommandInfo? command, ContainerImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        var shell = command is null ? false : command.Shell ?? true; // mesos.proto: shell defaults to true
        var value = command?.Value;
        var arguments = command?.Arguments ?? [];
        if (shell)
        {
            return value is null
                ? throw new ContainerLaunchException("Failed to determine the launch command: shell specified but no command value provided")
                : ["/bin/sh", "-c", value];
        }

        if (value is not null)
        {
            return [value, .. arguments.Skip(1)];
        }

        if (image.Entrypoint is { Count: > 0 } entrypoint)
        {
            return [.. entrypoint, .. arguments.Count > 0 ? arguments : image.Cmd ?? []];
        }

        if (image.Cmd is { Count: > 0 } cmd)
        {
            return [cmd[0], .. arguments.Count > 0 ? arguments : cmd.Skip(1)];
        }

        throw new ContainerLaunchException("Failed to determine the launch command: no command value given and the image has neither Entrypoint nor Cmd");
    }
}
