using Mezzo.Core.Resources;

namespace Mezzo.Master.State;

public sealed class OfferEntry
{
    public required string OfferId { get; init; }

    public required string FrameworkId { get; init; }

    public required string AgentId { get; init; }

    /// <summary>The role the offer is allocated to (<c>Offer.allocation_info.role</c>).</summary>
    public required string Role { get; init; }

    public required Resources Resources { get; init; }

    public required DateTimeOffset CreatedAt { get; init; }
}
