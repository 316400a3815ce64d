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
        var candidates = input.Frameworks.Where(f => !f.SuppressedRoles.Contains(f.Roles[0])).ToList();
        if (candidates.Count == 0 || input.Agents.Count == 0)
        {
            return decisions;
        }

        // Totals in ShareResources order; a total that is missing or not positive does not count toward a share.
        var totals = new double[ShareResources.Length];
        for (var i = 0; i < ShareResources.Length; i++)
        {
            totals[i] = input.ClusterTotals.TryGetValue(ShareResources[i], out var total) ? total : 0;
        }

        var allocated = new Dictionary<string, double[]>(candidates.Count);
        var queue = new PriorityQueue<AllocatorFramework, (double Share, string Id)>(candidates.Count);
        foreach (var framework in candidates)
        {
            var scalars = new double[ShareResources.Length];
            for (var i = 0; i < ShareResources.Length; i++)
            {
                scalars[i] = framework.Allocated.Scalar(ShareResources[i]);
            }

            allocated[framework.FrameworkId] = scalars;
            queue.Enqueue(framework, (DominantShare(scalars, totals), framework.FrameworkId));
        }

        var skipped = new List<(AllocatorFramework Framework, (double, string) Priority)>();
        var offerables = new Dictionary<string, (Resources.Resources Offerable, bool Allocatable)>(StringComparer.Ordinal);
        var filteredAgents = new Dictionary<AllocatorFramework, HashSet<string>>(ReferenceEqualityComparer.Instance);
        foreach (var agent in input.Agents)
        {
            // What a framework is offered is part of the agent's pool, so when the whole pool is below the minimum,
            // every framework would be dequeued, skipped and put back: skip the agent instead, same decisions.
            if (agent.Available.IsEmpty || !IsAllocatable(agent.Available))
            {
                continue;
            }

            skipped.Clear();
            offerables.Clear();
            while (queue.TryDequeue(out var framework, out var priority))
            {
                // The offerable part of the pool depends only on the role: work it out once per role and agent.
                if (!offerables.TryGetValue(framework.Roles[0], out var entry))
                {
                    var offerable = Offerable(agent.Available, framework.Roles[0]);
                    entry = (offerable, IsAllocatable(offerable));
                    offerables[framework.Roles[0]] = entry;
                }

                if (!entry.Allocatable || IsFiltered(framework, agent.AgentId, entry.Offerable, input.Now, filteredAgents))
                {
                    skipped.Add((framework, priority));
                    continue;
                }

                decisions.Add(new OfferDecision(framework.FrameworkId, framework.Roles[0], agent.AgentId, entry.Offerable.AllocateTo(framework.Roles[0])));
                var scalars = allocated[framework.FrameworkId];
                for (var i = 0; i < ShareResources.Length; i++)
                {
                    scalars[i] += entry.Offerable.Scalar(ShareResources[i]);
                }

                skipped.Add((framework, (DominantShare(scalars, totals), framework.FrameworkId)));
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

    /// <summary>The part of <paramref name="available"/> allocatable to <paramref name="role"/>; the pool itself when none of it is reserved.</summary>
    private static Resources.Resources Offerable(Resources.Resources available, string role)
    {
        foreach (var resource in available)
        {
            if (resource.IsReserved)
            {
                return available.Filter(r => IsAllocatableTo(r, role));
            }
        }

        return available;
    }

    /// <summary>Same share as <see cref="DominantShare(IReadOnlyDictionary{string, double}, IReadOnlyDictionary{string, double})"/>, over arrays in <see cref="ShareResources"/> order.</summary>
    private static double DominantShare(double[] allocated, double[] totals)
    {
        var share = 0.0;
        for (var i = 0; i < allocated.Length; i++)
        {
            if (totals[i] > 0)
            {
                share = Math.Max(share, allocated[i] / totals[i]);
            }
        }

        return share;
    }

    // Mesos keeps a framework's offer filters by agent; the input has them as a list. A framework that declined many
    // agents (the classic "decline everything with a long filter") would have its whole list scanned for every agent
    // it is considered for, so past a few filters the agents it has filters for are put in a set (once per cycle, when
    // the framework is first considered) and only those agents get the scan. A filter only ever matches its own agent.
    private const int FilterSetThreshold = 8;

    private static bool IsFiltered(
        AllocatorFramework framework,
        string agentId,
        Resources.Resources offerable,
        DateTimeOffset now,
        Dictionary<AllocatorFramework, HashSet<string>> filteredAgents)
    {
        var filters = framework.Filters;
        if (filters.Count == 0)
        {
            return false;
        }

        if (filters.Count > FilterSetThreshold)
        {
            if (!filteredAgents.TryGetValue(framework, out var agents))
            {
                agents = new HashSet<string>(filters.Count, StringComparer.Ordinal);
                for (var i = 0; i < filters.Count; i++)
                {
                    agents.Add(filters[i].AgentId);
                }

                filteredAgents[framework] = agents;
            }

            if (!agents.Contains(agentId))
            {
                return false;
            }
        }

        for (var i = 0; i < filters.Count; i++)
        {
            if (filters[i].Filters(agentId, framework.Roles[0], offerable, now))
            {
                return true;
            }
        }

        return false;
    }
}
