using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Mezzo.Core.Security;
using Mezzo.Hosting.Security;
using Microsoft.Extensions.Time.Testing;

namespace Mezzo.Jobs.Tests;

/// <summary>
/// Per-principal access to jobs: team-a may see and change a-job and a-child only; admin may do anything. A refusal is
/// a 403 naming the principal and the job, and changes nothing.
/// </summary>
public sealed class AccessTests : IAsyncLifetime
{
    private const string Acls = """
        {
          "permissive": false,
          "view_jobs": [
            { "principals": { "values": ["team-a"] }, "jobs": { "values": ["a-job", "a-child"] } },
            { "principals": { "values": ["admin"] }, "jobs": { "type": "ANY" } }
          ],
          "update_jobs": [
            { "principals": { "values": ["team-a"] }, "jobs": { "values": ["a-job", "a-child"] } },
            { "principals": { "values": ["admin"] }, "jobs": { "type": "ANY" } }
          ]
        }
        """;

    private readonly TempDir _dir = new();
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 6, 1, 12, 0, 0, TimeSpan.Zero));
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(30) };
    private JobsServer _server = null!;

    public async ValueTask InitializeAsync()
    {
        _server = JobsServer.Create(new JobsOptions
        {
            Master = "127.0.0.1:1", Port = 0, Ip = "127.0.0.1", Hostname = "jobs.test", WorkDir = _dir.Path,
            Security = new SecurityOptions
            {
                Credentials = [new Credential("team-a", "a-secret"), new Credential("admin", "admin-secret")],
                AuthenticateHttpReadonly = true,
                AuthenticateHttpReadwrite = true,
                Acls = Core.Security.Acls.Parse(Acls),
            },
        }, time: _time, connect: false);
        await _server.StartAsync();
        (await SendAsync("admin", HttpMethod.Post, "v1/scheduler/iso8601", Scheduled("a-job"))).Status.Should().Be(HttpStatusCode.NoContent);
        (await SendAsync("admin", HttpMethod.Post, "v1/scheduler/iso8601", Scheduled("b-job"))).Status.Should().Be(HttpStatusCode.NoContent);
    }

    public async ValueTask DisposeAsync()
    {
        await _server.DisposeAsync();
        _http.Dispose();
        _dir.Dispose();
    }

    private static string Scheduled(string name) => $$"""{"name": "{{name}}", "command": "true", "schedule": "R/2026-06-02T00:00:00Z/PT1H"}""";

    private async Task<(HttpStatusCode Status, string Body)> SendAsync(string principal, HttpMethod method, string path, string? json = null)
    {
        using var request = new HttpRequestMessage(method, new Uri(_server.Url, path));
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{principal}:{(principal == "admin" ? "admin-secret" : "a-secret")}")));
        if (json is not null)
        {
            request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        }

        using var response = await _http.SendAsync(request, TestContext.Current.CancellationToken);
        return (response.StatusCode, await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }

    private async Task<List<string>> NamesAsync(string principal, string path = "v1/scheduler/jobs") =>
        [.. JsonNode.Parse((await SendAsync(principal, HttpMethod.Get, path)).Body)!.AsArray().Select(job => job!["name"]!.GetValue<string>())];

    [Fact]
    public async Task Team_a_sees_only_its_jobs_in_the_list_the_search_the_stats_and_the_graph()
    {
        (await NamesAsync("team-a")).Should().Equal("a-job");
        (await NamesAsync("team-a", "scheduler/jobs")).Should().Equal("a-job");
        (await NamesAsync("team-a", "v1/scheduler/jobs/search?any=job")).Should().Equal("a-job");
        (await NamesAsync("admin")).Should().BeEquivalentTo("a-job", "b-job");
        (await SendAsync("team-a", HttpMethod.Get, "v1/scheduler/graph/dot")).Body.Should().NotContain("b-job");
        (await SendAsync("team-a", HttpMethod.Get, "v1/scheduler/graph/csv")).Body.Should().Contain("a-job").And.NotContain("b-job");
        (await SendAsync("admin", HttpMethod.Get, "v1/scheduler/graph/csv")).Body.Should().Contain("b-job");
        var stat = await SendAsync("team-a", HttpMethod.Get, "v1/scheduler/job/stat/b-job");
        stat.Status.Should().Be(HttpStatusCode.Forbidden);
        stat.Body.Should().Contain("principal 'team-a'").And.Contain("'b-job'");
        (await SendAsync("team-a", HttpMethod.Get, "v1/scheduler/job/stat/a-job")).Status.Should().Be(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Team_a_cannot_run_change_or_delete_another_teams_job_and_nothing_changes()
    {
        foreach (var (method, path, body) in new (HttpMethod, string, string?)[]
        {
            (HttpMethod.Put, "v1/scheduler/job/b-job", null),
            (HttpMethod.Delete, "v1/scheduler/job/b-job", null),
            (HttpMethod.Put, "v1/scheduler/job/success/b-job", null),
            (HttpMethod.Delete, "v1/scheduler/task/kill/b-job", null),
            (HttpMethod.Post, "v1/scheduler/iso8601", Scheduled("b-job")),
            (HttpMethod.Post, "v1/scheduler/iso8601", Scheduled("b-new")),
        })
        {
            var (status, text) = await SendAsync("team-a", method, path, body);
            status.Should().Be(HttpStatusCode.Forbidden, $"{method} {path}");
            text.Should().Contain("principal 'team-a'", $"{method} {path}");
        }

        (await NamesAsync("admin")).Should().BeEquivalentTo("a-job", "b-job");
        var history = JsonNode.Parse((await SendAsync("admin", HttpMethod.Get, "v1/scheduler/job/stat/b-job")).Body)!["taskStatHistory"]!.AsArray();
        history.Should().BeEmpty("the refused manual run queued nothing");
        (await SendAsync("team-a", HttpMethod.Put, "v1/scheduler/job/a-job")).Status.Should().Be(HttpStatusCode.NoContent);
    }

    [Fact]
    public async Task Team_a_cannot_complete_a_task_of_another_teams_job()
    {
        (await SendAsync("admin", HttpMethod.Put, "v1/scheduler/job/b-job")).Status.Should().Be(HttpStatusCode.NoContent);
        var taskId = JsonNode.Parse((await SendAsync("admin", HttpMethod.Get, "v1/scheduler/job/stat/b-job")).Body)!["taskStatHistory"]!.AsArray()
            .Should().ContainSingle().Subject!["taskId"]!.GetValue<string>();

        var refused = await SendAsync("team-a", HttpMethod.Put, $"v1/scheduler/task/{taskId}", """{"statusCode": 0}""");

        refused.Status.Should().Be(HttpStatusCode.Forbidden);
        refused.Body.Should().Contain("'b-job'");
        JsonNode.Parse((await SendAsync("admin", HttpMethod.Get, "v1/scheduler/job/stat/b-job")).Body)!["taskStatHistory"]![0]!["state"]!.GetValue<string>()
            .Should().NotBe("Succeeded");
    }

    [Fact]
    public async Task Over_the_rate_limit_a_client_gets_429_with_Retry_After()
    {
        using var dir = new TempDir();
        await using var limited = JobsServer.Create(new JobsOptions
        {
            Master = "127.0.0.1:1", Port = 0, Ip = "127.0.0.1", Hostname = "jobs.test", WorkDir = dir.Path,
            RateLimit = new Hosting.Limits.ClientRateLimitOptions { PermitsPerSecond = 1, Burst = 1, ReplenishmentPeriod = TimeSpan.FromMinutes(5), ExemptLoopback = false },
        }, time: _time, connect: false);
        await limited.StartAsync();

        (await _http.GetAsync(new Uri(limited.Url, "v1/scheduler/jobs"), TestContext.Current.CancellationToken)).StatusCode.Should().Be(HttpStatusCode.OK);
        using var refused = await _http.GetAsync(new Uri(limited.Url, "v1/scheduler/jobs"), TestContext.Current.CancellationToken);

        refused.StatusCode.Should().Be(HttpStatusCode.TooManyRequests);
        refused.Headers.RetryAfter!.Delta.Should().BePositive();
        (await _http.GetAsync(new Uri(limited.Url, "ping"), TestContext.Current.CancellationToken)).StatusCode.Should().Be(HttpStatusCode.OK, "the probe is not limited");
    }

    [Fact]
    public async Task A_principal_may_not_make_its_job_depend_on_a_job_it_cannot_see()
    {
        var refused = await SendAsync("team-a", HttpMethod.Post, "v1/scheduler/dependency", """{"name": "a-child", "command": "true", "parents": ["b-job"]}""");

        refused.Status.Should().Be(HttpStatusCode.Forbidden);
        refused.Body.Should().Contain("'a-child'").And.Contain("'b-job'");
        (await NamesAsync("admin")).Should().NotContain("a-child");
        (await SendAsync("team-a", HttpMethod.Post, "v1/scheduler/dependency", """{"name": "a-child", "command": "true", "parents": ["a-job"]}""")).Status
            .Should().Be(HttpStatusCode.NoContent);
        (await NamesAsync("team-a")).Should().BeEquivalentTo("a-job", "a-child");
    }

    [Fact]
    public async Task Without_credentials_the_api_answers_401_and_the_probe_answers()
    {
        using var anonymous = await _http.GetAsync(new Uri(_server.Url, "v1/scheduler/jobs"), TestContext.Current.CancellationToken);
        anonymous.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        anonymous.Headers.WwwAuthenticate.ToString().Should().Contain("Basic");
        (await _http.GetAsync(new Uri(_server.Url, "ping"), TestContext.Current.CancellationToken)).StatusCode.Should().Be(HttpStatusCode.OK);
    }
}
