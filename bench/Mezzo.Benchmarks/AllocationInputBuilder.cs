using Mezzo.Core.Allocation;
using Mezzo.Core.Resources;
using Mezzo.Core.Roles;

namespace Mezzo.Benchmarks;

using Resources = Mezzo.Core.Resources.Resources;

/// <summary>
/// Builds one deterministic <see cref="AllocationInput"/> of a busy cluster (same seed, same input):
/// <list type="bullet">
/// <item>agents of <c>cpus:32;mem:131072;disk:1000000;ports:[31000-32000]</c>, ids spelled like the master's
/// (<c>&lt;master id&gt;-S&lt;n&gt;</c>); 5 % of them have <c>cpus(eng):4;mem(eng):16384</c> of that statically reserved;</item>
/// <item>each agent has a random share of its cpus, mem, disk and a block of ports already used, so Available varies;
/// 10 % are packed (less than 0.01 cpus and 32 MiB mem left, but disk and ports left: non-empty, not allocatable);</item>
/// <item>frameworks of role <c>*</c> holding random parts of what the agents use (so cluster totals and allocations
/// agree), 10 % of them suppressed, and 5 % (at least one) having declined 5 % of the agents with a filter
/// (half of those filters still active, half expired);</item>
/// <item>cluster totals are the sum of the agents' totals, as the master computes them.</item>
/// </list>
/// <see cref="Scenario.Quota"/> builds the same cluster and then (from a second random stream, so the plain part is
/// unchanged) spreads the frameworks over 10 roles instead of <c>*</c>, some of them nested, some weighted, 10 % of
/// the frameworks MULTI_ROLE in two of them; gives 2 of the roles (20 %) quota guarantees and limits; and gives 1 % of
/// the agents a dynamic reservation besides the 5 % static ones (see <see cref="AddRolesAndQuota"/>).
/// </summary>
public static class AllocationInputBuilder
{
    public const string MasterId = "5f1e9b2a-3c4d-4e6f-8a9b-0c1d2e3f4a5b-0000";

    public static readonly DateTimeOffset Now = new(2030, 1, 1, 12, 0, 0, TimeSpan.Zero);

    private const double AgentCpus = 32;
    private const double AgentMem = 131072;
    private const double AgentDisk = 1_000_000;
    private const ulong PortsBegin = 31000;
    private const ulong PortsEnd = 32000;

    public enum Scenario
    {
        Plain,
        Quota,
    }

    /// <summary>The roles of the quota scenario: 10, three of them nested.</summary>
    public static readonly string[] Roles = ["analytics", "batch", "eng", "eng/backend", "eng/frontend", "ml", "ml/training", "ops", "prod", "web"];

    public static AllocationInput Build(int agentCount, int frameworkCount, int seed = 42, Scenario scenario = Scenario.Plain)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(agentCount, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(frameworkCount, 1);
        var random = new Random(seed);
        var eng = new ReservationInfo(ReservationType.Static, "eng");
        var plainTotal = Resources.Parse("cpus:32;mem:131072;disk:1000000;ports:[31000-32000]");
        var reservedTotal = Resources.Parse("cpus:28;mem:114688;disk:1000000;ports:[31000-32000];cpus(eng):4;mem(eng):16384");

        var agents = new List<AllocatorAgent>(agentCount);
        double usedCpus = 0, usedMem = 0, usedDisk = 0;
        for (var i = 0; i < agentCount; i++)
        {
            var reserved = random.NextDouble() < 0.05;
            var total = reserved ? reservedTotal : plainTotal;
            var packed = random.NextDouble() < 0.10;

            // Used cpus in tenths, mem in 256 MiB steps, disk in GB; a packed agent keeps less than the minimum allocatable.
            var cpus = packed ? AgentCpus : Math.Round(random.NextDouble() * 0.95 * AgentCpus, 1);
            var mem = packed ? AgentMem - 16 : Math.Round(random.NextDouble() * 0.95 * AgentMem / 256) * 256;
            var disk = Math.Round(random.NextDouble() * 0.8 * AgentDisk / 1000) * 1000;
            var firstPort = PortsBegin + (ulong)random.Next(0, 900);
            var lastPort = firstPort + (ulong)random.Next(0, 100);

            // Reserved resources are used first, the rest from the unreserved pool.
            var used = new List<Resource>
            {
                Resource.ScalarOf("disk", disk),
                Resource.RangesOf("ports", ValueRanges.Of(new ValueRange(firstPort, Math.Min(lastPort, PortsEnd)))),
            };
            if (reserved)
            {
                used.Add(Resource.ScalarOf("cpus", Math.Min(cpus, 4), eng));
                used.Add(Resource.ScalarOf("mem", Math.Min(mem, 16384), eng));
                used.Add(Resource.ScalarOf("cpus", Math.Max(cpus - 4, 0)));
                used.Add(Resource.ScalarOf("mem", Math.Max(mem - 16384, 0)));
            }
            else
            {
                used.Add(Resource.ScalarOf("cpus", cpus));
                used.Add(Resource.ScalarOf("mem", mem));
            }

            usedCpus += cpus;
            usedMem += mem;
            usedDisk += disk;
            agents.Add(new AllocatorAgent($"{MasterId}-S{i}", total - new Resources(used)));
        }

        var weights = new double[frameworkCount];
        for (var j = 0; j < frameworkCount; j++)
        {
            weights[j] = random.NextDouble();
        }

        var weightSum = weights.Sum();
        var filtered = Math.Max(1, frameworkCount / 20);
        var frameworks = new List<AllocatorFramework>(frameworkCount);
        for (var j = 0; j < frameworkCount; j++)
        {
            // Each framework holds its weight's part of what is used, with some noise per resource kind.
            var part = weights[j] / weightSum;
            var allocated = new Resources(
            [
                Resource.ScalarOf("cpus", Math.Round(usedCpus * part * (0.5 + random.NextDouble()), 1)).WithAllocationRole("*"),
                Resource.ScalarOf("mem", Math.Round(usedMem * part * (0.5 + random.NextDouble()))).WithAllocationRole("*"),
                Resource.ScalarOf("disk", Math.Round(usedDisk * part * (0.5 + random.NextDouble()))).WithAllocationRole("*"),
            ]);
            var suppressed = random.NextDouble() < 0.10;
            var filters = new List<OfferFilter>();
            if (j % (frameworkCount / filtered) == 0)
            {
                var count = Math.Max(1, agentCount / 20);
                for (var k = 0; k < count; k++)
                {
                    var agent = agents[random.Next(agentCount)];
                    var expires = k % 2 == 0 ? Now.AddSeconds(5) : Now.AddSeconds(-5);
                    filters.Add(new OfferFilter(agent.AgentId, "*", agent.Available, expires));
                }
            }

            frameworks.Add(new AllocatorFramework($"{MasterId}-{j:D4}", ["*"], allocated)
            {
                SuppressedRoles = suppressed ? new HashSet<string> { "*" } : new HashSet<string>(),
                Filters = filters,
            });
        }

        var totals = new Dictionary<string, double>
        {
            ["cpus"] = agentCount * AgentCpus,
            ["mem"] = agentCount * AgentMem,
            ["disk"] = agentCount * AgentDisk,
            ["gpus"] = 0,
        };
        var input = new AllocationInput(agents, frameworks, totals, Now);
        return scenario == Scenario.Quota ? AddRolesAndQuota(input, new Random(seed + 1)) : input;
    }

    /// <summary>
    /// The quota scenario on top of the plain cluster:
    /// <list type="bullet">
    /// <item>each framework in one of <see cref="Roles"/> (at random; 10 % also in a second one, MULTI_ROLE), its
    /// allocation moved to that role and its filters and suppression following it;</item>
    /// <item>weights: prod 2, batch 0.5, eng/backend 3;</item>
    /// <item>quota: prod guaranteed 6 % of the cluster's cpus and mem, limited to 15 %; eng (nested roles below it)
    /// guaranteed 6 %, limited to 20 %: with ~10 % of the frameworks each and ~47 % of the cluster in use, both start
    /// just under their guarantee, so stage 1 has work and the headroom is held back for a while;</item>
    /// <item>1 % of the agents (not already statically reserved) have <c>cpus:8;mem:32768</c> dynamically reserved to
    /// ml/training or prod, taken out of their unreserved pool.</item>
    /// </list>
    /// </summary>
    private static AllocationInput AddRolesAndQuota(AllocationInput input, Random random)
    {
        var frameworks = new List<AllocatorFramework>(input.Frameworks.Count);
        foreach (var framework in input.Frameworks)
        {
            var role = Roles[random.Next(Roles.Length)];
            string[] roles = random.NextDouble() < 0.10 ? [role, Roles[random.Next(Roles.Length)]] : [role];
            roles = [.. roles.Distinct()];
            frameworks.Add(framework with
            {
                Roles = roles,
                Allocated = framework.Allocated.Unallocate().AllocateTo(role),
                SuppressedRoles = framework.SuppressedRoles.Count > 0 ? new HashSet<string> { role } : new HashSet<string>(),
                Filters = [.. framework.Filters.Select(f => f with { Role = role })],
            });
        }

        var agents = new List<AllocatorAgent>(input.Agents.Count);
        var dynamicRoles = new[] { "ml/training", "prod" };
        foreach (var agent in input.Agents)
        {
            var available = agent.Available;
            if (random.NextDouble() < 0.01 && !available.Any(r => r.IsReserved) && available.Cpus >= 8 && available.Mem >= 32768)
            {
                var reservation = new ReservationInfo(ReservationType.Dynamic, dynamicRoles[random.Next(dynamicRoles.Length)], "ops-team");
                available = available - Resources.Parse("cpus:8;mem:32768") + new Resources([Resource.ScalarOf("cpus", 8, reservation), Resource.ScalarOf("mem", 32768, reservation)]);
            }

            agents.Add(agent with { Available = available });
        }

        QuotaConfig Quota(string role, double guarantee, double limit) => new(
            role,
            ResourceQuantities.OfScalars([KeyValuePair.Create("cpus", input.ClusterTotals["cpus"] * guarantee), KeyValuePair.Create("mem", input.ClusterTotals["mem"] * guarantee)]),
            ResourceQuantities.OfScalars([KeyValuePair.Create("cpus", input.ClusterTotals["cpus"] * limit), KeyValuePair.Create("mem", input.ClusterTotals["mem"] * limit)]));

        return input with
        {
            Agents = agents,
            Frameworks = frameworks,
            Weights = new Dictionary<string, double> { ["prod"] = 2, ["batch"] = 0.5, ["eng/backend"] = 3 },
            Quotas = new Dictionary<string, QuotaConfig> { ["prod"] = Quota("prod", 0.06, 0.15), ["eng"] = Quota("eng", 0.06, 0.20) },
        };
    }
}
