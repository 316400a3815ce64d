using System.Collections.Concurrent;
using System.Text;
using System.Text.Json.Nodes;
using Mezzo.IntegrationTests.Infrastructure;
using Microsoft.Extensions.Logging;

namespace Mezzo.IntegrationTests.Security;

/// <summary>
/// Issue 10 §6: a task's environment secrets reach the task and nothing else. VALUE secrets travel in the TaskInfo, so
/// every view that echoes task or executor details (state, operator calls, the event stream) and every log line are
/// checked for the value and its base64; REFERENCE secrets come from the agent's --secrets-dir.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class SecretEnvironmentTests
{
    [Fact]
    public async Task A_secret_reaches_the_task_but_no_view_event_or_log_line()
    {
        var value = "value-" + Guid.NewGuid().ToString("N");
        var referenced = "ref-" + Guid.NewGuid().ToString("N");
        var base64 = Convert.ToBase64String(Encoding.UTF8.GetBytes(value));
        using var secrets = new TempDir();
        var file = Path.Combine(secrets.Path, "team", "db.json");
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        await File.WriteAllTextAsync(file, $$"""{"user":"app","password":"{{referenced}}"}""");
        File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var logs = new LogCapture();
        await using var cluster = await InProcessCluster.StartAsync(configureAgent: o => o.SecretsDir = secrets.Path, logging: logs.Configure);
        await using var events = await OperatorStream.OpenAsync(cluster.MasterUrl);
        await using var scheduler = new RawScheduler(cluster.MasterUrl);
        await scheduler.SubscribeAsync(RawScheduler.FrameworkInfo("secrets"));
        var offer = await scheduler.NextOfferAsync();

        // The health check carries a VALUE secret too: a task's health check is part of every task view.
        var secretValue = $$$"""{"type":"VALUE","value":{"data":"{{{base64}}}"}}""";
        var launch = await LaunchAsync(scheduler, offer, "with-secret", """
            {"shell":true,"value":"printf %s \"$SECRET\" > secret.txt; printf %s \"$DB_PASSWORD\" > ref.txt; exec sleep 60","environment":{"variables":[
              {"name":"SECRET","type":"SECRET","secret":SECRET_VALUE},
              {"name":"DB_PASSWORD","type":"SECRET","secret":{"type":"REFERENCE","reference":{"name":"team/db.json","key":"password"}}}]}}
            """.Replace("SECRET_VALUE", secretValue, StringComparison.Ordinal),
            """{"type":"COMMAND","command":{"value":"true","environment":{"variables":[{"name":"CHECK_SECRET","type":"SECRET","secret":SECRET_VALUE}]}},"interval_seconds":60}"""
                .Replace("SECRET_VALUE", secretValue, StringComparison.Ordinal));
        launch.Status.Should().Be(System.Net.HttpStatusCode.Accepted, launch.Body);
        await scheduler.WaitForUpdateAsync("with-secret", "TASK_RUNNING");

        var written = await Poll.UntilAsync(
            () => Task.FromResult(Directory.EnumerateFiles(cluster.SandboxRoot, "ref.txt", SearchOption.AllDirectories).FirstOrDefault() is { } path
                && new FileInfo(path).Length > 0 ? path : null),
            "the task to write its secrets into its sandbox");
        (await File.ReadAllTextAsync(Path.Combine(Path.GetDirectoryName(written)!, "secret.txt"))).Should().Be(value);
        (await File.ReadAllTextAsync(written)).Should().Be(referenced);

        await events.WaitForAsync(e => (string?)e["type"] == "TASK_ADDED", "TASK_ADDED");
        var views = new Dictionary<string, string>
        {
            ["/master/state"] = await cluster.Http.GetStringAsync(new Uri(cluster.MasterUrl, "master/state")),
            ["master GET_TASKS"] = (await cluster.PostJsonAsync("""{"type":"GET_TASKS"}""")).Body,
            ["master GET_STATE"] = (await cluster.PostJsonAsync("""{"type":"GET_STATE"}""")).Body,
            ["master GET_EXECUTORS"] = (await cluster.PostJsonAsync("""{"type":"GET_EXECUTORS"}""")).Body,
            ["agent /state"] = await cluster.Http.GetStringAsync(new Uri(cluster.Agent!.Url, "state")),
            ["agent GET_TASKS"] = await AgentCallAsync(cluster, "GET_TASKS"),
            ["agent GET_STATE"] = await AgentCallAsync(cluster, "GET_STATE"),
            ["agent GET_EXECUTORS"] = await AgentCallAsync(cluster, "GET_EXECUTORS"),
            ["operator event stream"] = string.Join("\n", events.Events.Select(e => e.ToJsonString())),
            ["logs"] = string.Join("\n", logs.Lines),
        };

        foreach (var (view, text) in views)
        {
            text.Should().NotContain(value, view).And.NotContain(base64, view).And.NotContain(referenced, view);
        }

        // The secret is there, redacted: an operator still sees that the check uses a VALUE secret.
        var task = JsonNode.Parse(views["master GET_TASKS"])!["get_tasks"]!["tasks"]![0]!;
        var check = task["health_check"]!["command"]!["environment"]!["variables"]![0]!;
        ((string?)check["type"]).Should().Be("SECRET");
        ((string?)check["secret"]!["type"]).Should().Be("VALUE");
        ((string?)check["secret"]!["value"]!["data"]).Should().BeEmpty();
        logs.Lines.Should().NotBeEmpty("the capture must see the agent's and master's logs for the checks above to mean anything");
    }

    [Fact]
    public async Task A_secret_the_agent_cannot_resolve_fails_the_task_naming_the_reference()
    {
        using var secrets = new TempDir();
        var open = Path.Combine(secrets.Path, "open");
        await File.WriteAllTextAsync(open, "leaked-" + Guid.NewGuid().ToString("N"));
        File.SetUnixFileMode(open, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.OtherRead);
        await using var cluster = await InProcessCluster.StartAsync(configureAgent: o => o.SecretsDir = secrets.Path);
        await using var scheduler = new RawScheduler(cluster.MasterUrl);
        await scheduler.SubscribeAsync(RawScheduler.FrameworkInfo("secrets"));

        foreach (var (taskId, name, expected) in new[]
        {
            ("missing", "team/missing", "secret reference 'team/missing' of environment variable 'PW': no such secret in the secret store"),
            ("world-readable", "open", "secret reference 'open' of environment variable 'PW': the file is readable or writable by every user"),
            ("escaping", "../etc/passwd", "secret reference '../etc/passwd' of environment variable 'PW': the name must be a relative path"),
        })
        {
            var offer = await scheduler.NextOfferAsync();
            var launch = await LaunchAsync(scheduler, offer, taskId, """
                {"shell":true,"value":"echo never","environment":{"variables":[
                  {"name":"PW","type":"SECRET","secret":{"type":"REFERENCE","reference":{"name":"NAME"}}}]}}
                """.Replace("NAME", name, StringComparison.Ordinal));
            launch.Status.Should().Be(System.Net.HttpStatusCode.Accepted, launch.Body);

            var failed = await scheduler.WaitForUpdateAsync(taskId, "TASK_FAILED");
            var status = failed["update"]!["status"]!;
            ((string?)status["reason"]).Should().Be("REASON_CONTAINER_LAUNCH_FAILED");
            ((string?)status["message"]).Should().Contain(expected);
            ((string?)status["message"]).Should().NotContain("leaked-");
        }
    }

    [Fact]
    public async Task An_invalid_secret_is_refused_by_the_master_with_mesos_words()
    {
        await using var cluster = await InProcessCluster.StartAsync();
        await using var scheduler = new RawScheduler(cluster.MasterUrl);
        await scheduler.SubscribeAsync(RawScheduler.FrameworkInfo("secrets"));
        var offer = await scheduler.NextOfferAsync();

        await LaunchAsync(scheduler, offer, "bad", """{"shell":true,"value":"true","environment":{"variables":[{"name":"PW","type":"SECRET","value":"plain"}]}}""");

        var error = await scheduler.WaitForUpdateAsync("bad", "TASK_ERROR");
        ((string?)error["update"]!["status"]!["message"]).Should().Contain("Environment variable 'PW' of type 'SECRET' must have a secret set");
    }

    private static Task<(System.Net.HttpStatusCode Status, string Body)> LaunchAsync(RawScheduler scheduler, JsonObject offer, string taskId, string command, string? healthCheck = null) =>
        scheduler.AcceptAsync(offer, new JsonObject
        {
            ["type"] = "LAUNCH",
            ["launch"] = new JsonObject
            {
                ["task_infos"] = new JsonArray(new JsonObject
                {
                    ["name"] = taskId,
                    ["task_id"] = new JsonObject { ["value"] = taskId },
                    ["agent_id"] = offer["agent_id"]!.DeepClone(),
                    ["resources"] = JsonNode.Parse("""[{"name":"cpus","type":"SCALAR","scalar":{"value":0.1}},{"name":"mem","type":"SCALAR","scalar":{"value":32}}]"""),
                    ["command"] = JsonNode.Parse(command),
                    ["health_check"] = healthCheck is null ? null : JsonNode.Parse(healthCheck),
                }),
            },
        });

    private static async Task<string> AgentCallAsync(InProcessCluster cluster, string type)
    {
        using var content = new StringContent($$"""{"type":"{{type}}"}""", Encoding.UTF8, "application/json");
        using var response = await cluster.Http.PostAsync(new Uri(cluster.Agent!.Url, "api/v1"), content);
        return await response.Content.ReadAsStringAsync();
    }

    /// <summary>Every log line of the in-process master and agent, at every level.</summary>
    private sealed class LogCapture : ILoggerProvider
    {
        private readonly ConcurrentQueue<string> _lines = new();

        public IReadOnlyList<string> Lines => [.. _lines];

        public void Configure(ILoggingBuilder logging)
        {
            logging.SetMinimumLevel(LogLevel.Trace);
            logging.AddProvider(this);
        }

        public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

        public void Dispose()
        {
        }

        private sealed class Logger(LogCapture owner, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                owner._lines.Enqueue($"{category} {logLevel} {formatter(state, exception)} {exception}");
        }
    }
}
