using Mezzo.Agent.Launcher;

namespace Mezzo.Agent.Tasks;

/// <summary>Turns a task's CommandInfo into what the launcher runs, with Mesos's shell / argv semantics.</summary>
public static class CommandSpec
{
    public static LaunchSpec From(AgentTask task, IReadOnlyDictionary<string, string> environment)
    {
        var command = task.Info.Command ?? throw new ArgumentException("Task has no command");
        var user = command.User ?? task.Framework.User;
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
            task.Sandbox,
            Path.Combine(task.Sandbox, "stdout"),
            Path.Combine(task.Sandbox, "stderr"),
            user);
    }
}
