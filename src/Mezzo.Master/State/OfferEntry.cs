using Mezzo.Core.Resources;

namespace Mezzo.Master.State;

public sealed class OfferEntry
{
    public required string OfferId { get; init; }

    public required string FrameworkId { get; init; }

    public required string AgentId { get; init; }

    public required Resources Resources { get; init; }

    public required DateTimeOffset CreatedAt { get; init; }
}
