using System.Diagnostics;
using System.Globalization;
using BenchmarkDotNet.Running;
using Mezzo.Benchmarks;
using Mezzo.Core.Allocation;

// Micro benchmarks of pure code.
//   quick mode, one JSON line (for scripts):
//     dotnet run -c Release --project bench/Mezzo.Benchmarks -- allocator --agents 50000 --frameworks 1000 --cycles 5 [--quota] [--seed 42] [--warmup N | --warmup-seconds 2] [--dump FILE]
//   Warm-up: cycles for --warmup-seconds (default 2) before measuring, or exactly --warmup N cycles. The master runs a
//   cycle every allocation interval for as long as it lives, so its steady state is tier-1 JIT code; tiering promotes a
//   method only after ~100 ms of calls, so a fixed one or two warm-up cycles measure the JIT instead (--warmup 1 shows it).
//   --quota: the roles/weights/quota/reservations scenario (AllocationInputBuilder.Scenario.Quota) instead of the plain one.
//   --dump writes the last cycle's decisions, one a line: diff two dumps to check a change keeps the decisions.
//   BenchmarkDotNet: any other first argument; "bdn" is dropped, everything else is passed on as it is:
//     dotnet run -c Release --project bench/Mezzo.Benchmarks -- bdn --filter '*Allocator*'
//     dotnet run -c Release --project bench/Mezzo.Benchmarks -- --filter '*Allocator*' --job short
if (args.Length > 0 && args[0] == "allocator")
{
    QuickAllocator(
        ArgValue(args, "--agents", 10000),
        ArgValue(args, "--frameworks", 100),
        ArgValue(args, "--cycles", 5),
        ArgValue(args, "--seed", 42),
        ArgValue(args, "--warmup", -1),
        ArgValue(args, "--warmup-seconds", 2),
        args.SkipWhile(a => a != "--dump").Skip(1).FirstOrDefault(),
        args.Contains("--quota") ? AllocationInputBuilder.Scenario.Quota : AllocationInputBuilder.Scenario.Plain);
    return 0;
}

// Jobs engine: 10,000 scheduled jobs on SQLite, load/tick/restart cost and memory, one JSON line.
//     dotnet run -c Release --project bench/Mezzo.Benchmarks -- jobs --jobs 10000
if (args.Length > 0 && args[0] == "jobs")
{
    JobsQuick.Run(ArgValue(args, "--jobs", 10000));
    return 0;
}

BenchmarkSwitcher.FromAssembly(typeof(AllocatorBenchmarks).Assembly).Run(args.Length > 0 && args[0] == "bdn" ? args[1..] : args);
return 0;

// `warmup` cycles (when given, else as many as fit in `warmupSeconds`), then `cycles` measured cycles of the same input; bytes are what this thread
// allocated per cycle. The allocator is single-threaded, so that is all it allocated.
static void QuickAllocator(int agents, int frameworks, int cycles, int seed, int warmup, int warmupSeconds, string? dump, AllocationInputBuilder.Scenario scenario)
{
    ArgumentOutOfRangeException.ThrowIfLessThan(cycles, 1);
    var input = AllocationInputBuilder.Build(agents, frameworks, seed, scenario);
    var allocator = new HierarchicalAllocator();
    IReadOnlyList<OfferDecision> decisions = [];
    var warmupStart = Stopwatch.GetTimestamp();
    for (var i = 0; warmup >= 0 ? i < warmup : i < 1 || Stopwatch.GetElapsedTime(warmupStart).TotalSeconds < warmupSeconds; i++)
    {
        decisions = allocator.Allocate(input);
    }

    var times = new double[cycles];
    long bytes = 0;
    var pauseBefore = GC.GetTotalPauseDuration();
    var gen0 = GC.CollectionCount(0);
    var gen1 = GC.CollectionCount(1);
    var gen2 = GC.CollectionCount(2);
    for (var i = 0; i < cycles; i++)
    {
        var before = GC.GetAllocatedBytesForCurrentThread();
        var start = Stopwatch.GetTimestamp();
        decisions = allocator.Allocate(input);
        times[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        bytes += GC.GetAllocatedBytesForCurrentThread() - before;
    }

    // Diagnostics on stderr, so stdout stays one JSON line.
    var pause = (GC.GetTotalPauseDuration() - pauseBefore).TotalMilliseconds / cycles;
    Console.Error.WriteLine(string.Create(
        CultureInfo.InvariantCulture,
        $"offers per cycle: {decisions.Count}; per cycle: GC pause {pause:0.##} ms, collections gen0 {(GC.CollectionCount(0) - gen0) / (double)cycles:0.#} gen1 {(GC.CollectionCount(1) - gen1) / (double)cycles:0.#} gen2 {(GC.CollectionCount(2) - gen2) / (double)cycles:0.#}"));
    if (dump is not null)
    {
        File.WriteAllLines(dump, decisions.Select(d => $"{d.FrameworkId} {d.AgentId} {d.Resources}"));
    }

    Array.Sort(times);
    var p50 = cycles % 2 == 1 ? times[cycles / 2] : (times[(cycles / 2) - 1] + times[cycles / 2]) / 2;
    Console.WriteLine(string.Create(
        CultureInfo.InvariantCulture,
        $$"""{"agents":{{agents}},"frameworks":{{frameworks}},"cycle_ms_p50":{{p50:0.###}},"cycle_ms_max":{{times[^1]:0.###}},"alloc_bytes_per_cycle":{{bytes / cycles}}}"""));
}

static int ArgValue(string[] args, string name, int fallback)
{
    var index = Array.IndexOf(args, name);
    return index >= 0 && index + 1 < args.Length ? int.Parse(args[index + 1], CultureInfo.InvariantCulture) : fallback;
}
