namespace Mezzo.Agent.Launcher;

public interface IProcessLauncher
{
    /// <summary>Starts the process in a new session (so its process group id equals its pid).</summary>
    /// <exception cref="LaunchException">The process could not be started; the message says why.</exception>
    LaunchedProcess Launch(LaunchSpec spec);

    /// <summary>Takes over a supervisor (<see cref="LaunchSpec.Supervisor"/>) that a previous agent started, if it is
    /// still that process; null when it is gone (its exit record in <paramref name="runDir"/> then tells how the task
    /// ended). Launchers without supervisors never have any to adopt.</summary>
    LaunchedProcess? Adopt(int pid, string startTime, string runDir) => null;
}
