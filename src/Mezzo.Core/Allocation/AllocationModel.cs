using Mezzo.Core.Resources;
using Mezzo.Core.Roles;

namespace Mezzo.Core.Allocation;

/// <summary>
/// An agent as the allocator sees it: <paramref name="Available"/> is what is left to hand out (total minus used minus
/// offered, unallocated form, reservations kept). Agents that must get no offers (draining, deactivated, in
/// maintenance, disconnected) are left out of the input by the master.
/// </summary>
public sealed record AllocatorAgent(string AgentId, Resources.Resources Available)
{
    public string Hostname { get; init; } = "";

    public IReadOnlyList<AgentAttribute> Attributes { get; init; } = [];
}

/// <summary>
/// A DECLINE/ACCEPT filter of one framework for one of its roles: <paramref name="Refused"/> on this agent is not
/// offered again to that role until it expires.
/// </summary>
public sealed record OfferFilter(string AgentId, string Role, Resources.Resources Refused, DateTimeOffset Expires)
{
    /// <summary>
    /// Mesos semantics (RefusedOfferFilter): filtered when the refused resources still cover everything we would offer.
    /// Reservations count, as in Mesos's <c>Resources::contains</c>: refusing unreserved cpus does not refuse cpus that
    /// have since been reserved to the role. Only the allocation role is ignored (offers carry it, the pool does not).
    /// </summary>
    public bool Filters(string agentId, string role, Resources.Resources candidate, DateTimeOffset now) =>
        now < Expires && agentId == AgentId && role == Role && Refused.Unallocate().Contains(candidate.Unallocate());
}

/// <summary>
/// A framework competing for offers.
/// <para><see cref="Roles"/>: the roles it subscribed with (one for a non-MULTI_ROLE framework), each a separate
/// client of its role in the hierarchical sorter.</para>
/// <para><see cref="Allocated"/>: what it holds now (tasks + outstanding offers) in allocated form, each resource
/// carrying the role it is allocated to (<see cref="Resource.AllocationRole"/>).</para>
/// <para><see cref="SuppressedRoles"/>: roles for which it wants no offers (SUPPRESS / subscribe suppressed_roles).</para>
/// <para><see cref="Constraints"/>: Mesos 1.11 offer constraints by role; a role without an entry accepts every agent.</para>
/// <para><see cref="MinAllocatable"/>: the framework's <c>offer_filters[role].min_allocatable_resources</c>; a role
/// with an entry uses it instead of the cluster's <see cref="AllocationInput.MinAllocatable"/>.</para>
/// </summary>
public sealed record AllocatorFramework(string FrameworkId, IReadOnlyList<string> Roles, Resources.Resources Allocated)
{
    public IReadOnlySet<string> SuppressedRoles { get; init; } = new HashSet<string>();

    public IReadOnlyList<OfferFilter> Filters { get; init; } = [];

    public IReadOnlyDictionary<string, RoleOfferConstraints> Constraints { get; init; } = new Dictionary<string, RoleOfferConstraints>();

    public IReadOnlyDictionary<string, IReadOnlyList<ResourceQuantities>> MinAllocatable { get; init; } =
        new Dictionary<string, IReadOnlyList<ResourceQuantities>>();
}

/// <summary>
/// Everything one allocation cycle depends on. Immutable: same input, same decisions (ties are broken by id, ordinal).
/// <para><see cref="Weights"/>: role weights (default 1); a weight applies among the role's siblings.</para>
/// <para><see cref="Quotas"/>: quota configs by role.</para>
/// <para><see cref="MinAllocatable"/>: the master's <c>--min_allocatable_resources</c>: an offer must contain at least
/// one of these quantity sets (Mesos's default <c>cpus:0.01|mem:32</c>); empty means any non-empty offer.</para>
/// <para><see cref="ClusterTotals"/>: scalar totals of the active agents (Mesos's sorter totals, used for shares).</para>
/// </summary>
public sealed record AllocationInput(
    IReadOnlyList<AllocatorAgent> Agents,
    IReadOnlyList<AllocatorFramework> Frameworks,
    IReadOnlyDictionary<string, double> ClusterTotals,
    DateTimeOffset Now)
{
    public static IReadOnlyList<ResourceQuantities> DefaultMinAllocatable { get; } =
        [ResourceQuantities.Parse("cpus:0.01"), ResourceQuantities.Parse("mem:32")];

    public IReadOnlyDictionary<string, double> Weights { get; init; } = new Dictionary<string, double>();

    public IReadOnlyDictionary<string, QuotaConfig> Quotas { get; init; } = new Dictionary<string, QuotaConfig>();

    public IReadOnlyList<ResourceQuantities> MinAllocatable { get; init; } = DefaultMinAllocatable;
}

/// <summary>Offer <paramref name="Resources"/> (allocated to <paramref name="Role"/>) of one agent to one framework.</summary>
public sealed record OfferDecision(string FrameworkId, string Role, string AgentId, Resources.Resources Resources);

/// <summary>Pure allocation policy: snapshot in, offer decisions out. The master applies them.</summary>
public interface IAllocator
{
    IReadOnlyList<OfferDecision> Allocate(AllocationInput input);
}
