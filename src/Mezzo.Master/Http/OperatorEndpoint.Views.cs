using Mezzo.Master.Actor;
using Mezzo.Master.Views;
using Mezzo.Protocol.V1;
using Microsoft.AspNetCore.Http;

namespace Mezzo.Master.Http;

/// <summary>
/// The read calls for a principal that may not see everything: the same answers, cut down by its view ACLs. Only
/// reached when the ACLs restrict the caller, so a permissive master answers through the plain handlers.
/// </summary>
public static partial class OperatorEndpoint
{
    private static Task<IResult>? FilteredRead(MasterActor master, MasterCall call, ViewFilter view) => call.Type switch
    {
        MasterCallType.GET_STATE => Filtered(async () => new MasterResponse
        {
            Type = MasterResponseType.GET_STATE,
            GetState = await master.Ask(() => master.GetStateResponse(view)),
        }),
        MasterCallType.GET_AGENTS => Filtered(async () => new MasterResponse
        {
            Type = MasterResponseType.GET_AGENTS,
            GetAgents = await master.Ask(() => master.GetAgentsResponse(view)),
        }),
        MasterCallType.GET_FRAMEWORKS => Filtered(async () => new MasterResponse
        {
            Type = MasterResponseType.GET_FRAMEWORKS,
            GetFrameworks = await master.Ask(() => master.GetFrameworksResponse(view)),
        }),
        MasterCallType.GET_EXECUTORS => Filtered(async () => new MasterResponse
        {
            Type = MasterResponseType.GET_EXECUTORS,
            GetExecutors = await master.Ask(() => master.GetExecutorsResponse(view)),
        }),
        MasterCallType.GET_TASKS => Filtered(async () => new MasterResponse
        {
            Type = MasterResponseType.GET_TASKS,
            GetTasks = await master.Ask(() => master.GetTasksResponse(view)),
        }),
        MasterCallType.GET_ROLES => RolesAsync(master, view),
        MasterCallType.GET_WEIGHTS => Filtered(async () => new MasterResponse
        {
            Type = MasterResponseType.GET_WEIGHTS,
            GetWeights = new MasterResponseGetWeights { WeightInfos = [.. RoleViews.Weights(await master.Ask(master.GetWeights), view)] },
        }),
        MasterCallType.GET_QUOTA => Filtered(async () => new MasterResponse
        {
            Type = MasterResponseType.GET_QUOTA,
            GetQuota = new MasterResponseGetQuota { Status = RoleViews.Quota(await master.Ask(master.GetQuotaStatus), view) },
        }),
        MasterCallType.SUBSCRIBE => Task.FromResult<IResult>(new EventStream(master, view)),
        _ => null,
    };

    private static async Task<IResult> Filtered(Func<Task<MasterResponse>> build) => Response(await build());

    private static async Task<IResult> RolesAsync(MasterActor master, ViewFilter view) =>
        RolesResponse(RoleViews.Roles(await master.Ask(master.GetRoles), view));
}
