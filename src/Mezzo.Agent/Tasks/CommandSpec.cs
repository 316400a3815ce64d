using Mezzo.Agent.Launcher;

namespace Mezzo.Agent.Tasks;

/// <summary>Turns a task's CommandInfo into what the launcher runs, with Mesos's shell / argv semantics.</summary>
public static class CommandSpec
{
    public static LaunchSpec From(AgentTask task, IReadOnlyDictionary<string, string> environment) =>
        From(task.Info.Command ?? throw new ArgumentException("Task has no command"), task.Framework, task.Sandbox, environment);

    /// <summary>A command (a task's or a custom executor's) run in <paramref name="sandbox"/>, its output in stdout/stderr there.</summary>
    public static LaunchSpec From(Mezzo.Protocol.V1.CommandInfo command, Mezzo.Protocol.V1.FrameworkInfo framework, string sandbox, IReadOnlyDictionary<string, string> environment)
    {
        var user = command.User ?? framework.User;
        if (string.IsNullOrEmpty(user) || !Environment.IsPrivilegedProcess)
        {
            // Only root can switch users; Mesos likewise runs as itself when --switch_user can't apply.
            user = null;
        }

        string executable;
        List<string> arguments;
        if (command.Shell != false)
        {
            executable = "/bin/sh";
            arguments = ["-c", command.Value ?? ""];
        }
        else
        {
            // Mesos: 'value' is the executable, 'arguments' the whole argv including argv[0].
            executable = command.Value ?? "";
            arguments = [.. (command.Arguments ?? []).Skip(1)];
        }

        return new LaunchSpec(
            executable,
            arguments,
            environment,
            sandbox,
            Path.Combine(sandbox, "stdout"),
            Path.Combine(sandbox, "stderr"),
            user);
    }
}
