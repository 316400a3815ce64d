using System.Net;
using System.Net.Http.Headers;

namespace Mezzo.Master.Tests.Security;

/// <summary>HTTP Basic in front of a real master: who you are (401) before what you may do (403).</summary>
public sealed class AuthenticationTests
{
    private static async Task AssertChallengedAsync(HttpResponseMessage response, string scheme, string message)
    {
        response.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        response.Headers.WwwAuthenticate.Should().ContainSingle().Which.ToString().Should().Be($"{scheme} realm=\"mezzo\"");
        (await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)).Should().Contain(message);
    }

    [Fact]
    public async Task Missing_malformed_and_wrong_credentials_are_answered_401_with_a_challenge()
    {
        await using var master = await SecureMaster.StartAsync();

        await AssertChallengedAsync(await master.SendAsync(HttpMethod.Get, "/state", null), "Basic", "/state requires authentication");
        await AssertChallengedAsync(await master.SendAsync(HttpMethod.Get, "/state", new AuthenticationHeaderValue("Basic")), "Basic", "Malformed Authorization header");
        await AssertChallengedAsync(await master.SendAsync(HttpMethod.Get, "/state", SecureMaster.Basic("ops", "wrong")), "Basic", "unknown principal or wrong secret");
        await AssertChallengedAsync(await master.SendAsync(HttpMethod.Get, "/state", SecureMaster.Basic("stranger", "ops-secret")), "Basic", "unknown principal or wrong secret");
        await AssertChallengedAsync(await master.SendAsync(HttpMethod.Get, "/state", new AuthenticationHeaderValue("Basic", "%%%not-base64")), "Basic", "not base64");
        await AssertChallengedAsync(await master.SendAsync(HttpMethod.Get, "/state", new AuthenticationHeaderValue("Basic", Convert.ToBase64String("no-colon"u8.ToArray()))),
            "Basic", "expected principal:secret");
        await AssertChallengedAsync(await master.SendAsync(HttpMethod.Get, "/state", new AuthenticationHeaderValue("Digest", "abc")), "Basic", "Unsupported authentication scheme 'Digest'");
        await AssertChallengedAsync(await master.SendAsync(HttpMethod.Get, "/state", new AuthenticationHeaderValue("Bearer", "abc")), "Bearer", "This server accepts no bearer tokens");
    }

    [Fact]
    public async Task Wrong_credentials_are_refused_even_on_the_public_probe()
    {
        await using var master = await SecureMaster.StartAsync();

        (await master.SendAsync(HttpMethod.Get, "/health", null)).StatusCode.Should().Be(HttpStatusCode.OK);
        (await master.SendAsync(HttpMethod.Get, "/health", SecureMaster.Basic("ops", "wrong"))).StatusCode.Should().Be(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task A_known_principal_gets_in_and_one_without_acls_gets_403_naming_it()
    {
        await using var master = await SecureMaster.StartAsync();

        (await master.SendAsync(HttpMethod.Get, "/state", SecureMaster.As("ops"))).StatusCode.Should().Be(HttpStatusCode.OK);
        var refused = await master.SendAsync(HttpMethod.Get, "/state", SecureMaster.As("nobody"));
        refused.StatusCode.Should().Be(HttpStatusCode.Forbidden);
        (await refused.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)).Should()
            .Contain("principal 'nobody' may not use /state").And.Contain("view_frameworks");
    }

    [Fact]
    public async Task Metrics_served_before_routing_are_protected_too()
    {
        await using var master = await SecureMaster.StartAsync();

        await AssertChallengedAsync(await master.SendAsync(HttpMethod.Get, "/metrics", null), "Basic", "/metrics requires authentication");
        var refused = await master.SendAsync(HttpMethod.Get, "/metrics", SecureMaster.As("nobody"));
        refused.StatusCode.Should().Be(HttpStatusCode.Forbidden);
        (await refused.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)).Should().Contain("get_endpoints for '/metrics'");
        var scraped = await master.SendAsync(HttpMethod.Get, "/metrics", SecureMaster.As("ops"));
        scraped.StatusCode.Should().Be(HttpStatusCode.OK);
        (await scraped.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)).Should().Contain("mezzo_master_http_requests_total");
    }

    [Fact]
    public async Task The_logging_toggle_needs_set_log_level()
    {
        await using var master = await SecureMaster.StartAsync();

        (await master.SendAsync(HttpMethod.Get, "/logging/toggle", null)).StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        (await master.SendAsync(HttpMethod.Post, "/logging/toggle?level=1&duration=1secs", SecureMaster.As("team-a"))).StatusCode.Should().Be(HttpStatusCode.Forbidden);
        (await master.SendAsync(HttpMethod.Post, "/logging/toggle?level=1&duration=1secs", SecureMaster.As("ops"))).StatusCode.Should().Be(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Without_the_switches_nothing_is_asked_and_everything_answers()
    {
        await using var master = await SecureMaster.StartAsync("{}", security =>
        {
            security.AuthenticateFrameworks = false;
            security.AuthenticateAgents = false;
            security.AuthenticateHttpReadonly = false;
            security.AuthenticateHttpReadwrite = false;
        });

        (await master.SendAsync(HttpMethod.Get, "/state", null)).StatusCode.Should().Be(HttpStatusCode.OK);
        (await master.SendAsync(HttpMethod.Get, "/metrics", null)).StatusCode.Should().Be(HttpStatusCode.OK);
        // Credentials that are sent are still checked: a wrong secret is never taken for anonymous.
        (await master.SendAsync(HttpMethod.Get, "/state", SecureMaster.Basic("ops", "wrong"))).StatusCode.Should().Be(HttpStatusCode.Unauthorized);
    }
}
