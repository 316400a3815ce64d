using Mezzo.Protocol.Marathon;

namespace Mezzo.Services.State;

/// <summary>
/// A deployment: one change of one or more apps, carried out until every affected app matches its target. Kept with the
/// definitions it started from so deleting it can roll back.
/// </summary>
public sealed record Deployment
{
    public required string Id { get; init; }

    public required string Version { get; init; }

    /// <summary>App id → the definition before the change (null: the app did not exist).</summary>
    public required IReadOnlyDictionary<string, AppDefinition?> Original { get; init; }

    /// <summary>App id → the definition after the change (null: the app is being removed).</summary>
    public required IReadOnlyDictionary<string, AppDefinition?> Target { get; init; }

    /// <summary>Marathon's steps: each a list of (action, app id); actions are StartApplication, ScaleApplication,
    /// RestartApplication, StopApplication.</summary>
    public required IReadOnlyList<IReadOnlyList<DeploymentAction>> Steps { get; init; }

    /// <summary>Set on a rollback: it is never rolled back itself (a deadline would otherwise bounce between versions).</summary>
    public bool IsRollback { get; init; }

    public IEnumerable<string> AffectedApps => Target.Keys;
}

public sealed record DeploymentAction(string Action, string App);
