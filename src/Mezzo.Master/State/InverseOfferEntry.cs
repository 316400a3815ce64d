using Mezzo.Protocol.V1;

namespace Mezzo.Master.State;

/// <summary>An outstanding inverse offer: the master asked a framework to give back what it holds on an agent.</summary>
public sealed class InverseOfferEntry
{
    public required string OfferId { get; init; }

    public required string FrameworkId { get; init; }

    public required string AgentId { get; init; }

    /// <summary>The maintenance window's unavailability at the time the inverse offer was made.</summary>
    public required Unavailability Unavailability { get; init; }

    public required DateTimeOffset CreatedAt { get; init; }
}
