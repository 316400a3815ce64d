using System.Text.Json.Nodes;
using Mezzo.IntegrationTests.Infrastructure;

namespace Mezzo.IntegrationTests.OperatorCli;

/// <summary><c>mezzo agent|framework|task|role|quota|state</c> against a real master and agent.</summary>
public sealed class OperatorCliTests
{
    private static Task<CliRun.Result> Mezzo(InProcessCluster cluster, params string[] args) =>
        CliRun.RunAsync([.. args, "--master", cluster.MasterUrl.ToString()]);

    private static async Task<JsonNode> JsonAsync(InProcessCluster cluster, params string[] args)
    {
        var result = await Mezzo(cluster, [.. args, "--json"]);
        result.Exit.Should().Be(0, result.ToString());
        // All of stdout is the JSON document: nothing else may be printed there.
        return JsonNode.Parse(result.Stdout)!;
    }

    private static async Task<RawScheduler> RunTaskAsync(InProcessCluster cluster, string name, string taskId, string command)
    {
        var scheduler = new RawScheduler(cluster.MasterUrl);
        await scheduler.SubscribeAsync(RawScheduler.FrameworkInfo(name));
        var offer = await scheduler.NextOfferAsync();
        await scheduler.LaunchAsync(offer, taskId, command);
        await scheduler.WaitForUpdateAsync(taskId, "TASK_RUNNING");
        return scheduler;
    }

    [Fact]
    public async Task Agent_list_and_show_print_tables_and_json_and_an_unknown_agent_exits_1()
    {
        await using var cluster = await InProcessCluster.StartAsync(configureAgent: a => a.Attributes = "rack:r1");
        await using var scheduler = await RunTaskAsync(cluster, "agent-test", "sleeper", "sleep 600");
        var agentId = (string)(await cluster.StateAsync())["slaves"]![0]!["id"]!;

        var list = await Mezzo(cluster, "agent", "list");
        list.Exit.Should().Be(0, list.ToString());
        list.Stdout.Should().MatchRegex($@"ID\s+HOSTNAME\s+STATE\s+CPUS\s+MEM\s+DISK\s+TASKS\s*\n{agentId}\s+127\.0\.0\.1\s+active\s+0\.1/4\s+32/4096\s+0/10000\s+1");
        list.Stderr.Should().BeEmpty();

        var json = (await JsonAsync(cluster, "agent", "list")).AsArray();
        json.Should().ContainSingle();
        ((string?)json[0]!["agent_info"]!["id"]!["value"]).Should().Be(agentId);

        var show = await Mezzo(cluster, "agent", "show", agentId);
        show.Exit.Should().Be(0, show.ToString());
        show.Stdout.Should().MatchRegex(@"STATE\s+active").And.MatchRegex(@"ATTRIBUTES\s+rack:r1").And.MatchRegex(@"sleeper\s+sleeper\s+TASK_RUNNING\s+agent-test");
        ((string?)(await JsonAsync(cluster, "agent", "show", agentId))["agent_info"]!["hostname"]).Should().Be("127.0.0.1");

        var unknown = await Mezzo(cluster, "agent", "show", "no-such-agent");
        unknown.Exit.Should().Be(1);
        unknown.Stdout.Should().BeEmpty();
        unknown.Stderr.Should().Contain("No agent with ID 'no-such-agent'");
    }

    [Fact]
    public async Task Agent_drain_with_wait_returns_once_the_agent_is_drained_and_reports_progress_on_stderr()
    {
        await using var cluster = await InProcessCluster.StartAsync();
        // Ignoring SIGTERM, the task lives out the grace period, so the wait sees it before it is gone.
        await using var scheduler = await RunTaskAsync(cluster, "drain-test", "victim", "trap '' TERM; sleep 600");
        var agentId = (string)(await cluster.StateAsync())["slaves"]![0]!["id"]!;

        var drain = await Mezzo(cluster, "agent", "drain", agentId, "--max-grace-period", "1secs", "--wait", "--timeout", "60secs", "--json");

        drain.Exit.Should().Be(0, drain.ToString());
        var result = JsonNode.Parse(drain.Stdout)!;
        ((string?)result["state"]).Should().Be("DRAINED");
        drain.Stderr.Should().Contain($"Draining agent {agentId}: 1 task left");
        await scheduler.WaitForUpdateAsync("victim", "TASK_KILLED");
        (await Mezzo(cluster, "agent", "list")).Stdout.Should().MatchRegex($@"{agentId}\s+127\.0\.0\.1\s+drained");

        var unknown = await Mezzo(cluster, "agent", "drain", "no-such-agent");
        unknown.Exit.Should().Be(1);
        unknown.Stderr.Should().Contain("no-such-agent");
        var badGrace = await Mezzo(cluster, "agent", "drain", agentId, "--max-grace-period", "soon");
        badGrace.Exit.Should().Be(2);
        badGrace.Stderr.Should().Contain("--max-grace-period: invalid duration 'soon'");
    }

    [Fact]
    public async Task Agent_drain_wait_that_times_out_exits_4_and_the_drain_goes_on()
    {
        await using var cluster = await InProcessCluster.StartAsync();
        await using var scheduler = await RunTaskAsync(cluster, "slow-drain", "stubborn", "trap '' TERM; sleep 600");
        var agentId = (string)(await cluster.StateAsync())["slaves"]![0]!["id"]!;

        var drain = await Mezzo(cluster, "agent", "drain", agentId, "--max-grace-period", "3secs", "--wait", "--timeout", "100ms");

        drain.Exit.Should().Be(4, drain.ToString());
        drain.Stderr.Should().Contain($"Agent {agentId} was not drained within 0.1s (1 task left); it keeps draining");
        drain.Stdout.Should().BeEmpty();
        await Poll.UntilAsync(async () => (await Mezzo(cluster, "agent", "list")).Stdout.Contains("drained", StringComparison.Ordinal), "the drain to finish");
    }

    [Fact]
    public async Task Framework_list_and_teardown_kill_the_frameworks_tasks_and_an_unknown_framework_exits_1()
    {
        await using var cluster = await InProcessCluster.StartAsync();
        await using var scheduler = await RunTaskAsync(cluster, "doomed", "doomed-task", "sleep 600");
        var frameworkId = scheduler.FrameworkId!;

        var list = await Mezzo(cluster, "framework", "list");
        list.Exit.Should().Be(0, list.ToString());
        list.Stdout.Should().MatchRegex($@"{frameworkId}\s+doomed\s+\*\s+active\s+1\s+0\.1\s+32");
        ((string?)(await JsonAsync(cluster, "framework", "list"))[0]!["framework_info"]!["name"]).Should().Be("doomed");

        var teardown = await Mezzo(cluster, "framework", "teardown", frameworkId);
        teardown.Exit.Should().Be(0, teardown.ToString());
        teardown.Stdout.Should().Contain($"Framework {frameworkId} torn down");
        (await cluster.StateAsync())["frameworks"]!.AsArray().Should().BeEmpty();
        (await JsonAsync(cluster, "task", "list", "--state", "killed")).AsArray().Select(t => (string?)t!["task_id"]!["value"]).Should().Equal("doomed-task");
        (await Mezzo(cluster, "framework", "list", "--completed")).Stdout.Should().MatchRegex($@"{frameworkId}\s+doomed\s+\*\s+completed");

        var again = await Mezzo(cluster, "framework", "teardown", frameworkId);
        again.Exit.Should().Be(1);
        again.Stderr.Should().Contain($"No framework found with ID '{frameworkId}'");
    }

    [Fact]
    public async Task Task_list_show_log_follow_and_kill_refusal()
    {
        await using var cluster = await InProcessCluster.StartAsync();
        // The task waits for a file in its sandbox (its /tmp may be private) before its last line.
        await using var scheduler = await RunTaskAsync(cluster, "logger", "chatty",
            "for i in 1 2 3; do echo out-$i; echo err-$i >&2; done; while [ ! -e go ]; do sleep 0.1; done; echo late");

        var list = await Mezzo(cluster, "task", "list");
        list.Exit.Should().Be(0, list.ToString());
        list.Stdout.Should().MatchRegex(@"chatty\s+chatty\s+TASK_RUNNING\s+logger\s+127\.0\.0\.1\s+0\.1\s+32");
        (await JsonAsync(cluster, "task", "list", "--state", "running", "--framework", "logger")).AsArray().Should().ContainSingle();
        (await JsonAsync(cluster, "task", "list", "--state", "running", "--framework", scheduler.FrameworkId!)).AsArray().Should().ContainSingle();
        (await JsonAsync(cluster, "task", "list", "--state", "failed")).AsArray().Should().BeEmpty();
        (await JsonAsync(cluster, "task", "list", "--framework", "someone-else")).AsArray().Should().BeEmpty();

        var show = await Mezzo(cluster, "task", "show", "chatty");
        show.Exit.Should().Be(0, show.ToString());
        show.Stdout.Should().MatchRegex(@"STATE\s+TASK_RUNNING").And.MatchRegex(@"TASK_STARTING\s+SOURCE_EXECUTOR").And.Contain("(logger)");
        ((string?)(await JsonAsync(cluster, "task", "show", "chatty"))["state"]).Should().Be("TASK_RUNNING");

        await Poll.UntilAsync(async () => (await Mezzo(cluster, "task", "log", "chatty")).Stdout == "out-1\nout-2\nout-3\n", "the task's stdout");
        var errors = await Mezzo(cluster, "task", "log", "--stderr", "chatty");
        errors.Exit.Should().Be(0, errors.ToString());
        errors.Stdout.Should().Be("err-1\nerr-2\nerr-3\n");

        // -f prints what is there, keeps following while the task runs, and returns once it has ended.
        var follow = CliRun.Start(null, "task", "log", "-f", "chatty", "--master", cluster.MasterUrl.ToString());
        await Poll.UntilAsync(() => follow.Stdout.Contains("out-3\n", StringComparison.Ordinal), "log -f to print the output so far");
        var sandbox = Path.GetDirectoryName(Directory.EnumerateFiles(cluster.SandboxRoot, "stdout", SearchOption.AllDirectories)
            .First(f => File.ReadAllText(f).StartsWith("out-1", StringComparison.Ordinal)))!;
        await File.WriteAllTextAsync(Path.Combine(sandbox, "go"), "");
        var followed = await follow.WaitAsync();
        followed.Exit.Should().Be(0, followed.ToString());
        followed.Stdout.Should().Be("out-1\nout-2\nout-3\nlate\n");

        (await JsonAsync(cluster, "task", "list", "--state", "finished")).AsArray().Should().ContainSingle();
        (await Mezzo(cluster, "task", "list")).Stdout.Should().NotContain("chatty");
        (await Mezzo(cluster, "task", "list", "--completed")).Stdout.Should().MatchRegex(@"chatty\s+chatty\s+TASK_FINISHED");

        var ended = await Mezzo(cluster, "task", "kill", "chatty");
        ended.Exit.Should().Be(1);
        ended.Stderr.Should().Contain("Task chatty has already ended (TASK_FINISHED)");

        await scheduler.LaunchAsync(await scheduler.NextOfferAsync(), "other", "sleep 600");
        await scheduler.WaitForUpdateAsync("other", "TASK_RUNNING");
        var refused = await Mezzo(cluster, "task", "kill", "other");
        refused.Exit.Should().Be(1);
        refused.Stderr.Should().Contain($"belongs to framework {scheduler.FrameworkId} ('logger')").And.Contain("mezzo framework teardown");

        var unknown = await Mezzo(cluster, "task", "log", "nope");
        unknown.Exit.Should().Be(1);
        unknown.Stderr.Should().Contain("No task with ID 'nope'");
        var badState = await Mezzo(cluster, "task", "list", "--state", "sleeping");
        badState.Exit.Should().Be(2);
        badState.Stderr.Should().Contain("--state: unknown task state 'sleeping'");
    }

    [Fact]
    public async Task Role_list_and_quota_set_list_remove_with_refusals_and_usage_errors()
    {
        await using var cluster = await InProcessCluster.StartAsync();

        var set = await Mezzo(cluster, "quota", "set", "dev", "--cpus", "1.5", "--mem", "512");
        set.Exit.Should().Be(0, set.ToString());
        set.Stdout.Should().Contain("Quota of role 'dev' set");
        var list = await Mezzo(cluster, "quota", "list");
        list.Stdout.Should().MatchRegex(@"dev\s+cpus:1\.5;mem:512\s+cpus:1\.5;mem:512");
        var configs = (await JsonAsync(cluster, "quota", "list")).AsArray();
        ((double?)configs.Single()!["limits"]!["mem"]!["value"]).Should().Be(512);
        (await Mezzo(cluster, "quota", "set", "ops", "--cpus", "2", "--limits-only")).Exit.Should().Be(0);
        (await Mezzo(cluster, "quota", "list")).Stdout.Should().MatchRegex(@"ops\s+-\s+cpus:2");

        var roles = await Mezzo(cluster, "role", "list");
        roles.Exit.Should().Be(0, roles.ToString());
        roles.Stdout.Should().MatchRegex(@"dev\s+1\s+0\s+0\s+0\s+0\s+cpus:1\.5;mem:512\s+cpus:1\.5;mem:512");
        (await JsonAsync(cluster, "role", "list"))["roles"]!.AsArray().Select(r => (string?)r!["name"]).Should().Contain(["dev", "ops"]);

        var tooBig = await Mezzo(cluster, "quota", "set", "dev", "--cpus", "1000");
        tooBig.Exit.Should().Be(1);
        tooBig.Stderr.Should().Contain("400").And.Contain("Invalid QuotaConfig");
        (await Mezzo(cluster, "quota", "set", "dev", "--cpus", "1000", "--force")).Exit.Should().Be(0);

        var removed = await Mezzo(cluster, "quota", "remove", "dev");
        removed.Exit.Should().Be(0, removed.ToString());
        (await Mezzo(cluster, "quota", "list")).Stdout.Should().NotContain("dev");
        var again = await Mezzo(cluster, "quota", "remove", "dev");
        again.Exit.Should().Be(1);
        again.Stderr.Should().Contain("Role 'dev' has no quota set");

        var nothing = await Mezzo(cluster, "quota", "set", "dev");
        nothing.Exit.Should().Be(2);
        nothing.Stderr.Should().Contain("give at least one of --cpus, --mem, --disk");
        var negative = await Mezzo(cluster, "quota", "set", "dev", "--mem", "-1");
        negative.Exit.Should().Be(2);
        negative.Stderr.Should().Contain("--mem must be a non-negative number, not '-1'");
        var word = await Mezzo(cluster, "quota", "set", "dev", "--cpus", "many");
        word.Exit.Should().Be(2);
        word.Stderr.Should().Contain("--cpus must be a non-negative number, not 'many'");
    }

    [Fact]
    public async Task State_prints_a_summary_and_json_is_the_masters_state()
    {
        await using var cluster = await InProcessCluster.StartAsync();
        await using var scheduler = await RunTaskAsync(cluster, "stateful", "s1", "sleep 600");

        var summary = await Mezzo(cluster, "state");
        summary.Exit.Should().Be(0, summary.ToString());
        summary.Stdout.Should().MatchRegex(@"AGENTS\s+1 active, 0 deactivated, 0 unreachable")
            .And.MatchRegex(@"FRAMEWORKS\s+1 registered, 0 completed")
            .And.MatchRegex(@"TASKS\s+1 TASK_RUNNING")
            .And.MatchRegex(@"CPUS\s+0\.1 / 4")
            .And.MatchRegex(@"MEM\s+32 / 4096");

        var json = await JsonAsync(cluster, "state");
        json["slaves"]!.AsArray().Should().ContainSingle();
        ((string?)json["frameworks"]![0]!["name"]).Should().Be("stateful");
        ((string?)json["pid"]).Should().Be((string?)(await cluster.StateAsync())["pid"]);
    }
}
