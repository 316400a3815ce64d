using Mezzo.Core.Security;
using Mezzo.Hosting.Security;
using Mezzo.Master.Actor;
using Mezzo.Master.Security;
using Mezzo.Protocol.V1;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Mezzo.Master.Http;

/// <summary>
/// Mesos's legacy maintenance endpoints (docs/endpoints/master/maintenance/*.md, machine/*.md): <c>GET|POST
/// /maintenance/schedule</c>, <c>GET /maintenance/status</c>, <c>POST /machine/down</c> and <c>/machine/up</c> (a JSON
/// array of MachineIDs), each also under <c>/master/</c>. Same actor methods as the operator API.
/// </summary>
public static class MaintenanceEndpoints
{
    public static void Map(IEndpointRouteBuilder app, MasterActor master)
    {
        foreach (var prefix in (string[])["", "/master"])
        {
            app.MapGet(prefix + "/maintenance/schedule", (Delegate)(async (HttpContext context) =>
                MasterAuthorization.Check(context, master.Options, AclAction.GetMaintenanceSchedules)
                ?? Results.Bytes(MesosJson.SerializeToUtf8Bytes(await master.Ask(master.GetMaintenanceSchedule)), HttpBodies.Json)))
                .Access(AccessKind.ReadOnly, AclAction.GetMaintenanceSchedules);
            app.MapGet(prefix + "/maintenance/status", (Delegate)(async (HttpContext context) =>
                MasterAuthorization.Check(context, master.Options, AclAction.GetMaintenanceStatuses)
                ?? Results.Bytes(MesosJson.SerializeToUtf8Bytes(await master.Ask(master.GetMaintenanceStatus)), HttpBodies.Json)))
                .Access(AccessKind.ReadOnly, AclAction.GetMaintenanceStatuses);
            app.MapPost(prefix + "/maintenance/schedule", (HttpContext context) => GuardedAsync(context, master, AclAction.UpdateMaintenanceSchedules, UpdateScheduleAsync))
                .Access(AccessKind.ReadWrite, AclAction.UpdateMaintenanceSchedules);
            app.MapPost(prefix + "/machine/down", (HttpContext context) => GuardedAsync(context, master, AclAction.StartMaintenances, MachinesDownAsync))
                .Access(AccessKind.ReadWrite, AclAction.StartMaintenances);
            app.MapPost(prefix + "/machine/up", (HttpContext context) => GuardedAsync(context, master, AclAction.StopMaintenances, MachinesUpAsync))
                .Access(AccessKind.ReadWrite, AclAction.StopMaintenances);
        }
    }

    /// <summary>Refuses before the body is read or anything changes when the ACLs do not allow the action.</summary>
    private static async Task GuardedAsync(HttpContext context, MasterActor master, AclAction action, Func<HttpContext, MasterActor, Task<IResult>> handle)
    {
        var result = MasterAuthorization.Check(context, master.Options, action) ?? await handle(context, master);
        await result.ExecuteAsync(context);
    }

    private static Task<IResult> MachinesDownAsync(HttpContext context, MasterActor master) => MachinesAsync(context, master, master.StartMaintenance);

    private static Task<IResult> MachinesUpAsync(HttpContext context, MasterActor master) => MachinesAsync(context, master, master.StopMaintenance);

    private static async Task<IResult> UpdateScheduleAsync(HttpContext context, MasterActor master)
    {
        var (schedule, error) = await HttpBodies.ReadJsonAsync<MaintenanceSchedule>(context.Request, master.Options.MaxRequestBodyBytes, "Failed to parse the schedule");
        if (error is not null)
        {
            return error;
        }

        return schedule is null
            ? HttpBodies.Text(StatusCodes.Status400BadRequest, "Failed to parse the schedule: expected a Schedule object")
            : OperatorEndpoint.Outcome(await master.Ask(() => master.UpdateMaintenanceSchedule(schedule)));
    }

    private static async Task<IResult> MachinesAsync(HttpContext context, MasterActor master, Func<IReadOnlyList<MachineID>, CallResult> apply)
    {
        var (machines, error) = await HttpBodies.ReadJsonAsync<List<MachineID>>(context.Request, master.Options.MaxRequestBodyBytes, "Failed to parse the machines");
        if (error is not null)
        {
            return error;
        }

        return machines is null || machines.Contains(null!)
            ? HttpBodies.Text(StatusCodes.Status400BadRequest, "Failed to parse the machines: expected a JSON array of machine ids")
            : OperatorEndpoint.Outcome(await master.Ask(() => apply(machines)));
    }
}
