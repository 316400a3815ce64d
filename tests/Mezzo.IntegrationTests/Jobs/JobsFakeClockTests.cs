using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Mezzo.IntegrationTests.Infrastructure;
using Mezzo.Jobs;
using Microsoft.Extensions.Time.Testing;

namespace Mezzo.IntegrationTests.Jobs;

/// <summary>The jobs service's schedule on a <see cref="FakeTimeProvider"/>, its runs on a real master and agent.</summary>
public sealed class JobsFakeClockTests
{
    [Fact]
    public async Task A_daily_Berlin_job_runs_at_the_right_wall_clock_times_across_DST_on_a_real_cluster()
    {
        await using var cluster = await InProcessCluster.StartAsync();
        using var dir = new TempDir();
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 3, 27, 12, 0, 0, TimeSpan.Zero));
        await using var jobs = JobsServer.Create(
            new JobsOptions { Master = cluster.MasterAddress, Port = 0, Ip = "127.0.0.1", Hostname = "127.0.0.1", WorkDir = dir.Path, TickInterval = TimeSpan.FromSeconds(1) },
            TestLogging.Configure,
            time);
        await jobs.StartAsync();
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        using (var content = new StringContent("""
            {"name": "nightly", "command": "true", "schedule": "R3/2026-03-28T02:30:00/P1D", "scheduleTimeZone": "Europe/Berlin"}
            """, Encoding.UTF8, "application/json"))
        {
            (await http.PostAsync(new Uri(jobs.Url, "v1/scheduler/iso8601"), content)).StatusCode.Should().Be(HttpStatusCode.NoContent);
        }

        DateTimeOffset[] expected =
        [
            new(2026, 3, 28, 1, 30, 0, TimeSpan.Zero), // 02:30 CET
            new(2026, 3, 29, 1, 30, 0, TimeSpan.Zero), // 02:30 does not exist: 03:30 CEST
            new(2026, 3, 30, 0, 30, 0, TimeSpan.Zero), // 02:30 CEST
        ];
        for (var i = 0; i < expected.Length; i++)
        {
            // Just before: nothing runs early.
            time.Advance(expected[i] - time.GetUtcNow() - TimeSpan.FromSeconds(1));
            await jobs.Actor.AskAsync((_, _) => 0);
            jobs.Actor.Snapshot.ActiveRuns.Should().BeEmpty();
            time.Advance(TimeSpan.FromSeconds(1));
            var count = i + 1;
            await Poll.UntilAsync(async () => (await JobAsync(http, jobs.Url))["successCount"]!.GetValue<long>() == count, $"run {count}");
        }

        var runs = JsonNode.Parse(await http.GetStringAsync(new Uri(jobs.Url, "v1/scheduler/job/stat/nightly")))!["taskStatHistory"]!.AsArray();
        runs.Select(r => r!["taskId"]!.GetValue<string>()).Order(StringComparer.Ordinal)
            .Should().Equal(expected.Select(e => $"ct:{e.ToUnixTimeMilliseconds()}:0:nightly:"));
        (await JobAsync(http, jobs.Url))["disabled"]!.GetValue<bool>().Should().BeTrue("R3 has run out");
    }

    private static async Task<JsonObject> JobAsync(HttpClient http, Uri jobs) =>
        JsonNode.Parse(await http.GetStringAsync(new Uri(jobs, "v1/scheduler/jobs")))!.AsArray().Single()!.AsObject();
}
