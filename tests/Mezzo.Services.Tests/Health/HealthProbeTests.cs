using System.Net;
using System.Net.Sockets;
using Mezzo.Services.Health;
using Microsoft.Extensions.Time.Testing;

namespace Mezzo.Services.Tests.Health;

/// <summary>Marathon-side probes against real loopback servers.</summary>
public sealed class HealthProbeTests
{
    private static ProbeTarget Http(int port, bool ignore1xx = false, string protocol = "HTTP") =>
        new(protocol, "127.0.0.1", port, "/health", ignore1xx, TimeSpan.FromSeconds(5));

    [Theory]
    [InlineData(200, "Healthy")]
    [InlineData(204, "Healthy")]
    [InlineData(302, "Healthy")]
    [InlineData(399, "Healthy")]
    [InlineData(400, "Unhealthy")]
    [InlineData(404, "Unhealthy")]
    [InlineData(503, "Unhealthy")]
    public async Task Status_200_to_399_passes_and_anything_else_fails(int status, string expected)
    {
        await using var server = new LoopbackServer(_ => LoopbackServer.Status(status));

        var outcome = await HealthProbe.RunAsync(Http(server.Port), TimeProvider.System, CancellationToken.None);

        outcome.GetType().Name.Should().Be(expected);
        if (outcome is ProbeOutcome.Unhealthy failure)
        {
            failure.Cause.Should().Be($"http://127.0.0.1:{server.Port}/health answered HTTP {status}");
        }
    }

    [Fact]
    public async Task A_1xx_is_ignored_only_with_ignoreHttp1xx()
    {
        await using var server = new LoopbackServer(_ => "HTTP/1.1 102 Processing\r\n\r\n");

        (await HealthProbe.RunAsync(Http(server.Port, ignore1xx: true), TimeProvider.System, CancellationToken.None)).Should().BeOfType<ProbeOutcome.Ignored>();
        (await HealthProbe.RunAsync(Http(server.Port, ignore1xx: false), TimeProvider.System, CancellationToken.None))
            .Should().BeOfType<ProbeOutcome.Unhealthy>().Which.Cause.Should().EndWith("answered HTTP 102");
    }

    [Fact]
    public async Task The_request_names_the_path_and_host()
    {
        await using var server = new LoopbackServer(_ => LoopbackServer.Status(200));
        var outcome = await HealthProbe.RunAsync(Http(server.Port) with { Path = "/api/health?x=1" }, TimeProvider.System, CancellationToken.None);

        outcome.Should().BeOfType<ProbeOutcome.Healthy>();
        server.Requests.Should().Be(1);
        var head = await server.Heads.Reader.ReadAsync();
        head.Should().StartWith("GET /api/health?x=1 HTTP/1.1\r\n").And.Contain($"Host: 127.0.0.1:{server.Port}\r\n");
    }

    [Fact]
    public async Task A_server_that_never_answers_fails_when_timeoutSeconds_pass_on_the_clock()
    {
        // Accepted by the kernel's backlog, never read, never answered.
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var time = new FakeTimeProvider();

        var probe = HealthProbe.RunAsync(Http(port), time, CancellationToken.None);
        await Task.WhenAny(probe, Task.Delay(200));
        probe.IsCompleted.Should().BeFalse("no answer came and the fake clock has not moved");

        var outcome = await Eventually.DriveAsync(time, probe, TimeSpan.FromSeconds(1));

        outcome.Should().BeOfType<ProbeOutcome.Unhealthy>().Which.Cause.Should().Be($"http://127.0.0.1:{port}/health did not answer within 5s");
        time.GetUtcNow().Should().BeOnOrAfter(new FakeTimeProvider().GetUtcNow().AddSeconds(5));
    }

    [Fact]
    public async Task TCP_passes_when_the_port_accepts_and_fails_when_it_refuses()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var open = ((IPEndPoint)listener.LocalEndpoint).Port;
        var closed = FreePort();

        (await HealthProbe.RunAsync(new ProbeTarget("TCP", "127.0.0.1", open, "/", false, TimeSpan.FromSeconds(5)), TimeProvider.System, CancellationToken.None))
            .Should().BeOfType<ProbeOutcome.Healthy>();
        (await HealthProbe.RunAsync(new ProbeTarget("TCP", "127.0.0.1", closed, "/", false, TimeSpan.FromSeconds(5)), TimeProvider.System, CancellationToken.None))
            .Should().BeOfType<ProbeOutcome.Unhealthy>().Which.Cause.Should().StartWith($"tcp://127.0.0.1:{closed}: ").And.Contain("refused");
    }

    [Fact]
    public async Task Garbage_a_closed_connection_and_HTTPS_against_plain_HTTP_fail_with_their_cause()
    {
        await using var garbage = new LoopbackServer(_ => "SSH-2.0-OpenSSH\r\n");
        await using var silent = new LoopbackServer(_ => "");
        await using var plain = new LoopbackServer(_ => LoopbackServer.Status(200), readRequest: false);

        (await HealthProbe.RunAsync(Http(garbage.Port), TimeProvider.System, CancellationToken.None))
            .Should().BeOfType<ProbeOutcome.Unhealthy>().Which.Cause.Should().Contain("answered no HTTP status line ('SSH-2.0-OpenSSH')");
        (await HealthProbe.RunAsync(Http(silent.Port), TimeProvider.System, CancellationToken.None))
            .Should().BeOfType<ProbeOutcome.Unhealthy>().Which.Cause.Should().Contain("connection closed");
        (await HealthProbe.RunAsync(Http(plain.Port, protocol: "HTTPS"), TimeProvider.System, CancellationToken.None))
            .Should().BeOfType<ProbeOutcome.Unhealthy>().Which.Cause.Should().StartWith($"https://127.0.0.1:{plain.Port}/health: ");
    }

    [Theory]
    [InlineData("no-such-host.invalid")]
    [InlineData("")]
    public async Task An_unresolvable_or_empty_host_fails_without_throwing(string host)
    {
        var outcome = await HealthProbe.RunAsync(new ProbeTarget("HTTP", host, 80, "/", false, TimeSpan.FromSeconds(5)), TimeProvider.System, CancellationToken.None);

        outcome.Should().BeOfType<ProbeOutcome.Unhealthy>().Which.Cause.Should().StartWith($"http://{host}:80/: ");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
