using System.Text.Json;
using Mezzo.Master.Actor;
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
            app.MapGet(prefix + "/maintenance/schedule", async () =>
                Results.Bytes(MesosJson.SerializeToUtf8Bytes(await master.Ask(master.GetMaintenanceSchedule)), HttpBodies.Json));
            app.MapGet(prefix + "/maintenance/status", async () =>
                Results.Bytes(MesosJson.SerializeToUtf8Bytes(await master.Ask(master.GetMaintenanceStatus)), HttpBodies.Json));
            app.MapPost(prefix + "/maintenance/schedule", (HttpContext context) => RunAsync(context, master, "schedule", async body =>
            {
                var schedule = MesosJson.Deserialize<MaintenanceSchedule>(body);
                return schedule is null
                    ? HttpBodies.Text(StatusCodes.Status400BadRequest, "Failed to parse the maintenance schedule: empty body")
                    : OperatorEndpoint.Outcome(await master.Ask(() => master.UpdateMaintenanceSchedule(schedule)));
            }));
            app.MapPost(prefix + "/machine/down", (HttpContext context) => RunAsync(context, master, "machines", async body =>
                OperatorEndpoint.Outcome(await master.Ask(() => master.StartMaintenance(Machines(body))))));
            app.MapPost(prefix + "/machine/up", (HttpContext context) => RunAsync(context, master, "machines", async body =>
                OperatorEndpoint.Outcome(await master.Ask(() => master.StopMaintenance(Machines(body))))));
        }
    }

    private static List<MachineID> Machines(byte[] body) =>
        JsonSerializer.Deserialize(body, MesosJsonContext.Default.ListMachineID) is { } machines && !machines.Contains(null!)
            ? machines
            : throw new JsonException("expected a JSON array of machine ids");

    private static async Task RunAsync(HttpContext context, MasterActor master, string what, Func<byte[], Task<IResult>> handle)
    {
        var (body, bodyError) = await HttpBodies.ReadAsync(context.Request, master.Options.MaxRequestBodyBytes);
        IResult result;
        if (bodyError is not null)
        {
            result = bodyError;
        }
        else
        {
            try
            {
                result = await handle(body!);
            }
            catch (JsonException ex)
            {
                result = HttpBodies.Text(StatusCodes.Status400BadRequest, $"Failed to parse the {what}: {OperatorEndpoint.Describe(ex)}");
            }
        }

        await result.ExecuteAsync(context);
    }
}
