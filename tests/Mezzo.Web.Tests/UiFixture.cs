using Microsoft.Playwright;

namespace Mezzo.Web.Tests;

/// <summary>
/// One real cluster and one headless Debian chromium for every browser test (each test gets its own browser context).
/// Playwright's own browser download is never used: the system chromium is launched by path.
/// </summary>
public sealed class UiFixture : IAsyncLifetime
{
    public const string ChromiumPath = "/usr/bin/chromium";

    private IPlaywright? _playwright;

    public DevCluster Cluster { get; private set; } = null!;

    public IBrowser Browser { get; private set; } = null!;

    /// <summary>Where screenshots go: TestResults/screenshots next to the test binaries, kept by test.sh.</summary>
    public static string ScreenshotDir { get; } = Path.Combine(AppContext.BaseDirectory, "TestResults", "screenshots");

    public async ValueTask InitializeAsync()
    {
        Environment.SetEnvironmentVariable("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1");
        Directory.CreateDirectory(ScreenshotDir);
        // Machines here are shared and busy: Playwright's 5 s default is too tight for a page that waits on a cluster.
        Assertions.SetDefaultExpectTimeout(60_000);
        Cluster = await DevCluster.StartAsync(TimeSpan.FromMinutes(3));
        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            // Root in a container: chromium's sandbox needs user namespaces it may not get.
            Args = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
        });
    }

    /// <summary>A fresh page on the master, recording every console error and uncaught exception into <paramref name="errors"/>.</summary>
    public async Task<IPage> NewPageAsync(List<string> errors)
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = Cluster.Master.ToString().TrimEnd('/'),
            ViewportSize = new ViewportSize { Width = 1400, Height = 1000 },
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

    public static Task ScreenshotAsync(IPage page, string name) =>
        page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ScreenshotDir, name + ".png"), FullPage = true });

    public async ValueTask DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.CloseAsync();
        }

        // Stops Playwright's node driver process.
        _playwright?.Dispose();
        if (Cluster is not null)
        {
            await Cluster.DisposeAsync();
        }
    }
}
