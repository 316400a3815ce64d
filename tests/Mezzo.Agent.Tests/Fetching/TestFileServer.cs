using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Mezzo.Agent.Tests.Fetching;

/// <summary>A real HTTP server on a loopback port: serves files the test puts in it, counts requests per path,
/// and can hold responses back or stall mid-body.</summary>
internal sealed class TestFileServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, byte[]> _files = new();
    private readonly ConcurrentDictionary<string, int> _requests = new();
    private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private TestFileServer(WebApplication app) => _app = app;

    public Uri BaseUri { get; private set; } = null!;

    /// <summary>When set, file responses send their headers, then wait for <see cref="ReleaseResponses"/> to send the body.</summary>
    public bool HoldResponses { get; set; }

    public static async Task<TestFileServer> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var server = new TestFileServer(app);
        app.Run(server.HandleAsync);
        await app.StartAsync();
        server.BaseUri = new Uri(app.Urls.Single());
        return server;
    }

    public string Url(string path) => new Uri(BaseUri, path).ToString();

    public void Add(string path, byte[] content) => _files[path] = content;

    public void Add(string path, string content) => Add(path, System.Text.Encoding.UTF8.GetBytes(content));

    public int Requests(string path) => _requests.GetValueOrDefault(path);

    public void ReleaseResponses() => _release.TrySetResult();

    private async Task HandleAsync(HttpContext context)
    {
        var path = context.Request.Path.Value ?? "/";
        _requests.AddOrUpdate(path, 1, (_, n) => n + 1);
        if (path.StartsWith("/redirect/", StringComparison.Ordinal))
        {
            context.Response.Redirect(path["/redirect".Length..]);
            return;
        }

        if (path == "/stall")
        {
            // Headers and a few bytes, then nothing until the client gives up.
            context.Response.ContentLength = 1000;
            await context.Response.Body.WriteAsync(new byte[10], context.RequestAborted);
            await context.Response.Body.FlushAsync(context.RequestAborted);
            await Task.Delay(Timeout.Infinite, context.RequestAborted).ContinueWith(_ => { }, TaskScheduler.Default);
            return;
        }

        if (path == "/truncated")
        {
            context.Response.ContentLength = 1000;
            await context.Response.Body.WriteAsync(new byte[10], context.RequestAborted);
            context.Abort();
            return;
        }

        if (!_files.TryGetValue(path, out var content))
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }

        context.Response.ContentLength = content.Length;
        if (HoldResponses)
        {
            // Headers (with the length) go out now, the body only when released.
            await context.Response.StartAsync(context.RequestAborted);
            await context.Response.Body.FlushAsync(context.RequestAborted);
            await _release.Task.WaitAsync(context.RequestAborted);
        }

        await context.Response.Body.WriteAsync(content, context.RequestAborted);
    }

    public async ValueTask DisposeAsync()
    {
        _release.TrySetResult();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
