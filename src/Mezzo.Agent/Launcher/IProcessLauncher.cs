namespace Mezzo.Agent.Launcher;

public interface IProcessLauncher
{
    /// <summary>Starts the process in a new session (so its process group id equals its pid).</summary>
    /// <exception cref="LaunchException">The process could not be started; the message says why.</exception>
    LaunchedProcess Launch(LaunchSpec spec);
}
