using System.Globalization;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using AwesomeAssertions;
using Mezzo.Agent.Health;
using Mezzo.Agent.Launcher;
using Mezzo.Protocol.V1;

namespace Mezzo.Agent.Tests.Health;

/// <summary>The real probes: commands through the launcher, HTTP and TCP against local listeners.</summary>
public sealed class CheckProbeTests : IDisposable
{
    private readonly PosixProcessLauncher _launcher = new();
    private readonly DirectoryInfo _sandbox = Directory.CreateTempSubdirectory("mezzo-checks-");

    public void Dispose()
    {
        _launcher.Dispose();
        _sandbox.Delete(recursive: true);
    }

    private CheckProbe Probe() => new(
        _launcher,
        new LaunchSpec("/bin/sh", ["-c", "sleep 1000"], new Dictionary<string, string> { ["PATH"] = "/usr/bin:/bin", ["TASK_VAR"] = "from-task" },
            _sandbox.FullName, Path.Join(_sandbox.FullName, "stdout"), Path.Join(_sandbox.FullName, "stderr")),
        Environment.ProcessId);

    private static CheckSpec Command(string script, params (string Name, string Value)[] environment) => CheckSpec.From(new CheckInfo
    {
        Type = CheckInfoType.COMMAND,
        Command = new CheckInfoCommand
        {
            Command = new CommandInfo
            {
                Value = script,
                Environment = new EnvironmentInfo { Variables = [.. environment.Select(e => new EnvironmentVariable { Name = e.Name, Value = e.Value })] },
            },
        },
    });

    private static CheckSpec Http(int port, string path = "/", string scheme = "http") =>
        CheckSpec.From(new HealthCheck { Type = HealthCheckType.HTTP, Http = new HealthCheckHTTPCheckInfo { Port = (uint)port, Path = path, Scheme = scheme } });

    private static CheckSpec Tcp(int port) => CheckSpec.From(new CheckInfo { Type = CheckInfoType.TCP, Tcp = new CheckInfoTcp { Port = (uint)port } });

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_command_check_reports_its_exit_code_and_runs_in_the_sandbox_with_the_task_environment()
    {
        var status = await Probe().ProbeAsync(Command("test \"$TASK_VAR:$OWN\" = from-task:own && test \"$PWD\" = \"$SANDBOX\" && exit 7", ("OWN", "own"), ("SANDBOX", _sandbox.FullName)), Token);

        status.Type.Should().Be(CheckInfoType.COMMAND);
        status.Command!.ExitCode.Should().Be(7, "exit 7 is reached only when every condition before it held");
    }

    [Fact]
    public async Task A_check_command_writes_to_the_task_stderr_file()
    {
        await Probe().ProbeAsync(Command("echo out-line; echo err-line >&2"), Token);

        var stderr = await File.ReadAllTextAsync(Path.Join(_sandbox.FullName, "stderr"), Token);
        stderr.Should().Contain("out-line").And.Contain("err-line");
    }

    [Fact]
    public async Task A_command_killed_by_a_signal_gives_no_result()
    {
        var act = () => Probe().ProbeAsync(Command("kill -KILL $$"), Token);

        (await act.Should().ThrowAsync<CheckFailedException>()).WithMessage("COMMAND check: Command terminated with signal Killed");
    }

    [Fact]
    public async Task A_command_that_cannot_start_gives_no_result_with_the_reason()
    {
        var spec = Command("ignored") with { Command = new CommandInfo { Shell = false, Value = "/nonexistent/check", Arguments = ["check"] } };

        var act = () => Probe().ProbeAsync(spec, Token);

        (await act.Should().ThrowAsync<CheckFailedException>()).WithMessage("Failed to run the COMMAND check: *nonexistent/check*");
    }

    [Fact]
    public async Task A_timed_out_command_check_is_killed_with_its_whole_process_group()
    {
        var pidFile = Path.Join(_sandbox.FullName, "child.pid");
        var spec = Command($"sleep 1000 & echo $! > {pidFile}; wait") with { Timeout = TimeSpan.FromMilliseconds(300) };

        var outcome = await CheckLoop.AttemptAsync(spec, Probe(), TimeProvider.System, Token);

        outcome.Should().Be(CheckOutcome.Failed("COMMAND check timed out after 0.3s"));
        var child = int.Parse((await File.ReadAllTextAsync(pidFile, Token)).Trim(), CultureInfo.InvariantCulture);
        (await Eventually.TrueAsync(() => Proc.IsGone(child))).Should().BeTrue("the check's background child is in its process group");
        _launcher.RunningCount.Should().Be(0, "the check process was reaped before the attempt ended");
    }

    [Theory]
    [InlineData(200)]
    [InlineData(404)]
    [InlineData(503)]
    public async Task An_HTTP_check_reports_the_status_code(int code)
    {
        using var server = new TinyHttpServer(code);

        var status = await Probe().ProbeAsync(Http(server.Port, "/health"), Token);

        status.Http!.StatusCode.Should().Be((uint)code);
        server.Requests.Should().ContainSingle().Which.Should().StartWith("GET /health HTTP/1.1");
    }

    [Fact]
    public async Task An_HTTPS_health_check_does_not_validate_the_certificate_like_curl_k()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=not-127.0.0.1", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using var selfSigned = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        using var certificate = X509CertificateLoader.LoadPkcs12(selfSigned.Export(X509ContentType.Pfx), null);
        using var server = new TinyHttpServer(200, certificate: certificate);

        var status = await Probe().ProbeAsync(Http(server.Port, "/secure", "https"), Token);

        status.Http!.StatusCode.Should().Be(200u);
        server.Requests.Should().ContainSingle().Which.Should().StartWith("GET /secure HTTP/1.1");
    }

    [Fact]
    public async Task An_HTTP_check_follows_redirects_like_curl_L()
    {
        using var target = new TinyHttpServer(204);
        using var redirect = new TinyHttpServer(302, $"Location: http://127.0.0.1:{target.Port}/there");

        var status = await Probe().ProbeAsync(Http(redirect.Port), Token);

        status.Http!.StatusCode.Should().Be(204u);
    }

    [Fact]
    public async Task An_HTTP_check_against_a_closed_port_gives_no_result()
    {
        var act = () => Probe().ProbeAsync(Http(ClosedPort()), Token);

        (await act.Should().ThrowAsync<CheckFailedException>()).WithMessage("GET http://127.0.0.1:*/ failed: *");
    }

    [Fact]
    public async Task A_TCP_check_tells_an_open_port_from_a_closed_one()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();

        (await Probe().ProbeAsync(Tcp(((IPEndPoint)listener.LocalEndpoint).Port), Token)).Tcp!.Succeeded.Should().BeTrue();
        (await Probe().ProbeAsync(Tcp(ClosedPort()), Token)).Tcp!.Succeeded.Should().BeFalse();
    }

    [Fact]
    public void A_task_in_the_agents_mount_namespace_runs_its_checks_directly()
    {
        var spec = Probe().CommandSpec(new CommandInfo { Value = "true" });

        spec.Executable.Should().Be("/bin/sh");
        spec.Arguments.Should().Equal("-c", "true");
        CheckProbe.HasOwnMountNamespace(Environment.ProcessId).Should().BeFalse();
    }

    [Fact]
    public async Task A_task_with_its_own_mount_namespace_gets_its_checks_run_inside_it()
    {
        if (!Environment.IsPrivilegedProcess || !File.Exists("/usr/bin/unshare"))
        {
            Assert.Skip("needs root and unshare(1)");
        }

        // A process in a new mount namespace where the sandbox has a file the agent's namespace does not see.
        var marker = Path.Join(_sandbox.FullName, "inside");
        Directory.CreateDirectory(marker);
        var task = _launcher.Launch(new LaunchSpec("/usr/bin/unshare", ["--mount", "--propagation", "private", "/bin/sh", "-c", $"mount -t tmpfs none {marker} && touch {marker}/only-here && exec sleep 1000"],
            new Dictionary<string, string> { ["PATH"] = "/usr/bin:/bin" }, _sandbox.FullName, Path.Join(_sandbox.FullName, "task.out"), Path.Join(_sandbox.FullName, "task.err")));
        try
        {
            (await Eventually.TrueAsync(() => CheckProbe.HasOwnMountNamespace(task.Pid) && File.Exists($"/proc/{task.Pid}/root{marker}/only-here"))).Should().BeTrue();
            var probe = new CheckProbe(_launcher, new LaunchSpec("/bin/sh", [], new Dictionary<string, string> { ["PATH"] = "/usr/bin:/bin" }, _sandbox.FullName, Path.Join(_sandbox.FullName, "stdout"), Path.Join(_sandbox.FullName, "stderr")), task.Pid);

            probe.CommandSpec(new CommandInfo { Value = "true" }).Executable.Should().Be("/usr/bin/nsenter");
            (await probe.ProbeAsync(Command($"test -f {marker}/only-here"), Token)).Command!.ExitCode.Should().Be(0);
            File.Exists(Path.Join(marker, "only-here")).Should().BeFalse("the file exists only in the task's namespace");
        }
        finally
        {
            await task.KillAsync(TimeSpan.Zero, Token);
        }
    }

    private static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Answers every connection with one fixed status line, and records the request lines.</summary>
    private sealed class TinyHttpServer : IDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly CancellationTokenSource _stop = new();
        private readonly List<string> _requests = [];

        public TinyHttpServer(int code, string? header = null, X509Certificate2? certificate = null)
        {
            _listener.Start();
            Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
            _ = Task.Run(async () =>
            {
                try
                {
                    while (true)
                    {
                        using var client = await _listener.AcceptTcpClientAsync(_stop.Token);
                        Stream stream = client.GetStream();
                        if (certificate is not null)
                        {
                            var tls = new SslStream(stream);
                            await tls.AuthenticateAsServerAsync(certificate);
                            stream = tls;
                        }

                        var buffer = new byte[4096];
                        var read = await stream.ReadAsync(buffer, _stop.Token);
                        lock (_requests)
                        {
                            _requests.Add(Encoding.ASCII.GetString(buffer, 0, read));
                        }

                        var extra = header is null ? "" : header + "\r\n";
                        await stream.WriteAsync(Encoding.ASCII.GetBytes($"HTTP/1.1 {code} X\r\n{extra}Content-Length: 0\r\nConnection: close\r\n\r\n"), _stop.Token);
                    }
                }
                catch (Exception ex) when (ex is OperationCanceledException or SocketException or IOException or ObjectDisposedException or AuthenticationException)
                {
                }
            });
        }

        public int Port { get; }

        public IReadOnlyList<string> Requests
        {
            get
            {
                lock (_requests)
                {
                    return [.. _requests];
                }
            }
        }

        public void Dispose()
        {
            _stop.Cancel();
            _listener.Stop();
            _stop.Dispose();
        }
    }
}
