using Mezzo.Agent.Launcher;

namespace Mezzo.Agent.Tasks;

/// <summary>
/// Finds task processes whose MESOS_SANDBOX lies under a sandbox root by reading /proc/*/environ, and kills their
/// process groups. Used at agent start (a previous run's tasks cannot be reattached yet) and by tests to prove that
/// nothing was left behind.
/// </summary>
public static class OrphanReaper
{
    public static IReadOnlyList<int> FindTaskProcesses(string sandboxRoot)
    {
        var root = Path.GetFullPath(sandboxRoot).TrimEnd('/') + "/";
        var needle = "MESOS_SANDBOX=" + root;
        var found = new List<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid) || pid == Environment.ProcessId)
            {
                continue;
            }

            try
            {
                var environ = File.ReadAllText(Path.Combine(dir, "environ"));
                foreach (var entry in environ.Split('\0'))
                {
                    if (entry.StartsWith(needle, StringComparison.Ordinal))
                    {
                        found.Add(pid);
                        break;
                    }
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // Exited meanwhile, or not ours to read.
            }
        }

        return found;
    }

    public static int KillTasksUnder(string sandboxRoot)
    {
        var pids = FindTaskProcesses(sandboxRoot);
        foreach (var pid in pids)
        {
            // Tasks lead their own session, so the group id is the pid; the single kill covers a process that left it.
            _ = LibC.kill(-pid, Signals.SIGKILL);
            _ = LibC.kill(pid, Signals.SIGKILL);
        }

        return pids.Count;
    }
}
