using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Microsoft.Win32.SafeHandles;

namespace Mezzo.Agent.Containers;

/// <summary>
/// BRIDGE networking without a bridge: the container has a network namespace of its own (loopback only), and the
/// agent listens on each mapped host port and, per connection, opens a TCP connection inside that namespace to
/// 127.0.0.1:container_port and copies bytes both ways. Chosen over veth + bridge + iptables DNAT because it needs no
/// iptables/nftables, no bridge device and no address management, works wherever runc does, and leaves nothing on
/// the host to clean up but a listening socket. The cost is a user-space copy per byte and the container seeing
/// every client as 127.0.0.1.
/// <para>The socket is created inside the container's namespace on a dedicated thread: setns(CLONE_NEWNET) changes
/// only the calling thread, and a socket keeps the namespace it was created in, so the thread switches in, creates
/// the socket, switches back, and the connect and copying run as usual.</para>
/// </summary>
public sealed partial class PortForwarder : IAsyncDisposable
{
    private static readonly TimeSpan InitTimeout = TimeSpan.FromSeconds(10);
    private readonly List<TcpListener> _listeners = [];
    private readonly Func<Task<int?>> _initPid;
    private readonly ILogger _log;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _loops = [];
    private readonly SemaphoreSlim _nsGate = new(1, 1);
    private SafeFileHandle? _netns;

    private PortForwarder(Func<Task<int?>> initPid, ILogger log)
    {
        _initPid = initPid;
        _log = log;
    }

    /// <summary>
    /// Binds every host port now, so a port already taken fails the launch; connections are accepted from then on
    /// and wait (up to 10 s) for the container's init to exist.
    /// </summary>
    /// <param name="initPid">The container init's host pid, or null while runc has not created it.</param>
    public static PortForwarder Start(IReadOnlyList<PortMapping> mappings, Func<Task<int?>> initPid, ILogger log)
    {
        ArgumentNullException.ThrowIfNull(mappings);
        var forwarder = new PortForwarder(initPid, log);
        try
        {
            foreach (var mapping in mappings)
            {
                var listener = new TcpListener(IPAddress.Any, mapping.HostPort);
                try
                {
                    // A restarted task must get its port back while the previous run's connections sit in TIME_WAIT.
                    listener.Server.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
                    listener.Start();
                }
                catch (SocketException ex)
                {
                    throw new ContainerLaunchException($"Port mapping {mapping.HostPort} -> {mapping.ContainerPort}: cannot listen on host port {mapping.HostPort}: {ex.Message}", ex);
                }

                forwarder._listeners.Add(listener);
                forwarder._loops.Add(Task.Run(() => forwarder.AcceptLoopAsync(listener, mapping)));
            }
        }
        catch
        {
            forwarder.DisposeAsync().AsTask().GetAwaiter().GetResult();
            throw;
        }

        return forwarder;
    }

    private async Task AcceptLoopAsync(TcpListener listener, PortMapping mapping)
    {
        var connections = new List<Task>();
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                var client = await listener.AcceptSocketAsync(_stop.Token).ConfigureAwait(false);
                connections.RemoveAll(c => c.IsCompleted);
                connections.Add(ForwardAsync(client, mapping));
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
        {
            // Stopping.
        }

        await Task.WhenAll(connections).ConfigureAwait(false);
    }

    private async Task ForwardAsync(Socket client, PortMapping mapping)
    {
        using (client)
        {
            Socket? inside = null;
            try
            {
                var netns = await NetnsAsync().ConfigureAwait(false);
                inside = await SocketInNamespaceAsync(netns).ConfigureAwait(false);
                await inside.ConnectAsync(new IPEndPoint(IPAddress.Loopback, mapping.ContainerPort), _stop.Token).ConfigureAwait(false);
                await Task.WhenAll(PumpAsync(client, inside), PumpAsync(inside, client)).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is SocketException or IOException or OperationCanceledException or ObjectDisposedException or ContainerLaunchException)
            {
                Log.ConnectionFailed(_log, mapping.HostPort, mapping.ContainerPort, ex.Message);
            }
            finally
            {
                inside?.Dispose();
            }
        }
    }

    private async Task PumpAsync(Socket from, Socket to)
    {
        var buffer = new byte[16 * 1024];
        try
        {
            while (true)
            {
                var read = await from.ReceiveAsync(buffer, SocketFlags.None, _stop.Token).ConfigureAwait(false);
                if (read == 0)
                {
                    break;
                }

                await to.SendAsync(buffer.AsMemory(0, read), SocketFlags.None, _stop.Token).ConfigureAwait(false);
            }

            // Half-close: the other side learns this direction ended, and may still answer.
            to.Shutdown(SocketShutdown.Send);
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException or ObjectDisposedException)
        {
            from.Close();
            to.Close();
        }
    }

    /// <summary>The container's network namespace, opened once and kept (a handle keeps it valid).</summary>
    private async Task<SafeFileHandle> NetnsAsync()
    {
        await _nsGate.WaitAsync(_stop.Token).ConfigureAwait(false);
        try
        {
            if (_netns is not null)
            {
                return _netns;
            }

            var deadline = DateTime.UtcNow + InitTimeout;
            while (true)
            {
                if (await _initPid().ConfigureAwait(false) is { } pid)
                {
                    _netns = File.OpenHandle($"/proc/{pid}/ns/net");
                    return _netns;
                }

                if (DateTime.UtcNow > deadline)
                {
                    throw new ContainerLaunchException("the container did not start");
                }

                await Task.Delay(50, _stop.Token).ConfigureAwait(false);
            }
        }
        finally
        {
            _nsGate.Release();
        }
    }

    private static Task<Socket> SocketInNamespaceAsync(SafeFileHandle netns)
    {
        var result = new TaskCompletionSource<Socket>(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            try
            {
                using var own = File.OpenHandle("/proc/thread-self/ns/net");
                if (ContainerNative.setns((int)netns.DangerousGetHandle(), ContainerNative.CLONE_NEWNET) != 0)
                {
                    throw new IOException($"setns into the container's network namespace failed: {ContainerNative.LastError()}");
                }

                Socket socket;
                try
                {
                    socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                }
                finally
                {
                    // The thread is about to end anyway; switching back keeps it from ever running in the wrong namespace.
                    _ = ContainerNative.setns((int)own.DangerousGetHandle(), ContainerNative.CLONE_NEWNET);
                }

                result.SetResult(socket);
            }
            catch (Exception ex)
            {
                result.SetException(ex);
            }
        })
        {
            IsBackground = true,
            Name = "Mezzo netns socket",
        };
        thread.Start();
        return result.Task;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        foreach (var listener in _listeners)
        {
            listener.Stop();
        }

        await Task.WhenAll(_loops).ConfigureAwait(false);
        _netns?.Dispose();
        _stop.Dispose();
        _nsGate.Dispose();
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Debug, Message = "Port {HostPort} -> {ContainerPort}: connection not forwarded: {Reason}")]
        public static partial void ConnectionFailed(ILogger logger, int hostPort, int containerPort, string reason);
    }
}
