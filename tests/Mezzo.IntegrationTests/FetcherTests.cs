using System.Formats.Tar;
using System.IO.Compression;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using AwesomeAssertions;
using Mezzo.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Mezzo.IntegrationTests;

/// <summary>CommandInfo.uris through a real cluster: the agent fetches from a real HTTP server before the task runs.</summary>
public sealed class FetcherTests
{
    [Fact]
    public async Task A_task_uses_the_files_its_uris_bring_into_the_sandbox()
    {
        await using var server = await FileServer.StartAsync(new Dictionary<string, byte[]>
        {
            ["/payload.txt"] = "hello fetch\n"u8.ToArray(),
            ["/app.tgz"] = AppTarball(),
        });
        await using var cluster = await InProcessCluster.StartAsync();
        await using var scheduler = new RawScheduler(cluster.MasterUrl);
        await scheduler.SubscribeAsync(RawScheduler.FrameworkInfo());

        var uris = new JsonArray(
            new JsonObject { ["value"] = server.Url("/payload.txt") },
            new JsonObject { ["value"] = server.Url("/app.tgz"), ["cache"] = true });
        var (status, body) = await LaunchWithUrisAsync(scheduler, await scheduler.NextOfferAsync(), "fetching", "grep -qx 'hello fetch' payload.txt && ./app/run.sh", uris);
        status.Should().Be(HttpStatusCode.Accepted, body);

        await scheduler.WaitForUpdateAsync("fetching", "TASK_STARTING");
        await scheduler.WaitForUpdateAsync("fetching", "TASK_FINISHED");
        var sandbox = Path.GetDirectoryName(Directory.EnumerateFiles(cluster.SandboxRoot, "payload.txt", SearchOption.AllDirectories).Single(p => !p.Contains("/latest/", StringComparison.Ordinal)))!;
        File.ReadAllText(Path.Join(sandbox, "stdout")).Should().Be("app ran\n");
        File.ReadAllText(Path.Join(sandbox, "stderr")).Should().Contain($"Fetching URI '{server.Url("/app.tgz")}'")
            .And.Contain("Successfully fetched all URIs");
        Directory.EnumerateFiles(Path.Join(cluster.WorkDir, "agent", "fetch")).Should().ContainSingle("app.tgz was cached");
    }

    [Fact]
    public async Task A_task_whose_uri_cannot_be_fetched_fails_with_REASON_CONTAINER_LAUNCH_FAILED_naming_the_uri()
    {
        await using var server = await FileServer.StartAsync(new Dictionary<string, byte[]>());
        await using var cluster = await InProcessCluster.StartAsync();
        await using var scheduler = new RawScheduler(cluster.MasterUrl);
        await scheduler.SubscribeAsync(RawScheduler.FrameworkInfo());
        var missing = server.Url("/missing.tgz");

        await LaunchWithUrisAsync(scheduler, await scheduler.NextOfferAsync(), "unfetchable", "touch ran", new JsonArray(new JsonObject { ["value"] = missing }));

        var failed = (await scheduler.WaitForUpdateAsync("unfetchable", "TASK_FAILED"))["update"]!["status"]!;
        ((string?)failed["reason"]).Should().Be("REASON_CONTAINER_LAUNCH_FAILED");
        ((string?)failed["source"]).Should().Be("SOURCE_AGENT");
        ((string?)failed["message"]).Should().Contain($"Failed to fetch '{missing}': HTTP 404 Not Found");
        scheduler.Updates("unfetchable").Select(u => (string?)u["update"]!["status"]!["state"]).Should().NotContain("TASK_RUNNING");
        Directory.EnumerateFiles(cluster.SandboxRoot, "ran", SearchOption.AllDirectories).Should().BeEmpty("the command never ran");
    }

    [Fact]
    public async Task A_task_killed_while_its_uri_downloads_is_TASK_KILLED_during_launch_and_never_runs()
    {
        await using var server = await FileServer.StartAsync(new Dictionary<string, byte[]>());
        await using var cluster = await InProcessCluster.StartAsync();
        await using var scheduler = new RawScheduler(cluster.MasterUrl);
        await scheduler.SubscribeAsync(RawScheduler.FrameworkInfo());

        await LaunchWithUrisAsync(scheduler, await scheduler.NextOfferAsync(), "slow", "touch ran", new JsonArray(new JsonObject { ["value"] = server.Url("/hang/big.tgz") }));
        await scheduler.WaitForUpdateAsync("slow", "TASK_STARTING");
        await Poll.UntilAsync(() => server.Requests("/hang/big.tgz") == 1, "the agent to start downloading");
        await scheduler.KillAsync("slow");

        var killed = (await scheduler.WaitForUpdateAsync("slow", "TASK_KILLED"))["update"]!["status"]!;
        ((string?)killed["reason"]).Should().Be("REASON_TASK_KILLED_DURING_LAUNCH");
        Directory.EnumerateFiles(cluster.SandboxRoot, "*", SearchOption.AllDirectories)
            .Where(p => !p.Contains("/latest/", StringComparison.Ordinal))
            .Select(Path.GetFileName).Should().Equal(["stderr"], "no half-downloaded file and no trace of the command");
    }

    [Fact]
    public async Task Mezzo_execute_uri_fetches_a_local_file_for_the_task()
    {
        using var dir = new TempDir();
        var tool = Path.Join(dir.Path, "greet.sh");
        File.WriteAllText(tool, "#!/bin/sh\necho greetings from a fetched tool\n");
        await using var cluster = await InProcessCluster.StartAsync();

        await using var execute = MezzoProcess.Start("execute", "--master", cluster.MasterAddress, "--name", "tool", "--uri", tool, "--command", "sh greet.sh");

        (await execute.WaitForExitAsync(TimeSpan.FromSeconds(60))).Should().Be(0, execute.Output);
        execute.Output.Should().Contain("greetings from a fetched tool");
    }

    private static Task<(HttpStatusCode Status, string Body)> LaunchWithUrisAsync(RawScheduler scheduler, JsonObject offer, string taskId, string command, JsonArray uris) =>
        scheduler.AcceptAsync(offer, new JsonObject
        {
            ["type"] = "LAUNCH",
            ["launch"] = new JsonObject
            {
                ["task_infos"] = new JsonArray(new JsonObject
                {
                    ["name"] = taskId,
                    ["task_id"] = new JsonObject { ["value"] = taskId },
                    ["agent_id"] = new JsonObject { ["value"] = (string?)offer["agent_id"]!["value"] },
                    ["resources"] = JsonNode.Parse("""[{"name":"cpus","type":"SCALAR","scalar":{"value":0.1}},{"name":"mem","type":"SCALAR","scalar":{"value":32}}]"""),
                    ["command"] = new JsonObject { ["shell"] = true, ["value"] = command, ["uris"] = uris },
                }),
            },
        });

    private static byte[] AppTarball()
    {
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Fastest, leaveOpen: true))
        using (var tar = new TarWriter(gzip, TarEntryFormat.Pax))
        {
            tar.WriteEntry(new PaxTarEntry(TarEntryType.Directory, "app/") { Mode = (UnixFileMode)0b111_101_101 });
            tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, "app/run.sh")
            {
                Mode = (UnixFileMode)0b111_101_101,
                DataStream = new MemoryStream(Encoding.UTF8.GetBytes("#!/bin/sh\necho app ran\n")),
            });
        }

        return buffer.ToArray();
    }

    private sealed class FileServer : IAsyncDisposable
    {
        private readonly WebApplication _app;
        private readonly System.Collections.Concurrent.ConcurrentDictionary<string, int> _requests = new();

        private FileServer(WebApplication app) => _app = app;

        public int Requests(string path) => _requests.GetValueOrDefault(path);

        public static async Task<FileServer> StartAsync(IReadOnlyDictionary<string, byte[]> files)
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            var app = builder.Build();
            var server = new FileServer(app);
            app.Run(async context =>
            {
                var path = context.Request.Path.Value ?? "";
                server._requests.AddOrUpdate(path, 1, (_, n) => n + 1);
                if (path.StartsWith("/hang/", StringComparison.Ordinal))
                {
                    // Headers and a first chunk, then nothing until the client goes away.
                    context.Response.ContentLength = 1 << 20;
                    await context.Response.Body.WriteAsync(new byte[1024], context.RequestAborted);
                    await context.Response.Body.FlushAsync(context.RequestAborted);
                    await Task.Delay(Timeout.Infinite, context.RequestAborted).ContinueWith(_ => { }, TaskScheduler.Default);
                }
                else if (files.TryGetValue(context.Request.Path.Value ?? "", out var content))
                {
                    await context.Response.Body.WriteAsync(content, context.RequestAborted);
                }
                else
                {
                    context.Response.StatusCode = StatusCodes.Status404NotFound;
                }
            });
            await app.StartAsync();
            return server;
        }

        public string Url(string path) => new Uri(new Uri(_app.Urls.Single()), path).ToString();

        public async ValueTask DisposeAsync()
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }
}
