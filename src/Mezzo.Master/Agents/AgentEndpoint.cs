using System.Text.Json;
using Mezzo.Core.Resources;
using Mezzo.Master.Actor;
using Mezzo.Master.Http;
using Mezzo.Protocol.Agents;
using Mezzo.Protocol.V1;
using Microsoft.AspNetCore.Http;

namespace Mezzo.Master.Agents;

/// <summary><c>POST /internal/agent</c>: Mezzo's agent protocol (subscribe stream + calls), JSON over HTTP.</summary>
public static class AgentEndpoint
{
    public const string Path = "/internal/agent";

    public static async Task HandleAsync(HttpContext context, MasterActor master)
    {
        var result = await ProcessAsync(context, master);
        if (result is not null)
        {
            await result.ExecuteAsync(context);
        }
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

        AgentCall? call;
        try
        {
            call = JsonSerializer.Deserialize(body!, MesosJsonContext.Default.AgentCall);
        }
        catch (JsonException ex)
        {
            return HttpBodies.Text(StatusCodes.Status400BadRequest, $"Failed to parse body into agent call: {ex.Message}");
        }

        switch (call?.Type)
        {
            case AgentCallType.SUBSCRIBE:
                var subscribe = call.Subscribe;
                // This method's state machine lives as long as the agent's stream: let go of the request body and
                // the parsed call, which the actor does not need once it has the agent (~1 KiB per agent).
                body = null;
                call = null;
                return await SubscribeAsync(context, master, subscribe);
            case AgentCallType.UPDATE:
            case AgentCallType.PING:
                var agentId = call.AgentId?.Value;
                if (string.IsNullOrEmpty(agentId))
                {
                    return HttpBodies.Text(StatusCodes.Status400BadRequest, "Expecting 'agent_id' to be present");
                }

                var streamId = context.Request.Headers["Mesos-Stream-Id"].ToString();
                if (call.Type == AgentCallType.PING)
                {
                    return Answer(context, await master.Ask(() => master.AgentPing(agentId, streamId)));
                }

                if (call.Updates is not { Count: > 0 } updates)
                {
                    return HttpBodies.Text(StatusCodes.Status400BadRequest, "Expecting 'updates' to hold at least one update");
                }

                // All or nothing: a malformed entry refuses the whole call before any update is applied.
                for (var i = 0; i < updates.Count; i++)
                {
                    if (updates[i]?.Status?.TaskId?.Value is null || updates[i].FrameworkId?.Value is null || updates[i].Status!.State is null)
                    {
                        return HttpBodies.Text(StatusCodes.Status400BadRequest,
                            $"Expecting 'updates[{i}].framework_id', 'updates[{i}].status.task_id' and 'updates[{i}].status.state'");
                    }
                }

                return Answer(context, await master.Ask(() => master.AgentStatusUpdates(agentId, streamId, updates)));
            case AgentCallType.EXECUTOR_MESSAGE:
            case AgentCallType.EXECUTOR_EXITED:
                return await ExecutorCallAsync(context, master, call);
            default:
                return HttpBodies.Text(StatusCodes.Status400BadRequest, "Expecting 'type' to be one of SUBSCRIBE, UPDATE, PING, EXECUTOR_MESSAGE, EXECUTOR_EXITED");
        }
    }

    // Not async itself: an async method keeps its parameters for its whole life, and this one's caller lives as long as
    // the agent's stream. The subscription is validated and handed to the actor here; only the stream is awaited.
    private static Task<IResult?> SubscribeAsync(HttpContext context, MasterActor master, AgentSubscribe? subscribe)
    {
        if (subscribe is null || string.IsNullOrWhiteSpace(subscribe.Hostname))
        {
            return Refused(StatusCodes.Status400BadRequest, "Expecting 'subscribe.hostname' to be present");
        }

        if (subscribe.Port is null or <= 0 or > 65535)
        {
            return Refused(StatusCodes.Status400BadRequest, $"'subscribe.port' {subscribe.Port} is not a valid port");
        }

        Resources total;
        IReadOnlyList<AgentAttribute> attributes;
        try
        {
            if (ResourceConversion.Validate(subscribe.Resources ?? []) is { } resourceError)
            {
                return Refused(StatusCodes.Status400BadRequest, $"Invalid agent resources: {resourceError}");
            }

            total = ResourceConversion.ToCore(subscribe.Resources ?? []);
            attributes = ResourceConversion.ToCore(subscribe.Attributes ?? []);
        }
        catch (FormatException ex)
        {
            return Refused(StatusCodes.Status400BadRequest, $"Invalid agent resources or attributes: {ex.Message}");
        }

        var connection = new AgentConnection();
        var subscribed = master.Ask(() => master.SubscribeAgent(subscribe, total, attributes, connection));
        return StreamAsync(context, master, connection, subscribed);
    }

    private static Task<IResult?> Refused(int status, string message) => Task.FromResult<IResult?>(HttpBodies.Text(status, message));

    private static async Task<IResult?> StreamAsync(HttpContext context, MasterActor master, AgentConnection connection, Task<(CallResult Result, string? AgentId)> subscribed)
    {
        var (result, agentId) = await subscribed;
        if (!result.IsSuccess)
        {
            return HttpBodies.Text(result.StatusCode, result.Error ?? "");
        }

        try
        {
            await RecordIOStreaming.WriteAsync(context, connection.StreamId, connection.Reader, MesosJsonContext.Default.AgentEvent);
        }
        finally
        {
            if (agentId is not null)
            {
                master.Post(() => master.AgentDisconnected(agentId, connection));
            }
        }

        return null;
    }

    private static async Task<IResult?> ExecutorCallAsync(HttpContext context, MasterActor master, AgentCall call)
    {
        var agentId = call.AgentId?.Value;
        if (string.IsNullOrEmpty(agentId))
        {
            return HttpBodies.Text(StatusCodes.Status400BadRequest, "Expecting 'agent_id' to be present");
        }

        var streamId = context.Request.Headers["Mesos-Stream-Id"].ToString();
        if (call.Type == AgentCallType.EXECUTOR_MESSAGE)
        {
            var message = call.ExecutorMessage;
            if (message?.FrameworkId?.Value is null || message.ExecutorId?.Value is null || message.Data is null)
            {
                return HttpBodies.Text(StatusCodes.Status400BadRequest, "Expecting 'executor_message' with 'framework_id', 'executor_id' and 'data'");
            }

            return Answer(context, await master.Ask(() => master.AgentExecutorMessage(agentId, streamId, message)));
        }

        var exited = call.ExecutorExited;
        if (exited?.FrameworkId?.Value is null || exited.ExecutorId?.Value is null)
        {
            return HttpBodies.Text(StatusCodes.Status400BadRequest, "Expecting 'executor_exited' with 'framework_id' and 'executor_id'");
        }

        return Answer(context, await master.Ask(() => master.AgentExecutorExited(agentId, streamId, exited)));
    }

    private static IResult? Answer(HttpContext context, CallResult result) =>
        HttpBodies.Answer(context, result.IsSuccess, result.StatusCode, result.Error);
}
