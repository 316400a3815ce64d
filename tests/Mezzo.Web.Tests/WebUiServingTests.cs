using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using Mezzo.Master;
using Mezzo.Web.Hosting;

namespace Mezzo.Web.Tests;

/// <summary>The master serving the UI, in process and without a browser: assets, caching, client routes, and that no API route is shadowed.</summary>
public sealed partial class WebUiServingTests : IAsyncLifetime
{
    private readonly string _workDir = Path.Combine(Path.GetTempPath(), "mezzo-web-serving-" + Guid.NewGuid().ToString("N")[..12]);
    private MasterServer _master = null!;
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(60) };

    public async ValueTask InitializeAsync()
    {
        _master = MasterServer.Create(new MasterOptions { Port = 0, WorkDir = _workDir });
        await _master.StartAsync(TestContext.Current.CancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        await _master.DisposeAsync();
        Directory.Delete(_workDir, recursive: true);
    }

    private Uri Url(string path) => new(_master.Url, path);

    [Fact]
    public async Task The_usage_history_for_the_overview_chart_is_served_as_json_from_the_first_tick()
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        System.Text.Json.Nodes.JsonArray samples;
        while (true)
        {
            using var response = await _http.GetAsync(Url("mezzo/usage"), TestContext.Current.CancellationToken);
            response.StatusCode.Should().Be(HttpStatusCode.OK);
            response.Content.Headers.ContentType!.MediaType.Should().Be("application/json");
            samples = System.Text.Json.Nodes.JsonNode.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken))!["samples"]!.AsArray();
            if (samples.Count > 0 || DateTime.UtcNow > deadline)
            {
                break;
            }

            await Task.Delay(100, TestContext.Current.CancellationToken);
        }

        samples.Should().NotBeEmpty("the master samples on its first tick");
        var sample = samples[^1]!;
        sample["time"]!.GetValue<double>().Should().BeGreaterThan(DateTimeOffset.UtcNow.AddMinutes(-5).ToUnixTimeSeconds());
        sample["cpus"]!.AsArray().Should().HaveCount(2, "used and total");
        sample["mem"]!.AsArray().Should().HaveCount(2);
        sample["disk"]!.AsArray().Should().HaveCount(2);
    }

    [Fact]
    public void The_embedded_assets_include_the_shell_every_page_module_and_the_stylesheet()
    {
        WebAssets.All.Keys.Should().Contain(["index.html", "css/app.css", "js/app.js", "js/api.js", "js/dom.js", "js/store.js", "favicon.svg",
            "js/pages/overview.js", "js/pages/agents.js", "js/pages/frameworks.js", "js/pages/tasks.js", "js/pages/roles.js", "js/pages/services.js", "js/pages/jobs.js"]);
    }

    [Fact]
    public async Task Every_embedded_asset_is_served_with_its_content_type_an_etag_and_revalidation()
    {
        foreach (var asset in WebAssets.All.Values)
        {
            using var response = await _http.GetAsync(Url("ui/assets/" + asset.Name), TestContext.Current.CancellationToken);
            response.StatusCode.Should().Be(HttpStatusCode.OK, asset.Name);
            response.Content.Headers.ContentType!.ToString().Should().Be(asset.ContentType, asset.Name);
            (await response.Content.ReadAsByteArrayAsync(TestContext.Current.CancellationToken)).Should().Equal(asset.Content, asset.Name);
            response.Headers.ETag!.Tag.Should().Be(asset.ETag);
            response.Headers.CacheControl!.NoCache.Should().BeTrue();

            using var again = new HttpRequestMessage(HttpMethod.Get, Url("ui/assets/" + asset.Name));
            again.Headers.TryAddWithoutValidation("If-None-Match", asset.ETag);
            using var notModified = await _http.SendAsync(again, TestContext.Current.CancellationToken);
            notModified.StatusCode.Should().Be(HttpStatusCode.NotModified, asset.Name);
        }

        WebAssets.All["js/app.js"].ContentType.Should().Be("text/javascript; charset=utf-8");
        WebAssets.All["css/app.css"].ContentType.Should().Be("text/css; charset=utf-8");
        WebAssets.All["favicon.svg"].ContentType.Should().Be("image/svg+xml");
    }

    [Fact]
    public void Every_asset_the_shell_and_the_modules_refer_to_exists()
    {
        var referenced = new List<string>();
        foreach (var asset in WebAssets.All.Values.Where(a => a.Name.EndsWith(".html", StringComparison.Ordinal) || a.Name.EndsWith(".js", StringComparison.Ordinal)))
        {
            var text = Encoding.UTF8.GetString(asset.Content);
            referenced.AddRange(AbsoluteAsset().Matches(text).Select(m => m.Groups[1].Value));
            var dir = Path.GetDirectoryName(asset.Name)!;
            referenced.AddRange(RelativeImport().Matches(text).Select(m => Path.GetRelativePath(".", Path.Combine(dir, m.Groups[1].Value)).Replace('\\', '/')));
        }

        referenced.Should().NotBeEmpty();
        referenced.Distinct().Where(name => !WebAssets.All.ContainsKey(name)).Should().BeEmpty("every referenced asset is embedded");
    }

    [Fact]
    public void An_unknown_file_extension_is_refused_rather_than_served_as_something_else() =>
        FluentActions.Invoking(() => WebAssets.ContentTypeOf("x.exe")).Should().Throw<InvalidOperationException>().WithMessage("*'x.exe'*");

    [Theory]
    [InlineData("")]
    [InlineData("ui")]
    [InlineData("ui/overview")]
    [InlineData("ui/tasks/some-framework/some-task")]
    [InlineData("ui/services/apps/group/app")]
    public async Task The_root_and_every_client_route_answer_with_the_shell(string path)
    {
        using var response = await _http.GetAsync(Url(path), TestContext.Current.CancellationToken);
        response.StatusCode.Should().Be(HttpStatusCode.OK);
        response.Content.Headers.ContentType!.MediaType.Should().Be("text/html");
        (await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)).Should().Contain("/ui/assets/js/app.js");
    }

    [Theory]
    [InlineData("master/state", "application/json")]
    [InlineData("state.json", "application/json")]
    [InlineData("master/state-summary", null)]
    [InlineData("metrics/snapshot", "application/json")]
    [InlineData("roles", "application/json")]
    [InlineData("quota", "application/json")]
    [InlineData("weights", "application/json")]
    [InlineData("version", "application/json")]
    [InlineData("master/maintenance/status", "application/json")]
    [InlineData("metrics", "text/plain")]
    public async Task Api_routes_are_not_shadowed_by_the_ui(string path, string? mediaType)
    {
        using var response = await _http.GetAsync(Url(path), TestContext.Current.CancellationToken);
        response.Content.Headers.ContentType?.MediaType.Should().NotBe("text/html", $"/{path} is the API's, not the UI's");
        if (mediaType is not null)
        {
            response.StatusCode.Should().Be(HttpStatusCode.OK);
            response.Content.Headers.ContentType!.MediaType.Should().Be(mediaType);
        }
    }

    [Fact]
    public async Task The_operator_api_still_answers_posts()
    {
        using var response = await _http.PostAsync(Url("api/v1"), new StringContent("""{"type":"GET_HEALTH"}""", Encoding.UTF8, "application/json"), TestContext.Current.CancellationToken);
        response.StatusCode.Should().Be(HttpStatusCode.OK);
        (await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)).Should().Contain("healthy");
    }

    [Theory]
    [InlineData("no-such-path")]
    [InlineData("master/no-such-endpoint")]
    [InlineData("ui/assets/no-such-file.js")]
    [InlineData("ui/assets/../index.html")]
    public async Task Unknown_paths_outside_client_routes_are_404s_not_the_shell(string path)
    {
        using var response = await _http.GetAsync(Url(path), TestContext.Current.CancellationToken);
        if (path.Contains("..", StringComparison.Ordinal))
        {
            // HttpClient normalizes the dots away: that lands on the shell at /ui/index.html, a client route.
            response.Content.Headers.ContentType!.MediaType.Should().Be("text/html");
            return;
        }

        response.StatusCode.Should().Be(HttpStatusCode.NotFound);
    }

    [Theory]
    [InlineData("agent-proxy/some-agent/files/browse", HttpStatusCode.BadRequest, "Expecting 'path'")]
    [InlineData("agent-proxy/some-agent/files/browse?path=%2Fa%2F..%2F..%2Fetc", HttpStatusCode.BadRequest, "'..'")]
    [InlineData("agent-proxy/some-agent/files/read?path=%2Fa%00b&offset=0", HttpStatusCode.BadRequest, "NUL")]
    [InlineData("agent-proxy/some-agent/files/delete?path=%2Fa", HttpStatusCode.NotFound, "Unknown files operation 'delete'")]
    [InlineData("agent-proxy/some-agent/files/browse?path=%2Fa", HttpStatusCode.NotFound, "No registered agent 'some-agent'")]
    [InlineData("agent-proxy/some-agent/state", HttpStatusCode.NotFound, "No registered agent 'some-agent'")]
    [InlineData("framework-proxy/some-framework/v2/apps", HttpStatusCode.NotFound, "No registered framework 'some-framework'")]
    public async Task The_proxies_refuse_bad_paths_and_unknown_targets_with_a_reason(string path, HttpStatusCode status, string reason)
    {
        using var response = await _http.GetAsync(Url(path), TestContext.Current.CancellationToken);
        response.StatusCode.Should().Be(status);
        (await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)).Should().Contain(reason);
    }

    [GeneratedRegex(@"""/ui/assets/([^""]+)""")]
    private static partial Regex AbsoluteAsset();

    [GeneratedRegex(@"from '(\.{1,2}/[^']+)'")]
    private static partial Regex RelativeImport();
}
