using Mezzo.Core.Security;
using Mezzo.Protocol.V1;
using Microsoft.AspNetCore.Http;

namespace Mezzo.Agent.Http;

/// <summary>
/// The operator API's authorization, call by call with Mesos's actions: GET_FLAGS needs view_flags, SET_LOGGING_LEVEL
/// set_log_level, LIST_FILES/READ_FILE access_sandboxes for the sandbox the path names; GET_STATE, GET_FRAMEWORKS,
/// GET_EXECUTORS, GET_TASKS and GET_CONTAINERS answer only what view_frameworks, view_executors, view_tasks and
/// view_containers allow the principal to see.
/// </summary>
public static partial class OperatorEndpoint
{
    /// <summary>A 403 for a call the principal may not make at all, else null.</summary>
    private static async Task<IResult?> RefuseAsync(AgentOperatorCall call, AgentService service, string sandboxRoot, AgentViewer viewer)
    {
        if (viewer.SeesEverything)
        {
            return null;
        }

        var who = viewer.Principal is null ? "an unauthenticated caller" : $"principal '{viewer.Principal}'";
        string? refusal = call.Type switch
        {
            AgentOperatorCallType.GET_FLAGS when !viewer.May(AclAction.ViewFlags, null) =>
                $"Forbidden: {who} may not view the agent's flags (view_flags)",
            AgentOperatorCallType.SET_LOGGING_LEVEL when !viewer.May(AclAction.SetLogLevel, null) =>
                $"Forbidden: {who} may not set the logging level (set_log_level)",
            AgentOperatorCallType.LIST_FILES => await SandboxAccess.RefusalAsync(sandboxRoot, call.ListFiles?.Path ?? "", service, viewer.Acls, viewer.Principal),
            AgentOperatorCallType.READ_FILE => await SandboxAccess.RefusalAsync(sandboxRoot, call.ReadFile?.Path ?? "", service, viewer.Acls, viewer.Principal),
            _ => null,
        };
        return refusal is null ? null : Text(StatusCodes.Status403Forbidden, refusal);
    }

    /// <summary>Leaves out of a read call's answer what the principal may not see.</summary>
    private static async Task<AgentOperatorResponse> FilterAsync(AgentOperatorResponse response, AgentService service, AgentViewer viewer)
    {
        if (viewer.SeesEverything || response.Type is not (AgentOperatorResponseType.GET_STATE or AgentOperatorResponseType.GET_TASKS
                or AgentOperatorResponseType.GET_EXECUTORS or AgentOperatorResponseType.GET_FRAMEWORKS or AgentOperatorResponseType.GET_CONTAINERS))
        {
            return response;
        }

        var owners = await service.GetOwnersAsync();
        Filter(response.GetTasks ?? response.GetState?.GetTasks, owners, viewer);
        Filter(response.GetExecutors ?? response.GetState?.GetExecutors, owners, viewer);
        Filter(response.GetFrameworks ?? response.GetState?.GetFrameworks, owners, viewer);
        response.GetContainers?.Containers?.RemoveAll(c =>
            !viewer.May(AclAction.ViewContainers, owners.Executor(c.FrameworkId?.Value, c.ExecutorId?.Value)));
        return response;
    }

    private static void Filter(AgentOperatorResponseGetTasks? tasks, AgentOwners owners, AgentViewer viewer)
    {
        if (tasks is null)
        {
            return;
        }

        bool Hidden(MesosTask task) => !viewer.May(AclAction.ViewTasks, owners.Task(task.FrameworkId?.Value, task.TaskId?.Value));
        foreach (var list in (List<MesosTask>?[])[tasks.PendingTasks, tasks.QueuedTasks, tasks.LaunchedTasks, tasks.TerminatedTasks, tasks.CompletedTasks])
        {
            list?.RemoveAll(Hidden);
        }
    }

    private static void Filter(AgentOperatorResponseGetExecutors? executors, AgentOwners owners, AgentViewer viewer)
    {
        bool Hidden(AgentOperatorResponseGetExecutorsExecutor executor) => !viewer.May(
            AclAction.ViewExecutors, owners.Executor(executor.ExecutorInfo?.FrameworkId?.Value, executor.ExecutorInfo?.ExecutorId?.Value));
        executors?.Executors?.RemoveAll(Hidden);
        executors?.CompletedExecutors?.RemoveAll(Hidden);
    }

    private static void Filter(AgentOperatorResponseGetFrameworks? frameworks, AgentOwners owners, AgentViewer viewer)
    {
        bool Hidden(AgentOperatorResponseGetFrameworksFramework framework) =>
            !viewer.May(AclAction.ViewFrameworks, owners.Framework(framework.FrameworkInfo?.Id?.Value));
        frameworks?.Frameworks?.RemoveAll(Hidden);
        frameworks?.CompletedFrameworks?.RemoveAll(Hidden);
    }
}
