using Mezzo.Agent.Launcher;
using Mezzo.Protocol.V1;

namespace Mezzo.Agent;

/// <summary>
/// Which Linux user a task or executor may run as: never root (uid 0) unless the agent was started with
/// <c>--allow-root-tasks</c>, and only a user that exists. A task naming no user runs as the agent itself, which is root
/// when the agent is. The user is decided exactly as <see cref="Tasks.CommandSpec"/> launches it.
/// </summary>
public sealed partial class AgentService
{
    /// <summary>Null when the command may run here; else why not, naming the user and the flag (a TASK_FAILED message).</summary>
    /// <param name="inImage">
    /// The command runs in a container image: its user is one of the image's (/etc/passwd of the rootfs, checked when
    /// the container is made), so only root by name or uid is refused here.
    /// </param>
    internal string? UserRefusal(CommandInfo? command, FrameworkInfo framework, string what, bool inImage = false)
    {
        var user = command?.User ?? framework.User;
        var agentIsRoot = LibC.geteuid() == 0;
        if (string.IsNullOrEmpty(user) || !agentIsRoot)
        {
            // It runs as the agent (only root can switch users).
            if (agentIsRoot && !_options.AllowRootTasks)
            {
                return $"the {what} names no user (CommandInfo.user and FrameworkInfo.user are empty), so it would run as root, "
                    + "the agent's user; set a user, or start the agent with --allow-root-tasks";
            }

            return null;
        }

        if (inImage)
        {
            return user is "root" or "0" && !_options.AllowRootTasks
                ? $"the {what} would run as user '{user}' (root) in its image; the agent refuses root tasks unless started with --allow-root-tasks"
                : null;
        }

        UserIdentity? identity;
        try
        {
            identity = UserDatabase.Lookup(user);
        }
        catch (LaunchException ex)
        {
            return $"the {what}'s user '{user}' could not be looked up: {ex.Message}";
        }

        if (identity is null)
        {
            return $"the {what}'s user '{user}' does not exist on this agent";
        }

        return identity.Value.Uid == 0 && !_options.AllowRootTasks
            ? $"the {what} would run as user '{user}' (uid 0, root); the agent refuses root tasks unless started with --allow-root-tasks"
            : null;
    }

    /// <summary>
    /// Gives <paramref name="sandbox"/> (just created, by root) to the user the command will run as, so that the task can
    /// write its files there, as Mesos chowns a sandbox to the executor's user.
    /// </summary>
    internal static void ChownSandbox(string sandbox, CommandInfo? command, FrameworkInfo framework)
    {
        var user = command?.User ?? framework.User;
        if (string.IsNullOrEmpty(user) || LibC.geteuid() != 0 || UserDatabase.Lookup(user) is not { } identity || identity.Uid == 0)
        {
            return;
        }

        if (Fetching.FetchNative.lchown(sandbox, identity.Uid, identity.Gid) != 0)
        {
            throw new IOException($"Failed to give sandbox '{sandbox}' to user '{user}': {System.Runtime.InteropServices.Marshal.GetPInvokeErrorMessage(System.Runtime.InteropServices.Marshal.GetLastPInvokeError())}");
        }
    }

    /// <summary>Once, at start: an agent that lets tasks be root says so.</summary>
    private void LogUserPolicy()
    {
        if (_options.AllowRootTasks && LibC.geteuid() == 0)
        {
            Log.RootTasksAllowed(_log);
        }
    }

    private static partial class Log
    {
        [Microsoft.Extensions.Logging.LoggerMessage(Level = Microsoft.Extensions.Logging.LogLevel.Warning,
            Message = "Tasks run as root on this agent (--allow-root-tasks): a task can do anything on this machine")]
        public static partial void RootTasksAllowed(Microsoft.Extensions.Logging.ILogger logger);
    }
}
