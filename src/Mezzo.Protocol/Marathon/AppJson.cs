using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Mezzo.Protocol.Marathon;

/// <summary>Marathon's JSON: camelCase, nulls written (Marathon shows e.g. "container": null), unknown fields ignored.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    NumberHandling = JsonNumberHandling.Strict,
    AllowTrailingCommas = false,
    ReadCommentHandling = JsonCommentHandling.Disallow)]
[JsonSerializable(typeof(AppDefinition))]
[JsonSerializable(typeof(List<AppDefinition>))]
[JsonSerializable(typeof(AppHealthCheck))]
[JsonSerializable(typeof(JsonNode))]
[JsonSerializable(typeof(JsonObject))]
[JsonSerializable(typeof(JsonArray))]
public sealed partial class AppJsonContext : JsonSerializerContext;

public static class AppJson
{
    public static AppDefinition Parse(string json) =>
        JsonSerializer.Deserialize(json, AppJsonContext.Default.AppDefinition) ?? throw new JsonException("Expected a JSON object", "$", null, null);

    public static AppDefinition Parse(JsonNode node) =>
        node.Deserialize(AppJsonContext.Default.AppDefinition) ?? throw new JsonException("Expected a JSON object", "$", null, null);

    public static string Serialize(AppDefinition app) => JsonSerializer.Serialize(app, AppJsonContext.Default.AppDefinition);

    public static JsonObject ToNode(AppDefinition app) => JsonSerializer.SerializeToNode(app, AppJsonContext.Default.AppDefinition)!.AsObject();

    /// <summary>
    /// Marathon's 400 for JSON that does not parse or has a field of the wrong type, e.g.
    /// {"message":"Invalid JSON","details":[{"path":"/cpus","errors":["error.expected.jsnumber"]}]}.
    /// </summary>
    public static JsonObject InvalidJson(JsonException ex)
    {
        var path = ex.Path is { Length: > 1 } p ? "/" + p.TrimStart('$', '.').Replace('.', '/').Replace("[", "(", StringComparison.Ordinal).Replace("]", ")", StringComparison.Ordinal) : "/";
        var message = ex.Message;
        var error = message.Contains("System.Double", StringComparison.Ordinal) || message.Contains("System.Int32", StringComparison.Ordinal) || message.Contains("System.Int64", StringComparison.Ordinal)
            ? "error.expected.jsnumber"
            : message.Contains("System.String", StringComparison.Ordinal) ? "error.expected.jsstring"
            : message.Contains("System.Boolean", StringComparison.Ordinal) ? "error.expected.jsboolean"
            : message.Contains("List", StringComparison.Ordinal) ? "error.expected.jsarray"
            : message.Contains("Mezzo.Protocol.Marathon", StringComparison.Ordinal) || message.Contains("Dictionary", StringComparison.Ordinal) ? "error.expected.jsobject"
            : "error.expected.jsvalue";
        if (ex.Path is null || !message.Contains("could not be converted", StringComparison.Ordinal))
        {
            // Not a type mismatch: the text is not JSON at all.
            return new JsonObject { ["message"] = $"Invalid JSON: {ex.Message}" };
        }

        return new JsonObject
        {
            ["message"] = "Invalid JSON",
            ["details"] = new JsonArray(new JsonObject { ["path"] = path, ["errors"] = new JsonArray(error) }),
        };
    }
}
