using Mezzo.Agent.Tasks;

namespace Mezzo.IntegrationTests.Infrastructure;

public static class TaskPids
{
    /// <summary>
    /// The task processes under <paramref name="root"/> once <paramref name="count"/> of them run <paramref name="command"/>:
    /// TASK_RUNNING comes when the task's supervisor has started, and the supervisor starts the command a moment later.
    /// </summary>
    public static Task<IReadOnlyList<int>> WhenRunningAsync(string root, string command = "sleep", int count = 1) =>
        Poll.UntilAsync<IReadOnlyList<int>>(() =>
        {
            var pids = OrphanReaper.FindTaskProcesses(root);
            var running = pids.Count(pid => Comm(pid) == command);
            return Task.FromResult<IReadOnlyList<int>?>(running >= count ? pids : null);
        }, $"{count} task process(es) running {command}");

    private static string? Comm(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/comm").Trim();
        }
        catch (IOException)
        {
            return null;
        }
    }
}
