using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Mezzo.Agent.Tests.Images;

/// <summary>A real Docker registry (Debian's docker-registry, distribution 2.x) on a free loopback port, plain http.</summary>
public class RegistryFixture : IAsyncLifetime
{
    public const string Binary = "/usr/bin/docker-registry";

    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("mezzo-registry-");

    protected string Dir => _dir.FullName;

    /// <summary>Extra top-level sections of config.yml (e.g. <c>auth:</c>), indented as YAML at column 0.</summary>
    protected virtual string ExtraConfig => "";
    private Process? _process;

    public Uri Uri { get; private set; } = null!;

    public HttpClient Http { get; } = new();

    public ConcurrentQueue<string> Output { get; } = new();

    /// <summary>Where the registry keeps blob <paramref name="digest"/>: tests corrupt it there.</summary>
    public string BlobDataPath(string digest)
    {
        var hex = digest["sha256:".Length..];
        return Path.Join(_dir.FullName, "data", "docker", "registry", "v2", "blobs", "sha256", hex[..2], hex, "data");
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public virtual async ValueTask InitializeAsync()
    {
        if (!File.Exists(Binary))
        {
            return;
        }

        var port = FreePort();
        var config = Path.Join(_dir.FullName, "config.yml");
        await File.WriteAllTextAsync(config, $"""
            version: 0.1
            log:
              level: info
            storage:
              filesystem:
                rootdirectory: {Path.Join(_dir.FullName, "data")}
              delete:
                enabled: true
            http:
              addr: 127.0.0.1:{port}
            {ExtraConfig}
            """);
        var start = new ProcessStartInfo(Binary) { RedirectStandardError = true, RedirectStandardOutput = true };
        start.ArgumentList.Add("serve");
        start.ArgumentList.Add(config);
        _process = Process.Start(start)!;
        _process.OutputDataReceived += (_, e) => Output.Enqueue(e.Data ?? "");
        _process.ErrorDataReceived += (_, e) => Output.Enqueue(e.Data ?? "");
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        Uri = new Uri($"http://127.0.0.1:{port}");
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                using var response = await Http.GetAsync(new Uri(Uri, "/v2/"));
                if (response.IsSuccessStatusCode || response.StatusCode == HttpStatusCode.Unauthorized)
                {
                    return;
                }
            }
            catch (HttpRequestException) when (deadline.Elapsed < TimeSpan.FromSeconds(30) && !_process.HasExited)
            {
            }

            if (_process.HasExited || deadline.Elapsed > TimeSpan.FromSeconds(30))
            {
                throw new InvalidOperationException("docker-registry did not start: " + string.Join('\n', Output));
            }

            await Task.Delay(20);
        }
    }

    public void SkipIfMissing() =>
        Assert.SkipUnless(_process is not null, $"{Binary} is not installed (Debian package docker-registry; test.sh installs it).");

    public virtual ValueTask DisposeAsync()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }

        _process?.Dispose();
        Http.Dispose();
        _dir.Delete(recursive: true);
        GC.SuppressFinalize(this);
        return ValueTask.CompletedTask;
    }
}

/// <summary>Records every request the image store sends, to prove what was (not) fetched.</summary>
internal sealed class CountingHandler() : DelegatingHandler(new SocketsHttpHandler())
{
    public ConcurrentQueue<string> Requests { get; } = new();

    public int Count(string fragment) => Requests.Count(r => r.Contains(fragment, StringComparison.Ordinal));

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        Requests.Enqueue($"{request.Method} {request.RequestUri!.PathAndQuery}");
        return base.SendAsync(request, cancellationToken);
    }
}
