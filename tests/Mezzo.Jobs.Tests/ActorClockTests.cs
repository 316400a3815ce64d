using Mezzo.Jobs.Engine;
using Mezzo.Protocol.Chronos;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using NodaTime;

namespace Mezzo.Jobs.Tests;

/// <summary>The actor's scheduling loop on a <see cref="FakeTimeProvider"/>: days pass in milliseconds.</summary>
public sealed class ActorClockTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static Job Job(string json) => JobJson.Parse(System.Text.Encoding.UTF8.GetBytes(json), new JobDefaults());

    [Fact]
    public async Task A_daily_Berlin_job_runs_at_its_wall_clock_time_across_the_spring_DST_gap()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 3, 27, 12, 0, 0, TimeSpan.Zero));
        using var store = JobsStore.InWorkDir(_dir.Path);
        var options = new JobsOptions { Master = "unused:1", WorkDir = _dir.Path };
        var engine = new JobsEngine(store, options, Instant.FromDateTimeOffset(time.GetUtcNow()));
        await using var actor = new JobsActor(engine, time, TimeSpan.FromMinutes(5), NullLogger.Instance);
        actor.Start(client: null);
        var error = await actor.AskAsync((e, now) => e.Upsert(Job("""
            {"name": "nightly", "command": "true", "epsilon": "PT20M", "schedule": "R/2026-03-27T02:30:00/P1D", "scheduleTimeZone": "Europe/Berlin"}
            """), false, now));
        error.Should().BeNull();
        for (var step = 0; step < 4 * 24 * 12; step++)
        {
            time.Advance(TimeSpan.FromMinutes(5));
            await actor.AskAsync((_, _) => 0); // the tick the advance caused has been applied
        }

        // No master, so each run waits out epsilon and is recorded as skipped: its scheduled time is what matters.
        var runs = actor.Snapshot.History["nightly"];
        runs.Select(r => Instant.FromUnixTimeMilliseconds(r.DueMs)).Should().Equal(
            Instant.FromUtc(2026, 3, 28, 1, 30),  // 02:30 CET
            Instant.FromUtc(2026, 3, 29, 1, 30),  // 02:30 does not exist on the 29th: 03:30 CEST
            Instant.FromUtc(2026, 3, 30, 0, 30),  // 02:30 CEST
            Instant.FromUtc(2026, 3, 31, 0, 30));
        runs.Should().AllSatisfy(r => r.Message.Should().Contain("not started within epsilon PT20M"));
        runs.Select(r => r.TaskId).Should().OnlyHaveUniqueItems();
    }

    [Fact]
    public void The_store_keeps_only_the_newest_finished_runs_of_a_job()
    {
        using (var store = JobsStore.InWorkDir(_dir.Path, historyKept: 3))
        {
            for (var i = 0; i < 5; i++)
            {
                store.Commit([], [], [new Run($"ct:{i}:0:j:", "j", i, 0, RunState.Succeeded, i)], new Dictionary<string, string>());
            }

            store.Commit([], [], [new Run("ct:9:0:j:", "j", 9, 0, RunState.Queued, 9)], new Dictionary<string, string>());
        }

        using var reopened = JobsStore.InWorkDir(_dir.Path);
        reopened.LoadRuns(100).Select(r => r.TaskId).Should().Equal("ct:2:0:j:", "ct:3:0:j:", "ct:4:0:j:", "ct:9:0:j:");
    }
}
