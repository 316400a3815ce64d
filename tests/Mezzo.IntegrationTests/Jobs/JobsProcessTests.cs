using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Mezzo.IntegrationTests.Infrastructure;

namespace Mezzo.IntegrationTests.Jobs;

/// <summary>The real <c>mezzo jobs</c> and <c>mezzo dev</c> processes.</summary>
public sealed class JobsProcessTests
{
    private static async Task<HttpStatusCode> PostAsync(HttpClient http, Uri url, string json)
    {
        using var content = new StringContent(json, Encoding.UTF8, "application/json");
        using var response = await http.PostAsync(url, content);
        return response.StatusCode;
    }

    private static async Task<JsonObject?> JobAsync(HttpClient http, Uri jobs, string name) =>
        JsonNode.Parse(await http.GetStringAsync(new Uri(jobs, "v1/scheduler/jobs")))!.AsArray().FirstOrDefault(j => j!["name"]!.GetValue<string>() == name)?.AsObject();

    [Fact]
    public async Task Kill_9_of_mezzo_jobs_mid_run_then_a_restart_records_exactly_one_run()
    {
        await using var cluster = await InProcessCluster.StartAsync();
        using var dir = new TempDir();
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        string[] args = ["jobs", "--master", cluster.MasterAddress, "--port", "0", "--ip", "127.0.0.1", "--hostname", "127.0.0.1", "--work-dir", dir.Path];
        Uri url;
        await using (var first = MezzoProcess.Start(args))
        {
            url = await first.WaitForUrlAsync();
            var start = DateTimeOffset.UtcNow.AddSeconds(1).ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture);
            (await PostAsync(http, new Uri(url, "v1/scheduler/iso8601"), $$"""{"name": "survivor", "command": "sleep 4", "schedule": "R/{{start}}/PT1H"}"""))
                .Should().Be(HttpStatusCode.NoContent);
            await Poll.UntilAsync(
                async () => JsonNode.Parse(await http.GetStringAsync(new Uri(url, "v1/scheduler/job/stat/survivor")))!["taskStatHistory"]!.AsArray()
                    .Any(r => r!["status"]!.GetValue<string>() == "Running"),
                "the run to be launched");
            first.Kill9();
        }

        await using var second = MezzoProcess.Start(args);
        url = await second.WaitForUrlAsync();
        try
        {
            await Poll.UntilAsync(async () => (await JobAsync(http, url, "survivor"))?["successCount"]!.GetValue<long>() == 1, "the reconciled run to finish", TimeSpan.FromSeconds(60));
        }
        catch (TimeoutException ex)
        {
            throw new TimeoutException($"{ex.Message}\nrestarted mezzo jobs:\n{second.Output}\nstat: {await http.GetStringAsync(new Uri(url, "v1/scheduler/job/stat/survivor"))}", ex);
        }
        var frameworks = (await cluster.StateAsync())["frameworks"]!.AsArray();
        frameworks.SelectMany(f => f!["tasks"]!.AsArray().Concat(f["completed_tasks"]!.AsArray()))
            .Where(t => t!["name"]!.GetValue<string>() == "ChronosTask:survivor")
            .Should().ContainSingle("the run was reconciled after the kill -9, not launched again");
    }

    [Fact]
    public async Task Mezzo_dev_serves_the_Chronos_api_and_runs_a_posted_job()
    {
        using var dir = new TempDir();
        await using var dev = MezzoProcess.Start("dev", "--master-port", "0", "--agent-port", "0", "--services-port", "0", "--jobs-port", "0", "--work-dir", dir.Path, "--resources", "cpus:2;mem:2048;disk:4096");
        var jobs = await Poll.UntilAsync(
            () => Task.FromResult(Regex.Match(dev.Output, @"jobs\s+(http://\S+)") is { Success: true } m ? new Uri(m.Groups[1].Value) : null),
            "mezzo dev to print the jobs URL");
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        // The README's example, as is.
        (await PostAsync(http, new Uri(jobs, "v1/scheduler/iso8601"), """{"name": "hello", "command": "echo hello from Mezzo", "schedule": "R1//PT1H", "owner": "me@example.com"}"""))
            .Should().Be(HttpStatusCode.NoContent);
        await Poll.UntilAsync(async () => (await JobAsync(http, jobs, "hello"))?["successCount"]!.GetValue<long>() == 1, "the job to run on the dev cluster", TimeSpan.FromSeconds(60));
        using var leader = await http.GetAsync(new Uri(jobs, "v1/scheduler/leader"));
        leader.StatusCode.Should().Be(HttpStatusCode.OK);
    }

    [Fact]
    public async Task A_busy_port_or_work_dir_is_a_clear_error_not_a_crash()
    {
        using var dir = new TempDir();
        await using var first = MezzoProcess.Start("jobs", "--master", "127.0.0.1:1", "--port", "0", "--ip", "127.0.0.1", "--work-dir", Path.Combine(dir.Path, "a"));
        var url = await first.WaitForUrlAsync();
        await using (var samePort = MezzoProcess.Start("jobs", "--master", "127.0.0.1:1", "--port", url.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--ip", "127.0.0.1", "--work-dir", Path.Combine(dir.Path, "b")))
        {
            (await samePort.WaitForExitAsync(TimeSpan.FromSeconds(30))).Should().Be(1, samePort.Output);
            samePort.Output.Should().Contain("Cannot start mezzo jobs").And.Contain("--port 0");
        }

        await using var sameDir = MezzoProcess.Start("jobs", "--master", "127.0.0.1:1", "--port", "0", "--ip", "127.0.0.1", "--work-dir", Path.Combine(dir.Path, "a"));
        (await sameDir.WaitForExitAsync(TimeSpan.FromSeconds(30))).Should().Be(1, sameDir.Output);
        sameDir.Output.Should().Contain("is in use by another mezzo jobs");
    }

    [Theory]
    [InlineData(new[] { "jobs" }, "--master is required")]
    [InlineData(new[] { "jobs", "--master", "x:1", "--port", "70000" }, "--port must be between 0 and 65535")]
    [InlineData(new[] { "jobs", "--master", "zk://127.0.0.1:2181/mesos" }, "ZooKeeper master detection is not supported")]
    [InlineData(new[] { "jobs", "--master", "x:1", "--mesos-task-cpu", "-1" }, "--mesos-task-cpu must be positive")]
    [InlineData(new[] { "jobs", "--master", "x:1", "--failure-retry", "soon" }, "Invalid duration 'soon'")]
    [InlineData(new[] { "dev", "--jobs-port", "-2" }, "--jobs-port must be between 0 and 65535")]
    public async Task Bad_jobs_flags_fail_fast_with_a_message(string[] args, string message)
    {
        await using var process = MezzoProcess.Start(args);
        (await process.WaitForExitAsync(TimeSpan.FromSeconds(30))).Should().NotBe(0);
        process.Output.Should().Contain(message);
    }
}
