using Mezzo.Agent.Launcher;
using Mezzo.Agent.Tasks;
using Mezzo.Protocol.V1;
using Microsoft.Extensions.Logging;

namespace Mezzo.Agent;

/// <summary>
/// Kill escalation as Mesos's command executor does it: SIGTERM to the task's process group, SIGKILL once the grace
/// period is over. The grace period is the KILL call's, else the task's <c>kill_policy</c>, else
/// <see cref="AgentOptions.DefaultKillGracePeriod"/>. A later KILL may shorten the escalation, never lengthen it
/// (a scheduler retrying its kill must be a no-op).
/// </summary>
public sealed partial class AgentService
{
    private readonly Dictionary<AgentTask, KillEscalation> _escalations = [];

    private sealed class KillEscalation(DateTimeOffset start, DateTimeOffset deadline, ITimer timer)
    {
        public DateTimeOffset Start { get; } = start;

        public DateTimeOffset Deadline { get; set; } = deadline;

        public ITimer Timer { get; } = timer;
    }

    private TimeSpan KillGracePeriod(AgentTask task, KillPolicy? policy) =>
        (policy?.GracePeriod ?? task.Info.KillPolicy?.GracePeriod)?.Nanoseconds is { } ns && ns >= 0
            ? TimeSpan.FromTicks(ns / 100)
            : _options.DefaultKillGracePeriod;

    private void StartKillEscalation(AgentTask task, LaunchedProcess process, TimeSpan grace)
    {
        Log.KillingTask(_log, task.TaskId, grace.TotalSeconds);
        if (grace <= TimeSpan.Zero)
        {
            SignalSafely(task, process, Signals.SIGKILL);
            return;
        }

        SignalSafely(task, process, Signals.SIGTERM);
        var now = _time.GetUtcNow();

        // The timer signals from the thread pool: LaunchedProcess.Signal is thread-safe and a no-op once reaped.
        var timer = _time.CreateTimer(_ => Escalate(task, process), null, grace, Timeout.InfiniteTimeSpan);
        _escalations[task] = new KillEscalation(now, now + grace, timer);
    }

    private void ShortenKillGracePeriod(AgentTask task, TimeSpan grace)
    {
        if (!_escalations.TryGetValue(task, out var escalation) || escalation.Start + grace >= escalation.Deadline)
        {
            return;
        }

        escalation.Deadline = escalation.Start + grace;
        var remaining = escalation.Deadline - _time.GetUtcNow();
        escalation.Timer.Change(remaining > TimeSpan.Zero ? remaining : TimeSpan.Zero, Timeout.InfiniteTimeSpan);
    }

    private void EndKillEscalation(AgentTask task)
    {
        if (_escalations.Remove(task, out var escalation))
        {
            escalation.Timer.Dispose();
        }
    }

    private void Escalate(AgentTask task, LaunchedProcess process)
    {
        if (!process.HasExited)
        {
            Log.KillEscalated(_log, task.TaskId);
            SignalSafely(task, process, Signals.SIGKILL);
        }
    }

    private void SignalSafely(AgentTask task, LaunchedProcess process, int signal)
    {
        try
        {
            process.Signal(signal);
        }
        catch (InvalidOperationException ex)
        {
            Log.SignalFailed(_log, task.TaskId, ex.Message);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "Killing task {TaskId}: SIGTERM, then SIGKILL after {GraceSeconds} s")]
        public static partial void KillingTask(ILogger logger, string taskId, double graceSeconds);

        [LoggerMessage(Level = LogLevel.Information, Message = "Task {TaskId} outlived its kill grace period: SIGKILL")]
        public static partial void KillEscalated(ILogger logger, string taskId);

        [LoggerMessage(Level = LogLevel.Error, Message = "Could not signal task {TaskId}: {Reason}")]
        public static partial void SignalFailed(ILogger logger, string taskId, string reason);
    }
}
