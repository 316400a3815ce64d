using Mezzo.Core.Security;
using Mezzo.Core.Tasks;
using Mezzo.Master.State;
using Mezzo.Master.Views;
using Mezzo.Protocol.V1;
using Microsoft.Extensions.Logging;

namespace Mezzo.Master.Actor;

/// <summary>
/// <c>run_tasks</c> at ACCEPT, as Mesos's master authorizes a launch before validating it: the framework's principal
/// must be allowed to run tasks as the task's user (<c>command.user</c>, else its executor's, else the framework's).
/// A refused LAUNCH task is TASK_ERROR with REASON_TASK_UNAUTHORIZED and the other tasks of the ACCEPT go on; a
/// refused task in a LAUNCH_GROUP refuses the whole group (REASON_TASK_GROUP_UNAUTHORIZED), which runs all or nothing.
/// </summary>
public sealed partial class MasterActor
{
    /// <summary>Why the framework may not run <paramref name="task"/>, or null when it may.</summary>
    private string? RunTaskRefusal(FrameworkEntry framework, TaskInfo task, ExecutorInfo? groupExecutor)
    {
        var acls = _options.Security.Acls;
        var principal = framework.Info.Principal is { Length: > 0 } p ? p : null;
        var user = ViewFilter.TaskUser(task, groupExecutor) ?? framework.Info.User ?? "";
        return acls.IsAllowed(AclAction.RunTasks, principal, user) ? null : $"Not authorized to launch as user '{user}'";
    }

    /// <summary>Refuses an unauthorized LAUNCH task; true when it was refused (an update was sent).</summary>
    private bool RefuseUnauthorizedTask(FrameworkEntry framework, AgentEntry agent, TaskInfo task)
    {
        if (RunTaskRefusal(framework, task, null) is not { } refusal)
        {
            return false;
        }

        var taskId = task.TaskId?.Value ?? "";
        Log.TaskUnauthorized(_log, taskId, framework.FrameworkId, refusal);
        SendMasterUpdate(framework, taskId, agent.AgentId, TaskState.TASK_ERROR, TaskStatusReason.REASON_TASK_UNAUTHORIZED, refusal);
        return true;
    }

    /// <summary>Refuses a LAUNCH_GROUP with any unauthorized task, for all of its tasks; true when refused.</summary>
    private bool RefuseUnauthorizedGroup(FrameworkEntry framework, AgentEntry agent, IReadOnlyList<TaskInfo> tasks, ExecutorInfo? executor)
    {
        string? refusal = null;
        foreach (var task in tasks)
        {
            if (task is not null && RunTaskRefusal(framework, task, executor) is { } why)
            {
                refusal = $"Task group is not authorized to launch: task '{task.TaskId?.Value}': {why}";
                break;
            }
        }

        if (refusal is null)
        {
            return false;
        }

        Log.TaskGroupUnauthorized(_log, framework.FrameworkId, refusal);
        foreach (var task in tasks)
        {
            SendMasterUpdate(framework, task?.TaskId?.Value ?? "", agent.AgentId, TaskState.TASK_ERROR, TaskStatusReason.REASON_TASK_GROUP_UNAUTHORIZED, refusal);
        }

        return true;
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Warning, Message = "Task {TaskId} of framework {FrameworkId} refused: {Reason}")]
        public static partial void TaskUnauthorized(ILogger logger, string taskId, string frameworkId, string reason);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Task group of framework {FrameworkId} refused: {Reason}")]
        public static partial void TaskGroupUnauthorized(ILogger logger, string frameworkId, string reason);
    }
}
