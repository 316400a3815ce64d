using System.Net;
using Mezzo.Agent;
using Mezzo.Cli.Commands;
using Mezzo.Core.Resources;
using Mezzo.Core.Security;
using Mezzo.Hosting.Security;
using Mezzo.Master;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Mezzo.Web.Tests;

/// <summary>
/// The web UI of a master that authenticates: the browser's Basic login (the master's 401 on the page) is the login,
/// every fetch of the page carries it, and a refusal inside the page is a message, not a broken page.
/// </summary>
public sealed class SecureUiTests : IAsyncLifetime
{
    private const string Secret = "ui-operator-secret-5d2e";
    private static readonly Credential Operator = new("operator", Secret);

    private readonly string _workDir = Path.Combine(Path.GetTempPath(), "mezzo-web-secure-" + Guid.NewGuid().ToString("N")[..12]);
    private MasterServer _master = null!;
    private AgentServer _agent = null!;
    private IPlaywright _playwright = null!;
    private IBrowser _browser = null!;

    public async ValueTask InitializeAsync()
    {
        Environment.SetEnvironmentVariable("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1");
        Assertions.SetDefaultExpectTimeout(60_000);
        _master = MasterServer.Create(new MasterOptions
        {
            Port = 0, Ip = "127.0.0.1", Hostname = "127.0.0.1", WorkDir = Path.Combine(_workDir, "master"),
            AllocationInterval = TimeSpan.FromMilliseconds(20),
            Security = new SecurityOptions
            {
                Credentials = [Operator],
                AuthenticateHttpReadonly = true,
                // Until every route declares its kind, the UI's own routes count as read-write: both switches make
                // the test independent of that.
                AuthenticateHttpReadwrite = true,
                AuthenticateFrameworks = true,
                AuthenticateAgents = true,
            },
        });
        await _master.StartAsync();
        _agent = AgentServer.Create(new AgentOptions
        {
            Master = $"127.0.0.1:{_master.Url.Port}", Port = 0, Ip = "127.0.0.1", Hostname = "127.0.0.1", WorkDir = Path.Combine(_workDir, "agent"),
            Resources = "cpus:1;mem:512;disk:512;ports:[31000-31010]",
            Credential = Operator,
            // The test's tasks run as the user running the tests: root in CI.
            AllowRootTasks = true,
        });
        await _agent.StartAsync();
        _playwright = await Playwright.CreateAsync();
        _browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = UiFixture.ChromiumPath,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
        });
    }

    private async Task<IPage> PageAsync(HttpCredentials? login, List<string> errors)
    {
        var context = await _browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = _master.Url.ToString().TrimEnd('/'),
            ViewportSize = new ViewportSize { Width = 1400, Height = 1000 },
            HttpCredentials = login,
        });
        context.SetDefaultTimeout(60_000);
        var page = await context.NewPageAsync();
        page.Console += (_, message) =>
        {
            if (message.Type == "error")
            {
                lock (errors)
                {
                    errors.Add($"console: {message.Text}");
                }
            }
        };
        page.PageError += (_, error) =>
        {
            lock (errors)
            {
                errors.Add($"page error: {error}");
            }
        };
        return page;
    }

    /// <summary>
    /// The master's answer to the page's own request: its status and challenge. Headless chromium, having no login or
    /// a wrong one to offer, may abandon the navigation (ERR_INVALID_AUTH_CREDENTIALS) after seeing it.
    /// </summary>
    private static async Task<string> FirstAnswerAsync(IPage page)
    {
        var answers = new List<IResponse>();
        page.Response += (_, response) =>
        {
            lock (answers)
            {
                answers.Add(response);
            }
        };
        try
        {
            await page.GotoAsync("/");
        }
        catch (PlaywrightException ex) when (ex.Message.Contains("ERR_INVALID_AUTH_CREDENTIALS", StringComparison.Ordinal))
        {
        }

        IResponse first;
        lock (answers)
        {
            answers.Should().NotBeEmpty();
            first = answers[0];
        }

        return $"{first.Status} {await first.HeaderValueAsync("www-authenticate")}";
    }

    private static HttpCredentials Login(string secret = Secret) => new() { Username = "operator", Password = secret };

    [Fact]
    public async Task Without_a_login_the_page_is_refused_and_with_one_the_overview_and_a_task_show()
    {
        var errors = new List<string>();
        (await FirstAnswerAsync(await PageAsync(null, []))).Should().Be("401 Basic realm=\"mezzo\"");
        (await FirstAnswerAsync(await PageAsync(Login("not-the-secret"), []))).Should().Be("401 Basic realm=\"mezzo\"");

        // A task run by a framework that logs in with the same principal (mezzo execute's own code).
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var exit = await ExecuteCommand.RunAsync(
            new ExecuteCommand.ExecuteRequest($"127.0.0.1:{_master.Url.Port}", "ui-secure-task", "echo hi", true, Resources.Parse("cpus:0.1;mem:32"),
                new Dictionary<string, string>(), "ui-secure", "*", Environment.UserName, TimeSpan.Zero, false, true) { Credential = Operator },
            TextWriter.Null, TextWriter.Null, timeout.Token);
        exit.Should().Be(0);

        var page = await PageAsync(Login(), errors);
        var response = await page.GotoAsync("/");
        response!.Status.Should().Be((int)HttpStatusCode.OK);
        // The event stream (fetch + ReadableStream) carries the login too.
        await Expect(page.Locator("#live")).ToHaveTextAsync("live");
        await Expect(page.Locator("#stat-agents")).ToContainTextAsync("1");
        await page.GotoAsync("/ui/tasks");
        await Expect(page.Locator("tbody tr", new PageLocatorOptions { HasText = "ui-secure-task" })).ToContainTextAsync("TASK_FINISHED");
        await UiFixture.ScreenshotAsync(page, "secure-tasks");
        errors.Should().BeEmpty();
    }

    [Fact]
    public async Task A_refusal_inside_the_page_says_what_is_not_allowed_instead_of_breaking_it()
    {
        var page = await PageAsync(Login(), []);
        // The master's answer to a principal its ACLs do not let see the cluster state (whatever this master's ACLs).
        await page.RouteAsync("**/master/state", route => route.FulfillAsync(new RouteFulfillOptions
        {
            Status = 403,
            ContentType = "text/plain",
            Body = "Forbidden: principal 'operator' may not use /master/state",
        }));
        await page.RouteAsync("**/api/v1", route => route.FulfillAsync(new RouteFulfillOptions { Status = 403, ContentType = "text/plain", Body = "Forbidden" }));

        await page.GotoAsync("/ui/tasks");

        await Expect(page.Locator("[role=alert]")).ToContainTextAsync("Not allowed to view tasks and frameworks: Forbidden: principal 'operator' may not use /master/state");
        await Expect(page.Locator("#live")).ToHaveTextAsync("not allowed");
        await Expect(page.Locator("nav, #nav").First).ToContainTextAsync("Tasks");
        await UiFixture.ScreenshotAsync(page, "secure-forbidden");

        await page.UnrouteAsync("**/master/state");
        await page.RouteAsync("**/master/state", route => route.FulfillAsync(new RouteFulfillOptions { Status = 401, ContentType = "text/plain", Body = "/master/state requires authentication" }));
        await page.GotoAsync("/ui/overview");
        await Expect(page.Locator("[role=alert]")).ToContainTextAsync("Not logged in: the master needs a login to view tasks and frameworks. Reload the page to sign in");
    }

    public async ValueTask DisposeAsync()
    {
        if (_browser is not null)
        {
            await _browser.CloseAsync();
        }

        _playwright?.Dispose();
        if (_agent is not null)
        {
            await _agent.DisposeAsync();
        }

        if (_master is not null)
        {
            await _master.DisposeAsync();
        }

        try
        {
            Directory.Delete(_workDir, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
