using Mezzo.Core.Allocation;
using Mezzo.Core.Resources;

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

    public static AllocationInput Build(int agentCount, int frameworkCount, int seed = 42)
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
                    filters.Add(new OfferFilter(agent.AgentId, agent.Available, expires));
                }
            }

            frameworks.Add(new AllocatorFramework($"{MasterId}-{j:D4}", "*", allocated, suppressed, filters));
        }

        var totals = new Dictionary<string, double>
        {
            ["cpus"] = agentCount * AgentCpus,
            ["mem"] = agentCount * AgentMem,
            ["disk"] = agentCount * AgentDisk,
            ["gpus"] = 0,
        };
        return new AllocationInput(agents, frameworks, totals, Now);
    }
}
