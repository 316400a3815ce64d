namespace Mezzo.Supervisor;

/// <summary>How the agent talks to a supervisor. Shared with the agent (linked source).</summary>
public static class SupervisorProtocol
{
    /// <summary>SIGRTMIN+6 (glibc): "SIGKILL the task's process group" (SIGKILL itself cannot be caught and forwarded).</summary>
    public const int KillSignal = 40;

    /// <summary>
    /// What the agent may send; the supervisor forwards each to its task's process group (SIGHUP, SIGINT, SIGQUIT,
    /// SIGUSR1, SIGUSR2, SIGTERM, and <see cref="KillSignal"/>). The agent starts a supervisor with these blocked, so
    /// one sent before its handlers exist waits for them instead of killing it.
    /// </summary>
    public static readonly IReadOnlyList<int> ForwardedSignals = [1, 2, 3, 10, 12, 15, KillSignal];
}
