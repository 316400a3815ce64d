using BenchmarkDotNet.Attributes;
using Mezzo.Core.Allocation;

namespace Mezzo.Benchmarks;

/// <summary>One full allocation cycle of the pure allocator over a busy cluster (see <see cref="AllocationInputBuilder"/>).</summary>
[MemoryDiagnoser]
public class AllocatorBenchmarks
{
    private readonly DrfAllocator _allocator = new();
    private AllocationInput _input = null!;

    [Params(1000, 10000, 50000)]
    public int Agents { get; set; }

    [Params(10, 100, 1000)]
    public int Frameworks { get; set; }

    [GlobalSetup]
    public void Setup() => _input = AllocationInputBuilder.Build(Agents, Frameworks);

    [Benchmark]
    public IReadOnlyList<OfferDecision> AllocationCycle() => _allocator.Allocate(_input);
}
