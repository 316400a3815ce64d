using Mezzo.Protocol.V1;

namespace Mezzo.Jobs.Engine;

/// <summary>What the engine wants done with the master, after its step has been persisted.</summary>
public abstract record Effect;

public sealed record LaunchEffect(Offer Offer, IReadOnlyList<TaskInfo> Tasks) : Effect;

public sealed record DeclineEffect(IReadOnlyList<OfferID> Offers, double RefuseSeconds) : Effect;

public sealed record KillEffect(string TaskId, string? AgentId) : Effect;

public sealed record ReconcileEffect(IReadOnlyList<(string TaskId, string? AgentId)> Tasks) : Effect;

public sealed record AcknowledgeEffect(TaskStatus Status) : Effect;

public sealed record ReviveEffect : Effect;

public sealed record SuppressEffect : Effect;

/// <summary>An API call the engine refused: the HTTP status Chronos answers with and the reason.</summary>
public sealed record EngineError(int Status, string Message);
