using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading.Channels;

namespace Mezzo.Services.Tests.Health;

/// <summary>
/// A real HTTP/1.1 server on a loopback port for probes and callbacks: each request is answered by
/// <c>answer</c> (raw response bytes, or null to never answer), and request bodies are recorded in order.
/// </summary>
internal sealed class LoopbackServer : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly Func<int, string?> _answer;
    private readonly bool _readRequest;
    private readonly CancellationTokenSource _stop = new();
    private readonly System.Collections.Concurrent.ConcurrentBag<Socket> _held = [];
    private readonly Task _loop;
    private int _requests;

    /// <param name="readRequest">False: answer as soon as a connection is accepted, without reading (a server speaking the wrong protocol).</param>
    public LoopbackServer(Func<int, string?> answer, bool readRequest = true)
    {
        _answer = answer;
        _readRequest = readRequest;
        _listener.Start();
        _loop = Task.Run(AcceptAsync);
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public Uri Url => new($"http://127.0.0.1:{Port}/events");

    public Channel<string> Bodies { get; } = Channel.CreateUnbounded<string>();

    public Channel<string> Heads { get; } = Channel.CreateUnbounded<string>();

    public int Requests => Volatile.Read(ref _requests);

    public static string Status(int code, string reason = "X") => $"HTTP/1.1 {code} {reason}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";

    private async Task AcceptAsync()
    {
        try
        {
            while (true)
            {
                var socket = await _listener.AcceptSocketAsync(_stop.Token);
                _ = Task.Run(() => ServeAsync(socket));
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }
    }

    private async Task ServeAsync(Socket socket)
    {
        try
        {
            if (!_readRequest)
            {
                await socket.SendAsync(Encoding.ASCII.GetBytes(_answer(Interlocked.Increment(ref _requests)) ?? ""), _stop.Token);
                socket.Shutdown(SocketShutdown.Both);
                socket.Dispose();
                return;
            }

            var buffer = new byte[64 * 1024];
            var received = new StringBuilder();
            int headerEnd;
            while ((headerEnd = received.ToString().IndexOf("\r\n\r\n", StringComparison.Ordinal)) < 0)
            {
                var read = await socket.ReceiveAsync(buffer, _stop.Token);
                if (read == 0)
                {
                    socket.Dispose();
                    return;
                }

                received.Append(Encoding.UTF8.GetString(buffer, 0, read));
            }

            var headers = received.ToString()[..headerEnd];
            var length = headers.Split("\r\n").Select(l => l.Split(':', 2)).Where(p => p.Length == 2 && p[0].Trim().Equals("Content-Length", StringComparison.OrdinalIgnoreCase))
                .Select(p => int.Parse(p[1].Trim(), System.Globalization.CultureInfo.InvariantCulture)).FirstOrDefault();
            while (Encoding.UTF8.GetByteCount(received.ToString()[(headerEnd + 4)..]) < length)
            {
                var read = await socket.ReceiveAsync(buffer, _stop.Token);
                if (read == 0)
                {
                    break;
                }

                received.Append(Encoding.UTF8.GetString(buffer, 0, read));
            }

            var number = Interlocked.Increment(ref _requests);
            Heads.Writer.TryWrite(headers);
            Bodies.Writer.TryWrite(received.ToString()[(headerEnd + 4)..]);
            if (_answer(number) is not { } answer)
            {
                _held.Add(socket);

                return;
            }

            await socket.SendAsync(Encoding.ASCII.GetBytes(answer), _stop.Token);
            socket.Shutdown(SocketShutdown.Both);
            socket.Dispose();
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            socket.Dispose();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _loop;
        foreach (var socket in _held)
        {
            socket.Dispose();
        }

        _stop.Dispose();
    }
}
