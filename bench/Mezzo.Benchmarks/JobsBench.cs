using System.Diagnostics;
using System.Globalization;
using BenchmarkDotNet.Attributes;
using Mezzo.Jobs;
using Mezzo.Jobs.Engine;
using Mezzo.Jobs.Schedules;
using Mezzo.Protocol.Chronos;
using NodaTime;

namespace Mezzo.Benchmarks;

/// <summary>
/// The jobs engine with many scheduled jobs on a real SQLite store: what loading, ticking and restarting cost.
/// Quick mode: <c>dotnet run -c Release --project bench/Mezzo.Benchmarks -- jobs --jobs 10000</c>.
/// </summary>
public static class JobsQuick
{
    public static void Run(int count)
    {
        var dir = Path.Combine(Path.GetTempPath(), "mezzo-jobs-bench-" + Guid.NewGuid().ToString("N"));
        var options = new JobsOptions { Master = "unused:1", WorkDir = dir };
        var t0 = Instant.FromUtc(2026, 6, 1, 12, 0, 30);
        try
        {
            var before = GC.GetTotalMemory(forceFullCollection: true);
            var store = JobsStore.InWorkDir(dir);
            var engine = new JobsEngine(store, options, t0);
            var load = Stopwatch.StartNew();
            for (var i = 0; i < count; i++)
            {
                // Hourly, spread over the minutes of the hour; a tenth in Berlin time, a tenth monthly.
                var schedule = i % 10 == 1 ? $"R/2026-06-01T13:{i % 60:00}:00/P1M" : $"R/2026-06-01T12:{i % 60:00}:00Z/PT1H";
                var zone = i % 10 == 2 ? "\"scheduleTimeZone\": \"Europe/Berlin\", " : "";
                engine.Upsert(JobJson.Parse(System.Text.Encoding.UTF8.GetBytes($$"""{"name": "job{{i}}", "command": "true", {{zone}}"schedule": "{{schedule}}"}"""), options.Defaults), false, t0);
                if (i % 500 == 499)
                {
                    engine.Flush();
                }
            }

            engine.Flush();
            var loadMs = load.Elapsed.TotalMilliseconds;
            var retained = GC.GetTotalMemory(forceFullCollection: true) - before;

            // A tick with nothing due: what the scheduler costs every --tick-interval while idle.
            var idle = Measure(2000, () => engine.Tick(t0));

            // Ticks that each queue the next minute's jobs (count/60), persisting them: the busy case.
            var minute = 0;
            var busy = Measure(30, () =>
            {
                minute++;
                engine.Tick(t0 + Duration.FromMinutes(minute));
                engine.Flush();
            });
            var snapshot = Measure(2000, () => engine.Snapshot());
            store.Dispose();

            var restart = Stopwatch.StartNew();
            using var reopened = JobsStore.InWorkDir(dir);
            _ = new JobsEngine(reopened, options, t0);
            var restartMs = restart.Elapsed.TotalMilliseconds;

            // Pure schedule math: next occurrence after a year of history, hourly UTC and monthly Berlin.
            var hourly = RepeatingSchedule.Parse("R/2025-06-01T12:00:00Z/PT1H", null, t0);
            var monthly = RepeatingSchedule.Parse("R/2025-06-01T02:30:00/P1M", "Europe/Berlin", t0);
            var nextHourly = Measure(20000, () => hourly.FirstAtOrAfter(t0));
            var nextMonthly = Measure(20000, () => monthly.FirstAtOrAfter(t0));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $$"""{"jobs":{{count}},"load_ms":{{loadMs:0.#}},"retained_bytes_per_job":{{retained / count}},"idle_tick_us_p50":{{idle.P50 * 1000:0.###}},"busy_tick_ms_p50":{{busy.P50:0.###}},"busy_tick_ms_max":{{busy.Max:0.###}},"runs_per_busy_tick":{{(count + 59) / 60}},"snapshot_us_p50":{{snapshot.P50 * 1000:0.###}},"restart_load_ms":{{restartMs:0.#}},"next_hourly_us":{{nextHourly.P50 * 1000:0.###}},"next_monthly_berlin_us":{{nextMonthly.P50 * 1000:0.###}}}"""));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static (double P50, double Max) Measure(int times, Action action)
    {
        for (var i = 0; i < Math.Min(times, 200); i++)
        {
            action();
        }

        var samples = new double[times];
        for (var i = 0; i < times; i++)
        {
            var start = Stopwatch.GetTimestamp();
            action();
            samples[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }

        Array.Sort(samples);
        return (samples[times / 2], samples[^1]);
    }
}

/// <summary>BenchmarkDotNet view of the pure schedule math.</summary>
[MemoryDiagnoser]
public class ScheduleBenchmarks
{
    private static readonly Instant Now = Instant.FromUtc(2026, 6, 1, 12, 0, 30);
    private readonly RepeatingSchedule _hourly = RepeatingSchedule.Parse("R/2025-06-01T12:00:00Z/PT1H", null, Now);
    private readonly RepeatingSchedule _monthly = RepeatingSchedule.Parse("R/2025-06-01T02:30:00/P1M", "Europe/Berlin", Now);

    [Benchmark]
    public (long, Instant)? NextHourly() => _hourly.FirstAtOrAfter(Now);

    [Benchmark]
    public (long, Instant)? NextMonthlyBerlin() => _monthly.FirstAtOrAfter(Now);

    [Benchmark]
    public RepeatingSchedule ParseSchedule() => RepeatingSchedule.Parse("R/2025-06-01T02:30:00/P1M", "Europe/Berlin", Now);
}
