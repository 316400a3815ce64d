using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Mezzo.Services.Engine;
using Mezzo.Protocol.Marathon;
using Mezzo.Services.Model;
using Microsoft.AspNetCore.Http;

namespace Mezzo.Services.Http;

/// <summary>Reading request bodies and writing Marathon's responses and errors.</summary>
internal static class HttpJson
{
    public const string LockedMessage = "App is locked by one or more deployments. Override with the option '?force=true'. View details at '/v2/deployments/<DEPLOYMENT_ID>'.";

    /// <summary>Quotes and non-ASCII as they are ("App '/x' does not exist"), as Marathon writes them.</summary>
    public static readonly JsonSerializerOptions Options = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static async Task WriteAsync(HttpContext context, int status, JsonNode? body)
    {
        context.Response.StatusCode = status;
        if (body is null)
        {
            return;
        }

        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(body.ToJsonString(Options), context.RequestAborted);
    }

    public static Task MessageAsync(HttpContext context, int status, string message) =>
        WriteAsync(context, status, new JsonObject { ["message"] = message });

    public static bool Flag(HttpContext context, string name, bool fallback = false) =>
        context.Request.Query.TryGetValue(name, out var values) && values.Count > 0
            ? !string.Equals(values[^1], "false", StringComparison.OrdinalIgnoreCase)
            : fallback;

    /// <summary>The request body as JSON, or null after answering 400/413 the way Marathon does.</summary>
    /// <summary>
    /// Parses a request body. A key given twice is refused as invalid JSON: a JsonObject holding one throws
    /// ArgumentException when first read, which would be a 500.
    /// </summary>
    public static JsonNode? Parse(string json) =>
        JsonNode.Parse(json, documentOptions: new JsonDocumentOptions { AllowDuplicateProperties = false });

    public static async Task<JsonNode?> ReadAsync(HttpContext context, long maxBytes)
    {
        if (context.Request.ContentLength > maxBytes)
        {
            await MessageAsync(context, StatusCodes.Status413PayloadTooLarge, $"Request body too large: at most {maxBytes} bytes are accepted");
            return null;
        }

        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await context.Request.Body.ReadAsync(chunk, context.RequestAborted)) > 0)
        {
            buffer.Write(chunk, 0, read);
            if (buffer.Length > maxBytes)
            {
                await MessageAsync(context, StatusCodes.Status413PayloadTooLarge, $"Request body too large: at most {maxBytes} bytes are accepted");
                return null;
            }
        }

        try
        {
            var node = Parse(Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length));
            if (node is null)
            {
                await WriteAsync(context, 400, new JsonObject { ["message"] = "Invalid JSON: the body is empty or null" });
            }

            return node;
        }
        catch (JsonException ex)
        {
            await WriteAsync(context, 400, new JsonObject { ["message"] = $"Invalid JSON: {ex.Message}" });
            return null;
        }
    }

    public static async Task<JsonObject?> ReadObjectAsync(HttpContext context, long maxBytes)
    {
        var node = await ReadAsync(context, maxBytes);
        if (node is null or JsonObject)
        {
            return node as JsonObject;
        }

        await WriteAsync(context, 400, ExpectedDetail("error.expected.jsobject"));
        return null;
    }

    public static JsonObject ExpectedDetail(string error) => new()
    {
        ["message"] = "Invalid JSON",
        ["details"] = new JsonArray(new JsonObject { ["path"] = "/", ["errors"] = new JsonArray(error) }),
    };

    /// <summary>Maps a change's outcome to Marathon's answer.</summary>
    public static Task ResultAsync(HttpContext context, ChangeResult result, Func<ChangeResult.Deployed, Task> deployed) => result switch
    {
        ChangeResult.Deployed d => deployed(d),
        ChangeResult.Invalid invalid => WriteAsync(context, StatusCodes.Status422UnprocessableEntity, ValidationError.Body(invalid.Errors)),
        ChangeResult.InvalidJson bad => WriteAsync(context, StatusCodes.Status400BadRequest, bad.Body),
        ChangeResult.NotFound missing => MessageAsync(context, StatusCodes.Status404NotFound, missing.Message),
        ChangeResult.Conflict conflict => MessageAsync(context, StatusCodes.Status409Conflict, conflict.Message),
        ChangeResult.Locked locked => WriteAsync(context, StatusCodes.Status409Conflict, new JsonObject
        {
            ["message"] = LockedMessage,
            ["deployments"] = new JsonArray([.. locked.DeploymentIds.Select(id => (JsonNode)new JsonObject { ["id"] = id })]),
        }),
        _ => WriteAsync(context, StatusCodes.Status500InternalServerError, new JsonObject { ["message"] = "Unexpected result " + result.GetType().Name }),
    };

    /// <summary>200 {"version","deploymentId"} with the Marathon-Deployment-Id header.</summary>
    public static Task DeploymentResultAsync(HttpContext context, ChangeResult.Deployed deployed, int status = StatusCodes.Status200OK)
    {
        context.Response.Headers["Marathon-Deployment-Id"] = deployed.Deployment.Id;
        return WriteAsync(context, status, MarathonRender.DeploymentResult(deployed.Deployment));
    }
}
