using System.Text.Json;
using Mezzo.Agent.Executors;
using Mezzo.Core.Tasks;
using Mezzo.Hosting.Security;
using Mezzo.Protocol.Protobuf;
using Mezzo.Protocol.RecordIO;
using Mezzo.Protocol.V1;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;

namespace Mezzo.Agent.Http;

/// <summary>
/// <c>POST /api/v1/executor</c>, the v1 executor HTTP API (docs/executor-http-api.md): SUBSCRIBE answers with a RecordIO
/// stream of events, UPDATE and MESSAGE with 202. JSON only; every refusal is a 4xx with a message that names the input.
/// </summary>
public static class ExecutorEndpoints
{
    private const long MaxBodyBytes = 16 * 1024 * 1024;

    /// <param name="service">Null until the agent has started (recovered its checkpoints): calls are then answered 503,
    /// as Mesos answers while it recovers, and executors of a restarted agent retry.</param>
    public static void Map(IEndpointRouteBuilder app, Func<AgentService?> service)
    {
        foreach (var path in (string[])["/api/v1/executor", "/slave(1)/api/v1/executor"])
        {
            app.MapPost(path, (HttpContext context) => service() is { } started
                ? HandleAsync(context, started)
                : Text(context, StatusCodes.Status503ServiceUnavailable, "Agent has not finished recovery"))
                .Access(AccessKind.Executor);
        }
    }

    private static async Task HandleAsync(HttpContext context, AgentService service)
    {
        var (call, error) = await ReadCallAsync(context.Request);
        if (error is not null)
        {
            await Text(context, error.Value.Status, error.Value.Message);
            return;
        }

        var frameworkId = call!.FrameworkId!.Value!;
        var executorId = call.ExecutorId!.Value!;
        if (ExecutorTokens.Named(context.User) is { } named && (named.FrameworkId != frameworkId || named.ExecutorId != executorId))
        {
            // One executor's token never speaks for another, even of the same framework.
            await Text(context, StatusCodes.Status403Forbidden,
                $"Forbidden: the token is executor '{named.ExecutorId}' of framework '{named.FrameworkId}'s; "
                + $"it may not call for executor '{executorId}' of framework '{frameworkId}'");
            return;
        }

        ExecutorCallResult result;
        switch (call.Type)
        {
            case ExecutorCallType.SUBSCRIBE:
                result = await service.ExecutorSubscribeAsync(frameworkId, executorId, call.Subscribe);
                if (result.Subscription is { } subscription)
                {
                    try
                    {
                        await StreamAsync(context, subscription);
                    }
                    finally
                    {
                        service.ExecutorDisconnected(frameworkId, executorId, subscription);
                    }

                    return;
                }

                break;
            case ExecutorCallType.UPDATE:
                result = await service.ExecutorUpdateAsync(frameworkId, executorId, call.Update!.Status!);
                break;
            default:
                result = await service.ExecutorMessageAsync(frameworkId, executorId, call.Message!.Data!);
                break;
        }

        if (result.Error is not null)
        {
            await Text(context, result.StatusCode, result.Error);
            return;
        }

        context.Response.StatusCode = result.StatusCode;
    }

    /// <summary>Media types, body and the checks of Mesos's executor call validation, before anything reaches the agent.</summary>
    public static async Task<(ExecutorCall? Call, (int Status, string Message)? Error)> ReadCallAsync(HttpRequest request)
    {
        var (call, error) = await CallBodies.ReadAsync<ExecutorCall>(request, MaxBodyBytes, "executor call");
        if (error is not null)
        {
            return (null, error);
        }

        return Validate(call) is { } invalid ? (null, (400, invalid)) : (call, null);
    }

    /// <summary>src/executor/validation.cpp's checks, in its words where it has some.</summary>
    public static string? Validate(ExecutorCall? call)
    {
        if (call is null)
        {
            return "Expecting a JSON object with the executor call";
        }

        if (call.Type is null or ExecutorCallType.UNKNOWN)
        {
            return "Expecting 'type' to be one of SUBSCRIBE, UPDATE, MESSAGE";
        }

        if (string.IsNullOrEmpty(call.ExecutorId?.Value))
        {
            return "Expecting 'executor_id' to be present";
        }

        if (string.IsNullOrEmpty(call.FrameworkId?.Value))
        {
            return "Expecting 'framework_id' to be present";
        }

        switch (call.Type)
        {
            case ExecutorCallType.UPDATE:
                var status = call.Update?.Status;
                if (status is null)
                {
                    return "Expecting 'update' to be present (with 'update.status')";
                }

                if (string.IsNullOrEmpty(status.TaskId?.Value))
                {
                    return "Expecting 'update.status.task_id' to be present";
                }

                if (status.State is null)
                {
                    return "Expecting 'update.status.state' to be present";
                }

                if (status.Uuid is null)
                {
                    return "Expecting 'update.status.uuid' to be present";
                }

                if (status.Uuid.Length != 16)
                {
                    return $"'update.status.uuid' must be a 16 byte UUID (base64 in JSON), not {status.Uuid.Length} bytes";
                }

                if (status.State == TaskState.TASK_STAGING)
                {
                    return $"Received TASK_STAGING from executor '{call.ExecutorId!.Value}' which is not allowed";
                }

                if (status.Source is { } source && source != TaskStatusSource.SOURCE_EXECUTOR)
                {
                    return $"Received an update with source {source}; an executor's updates must have source SOURCE_EXECUTOR";
                }

                if (status.ExecutorId?.Value is { } statusExecutor && statusExecutor != call.ExecutorId!.Value)
                {
                    return $"'update.status.executor_id' '{statusExecutor}' does not match 'executor_id' '{call.ExecutorId.Value}'";
                }

                return null;
            case ExecutorCallType.MESSAGE:
                return call.Message?.Data is null ? "Expecting 'message.data' to be present" : null;
            default:
                return null;
        }
    }

    private static async Task StreamAsync(HttpContext context, ExecutorSubscription subscription)
    {
        var response = context.Response;
        response.StatusCode = StatusCodes.Status200OK;
        var format = context.Items.TryGetValue(typeof(Negotiated), out var value) && value is Negotiated negotiated
            ? negotiated.Response
            : WireFormat.Json;
        response.ContentType = ContentNegotiation.MediaType(format);
        response.Headers.CacheControl = "no-cache";
        context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        var aborted = context.RequestAborted;
        try
        {
            await response.StartAsync(aborted);
            while (await subscription.Reader.WaitToReadAsync(aborted))
            {
                while (subscription.Reader.TryRead(out var ev))
                {
                    RecordIOFraming.Write(response.BodyWriter, MesosWire.Serialize(format, ev));
                }

                var flushed = await response.BodyWriter.FlushAsync(aborted);
                if (flushed.IsCanceled || flushed.IsCompleted)
                {
                    break;
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The executor went away.
        }
        catch (IOException)
        {
            // Connection reset mid-write.
        }
    }

    private static Task Text(HttpContext context, int status, string message)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "text/plain; charset=utf-8";
        return context.Response.WriteAsync(message);
    }
}
