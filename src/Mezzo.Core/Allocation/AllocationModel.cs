using Mezzo.Core.Resources;

namespace Mezzo.Core.Allocation;

/// <summary>An agent as the allocator sees it: what is left to hand out (total minus used minus offered).</summary>
public sealed record AllocatorAgent(string AgentId, Resources.Resources Available);

/// <summary>A DECLINE/ACCEPT filter: <paramref name="Refused"/> on this agent is not offered again until it expires.</summary>
public sealed record OfferFilter(string AgentId, Resources.Resources Refused, DateTimeOffset Expires)
{
    /// <summary>
    /// Mesos semantics (RefusedOfferFilter): filtered when the refused resources still cover everything we would offer.
    /// Reservations count, as in Mesos's <c>Resources::contains</c>: refusing unreserved cpus does not refuse cpus that
    /// have since been reserved to the role. Only the allocation role is ignored (offers carry it, the pool does not).
    /// </summary>
    public bool Filters(string agentId, Resources.Resources candidate, DateTimeOffset now) =>
        now < Expires && agentId == AgentId && Refused.Unallocate().Contains(candidate.Unallocate());
}

/// <summary>A framework competing for offers. <paramref name="Allocated"/> is what it holds now (tasks + outstanding offers).</summary>
public sealed record AllocatorFramework(
    string FrameworkId,
    string Role,
    Resources.Resources Allocated,
    bool Suppressed,
    IReadOnlyList<OfferFilter> Filters);

/// <summary>Everything one allocation cycle depends on. Immutable: same input, same decisions.</summary>
public sealed record AllocationInput(
    IReadOnlyList<AllocatorAgent> Agents,
    IReadOnlyList<AllocatorFramework> Frameworks,
    IReadOnlyDictionary<string, double> ClusterTotals,
    DateTimeOffset Now);

/// <summary>Offer <paramref name="Resources"/> (already allocated to the framework's role) of one agent to one framework.</summary>
public sealed record OfferDecision(string FrameworkId, string AgentId, Resources.Resources Resources);

/// <summary>Pure allocation policy: snapshot in, offer decisions out. The master applies them.</summary>
public interface IAllocator
{
    IReadOnlyList<OfferDecision> Allocate(AllocationInput input);
}
