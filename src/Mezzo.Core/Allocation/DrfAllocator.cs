using Mezzo.Core.Resources;

namespace Mezzo.Core.Allocation;

/// <summary>
/// Dominant Resource Fairness over frameworks, one agent at a time, the way Mesos's hierarchical allocator does it:
/// each agent's whole available pool goes to the eligible framework with the lowest dominant share, whose share
/// then grows before the next agent is considered. Unreserved resources go to anyone; statically or dynamically
/// reserved ones only to frameworks of the reservation's role or of one of its subroles (Mesos's
/// <c>Resources::isAllocatableTo</c>: resources reserved to "eng" may go to "eng/dev").
/// </summary>
public sealed class DrfAllocator : IAllocator
{
    // Mesos's default --min_allocatable_resources ("cpus:0.01|mem:32"): smaller leftovers are not worth an offer.
    private const double MinCpus = 0.01;
    private const double MinMem = 32;

    private static readonly string[] ShareResources = ["cpus", "mem", "disk", "gpus"];

    public IReadOnlyList<OfferDecision> Allocate(AllocationInput input)
    {
        var decisions = new List<OfferDecision>();
        var candidates = input.Frameworks.Where(f => !f.Suppressed).ToList();
        if (candidates.Count == 0 || input.Agents.Count == 0)
        {
            return decisions;
        }

        var allocated = new Dictionary<string, Dictionary<string, double>>(candidates.Count);
        var queue = new PriorityQueue<AllocatorFramework, (double Share, string Id)>(candidates.Count);
        foreach (var framework in candidates)
        {
            var scalars = ShareResources.ToDictionary(n => n, n => framework.Allocated.Scalar(n));
            allocated[framework.FrameworkId] = scalars;
            queue.Enqueue(framework, (DominantShare(scalars, input.ClusterTotals), framework.FrameworkId));
        }

        var skipped = new List<(AllocatorFramework Framework, (double, string) Priority)>();
        foreach (var agent in input.Agents)
        {
            if (agent.Available.IsEmpty)
            {
                continue;
            }

            skipped.Clear();
            while (queue.TryDequeue(out var framework, out var priority))
            {
                var offerable = agent.Available.Filter(r => IsAllocatableTo(r, framework.Role));
                if (!IsAllocatable(offerable) || IsFiltered(framework, agent.AgentId, offerable, input.Now))
                {
                    skipped.Add((framework, priority));
                    continue;
                }

                decisions.Add(new OfferDecision(framework.FrameworkId, agent.AgentId, offerable.AllocateTo(framework.Role)));
                var scalars = allocated[framework.FrameworkId];
                foreach (var name in ShareResources)
                {
                    scalars[name] += offerable.Scalar(name);
                }

                skipped.Add((framework, (DominantShare(scalars, input.ClusterTotals), framework.FrameworkId)));
                break;
            }

            foreach (var (framework, priority) in skipped)
            {
                queue.Enqueue(framework, priority);
            }
        }

        return decisions;
    }

    public static double DominantShare(IReadOnlyDictionary<string, double> allocated, IReadOnlyDictionary<string, double> totals)
    {
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
    public static bool IsAllocatableTo(Resource resource, string role) =>
        !resource.IsReserved || resource.Role == role
        || (role.Length > resource.Role.Length && role[resource.Role.Length] == '/' && role.StartsWith(resource.Role, StringComparison.Ordinal));

    private static bool IsAllocatable(Resources.Resources resources) =>
        resources.Cpus >= MinCpus || resources.Mem >= MinMem;

    private static bool IsFiltered(AllocatorFramework framework, string agentId, Resources.Resources offerable, DateTimeOffset now)
    {
        foreach (var filter in framework.Filters)
        {
            if (filter.Filters(agentId, offerable, now))
            {
                return true;
            }
        }

        return false;
    }
}
