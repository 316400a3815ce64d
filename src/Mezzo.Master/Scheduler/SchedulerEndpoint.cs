using Mezzo.Hosting.Security;
using Mezzo.Master.Actor;
using Mezzo.Master.Http;
using Mezzo.Protocol.V1;
using Microsoft.AspNetCore.Http;

namespace Mezzo.Master.Scheduler;

/// <summary><c>POST /api/v1/scheduler</c>: the Mesos v1 scheduler HTTP API.</summary>
public static class SchedulerEndpoint
{
    public static async Task HandleAsync(HttpContext context, MasterActor master)
    {
        var result = await ProcessAsync(context, master);
        if (result is not null)
        {
            await result.ExecuteAsync(context);
        }
    }

    /// <summary>
    /// Mesos's SUBSCRIBE validation: an authenticated scheduler's FrameworkInfo names the principal it authenticated as.
    /// One that names none takes it, so that what the framework may do and who may tear it down follow its credential.
    /// </summary>
    private static string? PrincipalMismatch(FrameworkInfo info, string? principal)
    {
        if (principal is null)
        {
            return null;
        }

        if (info.Principal is null)
        {
            info.Principal = principal;
            return null;
        }

        return info.Principal == principal
            ? null
            : $"Authenticated principal '{principal}' does not match principal '{info.Principal}' set in `FrameworkInfo`";
    }

    private static async Task<IResult?> ProcessAsync(HttpContext context, MasterActor master)
    {
        if (HttpBodies.CheckMediaTypes(context.Request) is { } mediaError)
        {
            return mediaError;
        }

        var (body, bodyError) = await HttpBodies.ReadAsync(context.Request, master.Options.MaxRequestBodyBytes);
        if (bodyError is not null)
        {
            return bodyError;
        }

        var (call, parseError) = HttpBodies.DecodeCall<Call>(context, body!, "Call");
        if (parseError is not null)
        {
            return parseError;
        }

        if (call is null)
        {
            return HttpBodies.Text(StatusCodes.Status400BadRequest, "Failed to parse body into Call: empty body");
        }

        if (SchedulerCallValidation.Validate(call) is { } invalid)
        {
            return HttpBodies.Text(StatusCodes.Status400BadRequest, $"Failed to validate scheduler::Call: {invalid}");
        }

        var principal = HttpSecurity.Principal(context);
        if (call.Type == CallType.SUBSCRIBE)
        {
            if (context.Request.Headers.ContainsKey("Mesos-Stream-Id"))
            {
                return HttpBodies.Text(StatusCodes.Status400BadRequest, "Subscribe calls should not include the 'Mesos-Stream-Id' header");
            }

            if (PrincipalMismatch(call.Subscribe!.FrameworkInfo!, principal) is { } mismatch)
            {
                return HttpBodies.Text(StatusCodes.Status400BadRequest, $"Failed to validate scheduler::Call: {mismatch}");
            }

            var connection = new SchedulerConnection();
            var (subscribed, frameworkId) = await master.Ask(() => master.Subscribe(call, connection));
            if (!subscribed.IsSuccess)
            {
                return HttpBodies.Text(subscribed.StatusCode, subscribed.Error ?? "");
            }

            try
            {
                await RecordIOStreaming.WriteAsync(context, connection.StreamId, connection.Reader, MesosJsonContext.Default.Event);
            }
            finally
            {
                if (frameworkId is not null)
                {
                    master.Post(() => master.SchedulerDisconnected(frameworkId, connection));
                }
            }

            return null;
        }

        var streamId = context.Request.Headers["Mesos-Stream-Id"].ToString();
        if (string.IsNullOrEmpty(streamId))
        {
            return HttpBodies.Text(StatusCodes.Status400BadRequest, "All non-subscribe calls should include the 'Mesos-Stream-Id' header");
        }

        var outcome = await master.Ask(() => master.HandleCall(call, streamId, principal));
        return HttpBodies.Answer(context, outcome.IsSuccess, outcome.StatusCode, outcome.Error);
    }
}
