using System.Text.Json.Nodes;
using Mezzo.Protocol.Marathon;
using Mezzo.Services.Model;
using Mezzo.Services.State;

namespace Mezzo.Services.Engine;

/// <summary>What a change asked of the services actor came to; the HTTP layer maps each to Marathon's status code.</summary>
public abstract record ChangeResult
{
    /// <summary>A deployment was started; <see cref="Created"/> when the app did not exist before.</summary>
    public sealed record Deployed(Deployment Deployment, bool Created, AppDefinition? App) : ChangeResult;

    public sealed record Invalid(IReadOnlyList<ValidationError> Errors) : ChangeResult;

    public sealed record InvalidJson(JsonObject Body) : ChangeResult;

    public sealed record NotFound(string Message) : ChangeResult;

    public sealed record Locked(IReadOnlyList<string> DeploymentIds) : ChangeResult;

    public sealed record Conflict(string Message) : ChangeResult;

    public sealed record Killed(IReadOnlyList<Instance> Tasks) : ChangeResult;

    public sealed record Done : ChangeResult;
}
