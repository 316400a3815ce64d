using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Time.Testing;

namespace Mezzo.Jobs.Tests;

/// <summary>The REST API over real HTTP on loopback, with a real store, no master (the API does not need one).</summary>
public sealed class ApiTests : IAsyncLifetime
{
    private readonly TempDir _dir = new();
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 6, 1, 12, 0, 0, TimeSpan.Zero));
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(30) };
    private JobsServer _server = null!;

    public async ValueTask InitializeAsync()
    {
        _server = JobsServer.Create(new JobsOptions { Master = "127.0.0.1:1", Port = 0, Ip = "127.0.0.1", Hostname = "jobs.test", WorkDir = _dir.Path }, time: _time, connect: false);
        await _server.StartAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await _server.DisposeAsync();
        _http.Dispose();
        _dir.Dispose();
    }

    private Uri Url(string path) => new(_server.Url, path);

    private async Task<(HttpStatusCode Status, string Body)> SendAsync(HttpMethod method, string path, string? json = null)
    {
        using var request = new HttpRequestMessage(method, Url(path));
        if (json is not null)
        {
            request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        }

        using var response = await _http.SendAsync(request, TestContext.Current.CancellationToken);
        return (response.StatusCode, await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }

    private async Task<JsonArray> JobsAsync(string path = "v1/scheduler/jobs") =>
        JsonNode.Parse((await SendAsync(HttpMethod.Get, path)).Body)!.AsArray();

    [Fact]
    public async Task Creating_a_scheduled_job_answers_204_and_lists_it_under_both_prefixes()
    {
        var created = await SendAsync(HttpMethod.Post, "v1/scheduler/iso8601", """
            {"schedule": "R10/2026-06-01T13:52:00Z/PT2S", "name": "SAMPLE_JOB1", "epsilon": "PT15M", "command": "echo 'FOO' >> /tmp/JOB1_OUT", "owner": "bob@airbnb.com", "async": false}
            """);
        created.Status.Should().Be(HttpStatusCode.NoContent);
        var job = (await JobsAsync()).Should().ContainSingle().Subject!;
        job["name"]!.GetValue<string>().Should().Be("SAMPLE_JOB1");
        job["epsilon"]!.GetValue<string>().Should().Be("PT15M");
        job["owner"]!.GetValue<string>().Should().Be("bob@airbnb.com");
        (await JobsAsync("scheduler/jobs")).Should().ContainSingle();
    }

    [Fact]
    public async Task Bad_bodies_get_400_with_the_reason_and_nothing_is_stored()
    {
        var cases = new (string Path, string Body, string Reason)[]
        {
            ("v1/scheduler/iso8601", """{"name":"bad","command":"x","schedule":"R/not-a-date/PT1H"}""", "Cannot parse schedule"),
            ("v1/scheduler/iso8601", """{"name":"bad/name","command":"x"}""", "invalid"),
            ("v1/scheduler/iso8601", """{"name":"","command":"x"}""", "invalid"),
            ("v1/scheduler/iso8601", """{"name":"neg","command":"x","mem":-5}""", "'mem'"),
            ("v1/scheduler/iso8601", """{"name":"tz","command":"x","schedule":"R/2026-06-01T13:00:00Z/PT1H","scheduleTimeZone":"Nowhere/Land"}""", "Nowhere/Land"),
            ("v1/scheduler/iso8601", "not json", "Malformed JSON"),
            ("v1/scheduler/iso8601", """{"name":"dep","command":"x","parents":["p"]}""", "dependency"),
            ("v1/scheduler/dependency", """{"name":"orphan","command":"x","parents":["ghost"]}""", "ghost"),
            ("v1/scheduler/dependency", """{"name":"noparents","command":"x"}""", "Error, parent does not exist"),
            ("v1/scheduler/dependency", """{"name":"empty","command":"x","parents":[]}""", "Error, parent does not exist"),
        };
        foreach (var (path, body, reason) in cases)
        {
            var (status, text) = await SendAsync(HttpMethod.Post, path, body);
            status.Should().Be(HttpStatusCode.BadRequest, body);
            text.Should().Contain(reason, body);
        }

        (await JobsAsync()).Should().BeEmpty();
        var apiResult = JsonNode.Parse((await SendAsync(HttpMethod.Post, "v1/scheduler/iso8601", """{"name":"bad","command":"x","schedule":"nope"}""")).Body)!;
        apiResult["status"]!.GetValue<string>().Should().Be("Bad Request");
    }

    [Fact]
    public async Task The_dependent_job_example_from_Chronos_docs_is_accepted_as_is()
    {
        foreach (var parent in new[] { "db_export-airbed_hostings", "db_export-airbed_reservation2s" })
        {
            (await SendAsync(HttpMethod.Post, "v1/scheduler/iso8601", $$"""{"name":"{{parent}}","command":"true","schedule":"R/2026-06-02T00:00:00Z/P1D"}""")).Status.Should().Be(HttpStatusCode.NoContent);
        }

        var created = await SendAsync(HttpMethod.Post, "v1/scheduler/dependency", """
            {
              "async": true,
              "command": "bash -x /srv/data-infra/jobs/hive_query.bash run_hive hostings-earnings-summary",
              "epsilon": "PT30M",
              "errorCount": 0,
              "lastError": "",
              "lastSuccess": "2013-03-15T13:02:14.243Z",
              "name": "hostings_earnings_summary",
              "owner": "bob@airbnb.com",
              "parents": [
                "db_export-airbed_hostings",
                "db_export-airbed_reservation2s"
              ],
              "retries": 2,
              "successCount": 100
            }
            """);
        created.Status.Should().Be(HttpStatusCode.NoContent, created.Body);
        var job = (await JobsAsync()).Single(j => j!["name"]!.GetValue<string>() == "hostings_earnings_summary")!;
        job["successCount"]!.GetValue<long>().Should().Be(100);
        job["lastSuccess"]!.GetValue<string>().Should().Be("2013-03-15T13:02:14.243Z");
        job["async"]!.GetValue<bool>().Should().BeTrue();
        job["parents"]!.AsArray().Select(p => p!.GetValue<string>()).Should().Equal("db_export-airbed_hostings", "db_export-airbed_reservation2s");
        job.AsObject().ContainsKey("schedule").Should().BeFalse("a dependent job has parents, not a schedule");
    }

    [Fact]
    public async Task An_oversized_body_is_413()
    {
        var (status, _) = await SendAsync(HttpMethod.Post, "v1/scheduler/iso8601", "{\"name\":\"" + new string('a', 2 << 20) + "\"}");
        status.Should().Be(HttpStatusCode.RequestEntityTooLarge);
    }

    [Fact]
    public async Task Dependencies_cycles_graph_and_cascading_delete()
    {
        (await SendAsync(HttpMethod.Post, "v1/scheduler/iso8601", """{"name":"a","command":"true","schedule":"R/2026-06-01T13:00:00Z/PT1H"}""")).Status.Should().Be(HttpStatusCode.NoContent);
        (await SendAsync(HttpMethod.Post, "v1/scheduler/dependency", """{"name":"b","command":"true","parents":["a"]}""")).Status.Should().Be(HttpStatusCode.NoContent);
        (await SendAsync(HttpMethod.Post, "v1/scheduler/dependency", """{"name":"c","command":"true","parents":["b"]}""")).Status.Should().Be(HttpStatusCode.NoContent);
        var cycle = await SendAsync(HttpMethod.Post, "v1/scheduler/dependency", """{"name":"b","command":"true","parents":["c"]}""");
        cycle.Status.Should().Be(HttpStatusCode.BadRequest);
        cycle.Body.Should().Contain("b -> c -> b");
        (await SendAsync(HttpMethod.Get, "v1/scheduler/graph/dot")).Body.Should().Contain("1 -> 2;").And.Contain("2 -> 3;");
        (await SendAsync(HttpMethod.Get, "v1/scheduler/graph/csv")).Body.Should().Contain("link,a,b\nlink,b,c\n");
        (await SendAsync(HttpMethod.Delete, "v1/scheduler/job/b")).Status.Should().Be(HttpStatusCode.NoContent);
        var c = (await JobsAsync()).Single(j => j!["name"]!.GetValue<string>() == "c")!;
        c["parents"]!.AsArray().Select(p => p!.GetValue<string>()).Should().Equal("a");
        var missing = await SendAsync(HttpMethod.Delete, "v1/scheduler/job/b");
        missing.Status.Should().Be(HttpStatusCode.BadRequest);
        missing.Body.Should().Be("Job 'b' not found");
    }

    [Fact]
    public async Task Search_filters_by_name_command_and_any_with_limit_and_offset()
    {
        foreach (var (name, command) in new[] { ("alpha_report", "run report"), ("beta_etl", "run etl"), ("gamma", "report card") })
        {
            (await SendAsync(HttpMethod.Post, "v1/scheduler/iso8601", $$"""{"name":"{{name}}","command":"{{command}}","schedule":"R/2026-06-01T13:00:00Z/PT1H"}""")).Status.Should().Be(HttpStatusCode.NoContent);
        }

        async Task<string[]> Names(string query) => [.. (await JobsAsync("v1/scheduler/jobs/search?" + query)).Select(j => j!["name"]!.GetValue<string>())];
        (await Names("name=ALPHA")).Should().Equal("alpha_report");
        (await Names("command=report")).Should().Equal("alpha_report", "gamma");
        (await Names("name=zzz&any=etl")).Should().Equal("beta_etl");
        (await Names("command=run&limit=1&offset=1")).Should().Equal("beta_etl");
        (await SendAsync(HttpMethod.Get, "v1/scheduler/jobs/search?limit=-1")).Status.Should().Be(HttpStatusCode.BadRequest);
        (await SendAsync(HttpMethod.Get, "v1/scheduler/jobs/search?offset=x")).Status.Should().Be(HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Run_now_kill_stats_leader_and_unknown_jobs()
    {
        (await SendAsync(HttpMethod.Post, "v1/scheduler/iso8601", """{"name":"manual","command":"true","schedule":"R/2026-06-01T13:00:00Z/PT1H"}""")).Status.Should().Be(HttpStatusCode.NoContent);
        (await SendAsync(HttpMethod.Put, "v1/scheduler/job/manual?arguments=-debug")).Status.Should().Be(HttpStatusCode.NoContent);
        var stat = JsonNode.Parse((await SendAsync(HttpMethod.Get, "v1/scheduler/job/stat/manual")).Body)!;
        stat["histogram"]!["count"]!.GetValue<int>().Should().Be(0);
        var queued = stat["taskStatHistory"]!.AsArray().Should().ContainSingle().Subject!;
        queued["taskId"]!.GetValue<string>().Should().Be($"ct:{_time.GetUtcNow().ToUnixTimeMilliseconds()}:0:manual:-debug");
        queued["status"]!.GetValue<string>().Should().Be("Idle");
        (await SendAsync(HttpMethod.Delete, "v1/scheduler/task/kill/manual")).Status.Should().Be(HttpStatusCode.NoContent);
        (await SendAsync(HttpMethod.Get, "v1/scheduler/graph/csv")).Body.Should().Be("node,manual,fresh,idle\n");
        (await SendAsync(HttpMethod.Get, "v1/scheduler/stats/99thPercentile")).Body.Should().Be("[]");
        JsonNode.Parse((await SendAsync(HttpMethod.Get, "v1/scheduler/leader")).Body)!["leader"]!.GetValue<string>().Should().Be($"jobs.test:{_server.Url.Port}");
        foreach (var (method, path) in new[] { (HttpMethod.Put, "v1/scheduler/job/ghost"), (HttpMethod.Delete, "v1/scheduler/task/kill/ghost"), (HttpMethod.Get, "v1/scheduler/job/stat/ghost"), (HttpMethod.Put, "v1/scheduler/job/success/ghost") })
        {
            var (status, body) = await SendAsync(method, path);
            status.Should().Be(HttpStatusCode.BadRequest, path);
            body.Should().Contain("ghost");
        }

        var badCallback = await SendAsync(HttpMethod.Put, "v1/scheduler/task/ct:1:0:manual:", """{"statusCode":"zero"}""");
        badCallback.Status.Should().Be(HttpStatusCode.BadRequest);
        badCallback.Body.Should().Contain("statusCode");
        (await SendAsync(HttpMethod.Put, "v1/scheduler/task/ct:1:0:manual:", """{"statusCode":0}""")).Status.Should().Be(HttpStatusCode.BadRequest);
    }

    [Fact]
    public void A_second_service_on_the_same_work_dir_is_refused()
    {
        var second = () => JobsServer.Create(new JobsOptions { Master = "127.0.0.1:1", Port = 0, Ip = "127.0.0.1", WorkDir = _dir.Path }, time: _time, connect: false);
        second.Should().Throw<JobsWorkDirInUseException>().Which.Message.Should().Contain(_dir.Path).And.Contain("--work-dir");
    }

    [Fact]
    public async Task Jobs_survive_a_restart_of_the_service()
    {
        (await SendAsync(HttpMethod.Post, "v1/scheduler/iso8601", """{"name":"kept","command":"true","schedule":"R/2026-06-01T13:00:00Z/P1D","scheduleTimeZone":"Europe/Berlin"}""")).Status.Should().Be(HttpStatusCode.NoContent);
        await _server.DisposeAsync();
        _server = JobsServer.Create(new JobsOptions { Master = "127.0.0.1:1", Port = 0, Ip = "127.0.0.1", WorkDir = _dir.Path }, time: _time, connect: false);
        await _server.StartAsync();
        var job = (await JobsAsync()).Should().ContainSingle().Subject!;
        job["scheduleTimeZone"]!.GetValue<string>().Should().Be("Europe/Berlin");
    }
}
