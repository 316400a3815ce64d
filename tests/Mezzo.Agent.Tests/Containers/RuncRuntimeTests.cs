using System.Net;
using System.Net.Sockets;
using AwesomeAssertions;
using Mezzo.Agent.Containers;
using Mezzo.Protocol.V1;
using Microsoft.Extensions.Logging.Abstractions;

namespace Mezzo.Agent.Tests.Containers;

public sealed class RuncRuntimeTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("mezzo-runc-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void A_missing_runc_makes_image_launches_fail_with_the_reason()
    {
        var runtime = RuncRuntime.Create(_dir, "/nonexistent/mezzo/runc", NullLogger.Instance);
        runtime.Unavailable.Should().Be("runc not found at /nonexistent/mezzo/runc");
        var spec = new ContainerSpec
        {
            ContainerId = "c1",
            Image = new ContainerImage(_dir, ["/bin/true"]),
            Container = new ContainerInfo { Type = ContainerInfoType.DOCKER },
            Environment = new Dictionary<string, string>(),
            Sandbox = _dir,
            CgroupsPath = "/x",
        };
        var prepare = () => runtime.Prepare(spec);
        prepare.Should().Throw<ContainerLaunchException>().WithMessage("Cannot run container images on this agent: runc not found at /nonexistent/mezzo/runc");
        Directory.Exists(runtime.BundlesRoot).Should().BeFalse("nothing is written for a launch that cannot happen");
    }

    [Fact]
    public async Task Prepare_writes_the_bundle_outside_the_sandbox_and_runs_runc_in_the_foreground_and_destroy_removes_it()
    {
        var runc = Path.Combine(_dir, "runc");
        await File.WriteAllTextAsync(runc, "#!/bin/sh\nexit 0\n");
        var runtime = RuncRuntime.Create(Path.Combine(_dir, "work"), runc, NullLogger.Instance);
        Assert.SkipUnless(runtime.Unavailable is null, $"Needs root: {runtime.Unavailable}");
        var sandbox = Directory.CreateDirectory(Path.Combine(_dir, "work", "slaves", "s1")).FullName;
        var spec = new ContainerSpec
        {
            ContainerId = "c1",
            Image = new ContainerImage(Directory.CreateDirectory(Path.Combine(_dir, "rootfs")).FullName, ["/bin/true"]),
            Container = new ContainerInfo { Type = ContainerInfoType.DOCKER },
            Environment = new Dictionary<string, string>(),
            Sandbox = sandbox,
            CgroupsPath = "/x",
        };

        var launch = runtime.Prepare(spec);

        launch.Executable.Should().Be(runc);
        launch.Arguments.Should().Equal("--root", runtime.StateRoot, "run", "--keep", "--bundle", Path.Combine(runtime.BundlesRoot, "c1"), "c1");
        launch.StdoutPath.Should().Be(Path.Combine(sandbox, "stdout"));
        launch.Environment["MESOS_SANDBOX"].Should().Be(sandbox, "runc itself is found like any task process of this agent");
        File.Exists(Path.Combine(runtime.BundlesRoot, "c1", "config.json")).Should().BeTrue();
        runtime.BundlesRoot.Should().NotStartWith(sandbox);

        await runtime.DestroyAsync("c1");
        Directory.Exists(Path.Combine(runtime.BundlesRoot, "c1")).Should().BeFalse();
    }
}

public sealed class PortForwarderTests
{
    [Fact]
    public void A_host_port_already_in_use_fails_the_launch_naming_the_port()
    {
        using var taken = new TcpListener(IPAddress.Any, 0);
        taken.Start();
        var port = ((IPEndPoint)taken.LocalEndpoint).Port;

        var start = () => PortForwarder.Start([new PortMapping(port, 80)], () => Task.FromResult<int?>(null), NullLogger.Instance);

        start.Should().Throw<ContainerLaunchException>().WithMessage($"Port mapping {port} -> 80: cannot listen on host port {port}: *");
    }

    [Fact]
    public async Task Connections_are_forwarded_into_a_network_namespace_and_the_port_is_released_on_dispose()
    {
        // The agent's own network namespace stands in for the container's: the mechanics (setns on a dedicated
        // thread, connect, copy both ways, half-close) are the same.
        Assert.SkipUnless(Environment.IsPrivilegedProcess, "Needs root (CAP_SYS_ADMIN) for setns.");
        using var server = new TcpListener(IPAddress.Loopback, 0);
        server.Start();
        var serverPort = ((IPEndPoint)server.LocalEndpoint).Port;
        int hostPort;
        using (var probe = new TcpListener(IPAddress.Any, 0))
        {
            probe.Start();
            hostPort = ((IPEndPoint)probe.LocalEndpoint).Port;
        }

        var forwarder = PortForwarder.Start([new PortMapping(hostPort, serverPort)], () => Task.FromResult<int?>(Environment.ProcessId), NullLogger.Instance);
        try
        {
            ListeningPortsOfThisProcess().Should().Contain(hostPort);
            using var client = new TcpClient();
            await client.ConnectAsync(IPAddress.Loopback, hostPort);
            using var accepted = await server.AcceptTcpClientAsync();
            var stream = client.GetStream();
            await stream.WriteAsync("ping"u8.ToArray());
            client.Client.Shutdown(SocketShutdown.Send);
            var buffer = new byte[16];
            var read = await accepted.GetStream().ReadAtLeastAsync(buffer, 4);
            System.Text.Encoding.ASCII.GetString(buffer, 0, read).Should().Be("ping");
            (await accepted.GetStream().ReadAsync(buffer)).Should().Be(0, "the client's half-close reaches the server");
            await accepted.GetStream().WriteAsync("pong"u8.ToArray());
            accepted.Client.Shutdown(SocketShutdown.Send);
            var reply = new MemoryStream();
            await stream.CopyToAsync(reply);
            System.Text.Encoding.ASCII.GetString(reply.ToArray()).Should().Be("pong");
        }
        finally
        {
            await forwarder.DisposeAsync();
        }

        // Asked of the kernel rather than by connecting: a test running in parallel may bind the freed port at once.
        ListeningPortsOfThisProcess().Should().NotContain(hostPort, "the host port is closed with the forwarder");
    }

    /// <summary>TCP ports a socket of this process listens on: /proc/net/tcp{,6} rows in LISTEN whose inode is one of our fds.</summary>
    private static HashSet<int> ListeningPortsOfThisProcess()
    {
        var inodes = new HashSet<string>(StringComparer.Ordinal);
        foreach (var fd in Directory.GetFiles("/proc/self/fd"))
        {
            if (new FileInfo(fd).LinkTarget is { } target && target.StartsWith("socket:[", StringComparison.Ordinal))
            {
                inodes.Add(target["socket:[".Length..^1]);
            }
        }

        var ports = new HashSet<int>();
        foreach (var table in (string[])["/proc/net/tcp", "/proc/net/tcp6"])
        {
            foreach (var line in File.ReadLines(table).Skip(1))
            {
                var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (fields[3] == "0A" && inodes.Contains(fields[9]))
                {
                    ports.Add(Convert.ToInt32(fields[1].Split(':')[1], 16));
                }
            }
        }

        return ports;
    }
}
