using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Mezzo.IntegrationTests.Infrastructure;

/// <summary>
/// A real single-member etcd (Debian's <c>etcd-server</c>) on free loopback ports with its own data dir, for one
/// test: killed and removed on dispose.
/// </summary>
public sealed class EtcdServer : IAsyncDisposable
{
    private readonly Process _process;
    private readonly TempDir _dir;
    private readonly StringBuilder _output = new();

    private EtcdServer(Process process, TempDir dir, int clientPort)
    {
        _process = process;
        _dir = dir;
        ClientPort = clientPort;
    }

    public int ClientPort { get; }

    /// <summary>etcd://127.0.0.1:port with a key prefix of its own, so tests could even share a server.</summary>
    public string Url(string prefix = "/mezzo") => $"etcd://127.0.0.1:{ClientPort}{prefix}";

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    public static async Task<EtcdServer> StartAsync()
    {
        Exception? last = null;
        // A free port can be taken between our probe and etcd's bind; try again with new ports then.
        for (var attempt = 0; attempt < 3; attempt++)
        {
            var dir = new TempDir();
            var (client, peer) = (Ports.Free(), Ports.Free());
            var info = new ProcessStartInfo("etcd")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (var arg in (string[])[
                "--name", "test",
                "--data-dir", Path.Combine(dir.Path, "data"),
                "--listen-client-urls", $"http://127.0.0.1:{client}",
                "--advertise-client-urls", $"http://127.0.0.1:{client}",
                "--listen-peer-urls", $"http://127.0.0.1:{peer}",
                "--initial-advertise-peer-urls", $"http://127.0.0.1:{peer}",
                "--initial-cluster", $"test=http://127.0.0.1:{peer}",
                "--logger", "zap",
                "--log-level", "warn"])
            {
                info.ArgumentList.Add(arg);
            }

            var process = new Process { StartInfo = info };
            var server = new EtcdServer(process, dir, client);
            process.OutputDataReceived += (_, e) => server.Append(e.Data);
            process.ErrorDataReceived += (_, e) => server.Append(e.Data);
            process.Start();
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            try
            {
                using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
                await Poll.UntilAsync(
                    async () =>
                    {
                        if (process.HasExited)
                        {
                            throw new EtcdStartException($"etcd exited with {process.ExitCode}: {server.Output}");
                        }

                        try
                        {
                            return (await http.GetStringAsync(new Uri($"http://127.0.0.1:{client}/health"))).Contains("\"health\":\"true\"", StringComparison.Ordinal);
                        }
                        catch (TaskCanceledException)
                        {
                            return false;
                        }
                    },
                    "etcd to serve",
                    TimeSpan.FromSeconds(20));
                return server;
            }
            catch (Exception ex) when (ex is EtcdStartException or TimeoutException)
            {
                last = ex;
                await server.DisposeAsync();
            }
        }

        throw new InvalidOperationException("Could not start etcd (is the etcd-server package installed?)", last);
    }

    private void Append(string? line)
    {
        if (line is not null)
        {
            lock (_output)
            {
                _output.AppendLine(line);
            }
        }
    }


    /// <summary>kill -9: etcd is gone for whoever uses it (the data dir stays until dispose).</summary>
    public async Task KillAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        _dir.Dispose();
    }

    private sealed class EtcdStartException(string message) : Exception(message);
}
