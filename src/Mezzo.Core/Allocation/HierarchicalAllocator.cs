using Mezzo.Core.Resources;
using Mezzo.Core.Roles;

namespace Mezzo.Core.Allocation;

/// <summary>
/// Mesos's hierarchical weighted-DRF allocator (<c>src/master/allocator/mesos/hierarchical.cpp</c>), as a pure function
/// of one <see cref="AllocationInput"/>.
/// <para>Clients are (framework, role) pairs: a MULTI_ROLE framework is a client of each of its roles. Roles form a
/// tree by '/'; at each level siblings are ordered by dominant share / weight, where a role's allocation is its whole
/// subtree's, and inside a role its frameworks by their own dominant share in that role. A role that has frameworks
/// and also subroles with frameworks competes with its subroles through a virtual leaf (Mesos's <c>"role/."</c>) that
/// holds the role's own allocation and the role's weight. Ties go to the lower role name / framework id (ordinal).</para>
/// <para>Agents are handled one at a time, in input order, the way Mesos does it: the clients are walked in that
/// order and each eligible one takes what it may of what is left on the agent (its role's reservations, and ancestors',
/// plus unreserved resources), so an agent goes whole to the first eligible client unless reservations, quota limits or
/// headroom leave something for the next. Shares grow after each agent (Mesos sorts once per agent).</para>
/// <para>With quota, Mesos's two stages run over all agents: stage 1 gives roles with unsatisfied guarantees what they
/// still miss (guaranteed scalars chopped to it, everything else along), stage 2 is fair sharing under quota limits and
/// the headroom held back for other roles' unsatisfied guarantees. A framework gets at most one offer per role and
/// agent: a stage 2 offer is merged into the stage 1 one.</para>
/// </summary>
public sealed partial class HierarchicalAllocator : IAllocator
{
    public IReadOnlyList<OfferDecision> Allocate(AllocationInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        return new Cycle(input).Run();
    }

    public static double DominantShare(IReadOnlyDictionary<string, double> allocated, IReadOnlyDictionary<string, double> totals)
    {
        ArgumentNullException.ThrowIfNull(allocated);
        ArgumentNullException.ThrowIfNull(totals);
        var share = 0.0;
        foreach (var (name, amount) in allocated)
        {
            if (totals.TryGetValue(name, out var total) && total > 0)
            {
                share = Math.Max(share, amount / total);
            }
        }

        return share;
    }

    /// <summary>Mesos's <c>Resources::isAllocatableTo</c>: unreserved, reserved to the role, or to one of its ancestors.</summary>
    public static bool IsAllocatableTo(Resource resource, string role)
    {
        ArgumentNullException.ThrowIfNull(resource);
        ArgumentNullException.ThrowIfNull(role);
        return !resource.IsReserved || RoleNames.IsSelfOrDescendant(role, resource.Role);
    }
}
