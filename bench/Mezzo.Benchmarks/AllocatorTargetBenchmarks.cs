using BenchmarkDotNet.Attributes;
using Mezzo.Core.Allocation;

namespace Mezzo.Benchmarks;

/// <summary>
/// The two cells DESIGN.md §8 sets targets for (10,000 agents × 100 frameworks, 50,000 × 1,000), in both scenarios:
/// the same cycle as <see cref="AllocatorBenchmarks"/> without its full grid, for a quick BenchmarkDotNet run.
/// </summary>
[MemoryDiagnoser]
public class AllocatorTargetBenchmarks
{
    private readonly HierarchicalAllocator _allocator = new();
    private AllocationInput _input = null!;

    /// <summary>agents x frameworks.</summary>
    [Params("10000x100", "50000x1000")]
    public string Cell { get; set; } = "10000x100";

    [Params("plain", "quota")]
    public string Scenario { get; set; } = "plain";

    [GlobalSetup]
    public void Setup()
    {
        var parts = Cell.Split('x');
        _input = AllocationInputBuilder.Build(
            int.Parse(parts[0], System.Globalization.CultureInfo.InvariantCulture),
            int.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture),
            scenario: Scenario == "quota" ? AllocationInputBuilder.Scenario.Quota : AllocationInputBuilder.Scenario.Plain);
    }

    [Benchmark]
    public IReadOnlyList<OfferDecision> AllocationCycle() => _allocator.Allocate(_input);
}
