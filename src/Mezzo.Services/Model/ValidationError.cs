using System.Text.Json.Nodes;

namespace Mezzo.Services.Model;

/// <summary>One entry of Marathon's 422 "details": a JSON path ("/cpus", "/healthChecks(0)/protocol") and its errors.</summary>
public sealed record ValidationError(string Path, string Error)
{
    /// <summary>Marathon's 422 body: {"message":"Object is not valid","details":[{"path":...,"errors":[...]}]}.</summary>
    public static JsonObject Body(IEnumerable<ValidationError> errors) => new()
    {
        ["message"] = "Object is not valid",
        ["details"] = new JsonArray([.. errors.GroupBy(e => e.Path).Select(g => (JsonNode)new JsonObject
        {
            ["path"] = g.Key,
            ["errors"] = new JsonArray([.. g.Select(e => (JsonNode)JsonValue.Create(e.Error)!).ToArray()]),
        })]),
    };
}
