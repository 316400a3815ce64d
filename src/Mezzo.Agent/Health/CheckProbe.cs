using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Mezzo.Agent.Launcher;
using Mezzo.Protocol.V1;

namespace Mezzo.Agent.Health;

/// <summary>
/// Runs checks the way Mesos's checker library does for a command task, without its helper binaries: a COMMAND runs
/// with the task's environment, sandbox, user and cgroups (and in the task's mount namespace when it has its own);
/// HTTP is a GET of scheme://127.0.0.1:port/path following redirects, certificates unchecked (curl -L -k); TCP is a
/// connect to 127.0.0.1:port (mesos-tcp-connect).
/// </summary>
/// <param name="task">How the task itself was launched: its environment, sandbox, user, stderr file and cgroups.</param>
/// <param name="taskPid">The task's process, whose mount namespace command checks enter.</param>
public sealed class CheckProbe(IProcessLauncher launcher, LaunchSpec task, int taskPid) : ICheckProbe
{
    private const string Nsenter = "/usr/bin/nsenter";

    // One client for every HTTP check: no pooled connection is reused (as a fresh curl per check), so a server
    // that stops accepting connections fails its check at once.
    private static readonly HttpClient Http = new(new SocketsHttpHandler
    {
        AllowAutoRedirect = true,
        UseProxy = false,
        UseCookies = false,
        PooledConnectionLifetime = TimeSpan.Zero,
        SslOptions = { RemoteCertificateValidationCallback = (_, _, _, _) => true },
    })
    {
        Timeout = Timeout.InfiniteTimeSpan,
    };

    public Task<CheckStatusInfo> ProbeAsync(CheckSpec spec, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(spec);
        return spec.Type switch
        {
            CheckInfoType.COMMAND => CommandAsync(spec, cancellationToken),
            CheckInfoType.HTTP => HttpAsync(spec, cancellationToken),
            CheckInfoType.TCP => TcpAsync(spec, cancellationToken),
            _ => throw new CheckFailedException($"'{spec.Type}' is not a valid check type"),
        };
    }

    /// <summary>The launch of a command check: what <see cref="ProbeAsync"/> runs, exposed so tests can see it.</summary>
    public LaunchSpec CommandSpec(CommandInfo command)
    {
        ArgumentNullException.ThrowIfNull(command);
        var environment = new Dictionary<string, string>(task.Environment, StringComparer.Ordinal);
        foreach (var variable in command.Environment?.Variables ?? [])
        {
            if (!string.IsNullOrEmpty(variable.Name))
            {
                environment[variable.Name] = variable.Value ?? "";
            }
        }

        List<string> argv = command.Shell != false
            ? ["/bin/sh", "-c", command.Value ?? ""]
            : [command.Value ?? "", .. (command.Arguments ?? []).Skip(1)];

        // Mesos (and this agent) ignore CommandInfo.user of a check: it runs as the task does. Output goes where the
        // executor's would, the task's stderr file.
        var spec = task with
        {
            Executable = argv[0],
            Arguments = argv[1..],
            Environment = environment,
            StdoutPath = task.StderrPath,
        };

        if (!HasOwnMountNamespace(taskPid))
        {
            return spec;
        }

        // Mesos setns()es into the task's mount namespace so the command sees the task's root file system. nsenter
        // does it here, and switches user itself afterwards: a setpriv outside would leave nsenter without the
        // privilege to enter, and one inside may not exist in the task's image.
        List<string> arguments = ["--target", taskPid.ToString(CultureInfo.InvariantCulture), "--mount", "--wd"];
        if (task.User is { } user && UserDatabase.Lookup(user) is { } identity && identity.Uid != LibC.geteuid())
        {
            arguments.Add($"--setuid={identity.Uid}");
            arguments.Add($"--setgid={identity.Gid}");
        }

        arguments.Add("--");
        arguments.AddRange(argv);
        return spec with { Executable = Nsenter, Arguments = arguments, User = null };
    }

    private async Task<CheckStatusInfo> CommandAsync(CheckSpec spec, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        LaunchedProcess process;
        try
        {
            process = launcher.Launch(CommandSpec(spec.Command ?? throw new CheckFailedException("The command check has no command")));
        }
        catch (LaunchException ex)
        {
            throw new CheckFailedException($"Failed to run the {spec.Name}: {ex.Message}", ex);
        }

        ExitStatus exit;
        try
        {
            exit = await process.Exited.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Timed out or stopped: the whole group goes (Mesos: os::killtree(pid, SIGKILL)), and is reaped before
            // anyone is told, so no check process outlives its attempt.
            process.Signal(Signals.SIGKILL);
            await process.Exited.ConfigureAwait(false);
            throw;
        }

        return exit.ExitCode is { } code
            ? CheckStatuses.Command(code)
            : throw new CheckFailedException($"{spec.Name}: {exit.Describe()}");
    }

    private static async Task<CheckStatusInfo> HttpAsync(CheckSpec spec, CancellationToken cancellationToken)
    {
        var host = spec.Ipv6 ? "[::1]" : "127.0.0.1";
        var url = new Uri($"{spec.Scheme}://{host}:{spec.Port.ToString(CultureInfo.InvariantCulture)}{spec.Path}");
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, url);
            using var response = await Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            return CheckStatuses.Http((int)response.StatusCode);
        }
        catch (HttpRequestException ex)
        {
            throw new CheckFailedException($"GET {url} failed: {ex.Message}", ex);
        }
    }

    private static async Task<CheckStatusInfo> TcpAsync(CheckSpec spec, CancellationToken cancellationToken)
    {
        var address = spec.Ipv6 ? IPAddress.IPv6Loopback : IPAddress.Loopback;
        using var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            await socket.ConnectAsync(new IPEndPoint(address, (int)spec.Port), cancellationToken).ConfigureAwait(false);
            return CheckStatuses.Tcp(true);
        }
        catch (SocketException)
        {
            // mesos-tcp-connect cannot tell a refused connection from other socket errors either: all are "failed".
            return CheckStatuses.Tcp(false);
        }
    }

    /// <summary>Whether the task's mount namespace differs from the agent's (it has its own root or mounts).</summary>
    public static bool HasOwnMountNamespace(int pid)
    {
        try
        {
            var own = new FileInfo("/proc/self/ns/mnt").LinkTarget;
            var task = new FileInfo($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/ns/mnt").LinkTarget;
            return own is not null && task is not null && own != task;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false; // the task is gone; the check fails or is stopped on its own
        }
    }
}
