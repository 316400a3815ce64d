using Mezzo.Agent.Isolation;
using Mezzo.Agent.Tasks;
using Mezzo.Protocol.V1;
using Microsoft.Extensions.Logging;

namespace Mezzo.Agent;

/// <summary>
/// The disk/du isolator: every --container-disk-watch-interval each running task's sandbox is measured off the actor;
/// the actor records the figure (for /monitor/statistics) and, with --enforce-container-disk-quota, kills a task whose
/// sandbox has outgrown its <c>disk</c> resource, which then fails with REASON_CONTAINER_LIMITATION_DISK as in Mesos.
/// </summary>
public sealed partial class AgentService
{
    private async Task DiskWatchLoopAsync()
    {
        if (!IsolationFlag.Has(_options.Isolation, IsolationFlag.DiskDu))
        {
            return;
        }

        using var timer = new PeriodicTimer(_options.ContainerDiskWatchInterval, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(_stopping.Token).ConfigureAwait(false))
            {
                var running = await Ask(() => _tasks.Values.Where(t => t.Process is { HasExited: false } && !t.IsTerminal).ToList()).ConfigureAwait(false);
                foreach (var task in running)
                {
                    // One sandbox at a time on this loop's thread: a large sandbox slows the next check, never the agent.
                    var used = DiskUsage.Measure(task.Sandbox);
                    Post(() => OnDiskUsage(task, used));
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException)
        {
        }
    }

    private void OnDiskUsage(AgentTask task, long used)
    {
        task.DiskUsedBytes = used;
        var quota = (long)(Scalar(task.Info, "disk") * 1024 * 1024);
        if (!_options.EnforceContainerDiskQuota || quota <= 0 || used <= quota || task.IsTerminal || task.Limitation is not null || task.Process is not { } process)
        {
            return;
        }

        var message = $"Disk usage ({DiskUsage.Format(used)}) exceeds quota ({DiskUsage.Format(quota)})";
        task.Limitation = (TaskStatusReason.REASON_CONTAINER_LIMITATION_DISK, message);
        DiskLog.QuotaExceeded(_log, task.TaskId, message);
        process.Signal(Launcher.Signals.SIGKILL);
    }

    private static partial class DiskLog
    {
        [LoggerMessage(Level = LogLevel.Warning, Message = "Killing task {TaskId}: {Message}")]
        public static partial void QuotaExceeded(ILogger logger, string taskId, string message);
    }
}
