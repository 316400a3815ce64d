using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Mezzo.IntegrationTests.Infrastructure;

namespace Mezzo.IntegrationTests.OperatorCli;

/// <summary>
/// <c>mezzo task kill</c> on a dev cluster: through the services (Marathon) and jobs (Chronos) APIs, found from the
/// frameworks' web UI URLs as the master reports them.
/// </summary>
public sealed class TaskKillTests
{
    [Fact]
    public async Task Task_kill_goes_through_the_framework_that_owns_the_task()
    {
        using var dir = new TempDir();
        await using var dev = MezzoProcess.Start("dev", "--master-port", "0", "--agent-port", "0", "--services-port", "0", "--jobs-port", "0", "--work-dir", dir.Path, "--resources", "cpus:2;mem:2048;ports:[31000-31010]");
        string Url(string name) => Regex.Match(dev.Output, name + @"\s+(http://\S+)") is { Success: true } m ? m.Groups[1].Value : "";
        await Poll.UntilAsync(() => Url("jobs").Length > 0, "mezzo dev to print its URLs");
        var environment = new Dictionary<string, string> { ["MEZZO_MASTER"] = Url("master") };

        async Task<JsonArray> RunningAsync(string framework)
        {
            var result = await CliRun.RunAsync(environment, "task", "list", "--framework", framework, "--state", "running", "--json");
            result.Exit.Should().Be(0, result.ToString());
            return JsonNode.Parse(result.Stdout)!.AsArray();
        }

        var app = Path.Combine(dir.Path, "web.json");
        await File.WriteAllTextAsync(app, """{"id":"/web","cmd":"sleep 600","cpus":0.1,"mem":16,"instances":2}""");
        (await CliRun.RunAsync("app", "deploy", app, "--services", Url("services"))).Exit.Should().Be(0);
        var tasks = await RunningAsync("marathon");
        tasks.Should().HaveCount(2);

        // A deployment that cannot finish (no agent is big enough) outlasts --timeout: exit 4.
        var big = Path.Combine(dir.Path, "big.json");
        await File.WriteAllTextAsync(big, """{"id":"/big","cmd":"sleep 600","cpus":64,"mem":16,"instances":1}""");
        var stuck = await CliRun.RunAsync("app", "deploy", big, "--timeout", "1secs", "--services", Url("services"));
        stuck.Exit.Should().Be(4, stuck.ToString());
        stuck.Stderr.Should().Contain("did not finish within");
        (await CliRun.RunAsync("app", "delete", "/big", "--force", "--no-wait", "--services", Url("services"))).Exit.Should().Be(0);

        var scaled = await CliRun.RunAsync(environment, "task", "kill", (string)tasks[0]!["task_id"]!["value"]!, "--scale");
        scaled.Exit.Should().Be(0, scaled.ToString());
        scaled.Stdout.Should().Contain("killed; its app was scaled down");
        await Poll.UntilAsync(async () => (await RunningAsync("marathon")).Count == 1, "the app to run one instance");

        // Without --scale, Marathon replaces the instance.
        var survivor = (string)(await RunningAsync("marathon"))[0]!["task_id"]!["value"]!;
        var replaced = await CliRun.RunAsync(environment, "task", "kill", survivor, "--json");
        replaced.Exit.Should().Be(0, replaced.ToString());
        ((bool?)JsonNode.Parse(replaced.Stdout)!["killed"]).Should().BeTrue();
        await Poll.UntilAsync(async () => await RunningAsync("marathon") is [var t] && (string?)t!["task_id"]!["value"] != survivor, "a replacement instance");

        var job = Path.Combine(dir.Path, "slow.json");
        await File.WriteAllTextAsync(job, """{"name":"slow","command":"sleep 600","schedule":"R/2030-01-01T00:00:00Z/P1D"}""");
        (await CliRun.RunAsync("job", "add", job, "--jobs", Url("jobs"))).Exit.Should().Be(0);
        (await CliRun.RunAsync("job", "run", "slow", "--jobs", Url("jobs"))).Exit.Should().Be(0);
        var run = await Poll.UntilAsync(async () => (await RunningAsync("chronos")).FirstOrDefault(), "the job's task");
        var runId = (string)run!["task_id"]!["value"]!;

        var killed = await CliRun.RunAsync(environment, "task", "kill", runId);
        killed.Exit.Should().Be(0, killed.ToString());
        killed.Stdout.Should().Contain("every running task of job 'slow'");
        await Poll.UntilAsync(async () =>
        {
            var ended = await CliRun.RunAsync(environment, "task", "list", "--state", "killed", "--json");
            return JsonNode.Parse(ended.Stdout)!.AsArray().Any(t => (string?)t!["task_id"]!["value"] == runId);
        }, "the job's task to be killed");

        // A framework API that does not answer is an outage, not a refusal.
        var other = (string)(await RunningAsync("marathon"))[0]!["task_id"]!["value"]!;
        var unreachable = await CliRun.RunAsync(new Dictionary<string, string>(environment) { ["MEZZO_SERVICES"] = "http://127.0.0.1:1" }, "task", "kill", other);
        unreachable.Exit.Should().Be(3, unreachable.ToString());
        unreachable.Stderr.Should().Contain("Cannot reach the services API at http://127.0.0.1:1/ (from MEZZO_SERVICES)");
    }
}
