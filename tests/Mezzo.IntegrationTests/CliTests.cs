using System.Net;
using System.Text.Json.Nodes;
using AwesomeAssertions;
using Mezzo.IntegrationTests.Infrastructure;

namespace Mezzo.IntegrationTests;

/// <summary>The real <c>mezzo</c> binary: dev cluster, execute, flag handling.</summary>
public sealed class CliTests
{
    [Fact]
    public async Task Dev_cluster_serves_the_Marathon_API_and_mezzo_app_deploys_scales_and_deletes()
    {
        using var dir = new TempDir();
        await using var dev = MezzoProcess.Start("dev", "--master-port", "0", "--agent-port", "0", "--services-port", "0", "--jobs-port", "0", "--work-dir", dir.Path, "--resources", "cpus:2;mem:2048;ports:[31000-31010]");
        var services = await Poll.UntilAsync(
            () => Task.FromResult(System.Text.RegularExpressions.Regex.Match(dev.Output, @"services\s+(http://\S+)") is { Success: true } m ? m.Groups[1].Value : null),
            "mezzo dev to print the services URL");
        var file = Path.Combine(dir.Path, "web.json");
        await File.WriteAllTextAsync(file, """{"id":"/web","cmd":"sleep 600","cpus":0.1,"mem":16,"instances":2}""");

        async Task<(int Code, string Output)> App(params string[] args)
        {
            await using var app = MezzoProcess.Start(["app", "--services", services, .. args]);
            var code = await app.WaitForExitAsync(TimeSpan.FromSeconds(120));
            return (code, app.Output);
        }

        var (deployed, deployOutput) = await App("deploy", file);
        deployed.Should().Be(0, deployOutput);
        deployOutput.Should().MatchRegex("Deployment [0-9a-f-]+ finished");
        var (_, list) = await App("list");
        list.Should().MatchRegex(@"/web\s+2\s+2\s+0\s+0\.1\s+16\s+no\s+sleep 600");
        (await App("scale", "/web", "1")).Code.Should().Be(0);
        (await App("tasks", "web")).Output.Split('\n').Count(l => l.Contains("TASK_RUNNING", StringComparison.Ordinal)).Should().Be(1);
        (await App("delete", "/web")).Code.Should().Be(0);

        var (missing, missingOutput) = await App("show", "/web");
        missing.Should().Be(1);
        missingOutput.Should().Contain("404 App '/web' does not exist");
        await File.WriteAllTextAsync(file, """{"id":"/web","cpus":-1}""");
        var (invalid, invalidOutput) = await App("deploy", file);
        invalid.Should().Be(1);
        invalidOutput.Should().Contain("422 Object is not valid").And.Contain("/cpus: got -1.0, expected 0.001 or more");
    }

    [Fact]
    public async Task Dev_cluster_serves_and_execute_runs_a_task_printing_its_output_and_exit_code()
    {
        using var dir = new TempDir();
        await using var dev = MezzoProcess.Start("dev", "--master-port", "0", "--agent-port", "0", "--services-port", "0", "--jobs-port", "0", "--work-dir", dir.Path, "--resources", "cpus:2;mem:2048");
        var master = await Poll.UntilAsync(
            () => Task.FromResult(System.Text.RegularExpressions.Regex.Match(dev.Output, @"master\s+(http://\S+)") is { Success: true } m ? m.Groups[1].Value : null),
            "mezzo dev to print its URLs");
        var masterUri = new Uri(master);
        using var http = new HttpClient();
        await Poll.UntilAsync(async () => (await http.GetStringAsync(new Uri(masterUri, "metrics/snapshot"))).Contains("\"master/slaves_active\":1", StringComparison.Ordinal), "the dev agent");

        await using (var hello = MezzoProcess.Start("execute", "--master", $"127.0.0.1:{masterUri.Port}", "--name", "hello", "--command", "echo hi"))
        {
            (await hello.WaitForExitAsync(TimeSpan.FromSeconds(60))).Should().Be(0, hello.Output);
            hello.Output.Should().Contain("hi\n");
            hello.Output.Should().Contain("TASK_FINISHED");
        }

        await using (var failing = MezzoProcess.Start("execute", "--master", $"127.0.0.1:{masterUri.Port}", "--name", "nope", "--command", "echo oops >&2; exit 7"))
        {
            (await failing.WaitForExitAsync(TimeSpan.FromSeconds(60))).Should().Be(7, failing.Output);
            failing.Output.Should().Contain("oops");
            failing.Output.Should().Contain("Command exited with status 7");
        }

        var state = JsonNode.Parse(await http.GetStringAsync(new Uri(masterUri, "master/state")))!;
        state["completed_frameworks"]!.AsArray().Should().HaveCount(2);
    }

    [Fact]
    public async Task Dev_stops_cleanly_on_SIGTERM_and_kills_its_tasks()
    {
        using var dir = new TempDir();
        await using var dev = MezzoProcess.Start("dev", "--master-port", "0", "--agent-port", "0", "--services-port", "0", "--jobs-port", "0", "--work-dir", dir.Path, "--resources", "cpus:2;mem:2048");
        var master = await Poll.UntilAsync(
            () => Task.FromResult(System.Text.RegularExpressions.Regex.Match(dev.Output, @"master\s+(http://\S+)") is { Success: true } m ? m.Groups[1].Value : null),
            "mezzo dev to print its URLs");
        await using var scheduler = new RawScheduler(new Uri(master));
        await scheduler.SubscribeAsync(RawScheduler.FrameworkInfo(failoverTimeout: 3600));
        var offer = await scheduler.NextOfferAsync();
        await scheduler.LaunchAsync(offer, "long", "sleep 1000");
        await scheduler.WaitForUpdateAsync("long", "TASK_RUNNING");

        using (var kill = System.Diagnostics.Process.Start("kill", ["-TERM", dev.Pid.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync();
        }

        (await dev.WaitForExitAsync(TimeSpan.FromSeconds(30))).Should().Be(0, dev.Output);
        Mezzo.Agent.Tasks.OrphanReaper.FindTaskProcesses(dir.Path).Should().BeEmpty();
    }

    [Theory]
    [InlineData(new[] { "agent" }, "--master is required")]
    [InlineData(new[] { "agent", "--master", "x:1", "--resources", "cpus:-1" }, "--resources")]
    [InlineData(new[] { "agent", "--master", "x:1", "--isolation", "foo" }, "--isolation: unknown isolator 'foo'")]
    [InlineData(new[] { "dev", "--isolation", "cgroups/cpu,cgroups/net" }, "--isolation: unknown isolator 'cgroups/net'")]
    [InlineData(new[] { "agent", "--master", "x:1", "--cgroups-max-pids", "0" }, "--cgroups-max-pids")]
    [InlineData(new[] { "agent", "--master", "x:1", "--container-disk-watch-interval", "0secs" }, "--container-disk-watch-interval must be positive")]
    [InlineData(new[] { "agent", "--master", "x:1", "--executor-reregistration-timeout", "0secs" }, "--executor-reregistration-timeout must be positive")]
    [InlineData(new[] { "dev", "--container-disk-watch-interval", "often" }, "Invalid duration 'often'")]
    [InlineData(new[] { "dev", "--isolation", "namespace/pid" }, "--isolation: unknown isolator 'namespace/pid'")]
    [InlineData(new[] { "agent", "--master", "x:1", "--fetcher-cache-size", "lots" }, "--fetcher-cache-size: 'lots' is not a size")]
    [InlineData(new[] { "dev", "--fetcher-stall-timeout", "soon" }, "Invalid duration")]
    [InlineData(new[] { "agent", "--master", "x:1", "--docker-registry", "ftp://x/y" }, "--docker-registry 'ftp://x/y'")]
    [InlineData(new[] { "dev", "--image-store-max-bytes", "-1" }, "--image-store-max-bytes must be 0 or more")]
    [InlineData(new[] { "agent", "--master", "x:1", "--docker-config", "/nonexistent/config.json" }, "--docker-config: '/nonexistent/config.json' does not exist")]
    [InlineData(new[] { "master", "--agent-ping-timeout", "soon" }, "Invalid duration")]
    [InlineData(new[] { "master", "--registry-max-agent-age", "0secs" }, "--registry-max-agent-age must be positive")]
    [InlineData(new[] { "master", "--registry-max-agent-age", "fortnight" }, "Invalid duration 'fortnight'")]
    [InlineData(new[] { "master", "--registry-max-agent-count", "-1" }, "--registry-max-agent-count must be 0 or more")]
    [InlineData(new[] { "master", "--registry-max-agent-count", "many" }, "many")]
    [InlineData(new[] { "master", "--registry-gc-interval", "0ms" }, "--registry-gc-interval must be positive")]
    [InlineData(new[] { "master", "--recovery-agent-removal-limit", "150%" }, "--recovery-agent-removal-limit '150%': expected a percentage from 0% to 100%")]
    [InlineData(new[] { "master", "--recovery-agent-removal-limit", "half" }, "--recovery-agent-removal-limit 'half'")]
    [InlineData(new[] { "master", "--agent-reregister-timeout", "0secs" }, "--agent-reregister-timeout must be positive")]
    [InlineData(new[] { "master", "--agent-reregister-timeout", "later" }, "Invalid duration 'later'")]
    [InlineData(new[] { "agent", "--master", "x:1", "--default-kill-grace-period", "soon" }, "Invalid duration")]
    [InlineData(new[] { "master", "--min-allocatable-resources", "cpus:x" }, "--min-allocatable-resources")]
    [InlineData(new[] { "master", "--min-allocatable-resources", "cpus:1||mem:2" }, "--min-allocatable-resources")]
    [InlineData(new[] { "master", "--weights", "dev=-1" }, "dev")]
    [InlineData(new[] { "master", "--store", "mysql://db:3306" }, "--store: unknown store 'mysql://db:3306'; expected 'sqlite' or etcd://")]
    [InlineData(new[] { "master", "--store", "etcd://" }, "--store: 'etcd://': empty etcd endpoint")]
    [InlineData(new[] { "master", "--store", "etcd://h:70000" }, "bad etcd endpoint 'h:70000'")]
    [InlineData(new[] { "master", "--leader-lease-ttl", "500ms" }, "--leader-lease-ttl must be at least 1secs")]
    [InlineData(new[] { "master", "--max-operator-event-stream-subscribers", "0" }, "--max-operator-event-stream-subscribers must be at least 1")]
    [InlineData(new[] { "master", "--rate-limit-qps", "-1" }, "--rate-limit-qps must be 0 (off) or more")]
    [InlineData(new[] { "master", "--rate-limit-burst", "-5" }, "--rate-limit-burst must be 0 (off) or more")]
    [InlineData(new[] { "agent", "--master", "127.0.0.1:1,,127.0.0.1:2" }, "--master: Invalid master address '127.0.0.1:1,,127.0.0.1:2': empty entry")]
    [InlineData(new[] { "agent", "--master", "zk://127.0.0.1:2181/mesos" }, "ZooKeeper master detection is not supported")]
    [InlineData(new[] { "execute", "--master", "etcd://h:0", "--name", "n", "--command", "true" }, "--master: Invalid master address")]
    [InlineData(new[] { "execute", "--master", "x:1", "--name", "n" }, "--command is required")]
    [InlineData(new[] { "services" }, "--master is required")]
    [InlineData(new[] { "services", "--master", "127.0.0.1:1,,x:2" }, "--master: Invalid master address")]
    [InlineData(new[] { "services", "--master", "x:1", "--port", "70000" }, "--port must be between 0 and 65535")]
    [InlineData(new[] { "services", "--master", "x:1", "--event-subscriber", "sse" }, "--event-subscriber must be http_callback or none, not 'sse'")]
    [InlineData(new[] { "dev", "--services-port", "-1" }, "--services-port must be between 0 and 65535")]
    [InlineData(new[] { "app", "scale", "/web", "many" }, "many")]
    [InlineData(new[] { "app", "--services", "http://127.0.0.1:1", "list" }, "Cannot reach the services API at http://127.0.0.1:1/")]
    [InlineData(new[] { "app", "--services", "http://127.0.0.1:1", "deploy", "/nonexistent/app.json" }, "No such file: /nonexistent/app.json")]
    public async Task Bad_flags_fail_fast_with_a_message(string[] args, string message)
    {
        await using var process = MezzoProcess.Start(args);
        (await process.WaitForExitAsync(TimeSpan.FromSeconds(30))).Should().NotBe(0);
        process.Output.Should().Contain(message);
    }

    [Fact]
    public async Task The_agents_default_kill_grace_period_flag_reaches_the_agent()
    {
        using var dir = new TempDir();
        await using var agent = MezzoProcess.Start("agent", "--master", "127.0.0.1:1", "--port", "0", "--work-dir", dir.Path, "--default-kill-grace-period", "250ms");
        var url = await agent.WaitForUrlAsync();
        using var http = new HttpClient();

        var state = JsonNode.Parse(await http.GetStringAsync(new Uri(url, "state")))!;

        ((string?)state["flags"]!["default_kill_grace_period"]).Should().Be("0.25secs");
    }

    [Fact]
    public async Task Underscore_aliases_and_environment_variables_are_accepted()
    {
        using var dir = new TempDir();
        await using var master = MezzoProcess.Start(
            new Dictionary<string, string> { ["MEZZO_CLUSTER"] = "from-env", ["MEZZO_REGISTRY_MAX_AGENT_COUNT"] = "7" },
            "master", "--port", "0", "--ip", "127.0.0.1", "--work_dir", dir.Path, "--agent_ping_timeout", "3secs", "--registry_max_agent_age", "3days");
        var url = await master.WaitForUrlAsync();
        using var http = new HttpClient();
        var state = JsonNode.Parse(await http.GetStringAsync(new Uri(url, "master/state")))!;
        ((string?)state["flags"]!["work_dir"]).Should().Be(dir.Path);
        ((string?)state["flags"]!["agent_ping_timeout"]).Should().Be("3secs");
        ((string?)state["cluster"]).Should().Be("from-env");
        ((string?)state["flags"]!["registry_max_agent_age"]).Should().Be("259200secs");
        ((string?)state["flags"]!["registry_max_agent_count"]).Should().Be("7");
        ((string?)state["flags"]!["registry_gc_interval"]).Should().Be("900secs");
        ((string?)state["flags"]!["recovery_agent_removal_limit"]).Should().Be("100%");
        ((string?)state["flags"]!["agent_reregister_timeout"]).Should().Be("600secs");
        (await http.GetAsync(new Uri(url, "health"))).StatusCode.Should().Be(HttpStatusCode.OK);
    }
}
