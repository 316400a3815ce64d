using BenchmarkDotNet.Attributes;
using Mezzo.Core.Allocation;

namespace Mezzo.Benchmarks;

/// <summary>One full allocation cycle of the pure allocator over a busy cluster (see <see cref="AllocationInputBuilder"/>).</summary>
[MemoryDiagnoser]
public class AllocatorBenchmarks
{
    private readonly HierarchicalAllocator _allocator = new();
    private AllocationInput _input = null!;

    [Params(1000, 10000, 50000)]
    public int Agents { get; set; }

    [Params(10, 100, 1000)]
    public int Frameworks { get; set; }

    /// <summary>plain: every framework in role <c>*</c>; quota: 10 roles, nested ones, weights, quota, more reservations.</summary>
    [Params("plain", "quota")]
    public string Scenario { get; set; } = "plain";

    [GlobalSetup]
    public void Setup() => _input = AllocationInputBuilder.Build(
        Agents,
        Frameworks,
        scenario: Scenario == "quota" ? AllocationInputBuilder.Scenario.Quota : AllocationInputBuilder.Scenario.Plain);

    [Benchmark]
    public IReadOnlyList<OfferDecision> AllocationCycle() => _allocator.Allocate(_input);
}
