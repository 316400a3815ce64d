using Mezzo.Core.Tasks;
using Mezzo.Master.State;
using Mezzo.Protocol.V1;
using Microsoft.Extensions.Logging;

namespace Mezzo.Master.Actor;

/// <summary>
/// Task reconciliation (docs/reconciliation.md), answered from the master's memory as Mesos 1.11's master does. Every
/// answer comes from SOURCE_MASTER with REASON_RECONCILIATION and no uuid (nothing to acknowledge).
/// <list type="bullet">
/// <item>Implicit (no tasks named): the latest state of every task the framework has on a registered agent.
/// Tasks on unreachable agents are not included, as in Mesos.</item>
/// <item>Explicit, task known: its latest state.</item>
/// <item>Task set aside on an unreachable agent: TASK_UNREACHABLE with <c>unreachable_time</c> (Mesos answers so
/// only when the query names the agent; Mezzo remembers the task's agent).</item>
/// <item>Unknown task whose agent has not re-registered since a master restart (or, when no agent is named, while
/// any such agent remains): no answer; the framework retries until the agent is back or marked unreachable.</item>
/// <item>Unknown task on a registered agent: TASK_GONE. On an unreachable agent: TASK_UNREACHABLE with
/// <c>unreachable_time</c>. On a gone agent: TASK_GONE_BY_OPERATOR. Agent unknown or not named: TASK_UNKNOWN.</item>
/// </list>
/// A framework without the PARTITION_AWARE capability gets TASK_LOST wherever TASK_GONE, TASK_UNREACHABLE,
/// TASK_GONE_BY_OPERATOR or TASK_UNKNOWN is written above.
/// </summary>
public sealed partial class MasterActor
{
    private void Reconcile(FrameworkEntry framework, IReadOnlyList<CallReconcileTask> tasks)
    {
        if (tasks.Count == 0)
        {
            foreach (var task in framework.Tasks.Values)
            {
                SendReconciliation(framework, task);
            }

            return;
        }

        foreach (var query in tasks)
        {
            var taskId = query.TaskId?.Value ?? "";
            var agentId = query.AgentId?.Value;
            if (framework.Tasks.TryGetValue(taskId, out var task))
            {
                SendReconciliation(framework, task);
                continue;
            }

            if (framework.UnreachableTasks.TryGetValue(taskId, out var away))
            {
                var status = ReconciliationStatus(framework, taskId, away.AgentId, TaskState.TASK_UNREACHABLE, "Reconciliation: Task is unreachable");
                status.UnreachableTime = away.LatestStatus?.UnreachableTime;
                SendStatus(framework, status);
                continue;
            }

            _agents.TryGetValue(agentId ?? "", out var agent);
            if (agent is { Recovered: true } || (agentId is null && _agents.Values.Any(a => a.Recovered)))
            {
                Log.ReconciliationDeferred(_log, taskId, framework.FrameworkId, agentId ?? "some agents");
                continue;
            }

            var answer = agent?.Liveness switch
            {
                AgentLiveness.Connected or AgentLiveness.Disconnected =>
                    ReconciliationStatus(framework, taskId, agentId, TaskState.TASK_GONE, "Reconciliation: Task is unknown to the agent"),
                AgentLiveness.Unreachable =>
                    ReconciliationStatus(framework, taskId, agentId, TaskState.TASK_UNREACHABLE, "Reconciliation: Task is unreachable"),
                AgentLiveness.Gone =>
                    ReconciliationStatus(framework, taskId, agentId, TaskState.TASK_GONE_BY_OPERATOR, "Reconciliation: Task is gone"),
                _ => ReconciliationStatus(framework, taskId, agentId, TaskState.TASK_UNKNOWN, "Reconciliation: Task is unknown"),
            };
            if (agent is { Liveness: AgentLiveness.Unreachable, UnreachableSince: { } since })
            {
                answer.UnreachableTime = TimeInfoOf(since);
            }

            SendStatus(framework, answer);
        }
    }

    /// <summary>The latest state of a known task; the original message, data and reason are not repeated (Mesos).</summary>
    private void SendReconciliation(FrameworkEntry framework, TaskEntry task)
    {
        var latest = task.LatestStatus;
        var status = MasterStatus(task.TaskId, task.AgentId, task.State, TaskStatusReason.REASON_RECONCILIATION, "Reconciliation: Latest task state");
        status.ExecutorId = latest?.ExecutorId ?? task.Info.Executor?.ExecutorId;
        status.Healthy = latest?.Healthy;
        status.CheckStatus = latest?.CheckStatus;
        status.ContainerStatus = latest?.ContainerStatus;
        SendStatus(framework, status);
    }

    /// <summary>An answer about a task the master does not hold; frameworks that are not partition-aware get TASK_LOST.</summary>
    private TaskStatus ReconciliationStatus(FrameworkEntry framework, string taskId, string? agentId, TaskState state, string message) =>
        MasterStatus(taskId, agentId, framework.PartitionAware ? state : TaskState.TASK_LOST, TaskStatusReason.REASON_RECONCILIATION, message);

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "Not reconciling task {TaskId} of framework {FrameworkId} yet: {AgentId} not re-registered since the master started")]
        public static partial void ReconciliationDeferred(ILogger logger, string taskId, string frameworkId, string agentId);
    }
}
