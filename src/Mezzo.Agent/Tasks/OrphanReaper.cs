using Mezzo.Agent.Launcher;

namespace Mezzo.Agent.Tasks;

/// <summary>
/// Finds task processes whose MESOS_SANDBOX lies under a sandbox root by reading /proc/*/environ, and kills their
/// process groups. Used at agent start (for a previous run's tasks that were not recovered from checkpoints) and by
/// tests to prove that nothing was left behind.
/// </summary>
public static class OrphanReaper
{
    public static IReadOnlyList<int> FindTaskProcesses(string sandboxRoot) => [.. FindTaskProcessesWithSandbox(sandboxRoot).Select(p => p.Pid)];

    /// <summary>Task processes under <paramref name="sandboxRoot"/> with the sandbox each one belongs to.</summary>
    public static IReadOnlyList<(int Pid, string Sandbox)> FindTaskProcessesWithSandbox(string sandboxRoot)
    {
        var root = Path.GetFullPath(sandboxRoot).TrimEnd('/') + "/";
        var needle = "MESOS_SANDBOX=" + root;
        var found = new List<(int, string)>();
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
                        found.Add((pid, entry["MESOS_SANDBOX=".Length..]));
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

    /// <param name="keep">Sandboxes of tasks recovered from checkpoints: their processes live on.</param>
    public static int KillTasksUnder(string sandboxRoot, IReadOnlySet<string>? keep = null)
    {
        var pids = FindTaskProcessesWithSandbox(sandboxRoot).Where(p => keep?.Contains(p.Sandbox) != true).Select(p => p.Pid).ToList();
        foreach (var pid in pids)
        {
            // Tasks lead their own session, so the group id is the pid; the single kill covers a process that left it.
            _ = LibC.kill(-pid, Signals.SIGKILL);
            _ = LibC.kill(pid, Signals.SIGKILL);
        }

        return pids.Count;
    }
}
