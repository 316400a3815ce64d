using System.Net;
using System.Net.Sockets;
using System.Text;
using Mezzo.Web.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Mezzo.Web.Tests;

/// <summary>The forwarder behind the master's agent and framework proxies, against a real upstream server.</summary>
public sealed class HttpForwarderTests : IAsyncLifetime
{
    private readonly HttpClient _client = new();
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(60) };
    private readonly TaskCompletionSource _releaseStream = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private WebApplication _upstream = null!;
    private WebApplication _proxy = null!;
    private Uri _upstreamUrl = null!;
    private Uri _proxyUrl = null!;
    private Uri _target = null!;

    public async ValueTask InitializeAsync()
    {
        (_upstream, _upstreamUrl) = await StartAsync(app =>
        {
            app.MapMethods("/echo", ["GET", "POST", "PUT", "PATCH", "DELETE"], async (HttpContext context) =>
            {
                using var reader = new StreamReader(context.Request.Body);
                var body = await reader.ReadToEndAsync();
                context.Response.StatusCode = StatusCodes.Status201Created;
                context.Response.Headers["X-Seen-Method"] = context.Request.Method;
                context.Response.Headers["X-Seen-Custom"] = context.Request.Headers["X-Custom"].ToString();
                context.Response.Headers["X-Seen-Query"] = context.Request.QueryString.Value;
                await context.Response.WriteAsync(body);
            });
            app.MapGet("/events", async (HttpContext context) =>
            {
                context.Response.ContentType = "text/event-stream";
                await context.Response.WriteAsync("event: first\ndata: 1\n\n");
                await context.Response.Body.FlushAsync();
                // The second event only once the test has seen the first: proves the proxy does not buffer.
                await _releaseStream.Task.WaitAsync(context.RequestAborted);
                await context.Response.WriteAsync("event: second\ndata: 2\n\n");
            });
        });
        (_proxy, _proxyUrl) = await StartAsync(app => app.Map("/{**path}", (HttpContext context, string? path) =>
            HttpForwarder.ForwardAsync(context, _client, new Uri(_target, (path ?? "") + context.Request.QueryString))));
        _target = _upstreamUrl;
    }

    private static async Task<(WebApplication, Uri)> StartAsync(Action<WebApplication> map)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        map(app);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return (app, new Uri(address + "/"));
    }

    public async ValueTask DisposeAsync()
    {
        _releaseStream.TrySetResult();
        await _proxy.DisposeAsync();
        await _upstream.DisposeAsync();
        _client.Dispose();
        _http.Dispose();
    }

    [Theory]
    [InlineData("POST")]
    [InlineData("PUT")]
    [InlineData("PATCH")]
    [InlineData("DELETE")]
    public async Task Method_body_query_and_headers_go_through_and_the_answer_comes_back(string method)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), new Uri(_proxyUrl, "echo?a=1&b=x%20y"))
        {
            Content = new StringContent("""{"instances":2}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("X-Custom", "kept");
        using var response = await _http.SendAsync(request, TestContext.Current.CancellationToken);
        response.StatusCode.Should().Be(HttpStatusCode.Created);
        (await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)).Should().Be("""{"instances":2}""");
        response.Headers.GetValues("X-Seen-Method").Should().Equal(method);
        response.Headers.GetValues("X-Seen-Custom").Should().Equal("kept");
        response.Headers.GetValues("X-Seen-Query").Should().Equal("?a=1&b=x%20y");
    }

    [Fact]
    public async Task Server_sent_events_stream_through_as_they_happen()
    {
        using var response = await _http.GetAsync(new Uri(_proxyUrl, "events"), HttpCompletionOption.ResponseHeadersRead, TestContext.Current.CancellationToken);
        response.Content.Headers.ContentType!.MediaType.Should().Be("text/event-stream");
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(TestContext.Current.CancellationToken));
        (await reader.ReadLineAsync(TestContext.Current.CancellationToken)).Should().Be("event: first");
        _releaseStream.SetResult();
        var rest = await reader.ReadToEndAsync(TestContext.Current.CancellationToken);
        rest.Should().Contain("event: second");
    }

    [Fact]
    public async Task An_unreachable_target_is_a_502_naming_it()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop(); // nothing listens there any more
        _target = new Uri($"http://127.0.0.1:{port}/");
        using var response = await _http.GetAsync(new Uri(_proxyUrl, "echo"), TestContext.Current.CancellationToken);
        response.StatusCode.Should().Be(HttpStatusCode.BadGateway);
        (await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)).Should().Contain($"Cannot reach http://127.0.0.1:{port}");
    }
}
