using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Mezzo.Agent;
using Mezzo.Agent.Sandbox;
using Mezzo.IntegrationTests.Infrastructure;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace Mezzo.IntegrationTests;

/// <summary>Issue 9 §6, logs: the log format flags, the agent's runtime logging level, and rotated sandbox logs.</summary>
public sealed class LoggingTests
{
    [Fact]
    public async Task A_master_started_with_log_format_json_writes_one_parseable_json_object_per_line()
    {
        using var dir = new TempDir();
        var before = DateTimeOffset.UtcNow.AddSeconds(-1);
        await using var master = MezzoProcess.Start("master", "--port", "0", "--ip", "127.0.0.1", "--work-dir", dir.Path, "--log-format", "json");
        var url = await master.WaitForUrlAsync();
        // Something to log at Information (the level change, with its structured level and duration) and at Debug (the
        // call, inside Kestrel's connection scope).
        await PostAsync(url, """{"type":"SET_LOGGING_LEVEL","set_logging_level":{"level":1,"duration":{"nanoseconds":60000000000}}}""");
        await PostAsync(url, """{"type":"GET_HEALTH"}""");
        var lines = await Poll.UntilAsync(
            () => Task.FromResult<List<string>?>(master.Output.Split('\n').Where(l => l.StartsWith('{')).ToList() is { Count: >= 2 } found ? found : null),
            "the master to log in JSON");

        foreach (var line in lines)
        {
            var entry = JsonNode.Parse(line)!.AsObject();
            entry.Select(p => p.Key).Should().Contain(["Timestamp", "EventId", "LogLevel", "Category", "Message", "State"], line);
            var timestamp = (string)entry["Timestamp"]!;
            timestamp.Should().MatchRegex(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", "UTC ISO 8601");
            DateTimeOffset.Parse(timestamp, CultureInfo.InvariantCulture).Should().BeOnOrAfter(before);
            ((string)entry["Category"]!).Should().StartWith("Mezzo.");
            entry["State"]!.GetValueKind().Should().Be(JsonValueKind.Object);
            ((string?)entry["State"]!["{OriginalFormat}"]).Should().NotBeNullOrEmpty("the structured state carries the message template");
        }

        var set = lines.Select(l => JsonNode.Parse(l)!).Single(e => (string?)e["Message"] == "Logging level set to 1 for 60s");
        ((string?)set["LogLevel"]).Should().Be("Information");
        ((int)set["State"]!["Level"]!).Should().Be(1);
        ((double)set["State"]!["Seconds"]!).Should().Be(60);
        var call = lines.Select(l => JsonNode.Parse(l)!).Single(e => (string?)e["Message"] == "Processing call GET_HEALTH");
        ((string?)call["LogLevel"]).Should().Be("Debug");
        ((string?)call["State"]!["Type"]).Should().Be("GET_HEALTH");
        call["Scopes"]!.AsArray().Should().Contain(scope => scope!["ConnectionId"] != null, "the request's scopes are included");

        master.Output.Split('\n').Where(l => l.Length > 0 && !l.StartsWith('{')).Should()
            .OnlyContain(l => l.StartsWith("Mezzo master ", StringComparison.Ordinal), "besides JSON there is only what the command prints on stdout");
    }

    [Fact]
    public async Task The_console_format_is_one_line_per_event_with_a_utc_timestamp()
    {
        using var dir = new TempDir();
        await using var master = MezzoProcess.Start("master", "--port", "0", "--ip", "127.0.0.1", "--work-dir", dir.Path, "--log_format", "console");
        var url = await master.WaitForUrlAsync();
        await PostAsync(url, """{"type":"SET_LOGGING_LEVEL","set_logging_level":{"level":1,"duration":{"nanoseconds":60000000000}}}""");

        var line = await Poll.UntilAsync(
            () => Task.FromResult(master.Output.Split('\n').FirstOrDefault(l => l.Contains("Logging level set to 1 for 60s", StringComparison.Ordinal))),
            "a console log line");
        line.Should().MatchRegex(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z info: Mezzo\.Master\.Actor\.MasterActor\[\d+\] Logging level set to 1 for 60s$");
    }

    private static async Task PostAsync(Uri url, string json)
    {
        using var http = new HttpClient();
        using var content = new StringContent(json, Encoding.UTF8, "application/json");
        using var response = await http.PostAsync(new Uri(url, "api/v1"), content);
        response.StatusCode.Should().Be(HttpStatusCode.OK);
    }

    [Theory]
    [InlineData(new[] { "master", "--log-format", "xml" }, "--log-format: unknown format 'xml'; expected one of: console, json")]
    [InlineData(new[] { "agent", "--master", "x:1", "--log-format", "xml" }, "--log-format: unknown format 'xml'")]
    [InlineData(new[] { "services", "--master", "x:1", "--log-format", "yaml" }, "--log-format: unknown format 'yaml'")]
    [InlineData(new[] { "jobs", "--master", "x:1", "--log-format", "text" }, "--log-format: unknown format 'text'")]
    [InlineData(new[] { "dev", "--log-format", "xml" }, "--log-format: unknown format 'xml'")]
    [InlineData(new[] { "execute", "--master", "x:1", "--name", "n", "--command", "true", "--log-format", "xml" }, "--log-format: unknown format 'xml'")]
    [InlineData(new[] { "master", "--log-level", "loud" }, "--log-level: unknown level 'loud'")]
    [InlineData(new[] { "master", "--logging_level", "chatty" }, "--log-level: unknown level 'chatty'")]
    [InlineData(new[] { "agent", "--master", "x:1", "--container-logger", "journald" }, "--container-logger: unknown logger 'journald'; expected one of: sandbox, logrotate")]
    [InlineData(new[] { "agent", "--master", "x:1", "--container-logger-max-size", "huge" }, "--container-logger-max-size: 'huge' is not a positive size")]
    [InlineData(new[] { "agent", "--master", "x:1", "--container-logger-max-size", "0" }, "--container-logger-max-size: '0' is not a positive size")]
    [InlineData(new[] { "dev", "--container-logger-max-files", "-1" }, "--container-logger-max-files must be between 0 and 1000")]
    public async Task Bad_logging_flags_exit_2_naming_the_flag(string[] args, string message)
    {
        await using var process = MezzoProcess.Start(args);

        (await process.WaitForExitAsync(TimeSpan.FromSeconds(30))).Should().Be(2, process.Output);
        process.Output.Should().Contain(message);
    }

    [Fact]
    public async Task Log_format_and_level_also_come_from_the_environment()
    {
        using var dir = new TempDir();
        await using var master = MezzoProcess.Start(
            new Dictionary<string, string> { ["MEZZO_LOG_FORMAT"] = "json", ["MEZZO_LOG_LEVEL"] = "debug" },
            "master", "--port", "0", "--ip", "127.0.0.1", "--work-dir", dir.Path);
        var url = await master.WaitForUrlAsync();
        using var http = new HttpClient();
        using var content = new StringContent("""{"type":"GET_HEALTH"}""", Encoding.UTF8, "application/json");
        (await http.PostAsync(new Uri(url, "api/v1"), content)).StatusCode.Should().Be(HttpStatusCode.OK);

        await Poll.UntilAsync(
            () => Task.FromResult(master.Output.Split('\n').Any(l => l.StartsWith('{') && l.Contains("\"LogLevel\":\"Debug\"", StringComparison.Ordinal) && l.Contains("Processing call GET_HEALTH", StringComparison.Ordinal))),
            "a JSON debug line for the call");
    }

    [Fact]
    public async Task The_agents_set_logging_level_raises_its_verbosity_until_the_duration_passes_on_its_clock()
    {
        using var dir = new TempDir();
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var logs = new CapturedLogs();
        // No master is needed for the operator API: the agent serves it once it has recovered its (empty) work dir.
        await using var agent = AgentServer.Create(
            new AgentOptions { Master = $"127.0.0.1:{Ports.Free()}", Port = 0, Ip = "127.0.0.1", Hostname = "127.0.0.1", WorkDir = dir.Path, Resources = "cpus:1;mem:128", Isolation = "posix/cpu" },
            logging => logging.AddProvider(logs),
            time);
        await agent.StartAsync();
        using var http = new HttpClient();

        async Task<(HttpStatusCode Status, string Body)> Call(string json)
        {
            using var content = new StringContent(json, Encoding.UTF8, "application/json");
            using var response = await http.PostAsync(new Uri(agent.Url, "api/v1"), content);
            return (response.StatusCode, await response.Content.ReadAsStringAsync());
        }

        async Task<uint> Level() => (uint)JsonNode.Parse((await Call("""{"type":"GET_LOGGING_LEVEL"}""")).Body)!["get_logging_level"]!["level"]!;

        int Processing() => logs.Count(LogLevel.Debug, "Processing call GET_HEALTH");

        (await Level()).Should().Be(0);
        (await Call("""{"type":"GET_HEALTH"}""")).Status.Should().Be(HttpStatusCode.OK);
        Processing().Should().Be(0);

        var set = await Call("""{"type":"SET_LOGGING_LEVEL","set_logging_level":{"level":1,"duration":{"nanoseconds":30000000000}}}""");
        set.Status.Should().Be(HttpStatusCode.OK, set.Body);
        (await Level()).Should().Be(1);
        (await Call("""{"type":"GET_HEALTH"}""")).Status.Should().Be(HttpStatusCode.OK);
        Processing().Should().Be(1, "level 1 lets Debug through");

        time.Advance(TimeSpan.FromSeconds(30));
        (await Level()).Should().Be(0);
        (await Call("""{"type":"GET_HEALTH"}""")).Status.Should().Be(HttpStatusCode.OK);
        Processing().Should().Be(1, "the level went back to 0 when the duration passed");

        // The legacy endpoint drives the same level.
        using (var toggled = await http.GetAsync(new Uri(agent.Url, "logging/toggle?level=2&duration=1mins")))
        {
            toggled.StatusCode.Should().Be(HttpStatusCode.OK);
        }

        (await Level()).Should().Be(2);
        (await http.GetStringAsync(new Uri(agent.Url, "logging/toggle"))).Should().Be("2\n");
        time.Advance(TimeSpan.FromMinutes(1));
        (await Level()).Should().Be(0);
    }

    [Fact]
    public async Task The_jobs_and_services_processes_serve_the_toggle_on_their_own_clock_too()
    {
        using var dir = new TempDir();
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var jobs = Mezzo.Jobs.JobsServer.Create(
            new Mezzo.Jobs.JobsOptions { Master = "127.0.0.1:1", Port = 0, Ip = "127.0.0.1", WorkDir = Path.Combine(dir.Path, "jobs") }, time: time, connect: false);
        await jobs.StartAsync();
        await using var services = Mezzo.Services.ServicesServer.Create(
            new Mezzo.Services.ServicesOptions { Master = $"127.0.0.1:{Ports.Free()}", Port = 0, Ip = "127.0.0.1", Hostname = "127.0.0.1", WorkDir = Path.Combine(dir.Path, "services") }, time: time);
        await services.StartAsync();
        using var http = new HttpClient();

        foreach (var url in (Uri[])[jobs.Url, services.Url])
        {
            (await http.GetStringAsync(new Uri(url, "logging/toggle"))).Should().Be("0\n", url.ToString());
            using (var raised = await http.GetAsync(new Uri(url, "logging/toggle?level=1&duration=30secs")))
            {
                raised.StatusCode.Should().Be(HttpStatusCode.OK);
            }

            (await http.GetStringAsync(new Uri(url, "logging/toggle"))).Should().Be("1\n");
            using var bad = await http.GetAsync(new Uri(url, "logging/toggle?duration=30secs"));
            bad.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        }

        time.Advance(TimeSpan.FromSeconds(30));
        (await http.GetStringAsync(new Uri(jobs.Url, "logging/toggle"))).Should().Be("0\n");
        (await http.GetStringAsync(new Uri(services.Url, "logging/toggle"))).Should().Be("0\n");
    }

    [Theory]
    [InlineData("""{"type":"SET_LOGGING_LEVEL","set_logging_level":{"level":1}}""", "Expecting 'set_logging_level.duration' to be present")]
    [InlineData("""{"type":"SET_LOGGING_LEVEL","set_logging_level":{"duration":{"nanoseconds":1000}}}""", "Expecting 'set_logging_level.level' to be present")]
    [InlineData("""{"type":"SET_LOGGING_LEVEL"}""", "Expecting 'set_logging_level' to be present")]
    [InlineData("""{"type":"SET_LOGGING_LEVEL","set_logging_level":{"level":1,"duration":{"nanoseconds":-5}}}""", "must be positive")]
    public async Task Bad_set_logging_level_calls_to_the_agent_are_a_400_and_change_nothing(string call, string reason)
    {
        await using var cluster = await InProcessCluster.StartAsync();
        using var content = new StringContent(call, Encoding.UTF8, "application/json");
        using var response = await cluster.Http.PostAsync(new Uri(cluster.Agent!.Url, "api/v1"), content);

        response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await response.Content.ReadAsStringAsync()).Should().Contain(reason);
        cluster.Agent.Verbosity.Level.Should().Be(0);
        (await cluster.Http.GetAsync(new Uri(cluster.Agent.Url, "logging/toggle?level=1"))).StatusCode.Should().Be(HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task A_chatty_task_under_logrotate_leaves_at_most_max_files_plus_one_in_its_sandbox_with_the_latest_output_in_stdout()
    {
        await using var cluster = await InProcessCluster.StartAsync(configureAgent: o => o.ContainerLogger = new ContainerLoggerOptions
        {
            Kind = ContainerLoggerKind.Logrotate,
            MaxSize = 1024 * 1024,
            MaxFiles = 3,
        });
        await using var scheduler = new RawScheduler(cluster.MasterUrl);
        await scheduler.SubscribeAsync(RawScheduler.FrameworkInfo());

        // 50 MB of "y" lines, then one marker line: the latest output.
        await scheduler.LaunchAsync(await scheduler.NextOfferAsync(), "chatty", "yes | head -c 52428800; echo the-end; echo oops >&2");

        var finished = await scheduler.WaitForAsync(
            e => (string?)e["type"] == "UPDATE" && (string?)e["update"]?["status"]?["task_id"]?["value"] == "chatty"
                && (string?)e["update"]?["status"]?["state"] is not ("TASK_STARTING" or "TASK_RUNNING"),
            "chatty to end");
        ((string?)finished["update"]!["status"]!["state"]).Should().Be("TASK_FINISHED", finished.ToJsonString());
        var sandbox = Path.Combine(cluster.SandboxRoot, (string)finished["update"]!["status"]!["agent_id"]!["value"]!, "frameworks", scheduler.FrameworkId!, "executors", "chatty", "runs", "latest");
        var stdout = Directory.GetFiles(sandbox, "stdout*").Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList();
        stdout.Should().Equal("stdout", "stdout.1", "stdout.2", "stdout.3");
        stdout.Sum(f => new FileInfo(Path.Combine(sandbox, f!)).Length).Should().BeLessThanOrEqualTo(4L * 1024 * 1024);
        // 50 MB is exactly 50 files' worth: the last rotation came just before the marker.
        (await File.ReadAllTextAsync(Path.Combine(sandbox, "stdout"))).Should().Be("the-end\n");
        (await File.ReadAllTextAsync(Path.Combine(sandbox, "stdout.1"))).Should().MatchRegex("^(y\n)+$");
        (await File.ReadAllTextAsync(Path.Combine(sandbox, "stderr"))).Should().EndWith("oops\n");

        var state = JsonNode.Parse(await cluster.Http.GetStringAsync(new Uri(cluster.Agent!.Url, "state")))!;
        ((string?)state["flags"]!["container_logger"]).Should().Be("logrotate");
        ((string?)state["flags"]!["container_logger_max_files"]).Should().Be("3");
    }

    /// <summary>Everything the in-process agent's logging pipeline lets through to a provider.</summary>
    private sealed class CapturedLogs : ILoggerProvider
    {
        private readonly System.Collections.Concurrent.ConcurrentQueue<(LogLevel Level, string Message)> _entries = new();

        public int Count(LogLevel level, string message) => _entries.Count(e => e.Level == level && e.Message == message);

        public ILogger CreateLogger(string categoryName) => new Logger(_entries);

        public void Dispose()
        {
        }

        private sealed class Logger(System.Collections.Concurrent.ConcurrentQueue<(LogLevel, string)> entries) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                entries.Enqueue((logLevel, formatter(state, exception)));
        }
    }
}
