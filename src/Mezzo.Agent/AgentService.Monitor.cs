using Mezzo.Agent.Monitoring;
using Mezzo.Agent.Tasks;
using Mezzo.Protocol.V1;

namespace Mezzo.Agent;

/// <summary>/monitor/statistics: which containers run is read on the actor, their usage off it.</summary>
public sealed partial class AgentService
{
    public async Task<List<MonitorStatisticsEntry>> GetStatisticsAsync()
    {
        var targets = await Ask(() => _tasks.Values
            .Where(t => t.Process is { HasExited: false } && !t.IsTerminal)
            .Select(ToUsageTarget)
            .ToList()).ConfigureAwait(false);
        var now = _time.GetUtcNow();
        return await Task.Run(() => targets.Select(t => ContainerStatistics.Read(t, now)).ToList()).ConfigureAwait(false);
    }

    private static UsageTarget ToUsageTarget(AgentTask task) => new(
        task.ExecutorId,
        ExecutorName(task),
        task.FrameworkId,
        task.TaskId,
        Scalar(task.Info, "cpus"),
        Scalar(task.Info, "mem"),
        Scalar(task.Info, "disk"),
        task.Process?.Pid,
        task.Container,
        task.DiskUsedBytes);

    /// <summary>Mesos's name for the command executor it would have run for this task.</summary>
    private static string ExecutorName(AgentTask task)
    {
        if (task.Info.Executor?.Name is { } name)
        {
            return name;
        }

        var command = task.Info.Command;
        var text = command?.Shell != false
            ? $"sh -c '{command?.Value}'"
            : $"[{string.Join(", ", command.Arguments ?? [])}]";
        return $"Command Executor (Task: {task.TaskId}) (Command: {text})";
    }
}
