using Mezzo.Agent.Health;
using Mezzo.Agent.Launcher;
using Mezzo.Agent.Tasks;
using Mezzo.Core.Tasks;
using Mezzo.Protocol;
using Mezzo.Protocol.V1;
using Microsoft.Extensions.Logging;

namespace Mezzo.Agent;

/// <summary>
/// Health checks and checks of running tasks, as Mesos's command executor runs them: checkers run off the actor from
/// TASK_RUNNING until the task is killed or ends, and post each result here. A health change or a changed check
/// result is a TASK_RUNNING copied from the task's latest status (so a check update keeps the last <c>healthy</c> and a
/// health update the last <c>check_status</c>) with REASON_TASK_HEALTH_CHECK_STATUS_UPDATED or
/// REASON_TASK_CHECK_STATUS_UPDATED. Every other status the task sends starts afresh with an empty
/// <c>check_status</c> of the check's type, as in Mesos; a task killed for failing health checks ends with
/// <c>healthy</c> false.
/// </summary>
public sealed partial class AgentService
{
    private readonly Dictionary<AgentTask, TaskCheckers> _checkers = [];

    private sealed class TaskCheckers
    {
        public CancellationTokenSource Stop { get; } = new();

        public HealthInterpreter? Health { get; set; }

        public CheckInterpreter? Check { get; set; }

        public bool Stopped { get; set; }

        public bool KilledByHealthCheck { get; set; }
    }

    /// <summary>The master rejects these with TASK_ERROR already; this keeps a task that slipped past from running unchecked.</summary>
    private static string? CheckDefinitionError(AgentTask task) => CheckValidation.ValidateTask(task.Info);

    /// <summary>On the actor, right after TASK_RUNNING: start whichever checkers the task asks for.</summary>
    private void StartChecks(AgentTask task, LaunchSpec launched)
    {
        if (task.Info.HealthCheck is null && task.Info.Check is null)
        {
            return;
        }

        var checkers = new TaskCheckers();
        _checkers[task] = checkers;
        var probe = new CheckProbe(_launcher, launched, task.Process!.Pid);
        var stop = checkers.Stop.Token;
        if (task.Info.Check is { } check)
        {
            var spec = CheckSpec.From(check);
            checkers.Check = new CheckInterpreter(spec.Type);
            TrackExitHandler(Task.Run(() => CheckLoop.RunAsync(spec, probe, outcome => Post(() => OnCheckOutcome(task, checkers, outcome)), _time, stop)));
        }

        if (task.Info.HealthCheck is { } healthCheck)
        {
            var spec = CheckSpec.From(healthCheck);

            // The grace period counts from the launch (Mesos starts its clock when the checker is created).
            checkers.Health = new HealthInterpreter(healthCheck, _time.GetUtcNow());
            TrackExitHandler(Task.Run(() => CheckLoop.RunAsync(spec, probe, outcome => Post(() => OnHealthOutcome(task, checkers, outcome)), _time, stop)));
        }
    }

    /// <summary>Checking stops once a task is being killed or has ended (Mesos pauses its checkers then).</summary>
    private void StopChecks(AgentTask task)
    {
        if (_checkers.TryGetValue(task, out var checkers) && !checkers.Stopped)
        {
            checkers.Stopped = true;
            checkers.Stop.Cancel();
            checkers.Stop.Dispose();
        }
    }

    private void OnHealthOutcome(AgentTask task, TaskCheckers checkers, CheckOutcome outcome)
    {
        if (checkers.Stopped || task.Killing || task.IsTerminal || checkers.Health is not { } health)
        {
            return;
        }

        if (health.OnOutcome(outcome, _time.GetUtcNow()) is not { } verdict)
        {
            return;
        }

        if (verdict.Healthy)
        {
            Log.TaskHealthy(_log, task.TaskId);
        }
        else
        {
            Log.HealthCheckFailed(_log, task.TaskId, verdict.ConsecutiveFailures, verdict.Failure ?? "");
        }

        SendCheckUpdate(task, TaskStatusReason.REASON_TASK_HEALTH_CHECK_STATUS_UPDATED, status => status.Healthy = verdict.Healthy);
        if (verdict.KillTask)
        {
            Log.KillingUnhealthyTask(_log, task.TaskId, verdict.ConsecutiveFailures);
            checkers.KilledByHealthCheck = true;
            Kill(task, null);
        }
    }

    private void OnCheckOutcome(AgentTask task, TaskCheckers checkers, CheckOutcome outcome)
    {
        if (checkers.Stopped || task.Killing || task.IsTerminal || checkers.Check is not { } check)
        {
            return;
        }

        if (outcome.Error is { } error)
        {
            Log.CheckFailed(_log, task.TaskId, error);
        }

        if (check.OnOutcome(outcome) is { } changed)
        {
            SendCheckUpdate(task, TaskStatusReason.REASON_TASK_CHECK_STATUS_UPDATED, status => status.CheckStatus = changed);
        }
    }

    /// <summary>Mesos: "use the previous task status to preserve all attached information", with a new uuid, time and reason.</summary>
    private void SendCheckUpdate(AgentTask task, TaskStatusReason reason, Action<TaskStatus> change)
    {
        var previous = task.LatestStatus!;
        var status = new TaskStatus
        {
            TaskId = previous.TaskId,
            State = previous.State,
            Message = previous.Message,
            Source = previous.Source,
            Reason = reason,
            Data = previous.Data,
            AgentId = previous.AgentId,
            ExecutorId = previous.ExecutorId,
            Timestamp = _time.GetUtcNow().ToUnixTimeMilliseconds() / 1000.0,
            Uuid = Guid.NewGuid().ToByteArray(),
            Healthy = previous.Healthy,
            CheckStatus = previous.CheckStatus is { } last ? CheckStatuses.Copy(last) : null,
            Labels = previous.Labels,
            ContainerStatus = previous.ContainerStatus,
        };
        change(status);
        QueueStatus(task, status);
    }

    /// <summary>Called for every status built from scratch (see the class summary).</summary>
    private void AttachCheckFields(AgentTask task, TaskStatus status)
    {
        if (task.Info.Check?.Type is { } type && status.Source == TaskStatusSource.SOURCE_EXECUTOR
            && type is CheckInfoType.COMMAND or CheckInfoType.HTTP or CheckInfoType.TCP)
        {
            status.CheckStatus = CheckStatuses.Empty(type);
        }

        if (!TaskStates.IsTerminal(status.State!.Value) || !_checkers.ContainsKey(task))
        {
            return;
        }

        StopChecks(task);
        _checkers.Remove(task, out var checkers);
        if (checkers!.KilledByHealthCheck && status.State == TaskState.TASK_KILLED)
        {
            status.Healthy = false;
        }
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "Task {TaskId} is healthy")]
        public static partial void TaskHealthy(ILogger logger, string taskId);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Health check of task {TaskId} failed {Count} times in a row: {Reason}")]
        public static partial void HealthCheckFailed(ILogger logger, string taskId, int count, string reason);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Killing task {TaskId}: its health check failed {Count} times in a row")]
        public static partial void KillingUnhealthyTask(ILogger logger, string taskId, int count);

        [LoggerMessage(Level = LogLevel.Information, Message = "Check of task {TaskId} gave no result: {Reason}")]
        public static partial void CheckFailed(ILogger logger, string taskId, string reason);
    }
}
