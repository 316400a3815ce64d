using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace Mezzo.Master.Tests.Logging;

/// <summary>
/// A real master (Kestrel, the process's logging pipeline) on a fake clock: SET_LOGGING_LEVEL and /logging/toggle change
/// what its loggers write, and the change ends when the fake clock passes the duration.
/// </summary>
public sealed class MasterLoggingLevelTests : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("mezzo-master-logging-").FullName;
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 25, 12, 0, 0, TimeSpan.Zero));
    private readonly CapturingLoggerProvider _logs = new();
    private readonly HttpClient _http = new();
    private MasterServer _master = null!;

    public async ValueTask InitializeAsync()
    {
        _master = MasterServer.Create(
            new MasterOptions { Port = 0, Ip = "127.0.0.1", Hostname = "127.0.0.1", WorkDir = _dir },
            logging =>
            {
                logging.SetMinimumLevel(LogLevel.Information);
                logging.AddProvider(_logs);
            },
            _time);
        await _master.StartAsync(TestContext.Current.CancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        await _master.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    private async Task<(HttpStatusCode Status, string Body)> CallAsync(string json)
    {
        using var content = new StringContent(json, Encoding.UTF8, "application/json");
        using var response = await _http.PostAsync(new Uri(_master.Url, "api/v1"), content, TestContext.Current.CancellationToken);
        return (response.StatusCode, await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }

    private async Task<uint> LevelAsync()
    {
        var (status, body) = await CallAsync("""{"type":"GET_LOGGING_LEVEL"}""");
        status.Should().Be(HttpStatusCode.OK, body);
        return (uint)JsonNode.Parse(body)!["get_logging_level"]!["level"]!;
    }

    private async Task<(HttpStatusCode Status, string Body)> ToggleAsync(string query)
    {
        using var response = await _http.GetAsync(new Uri(_master.Url, "logging/toggle" + query), TestContext.Current.CancellationToken);
        return (response.StatusCode, await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }

    private int ProcessingLines(string call) => _logs.Entries.Count(e => e.Level == LogLevel.Debug && e.Message == $"Processing call {call}");

    [Fact]
    public async Task Set_logging_level_makes_debug_lines_appear_until_its_duration_has_passed()
    {
        (await CallAsync("""{"type":"GET_HEALTH"}""")).Status.Should().Be(HttpStatusCode.OK);
        ProcessingLines("GET_HEALTH").Should().Be(0, "level 0 logs at the configured Information");

        var (status, body) = await CallAsync("""{"type":"SET_LOGGING_LEVEL","set_logging_level":{"level":1,"duration":{"nanoseconds":60000000000}}}""");
        status.Should().Be(HttpStatusCode.OK, body);
        (await LevelAsync()).Should().Be(1);
        (await CallAsync("""{"type":"GET_HEALTH"}""")).Status.Should().Be(HttpStatusCode.OK);
        ProcessingLines("GET_HEALTH").Should().Be(1);
        _logs.Has(LogLevel.Information, "Logging level set to 1 for 60s").Should().BeTrue();

        _time.Advance(TimeSpan.FromSeconds(60));
        (await LevelAsync()).Should().Be(0);
        (await CallAsync("""{"type":"GET_HEALTH"}""")).Status.Should().Be(HttpStatusCode.OK);
        ProcessingLines("GET_HEALTH").Should().Be(1, "the raised level has ended");
    }

    [Fact]
    public async Task Set_logging_level_without_a_duration_is_a_400_and_changes_nothing()
    {
        var (status, body) = await CallAsync("""{"type":"SET_LOGGING_LEVEL","set_logging_level":{"level":2}}""");

        status.Should().Be(HttpStatusCode.BadRequest);
        body.Should().Contain("Expecting 'set_logging_level.duration' to be present");
        (await LevelAsync()).Should().Be(0);
    }

    [Fact]
    public async Task The_legacy_toggle_reads_raises_and_reverts_the_same_level()
    {
        (await ToggleAsync("")).Should().Be((HttpStatusCode.OK, "0\n"));

        (await ToggleAsync("?level=2&duration=5mins")).Status.Should().Be(HttpStatusCode.OK);
        (await ToggleAsync("")).Body.Should().Be("2\n");
        (await LevelAsync()).Should().Be(2);

        _time.Advance(TimeSpan.FromMinutes(5));
        (await ToggleAsync("")).Body.Should().Be("0\n");
    }

    [Theory]
    [InlineData("?level=1", "Expecting 'duration=value' in query.")]
    [InlineData("?duration=10secs", "Expecting 'level=value' in query.")]
    [InlineData("?level=high&duration=10secs", "Failed to convert 'high' to number.")]
    [InlineData("?level=-1&duration=10secs", "Invalid level '-1'.")]
    [InlineData("?level=1&duration=soon", "Invalid duration 'soon'")]
    [InlineData("?level=1&duration=0secs", "Invalid duration '0secs'")]
    public async Task Bad_toggle_queries_are_a_400_with_the_reason_and_change_nothing(string query, string reason)
    {
        var (status, body) = await ToggleAsync(query);

        status.Should().Be(HttpStatusCode.BadRequest);
        body.Should().Contain(reason);
        (await LevelAsync()).Should().Be(0);
    }
}
