using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Mezzo.Web.Tests;

/// <summary>The web UI in a real headless chromium against a real <c>mezzo dev</c> cluster.</summary>
public sealed class BrowserTests(UiFixture ui) : IClassFixture<UiFixture>
{
    private readonly List<string> _errors = [];

    private DevCluster Cluster => ui.Cluster;

    private static string Unique(string prefix) => $"{prefix}-{Guid.NewGuid().ToString("N")[..8]}";

    private async Task<IPage> OpenAsync(string path)
    {
        var page = await ui.NewPageAsync(_errors);
        await page.GotoAsync(path);
        // The operator event stream is up: what happens from now on reaches the page live.
        await Expect(page.Locator("#live")).ToHaveTextAsync("live");
        return page;
    }

    private async Task CreateAppAsync(string id, string cmd, int instances)
    {
        var response = await Cluster.Http.PostAsJsonAsync(new Uri(Cluster.Services, "v2/apps"),
            new JsonObject { ["id"] = id, ["cmd"] = cmd, ["cpus"] = 0.1, ["mem"] = 32, ["instances"] = instances });
        response.StatusCode.Should().Be(HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
    }

    private async Task DeleteAppAsync(string id) =>
        await Cluster.Http.DeleteAsync(new Uri(Cluster.Services, $"v2/apps{id}?force=true"));

    [Fact]
    public async Task A_task_launched_after_the_page_opened_appears_live_and_its_sandbox_tails_new_stdout()
    {
        var app = "/" + Unique("ui-tail");
        var page = await OpenAsync("/ui/tasks");
        await Expect(page.Locator("#task-filter")).ToBeVisibleAsync();

        // The task prints one line, then a second only once the test drops a file into its sandbox.
        await CreateAppAsync(app, "echo first-line-of-stdout; while [ ! -e go ]; do sleep 0.2; done; echo live-line-after-trigger; sleep 3600", 1);
        try
        {
            var row = page.Locator("tbody tr", new PageLocatorOptions { HasText = app.TrimStart('/') });
            await Expect(row).ToContainTextAsync("TASK_RUNNING");
            await UiFixture.ScreenshotAsync(page, "tasks");

            var taskId = await row.GetAttributeAsync("data-task");
            await row.Locator("td").First.Locator("a").ClickAsync();
            await Expect(page.Locator("#state-history")).ToContainTextAsync("TASK_RUNNING");
            var log = page.Locator("#log[data-file=stdout]");
            await Expect(log).ToContainTextAsync("first-line-of-stdout");
            await Expect(page.Locator("#sandbox-listing")).ToContainTextAsync("stderr");
            (await log.TextContentAsync()).Should().NotContain("live-line-after-trigger");

            await File.WriteAllTextAsync(Path.Combine(await Cluster.SandboxOfAsync(taskId!), "go"), "");
            await Expect(log).ToContainTextAsync("live-line-after-trigger");
            await UiFixture.ScreenshotAsync(page, "task-sandbox");

            await page.Locator("#tail-stderr").ClickAsync();
            await Expect(page.Locator("#log[data-file=stderr]")).ToBeVisibleAsync();
            await page.Locator("#tail-stdout").ClickAsync();
            await Expect(page.Locator("#log[data-file=stdout]")).ToContainTextAsync("live-line-after-trigger");
        }
        finally
        {
            await DeleteAppAsync(app);
        }

        _errors.Should().BeEmpty();
    }

    [Fact]
    public async Task An_app_is_deployed_and_scaled_from_the_services_page()
    {
        var app = "/" + Unique("ui-scale");
        var page = await OpenAsync("/ui/services");
        try
        {
            await page.Locator("#app-json").FillAsync(new JsonObject { ["id"] = app, ["cmd"] = "sleep 3600", ["cpus"] = 0.1, ["mem"] = 16, ["instances"] = 1 }.ToJsonString());
            await page.Locator("#deploy").ClickAsync();
            var row = page.Locator($"tr[data-app='{app}']");
            await Expect(row.Locator("td.running")).ToHaveTextAsync("1");

            await row.Locator("form.scale input").FillAsync("2");
            await row.Locator("form.scale button").ClickAsync();
            await Expect(row.Locator("td.instances")).ToHaveTextAsync("2");
            await Expect(row.Locator("td.running")).ToHaveTextAsync("2");
            var stored = await Cluster.Http.GetFromJsonAsync<JsonObject>(new Uri(Cluster.Services, $"v2/apps{app}"));
            ((int)stored!["app"]!["instances"]!).Should().Be(2);
            await UiFixture.ScreenshotAsync(page, "services");

            // Restart: a new version of the app, rolled out to both instances.
            var before = (string)stored["app"]!["version"]!;
            await row.Locator("button", new LocatorLocatorOptions { HasText = "Restart" }).ClickAsync();
            await Poll.UntilAsync(async () =>
            {
                var now = await Cluster.Http.GetFromJsonAsync<JsonObject>(new Uri(Cluster.Services, $"v2/apps{app}"));
                return (string?)now!["app"]!["version"] != before;
            }, TimeSpan.FromSeconds(60), $"{app} to get a new version from the restart");
            await Expect(row.Locator("td.running")).ToHaveTextAsync("2");

            await row.Locator("td").First.Locator("a").ClickAsync();
            await Expect(page.Locator("tr[data-instance]")).ToHaveCountAsync(2);
            await UiFixture.ScreenshotAsync(page, "services-app");
        }
        finally
        {
            await DeleteAppAsync(app);
        }

        _errors.Should().BeEmpty();
    }

    [Fact]
    public async Task A_job_run_from_the_jobs_page_is_recorded_and_the_dependency_graph_is_drawn()
    {
        var parent = Unique("ui-parent");
        var child = Unique("ui-child");
        var create = await Cluster.Http.PostAsJsonAsync(new Uri(Cluster.Jobs, "v1/scheduler/iso8601"), new JsonObject
        {
            ["name"] = parent, ["command"] = "echo parent ran", ["schedule"] = "R/2099-01-01T00:00:00Z/PT24H", ["epsilon"] = "PT1M", ["cpus"] = 0.1, ["mem"] = 32,
        });
        create.IsSuccessStatusCode.Should().BeTrue(await create.Content.ReadAsStringAsync());
        create = await Cluster.Http.PostAsJsonAsync(new Uri(Cluster.Jobs, "v1/scheduler/dependency"), new JsonObject
        {
            ["name"] = child, ["command"] = "echo child ran", ["parents"] = new JsonArray(parent), ["epsilon"] = "PT1M", ["cpus"] = 0.1, ["mem"] = 32,
        });
        create.IsSuccessStatusCode.Should().BeTrue(await create.Content.ReadAsStringAsync());
        try
        {
            var page = await OpenAsync("/ui/jobs");
            var row = page.Locator($"tr[data-job='{parent}']");
            await Expect(row.Locator("td.successes")).ToHaveTextAsync("0");
            await Expect(page.Locator($"#job-graph g[data-job='{child}']")).ToBeVisibleAsync();
            await Expect(page.Locator($"#job-graph path[data-edge='{parent}->{child}']")).ToHaveCountAsync(1);

            await row.Locator("button.run-now").ClickAsync();
            await Expect(row.Locator("td.successes")).ToHaveTextAsync("1");
            await Expect(page.Locator($"tr[data-run='{parent}']").First).ToContainTextAsync("TASK_FINISHED");
            // The child runs after its parent succeeded: dependency and history both show it.
            await Expect(page.Locator($"tr[data-job='{child}'] td.successes")).ToHaveTextAsync("1");
            await UiFixture.ScreenshotAsync(page, "jobs");
        }
        finally
        {
            await Cluster.Http.DeleteAsync(new Uri(Cluster.Jobs, $"v1/scheduler/job/{child}"));
            await Cluster.Http.DeleteAsync(new Uri(Cluster.Jobs, $"v1/scheduler/job/{parent}"));
        }

        _errors.Should().BeEmpty();
    }

    [Fact]
    public async Task Cluster_pages_render_live_data_without_errors()
    {
        var page = await OpenAsync("/");
        await Expect(page.Locator("#stat-agents")).ToContainTextAsync("1");
        await Expect(page.Locator("#stat-frameworks")).ToContainTextAsync("2");
        await Expect(page.Locator("[data-resource=CPUs]")).ToContainTextAsync("/ 4");
        await Expect(page.Locator("#usage-chart polyline[data-series=cpus]")).ToHaveCountAsync(1);
        await Expect(page.Locator("#nav")).ToContainTextAsync("Services");
        await Expect(page.Locator("#nav")).ToContainTextAsync("Jobs");
        await UiFixture.ScreenshotAsync(page, "overview");

        await page.Locator("#nav a", new PageLocatorOptions { HasText = "Agents" }).ClickAsync();
        var agent = page.Locator("tr[data-agent]");
        await Expect(agent).ToHaveCountAsync(1);
        await Expect(agent).ToContainTextAsync("ACTIVE");
        await UiFixture.ScreenshotAsync(page, "agents");
        await agent.Locator("a").First.ClickAsync();
        await Expect(page.Locator("[data-resource=Memory]")).ToContainTextAsync("4.0 GB");
        await UiFixture.ScreenshotAsync(page, "agent");

        await page.Locator("#nav a", new PageLocatorOptions { HasText = "Frameworks" }).ClickAsync();
        await Expect(page.Locator("tr[data-framework]")).ToHaveCountAsync(2);
        // Idle frameworks suppress offers; either way they are connected, not completed.
        await Expect(page.Locator("tr[data-framework]", new PageLocatorOptions { HasText = "marathon" })).ToContainTextAsync(new System.Text.RegularExpressions.Regex("ACTIVE|SUPPRESSED"));
        await UiFixture.ScreenshotAsync(page, "frameworks");
        await page.Locator("tr[data-framework]", new PageLocatorOptions { HasText = "chronos" }).Locator("a").First.ClickAsync();
        await Expect(page.Locator("main")).ToContainTextAsync("chronos");
        await UiFixture.ScreenshotAsync(page, "framework");

        await page.Locator("#nav a", new PageLocatorOptions { HasText = "Roles" }).ClickAsync();
        var role = Unique("ui-role");
        await page.Locator("#weight-role").FillAsync(role);
        await page.Locator("#weight-value").FillAsync("2.5");
        await page.Locator("#weight-role").PressAsync("Enter");
        await Expect(page.Locator($"tr[data-weight='{role}']")).ToContainTextAsync("2.5");
        await UiFixture.ScreenshotAsync(page, "roles");

        // A reload on a client route gets the shell back and lands on the same page.
        await page.ReloadAsync();
        await Expect(page.Locator("main h1")).ToHaveTextAsync("Roles, quota and weights");
        _errors.Should().BeEmpty();
    }

    [Fact]
    public async Task The_event_stream_reader_and_graph_layout_work_in_the_browser()
    {
        var page = await OpenAsync("/ui/overview");
        // RecordIO lengths count bytes: a record split mid-way and a multi-byte character must both come out whole.
        var records = await page.EvaluateAsync<string[]>("""
            async () => {
              const { RecordIOReader } = await import('/ui/assets/js/api.js');
              const reader = new RecordIOReader();
              const bytes = new TextEncoder().encode('7\n{"a":1}10\n{"b":"é"}');
              return [...reader.push(bytes.slice(0, 4)), ...reader.push(bytes.slice(4, 13)), ...reader.push(bytes.slice(13))];
            }
            """);
        records.Should().Equal("{\"a\":1}", "{\"b\":\"é\"}");
        var error = await page.EvaluateAsync<string>("""
            async () => {
              const { RecordIOReader } = await import('/ui/assets/js/api.js');
              try { new RecordIOReader().push(new TextEncoder().encode('x\n')); return 'no error'; } catch (e) { return e.message; }
            }
            """);
        error.Should().Contain("Bad RecordIO length 'x'");

        var layers = await page.EvaluateAsync<string[][]>("""
            async () => {
              const { parseGraphCsv, layout } = await import('/ui/assets/js/pages/jobs.js');
              const g = parseGraphCsv('node,a,success,idle\nnode,b,,idle\nnode,c,,idle\nnode,d,,idle\nlink,a,b\nlink,b,c\nlink,a,c\nlink,d,c\n');
              return layout(g).layers;
            }
            """);
        layers.Should().HaveCount(3);
        layers[0].Should().BeEquivalentTo(["a", "d"]);
        layers[1].Should().Equal("b");
        layers[2].Should().Equal("c");
        _errors.Should().BeEmpty();
    }

    [Fact]
    public async Task The_proxies_reach_only_registered_agents_and_frameworks()
    {
        var state = await Cluster.Http.GetFromJsonAsync<JsonObject>(new Uri(Cluster.Master, "master/state"));
        var agentId = (string)state!["slaves"]![0]!["id"]!;
        var marathon = (string)state["frameworks"]!.AsArray().First(f => (string?)f!["name"] == "marathon")!["id"]!;

        (await Cluster.Http.GetAsync(new Uri(Cluster.Master, $"agent-proxy/{agentId}/files/browse?path=..%2F..%2Fetc"))).StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await Cluster.Http.GetAsync(new Uri(Cluster.Master, $"agent-proxy/{agentId}/files/read?path=%2Fetc%2Fpasswd&offset=0"))).StatusCode.Should().NotBe(HttpStatusCode.OK);
        (await Cluster.Http.GetAsync(new Uri(Cluster.Master, "agent-proxy/no-such-agent/files/browse?path=%2F"))).StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await Cluster.Http.GetAsync(new Uri(Cluster.Master, $"agent-proxy/{agentId}/state"))).StatusCode.Should().Be(HttpStatusCode.OK);

        var info = await Cluster.Http.GetFromJsonAsync<JsonObject>(new Uri(Cluster.Master, $"framework-proxy/{marathon}/v2/info"));
        ((string?)info!["name"]).Should().Be("marathon");
        var bad = await Cluster.Http.PostAsync(new Uri(Cluster.Master, $"framework-proxy/{marathon}/v2/apps"), new StringContent("{not json", System.Text.Encoding.UTF8, "application/json"));
        bad.StatusCode.Should().Be(HttpStatusCode.BadRequest, "the framework's own validation answer comes back through the proxy");
        (await Cluster.Http.GetAsync(new Uri(Cluster.Master, "framework-proxy/no-such-framework/v2/info"))).StatusCode.Should().Be(HttpStatusCode.NotFound);

        // Marathon's event bus streams through the proxy as it happens.
        using var events = await Cluster.Http.GetAsync(new Uri(Cluster.Master, $"framework-proxy/{marathon}/v2/events"), HttpCompletionOption.ResponseHeadersRead);
        events.Content.Headers.ContentType!.MediaType.Should().Be("text/event-stream");
        using var reader = new StreamReader(await events.Content.ReadAsStreamAsync());
        var app = "/" + Unique("ui-sse");
        await CreateAppAsync(app, "sleep 3600", 0);
        try
        {
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            string? line;
            do
            {
                line = await reader.ReadLineAsync(deadline.Token);
            }
            while (line is not null && !line.Contains(app, StringComparison.Ordinal));

            line.Should().NotBeNull("the app's creation event arrives through the proxy");
        }
        finally
        {
            await DeleteAppAsync(app);
        }
    }
}
