using Mezzo.IntegrationTests.Infrastructure;
using Mezzo.Jobs;

namespace Mezzo.IntegrationTests.Jobs;

/// <summary><c>mezzo job ...</c> against a jobs service (no master needed for the API).</summary>
public sealed class JobCliTests
{
    private static async Task<(int Exit, string Output)> RunAsync(params string[] args)
    {
        await using var process = MezzoProcess.Start(args);
        var exit = await process.WaitForExitAsync(TimeSpan.FromSeconds(60));
        return (exit, process.Output);
    }

    [Fact]
    public async Task Job_commands_add_list_run_history_graph_and_delete()
    {
        using var dir = new TempDir();
        await using var server = JobsServer.Create(new JobsOptions { Master = "127.0.0.1:1", Port = 0, Ip = "127.0.0.1", WorkDir = Path.Combine(dir.Path, "jobs") }, connect: false);
        await server.StartAsync();
        var url = server.Url.ToString();
        var parent = Path.Combine(dir.Path, "parent.json");
        await File.WriteAllTextAsync(parent, """{"name": "nightly", "command": "date", "schedule": "R/2030-01-01T02:30:00/P1D", "scheduleTimeZone": "Europe/Berlin"}""");
        var child = Path.Combine(dir.Path, "child.json");
        await File.WriteAllTextAsync(child, """{"name": "report", "command": "echo done", "parents": ["nightly"]}""");
        var bad = Path.Combine(dir.Path, "bad.json");
        await File.WriteAllTextAsync(bad, """{"name": "bad/name", "command": "x"}""");

        (await RunAsync("job", "--jobs", url, "add", parent)).Exit.Should().Be(0);
        (await RunAsync("job", "--jobs", url, "add", child)).Exit.Should().Be(0);
        var refused = await RunAsync("job", "--jobs", url, "add", bad);
        refused.Exit.Should().Be(1);
        refused.Output.Should().Contain("400").And.Contain("bad/name");
        (await RunAsync("job", "--jobs", url, "add", Path.Combine(dir.Path, "missing.json"))).Output.Should().Contain("does not exist");

        var list = await RunAsync("job", "--jobs", url, "list");
        list.Exit.Should().Be(0);
        list.Output.Should().Contain("NAME").And.Contain("R/2030-01-01T02:30:00/P1D Europe/Berlin").And.Contain("after nightly");

        (await RunAsync("job", "--jobs", url, "show", "report")).Output.Should().Contain("\"parents\"");
        (await RunAsync("job", "--jobs", url, "run", "nightly")).Exit.Should().Be(0);
        (await RunAsync("job", "--jobs", url, "history", "nightly")).Output.Should().Contain("SCHEDULED").And.Contain("Queued");
        (await RunAsync("job", "--jobs", url, "graph")).Output.Should().Contain("digraph G").And.Contain("1 -> 2;");
        (await RunAsync("job", "--jobs", url, "delete", "nightly")).Exit.Should().Be(0);
        var missing = await RunAsync("job", "--jobs", url, "delete", "nightly");
        missing.Exit.Should().Be(1);
        missing.Output.Should().Contain("Job 'nightly' not found");
    }

    [Fact]
    public async Task An_unreachable_jobs_service_is_reported()
    {
        var (exit, output) = await RunAsync("job", "--jobs", "http://127.0.0.1:1", "list");
        exit.Should().Be(3);
        output.Should().Contain("Cannot reach the jobs service at http://127.0.0.1:1/");
    }
}
