using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Mezzo.Core.Security;
using Mezzo.Hosting.Security;

namespace Mezzo.Services.Tests.Http;

/// <summary>
/// Per-principal access to apps and groups: team-a may see and change /team-a only; admin may do anything. A refusal is
/// Marathon's 403 and changes nothing.
/// </summary>
public sealed class AppAccessTests
{
    private const string Acls = """
        {
          "permissive": false,
          "view_app_groups": [
            { "principals": { "values": ["team-a"] }, "paths": { "values": ["/team-a"] } },
            { "principals": { "values": ["admin"] }, "paths": { "type": "ANY" } }
          ],
          "update_app_groups": [
            { "principals": { "values": ["team-a"] }, "paths": { "values": ["/team-a"] } },
            { "principals": { "values": ["admin"] }, "paths": { "type": "ANY" } }
          ]
        }
        """;

    private static Task<ServicesHost> StartAsync(Action<ServicesOptions>? configure = null) => ServicesHost.StartAsync(configure: options =>
    {
        options.Security = new SecurityOptions
        {
            Credentials = [new Credential("team-a", "a-secret"), new Credential("admin", "admin-secret")],
            AuthenticateHttpReadonly = true,
            AuthenticateHttpReadwrite = true,
            Acls = Core.Security.Acls.Parse(Acls),
        };
        configure?.Invoke(options);
    });

    private static async Task<(HttpStatusCode Status, JsonNode? Body)> SendAsync(ServicesHost host, string principal, HttpMethod method, string path, string? json = null)
    {
        using var request = new HttpRequestMessage(method, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{principal}:{(principal == "admin" ? "admin-secret" : "a-secret")}")));
        if (json is not null)
        {
            request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        }

        using var response = await host.Http.SendAsync(request, TestContext.Current.CancellationToken);
        var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        return (response.StatusCode, text.Length == 0 ? null : JsonNode.Parse(text));
    }

    private static async Task SeedAsync(ServicesHost host)
    {
        (await SendAsync(host, "admin", HttpMethod.Post, "/v2/apps", """{"id": "/team-a/web", "cmd": "a", "instances": 1}""")).Status.Should().Be(HttpStatusCode.Created);
        (await SendAsync(host, "admin", HttpMethod.Post, "/v2/apps", """{"id": "/team-b/db", "cmd": "b", "instances": 1}""")).Status.Should().Be(HttpStatusCode.Created);
    }

    private static IEnumerable<string> Ids(JsonNode? array, string field = "id") => array!.AsArray().Select(node => node![field]!.GetValue<string>());

    private static IEnumerable<string> QueuedApps(JsonNode? body) => body!["queue"]!.AsArray().Select(q => q!["app"]!["id"]!.GetValue<string>());

    private static void ShouldBeMarathonsRefusal((HttpStatusCode Status, JsonNode? Body) answer, string what)
    {
        answer.Status.Should().Be(HttpStatusCode.Forbidden, what);
        answer.Body!["message"]!.GetValue<string>().Should().Be("Not Authorized to perform this action!", what);
    }

    [Fact]
    public async Task Team_a_sees_only_its_own_apps_in_every_list()
    {
        await using var host = await StartAsync();
        await SeedAsync(host);

        Ids((await SendAsync(host, "team-a", HttpMethod.Get, "/v2/apps")).Body!["apps"]).Should().Equal("/team-a/web");
        Ids((await SendAsync(host, "admin", HttpMethod.Get, "/v2/apps")).Body!["apps"]).Should().BeEquivalentTo("/team-a/web", "/team-b/db");
        var root = (await SendAsync(host, "team-a", HttpMethod.Get, "/v2/groups")).Body!;
        Ids(root["groups"]).Should().Equal("/team-a");
        QueuedApps((await SendAsync(host, "team-a", HttpMethod.Get, "/v2/queue")).Body).Should().Equal("/team-a/web");
        QueuedApps((await SendAsync(host, "admin", HttpMethod.Get, "/v2/queue")).Body).Should().BeEquivalentTo("/team-a/web", "/team-b/db");
        (await SendAsync(host, "team-a", HttpMethod.Get, "/v2/deployments")).Body!.AsArray()
            .Select(d => string.Join(",", d!["affectedApps"]!.AsArray().Select(a => a!.GetValue<string>()))).Should().Equal("/team-a/web");
        (await SendAsync(host, "admin", HttpMethod.Get, "/v2/deployments")).Body!.AsArray().Should().HaveCount(2);
        ShouldBeMarathonsRefusal(await SendAsync(host, "team-a", HttpMethod.Get, "/v2/apps/team-b/db"), "GET of another team's app");
        ShouldBeMarathonsRefusal(await SendAsync(host, "team-a", HttpMethod.Get, "/v2/apps/team-b/db/tasks"), "GET of another team's tasks");
        ShouldBeMarathonsRefusal(await SendAsync(host, "team-a", HttpMethod.Get, "/v2/groups/team-b"), "GET of another team's group");
        (await SendAsync(host, "team-a", HttpMethod.Get, "/v2/apps/team-a/web")).Status.Should().Be(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Team_a_cannot_change_another_teams_apps_and_nothing_changes()
    {
        await using var host = await StartAsync();
        await SeedAsync(host);

        ShouldBeMarathonsRefusal(await SendAsync(host, "team-a", HttpMethod.Put, "/v2/apps/team-b/db?force=true", """{"cmd": "hijacked"}"""), "PUT");
        ShouldBeMarathonsRefusal(await SendAsync(host, "team-a", HttpMethod.Delete, "/v2/apps/team-b/db?force=true"), "DELETE");
        ShouldBeMarathonsRefusal(await SendAsync(host, "team-a", HttpMethod.Post, "/v2/apps/team-b/db/restart"), "restart");
        ShouldBeMarathonsRefusal(await SendAsync(host, "team-a", HttpMethod.Post, "/v2/apps", """{"id": "/team-b/new", "cmd": "x"}"""), "POST into another team's path");
        ShouldBeMarathonsRefusal(await SendAsync(host, "team-a", HttpMethod.Post, "/v2/apps", """{"id": "/team-ab/new", "cmd": "x"}"""), "a path that only shares a prefix");
        ShouldBeMarathonsRefusal(await SendAsync(host, "team-a", HttpMethod.Put, "/v2/apps?force=true",
            """[{"id": "/team-a/web", "cmd": "a2"}, {"id": "/team-b/db", "cmd": "hijacked"}]"""), "a batch with one foreign app");
        ShouldBeMarathonsRefusal(await SendAsync(host, "team-a", HttpMethod.Delete, "/v2/queue/team-b/db/delay"), "resetting another team's delay");
        ShouldBeMarathonsRefusal(await SendAsync(host, "team-a", HttpMethod.Post, "/v2/eventSubscriptions?callbackUrl=http://127.0.0.1:1/"), "a callback gets every app's events");

        var db = (await SendAsync(host, "admin", HttpMethod.Get, "/v2/apps/team-b/db")).Body!["app"]!;
        db["cmd"]!.GetValue<string>().Should().Be("b");
        (await SendAsync(host, "admin", HttpMethod.Get, "/v2/apps/team-a/web")).Body!["app"]!["cmd"]!.GetValue<string>().Should().Be("a", "the batch was refused as a whole");
        Ids((await SendAsync(host, "admin", HttpMethod.Get, "/v2/apps")).Body!["apps"]).Should().BeEquivalentTo("/team-a/web", "/team-b/db");

        (await SendAsync(host, "team-a", HttpMethod.Post, "/v2/apps", """{"id": "/team-a/api", "cmd": "x"}""")).Status.Should().Be(HttpStatusCode.Created);
        (await SendAsync(host, "team-a", HttpMethod.Put, "/v2/apps/team-a/web?force=true", """{"cmd": "a3"}""")).Status.Should().Be(HttpStatusCode.OK);
    }

    [Fact]
    public async Task A_group_change_that_reaches_outside_the_principals_paths_is_refused_as_a_whole()
    {
        await using var host = await StartAsync();
        await SeedAsync(host);

        ShouldBeMarathonsRefusal(await SendAsync(host, "team-a", HttpMethod.Put, "/v2/groups?force=true", """{"apps": [{"id": "/team-a/web", "cmd": "a"}]}"""),
            "PUT of the root group replaces every team's apps");
        ShouldBeMarathonsRefusal(await SendAsync(host, "team-a", HttpMethod.Post, "/v2/groups",
            """{"id": "/team-a/g", "apps": [{"id": "ok", "cmd": "x"}, {"id": "/team-b/sneak", "cmd": "x"}]}"""), "an absolute id into another team");
        ShouldBeMarathonsRefusal(await SendAsync(host, "team-a", HttpMethod.Put, "/v2/groups/team-a?force=true",
            """{"apps": [{"id": "web", "cmd": "a"}, {"id": "../team-b/db", "cmd": "hijacked"}]}"""), "a relative id climbing out");
        ShouldBeMarathonsRefusal(await SendAsync(host, "team-a", HttpMethod.Delete, "/v2/groups/team-b?force=true"), "DELETE of another team's group");
        ShouldBeMarathonsRefusal(await SendAsync(host, "team-a", HttpMethod.Delete, "/v2/groups?force=true"), "DELETE of the root group");

        Ids((await SendAsync(host, "admin", HttpMethod.Get, "/v2/apps")).Body!["apps"]).Should().BeEquivalentTo("/team-a/web", "/team-b/db");
        (await SendAsync(host, "team-a", HttpMethod.Post, "/v2/groups", """{"id": "/team-a/g", "apps": [{"id": "ok", "cmd": "x"}]}""")).Status.Should().Be(HttpStatusCode.Created);
        (await SendAsync(host, "admin", HttpMethod.Get, "/v2/apps/team-a/g/ok")).Status.Should().Be(HttpStatusCode.OK);
    }

    [Fact]
    public async Task The_event_stream_carries_only_events_of_apps_the_principal_may_see()
    {
        await using var host = await StartAsync();
        var cancellation = TestContext.Current.CancellationToken;
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v2/events?event_type=api_post_event");
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("team-a:a-secret")));
        using var stream = await host.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellation);
        stream.StatusCode.Should().Be(HttpStatusCode.OK);
        using var reader = new StreamReader(await stream.Content.ReadAsStreamAsync(cancellation));

        // In order: the foreign app's event would arrive before team-a's own if the stream let it through.
        await SeedAsync(host);
        var seen = new List<string>();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        while (!seen.Any(line => line.Contains("/team-a/web", StringComparison.Ordinal)))
        {
            var line = await reader.ReadLineAsync(timeout.Token);
            line.Should().NotBeNull("the stream ended early");
            if (line!.StartsWith("data: ", StringComparison.Ordinal))
            {
                seen.Add(line);
            }
        }

        (await SendAsync(host, "admin", HttpMethod.Post, "/v2/apps", """{"id": "/team-b/later", "cmd": "b"}""")).Status.Should().Be(HttpStatusCode.Created);
        (await SendAsync(host, "admin", HttpMethod.Post, "/v2/apps", """{"id": "/team-a/later", "cmd": "a"}""")).Status.Should().Be(HttpStatusCode.Created);
        while (!seen.Any(line => line.Contains("/team-a/later", StringComparison.Ordinal)))
        {
            var line = await reader.ReadLineAsync(timeout.Token);
            line.Should().NotBeNull("the stream ended early");
            if (line!.StartsWith("data: ", StringComparison.Ordinal))
            {
                seen.Add(line);
            }
        }

        seen.Should().NotContain(line => line.Contains("/team-b", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Over_the_rate_limit_a_client_gets_429_with_Retry_After_and_the_probe_is_not_limited()
    {
        await using var host = await StartAsync(options => options.RateLimit = new Hosting.Limits.ClientRateLimitOptions
        {
            PermitsPerSecond = 1,
            Burst = 2,
            ReplenishmentPeriod = TimeSpan.FromMinutes(5),
            ExemptLoopback = false,
        });

        (await SendAsync(host, "team-a", HttpMethod.Get, "/v2/apps")).Status.Should().Be(HttpStatusCode.OK);
        (await SendAsync(host, "team-a", HttpMethod.Get, "/v2/apps")).Status.Should().Be(HttpStatusCode.OK);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v2/apps");
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("team-a:a-secret")));
        using var limited = await host.Http.SendAsync(request, TestContext.Current.CancellationToken);

        limited.StatusCode.Should().Be(HttpStatusCode.TooManyRequests);
        limited.Headers.RetryAfter!.Delta.Should().BePositive();
        (await limited.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)).Should().Contain("principal 'team-a'");
        (await SendAsync(host, "admin", HttpMethod.Get, "/v2/apps")).Status.Should().Be(HttpStatusCode.OK, "each principal has its own bucket");
        for (var i = 0; i < 5; i++)
        {
            (await host.Http.GetAsync("/ping", TestContext.Current.CancellationToken)).StatusCode.Should().Be(HttpStatusCode.OK);
        }
    }
}
