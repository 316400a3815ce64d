using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using AwesomeAssertions;
using Mezzo.Core.Security;
using Mezzo.IntegrationTests.Infrastructure;
using Microsoft.Extensions.Logging;

namespace Mezzo.IntegrationTests.Security;

/// <summary>
/// The agent's authorization on a real cluster: sandboxes and views per team (access_sandboxes, view_*), tasks refused
/// as root or as users the host lacks, and the agent's own credential towards the master.
/// </summary>
public sealed class AgentSecurityTests
{
    /// <summary>alice's team runs as nobody, bob's as daemon; ops sees everything.</summary>
    private const string TeamAcls = """
        {
          "permissive": false,
          "access_sandboxes": [
            {"principals": {"values": ["ops"]}, "users": {"type": "ANY"}},
            {"principals": {"values": ["alice"]}, "users": {"values": ["nobody"]}},
            {"principals": {"values": ["bob"]}, "users": {"values": ["daemon"]}}
          ],
          "view_frameworks": [
            {"principals": {"values": ["ops"]}, "users": {"type": "ANY"}},
            {"principals": {"values": ["alice"]}, "users": {"values": ["nobody"]}}
          ],
          "view_executors": [
            {"principals": {"values": ["ops"]}, "users": {"type": "ANY"}},
            {"principals": {"values": ["alice"]}, "users": {"values": ["nobody"]}}
          ],
          "view_tasks": [
            {"principals": {"values": ["ops"]}, "users": {"type": "ANY"}},
            {"principals": {"values": ["alice"]}, "users": {"values": ["nobody"]}}
          ]
        }
        """;

    private static string Framework(string name, string user)
    {
        var info = JsonNode.Parse(RawScheduler.FrameworkInfo(name))!.AsObject();
        info["user"] = user;
        return info.ToJsonString();
    }

    private static async Task<(HttpStatusCode Status, string Body)> GetAsync(Uri baseUrl, string path, string principal)
    {
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(baseUrl, path));
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{principal}:{principal}-secret")));
        using var response = await http.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    private static async Task<(HttpStatusCode Status, string Body)> OperatorAsync(Uri agent, string json, string principal)
    {
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(agent, "api/v1")) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{principal}:{principal}-secret")));
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        using var response = await http.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    private static async Task<string> RunAsync(InProcessCluster cluster, string frameworkName, string user, string taskId, string command, string state)
    {
        await using var scheduler = new RawScheduler(cluster.MasterUrl);
        await scheduler.SubscribeAsync(Framework(frameworkName, user));
        var offer = await scheduler.NextOfferAsync();
        (await scheduler.LaunchAsync(offer, taskId, command)).Status.Should().Be(HttpStatusCode.Accepted);
        var update = await scheduler.WaitForUpdateAsync(taskId, state);
        return (string?)update["update"]!["status"]!["message"] ?? "";
    }

    [Fact]
    public async Task A_principal_reads_only_its_own_teams_sandboxes_and_sees_only_what_it_may_view()
    {
        await using var cluster = await InProcessCluster.StartAsync(configureAgent: options =>
        {
            options.Security.Credentials = [new Credential("ops", "ops-secret"), new Credential("alice", "alice-secret"), new Credential("bob", "bob-secret")];
            options.Security.AuthenticateHttpReadonly = true;
            options.Security.Acls = Acls.Parse(TeamAcls);
        });
        await RunAsync(cluster, "team-a", "nobody", "a1", "echo from-a", "TASK_FINISHED");
        await RunAsync(cluster, "team-b", "daemon", "b1", "echo from-b", "TASK_FINISHED");
        var agent = cluster.Agent!.Url;
        var state = JsonNode.Parse((await GetAsync(agent, "state", "ops")).Body)!;
        string Sandbox(string frameworkName)
        {
            var framework = state["frameworks"]!.AsArray().Single(f => (string?)f!["name"] == frameworkName)!;
            return (string)framework["executors"]!.AsArray().Concat(framework["completed_executors"]!.AsArray()).Single()!["directory"]!;
        }

        var a = Sandbox("team-a");
        var b = Sandbox("team-b");

        var own = await GetAsync(agent, $"files/read?path={Uri.EscapeDataString(a + "/stdout")}&offset=0", "alice");
        own.Status.Should().Be(HttpStatusCode.OK);
        own.Body.Should().Contain("from-a");
        var theirs = await GetAsync(agent, $"files/read?path={Uri.EscapeDataString(b + "/stdout")}&offset=0", "alice");
        theirs.Status.Should().Be(HttpStatusCode.Forbidden);
        theirs.Body.Should().Contain("principal 'alice'").And.Contain("access_sandboxes");
        (await GetAsync(agent, $"files/download?path={Uri.EscapeDataString(b + "/stdout")}", "alice")).Status.Should().Be(HttpStatusCode.Forbidden);
        (await GetAsync(agent, $"files/browse?path={Uri.EscapeDataString(b)}", "alice")).Status.Should().Be(HttpStatusCode.Forbidden);
        (await GetAsync(agent, $"files/read?path={Uri.EscapeDataString(a + "/stdout")}&offset=0", "bob")).Status.Should().Be(HttpStatusCode.Forbidden);
        (await GetAsync(agent, $"files/read?path={Uri.EscapeDataString(b + "/stdout")}&offset=0", "bob")).Status.Should().Be(HttpStatusCode.OK);
        // The latest symlink leads to the same sandbox, and the same refusal.
        (await GetAsync(agent, $"files/browse?path={Uri.EscapeDataString(Path.GetDirectoryName(b)! + "/latest")}", "alice")).Status.Should().Be(HttpStatusCode.Forbidden);
        // Above the sandboxes every team's executors are listed: only a principal with access to all users may browse there.
        (await GetAsync(agent, $"files/browse?path={Uri.EscapeDataString(cluster.SandboxRoot)}", "alice")).Status.Should().Be(HttpStatusCode.Forbidden);
        (await GetAsync(agent, $"files/browse?path={Uri.EscapeDataString(cluster.SandboxRoot)}", "ops")).Status.Should().Be(HttpStatusCode.OK);

        // The operator API's files calls answer alike.
        var readB = new JsonObject
        {
            ["type"] = "READ_FILE",
            ["read_file"] = new JsonObject { ["path"] = b + "/stdout", ["offset"] = 0 },
        }.ToJsonString();
        (await OperatorAsync(agent, readB, "alice")).Status.Should().Be(HttpStatusCode.Forbidden);
        (await OperatorAsync(agent, readB, "bob")).Status.Should().Be(HttpStatusCode.OK);

        // Views: alice sees team-a's framework, executor and task only; bob may view nothing.
        var aliceState = JsonNode.Parse((await GetAsync(agent, "state", "alice")).Body)!;
        aliceState["frameworks"]!.AsArray().Select(f => (string?)f!["name"]).Should().Equal("team-a");
        aliceState["flags"].Should().BeNull("view_flags allows alice nothing");
        // bob may view no framework, task or executor at all: /state is not his (403), and the operator API (which
        // he may use for sandboxes) shows him none.
        (await GetAsync(agent, "state", "bob")).Status.Should().Be(HttpStatusCode.Forbidden);
        var tasks = JsonNode.Parse((await OperatorAsync(agent, """{"type":"GET_TASKS"}""", "alice")).Body)!["get_tasks"]!;
        ((string[])["pending_tasks", "queued_tasks", "launched_tasks", "terminated_tasks", "completed_tasks"])
            .SelectMany(bucket => tasks[bucket]?.AsArray() ?? []).Select(t => (string?)t!["task_id"]!["value"]).Should().Equal("a1");
        var frameworks = JsonNode.Parse((await OperatorAsync(agent, """{"type":"GET_FRAMEWORKS"}""", "bob")).Body)!["get_frameworks"]!;
        (frameworks["completed_frameworks"]?.AsArray() ?? []).Should().BeEmpty();
        (frameworks["frameworks"]?.AsArray() ?? []).Should().BeEmpty();
        (await OperatorAsync(agent, """{"type":"GET_FLAGS"}""", "alice")).Status.Should().Be(HttpStatusCode.Forbidden);
        (await GetAsync(agent, "flags", "alice")).Status.Should().Be(HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task A_task_that_would_run_as_root_fails_unless_the_agent_allows_root_tasks()
    {
        await using var cluster = await InProcessCluster.StartAsync(configureAgent: options => options.AllowRootTasks = false);

        var named = await RunAsync(cluster, "as-root", "root", "r1", "echo never", "TASK_FAILED");
        named.Should().Contain("user 'root'").And.Contain("--allow-root-tasks");
        var unnamed = await RunAsync(cluster, "no-user", "", "r2", "echo never", "TASK_FAILED");
        unnamed.Should().Contain("names no user").And.Contain("--allow-root-tasks");
        var missing = await RunAsync(cluster, "ghost", "mezzo-no-such-user", "r3", "echo never", "TASK_FAILED");
        missing.Should().Contain("user 'mezzo-no-such-user' does not exist");
    }

    [Fact]
    public async Task A_root_task_runs_when_the_agent_allows_root_tasks()
    {
        await using var cluster = await InProcessCluster.StartAsync(configureAgent: options => options.AllowRootTasks = true);
        await RunAsync(cluster, "as-root", "root", "r1", "test \"$(id -u)\" = 0", "TASK_FINISHED");
    }

    [Fact]
    public async Task A_task_of_user_nobody_runs_with_nobodys_uid_and_writes_its_sandbox()
    {
        await using var cluster = await InProcessCluster.StartAsync(configureAgent: options => options.AllowRootTasks = false);
        await RunAsync(cluster, "as-nobody", "nobody", "n1", "id -u > uid && id -un", "TASK_FINISHED");
        var run = Path.GetDirectoryName(Directory.GetFiles(
            cluster.SandboxRoot, "uid", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = FileAttributes.ReparsePoint }).Single())!;
        (await File.ReadAllTextAsync(Path.Combine(run, "uid"))).Trim().Should().Be("65534");
        (await File.ReadAllTextAsync(Path.Combine(run, "stdout"))).Should().Contain("nobody");
    }

    [Fact]
    public async Task An_agent_registers_with_its_credential_and_stays_unregistered_with_a_wrong_secret()
    {
        await using var cluster = await InProcessCluster.StartAsync(
            configureMaster: options =>
            {
                options.Security.Credentials = [new Credential("agent-1", "right")];
                options.Security.AuthenticateAgents = true;
            },
            withAgent: false);
        // StartAgentAsync returns once the master counts the agent active: the right credential got it registered.
        await cluster.StartAgentAsync(options => options.Credential = new Credential("agent-1", "right"));

        using var dir = new TempDir();
        var logs = new CapturedLogs();
        await using var refused = Mezzo.Agent.AgentServer.Create(
            new Mezzo.Agent.AgentOptions
            {
                Master = cluster.MasterAddress, Port = 0, Ip = "127.0.0.1", Hostname = "refused", WorkDir = dir.Path,
                Resources = "cpus:1;mem:128;disk:100", Isolation = "posix/cpu", Credential = new Credential("agent-1", "Wr0ng-s3cret"),
            },
            logging => logging.AddProvider(logs));
        await refused.StartAsync();
        await Poll.UntilAsync(() => logs.Contains("refused this agent as principal agent-1"), "the agent to log the master's refusal");
        logs.Contains("Wr0ng-s3cret").Should().BeFalse("a secret is never logged");
        var metrics = JsonNode.Parse(await cluster.Http.GetStringAsync(new Uri(refused.Url, "metrics/snapshot")))!;
        ((double)metrics["slave/registered"]!).Should().Be(0);
        var state = await cluster.StateAsync();
        state["slaves"]!.AsArray().Select(s => (string?)s!["hostname"]).Should().NotContain("refused");
    }

    private sealed class CapturedLogs : Microsoft.Extensions.Logging.ILoggerProvider
    {
        private readonly System.Collections.Concurrent.ConcurrentQueue<string> _messages = new();

        public bool Contains(string text) => _messages.Any(m => m.Contains(text, StringComparison.Ordinal));

        public Microsoft.Extensions.Logging.ILogger CreateLogger(string categoryName) => new Logger(_messages);

        public void Dispose()
        {
        }

        private sealed class Logger(System.Collections.Concurrent.ConcurrentQueue<string> messages) : Microsoft.Extensions.Logging.ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(Microsoft.Extensions.Logging.LogLevel logLevel) => true;

            public void Log<TState>(Microsoft.Extensions.Logging.LogLevel logLevel, Microsoft.Extensions.Logging.EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                messages.Enqueue(formatter(state, exception));
        }
    }
}
