using Mezzo.Protocol.V1;

namespace Mezzo.Framework;

/// <summary>
/// Maintenance (Mesos docs/maintenance.md): INVERSE_OFFERS and RESCIND_INVERSE_OFFER arrive on <see cref="Events"/> like
/// any other event; a scheduler that ignores them is fine (the master keeps asking, the operator sees no answer). One
/// that can move off an agent before its unavailability says so with <see cref="AcceptInverseOffersAsync"/>, one that
/// cannot with <see cref="DeclineInverseOffersAsync"/>. The answer is a hint for the operator: the master changes nothing.
/// </summary>
public sealed partial class SchedulerClient
{
    /// <summary>
    /// ACCEPT_INVERSE_OFFERS: the framework will have released what it holds on those agents before the unavailability.
    /// <paramref name="filters"/>' refuse_seconds (default 5) is how long before the master asks again.
    /// </summary>
    public Task AcceptInverseOffersAsync(IEnumerable<OfferID> inverseOfferIds, Filters? filters = null, CancellationToken cancellationToken = default) =>
        CallAsync(new Call
        {
            Type = CallType.ACCEPT_INVERSE_OFFERS,
            AcceptInverseOffers = new CallInverseOffers { InverseOfferIds = [.. inverseOfferIds], Filters = filters },
        }, cancellationToken);

    /// <summary>DECLINE_INVERSE_OFFERS: the framework cannot release those agents in time without breaking its SLA.</summary>
    public Task DeclineInverseOffersAsync(IEnumerable<OfferID> inverseOfferIds, Filters? filters = null, CancellationToken cancellationToken = default) =>
        CallAsync(new Call
        {
            Type = CallType.DECLINE_INVERSE_OFFERS,
            DeclineInverseOffers = new CallInverseOffers { InverseOfferIds = [.. inverseOfferIds], Filters = filters },
        }, cancellationToken);
}
