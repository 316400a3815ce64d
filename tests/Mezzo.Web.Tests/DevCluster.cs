using System.Diagnostics;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Mezzo.Web.Tests;

/// <summary>
/// A real <c>mezzo dev</c> (master + agent + services + jobs, every port picked free) in its own work dir, stopped
/// with SIGTERM so it kills its tasks, then removed.
/// </summary>
public sealed partial class DevCluster : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly string _workDir;

    private DevCluster(Process process, string workDir)
    {
        _process = process;
        _workDir = workDir;
    }

    public Uri Master { get; private set; } = null!;

    public Uri Agent { get; private set; } = null!;

    public Uri Services { get; private set; } = null!;

    public Uri Jobs { get; private set; } = null!;

    public HttpClient Http { get; } = new() { Timeout = TimeSpan.FromSeconds(60) };

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

    public static async Task<DevCluster> StartAsync(TimeSpan timeout)
    {
        var workDir = Path.Combine(Path.GetTempPath(), "mezzo-web-tests-" + Guid.NewGuid().ToString("N")[..12]);
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in (string[])[Path.Combine(AppContext.BaseDirectory, "mezzo.dll"), "dev", "--master-port", "0", "--agent-port", "0",
                     "--services-port", "0", "--jobs-port", "0", "--work-dir", workDir, "--resources", "cpus:4;mem:4096;disk:4096;ports:[31000-31100]"])
        {
            info.ArgumentList.Add(arg);
        }

        var process = new Process { StartInfo = info };
        var cluster = new DevCluster(process, workDir);
        process.OutputDataReceived += (_, e) => cluster.Append(e.Data);
        process.ErrorDataReceived += (_, e) => cluster.Append(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await Poll.UntilAsync(() => process.HasExited || UrlLine().Matches(cluster.Output).Count >= 4, timeout, "mezzo dev to print its URLs");
            process.HasExited.Should().BeFalse($"mezzo dev exited early:\n{cluster.Output}");
            var urls = UrlLine().Matches(cluster.Output).ToDictionary(m => m.Groups["name"].Value, m => new Uri(m.Groups["url"].Value));
            cluster.Master = urls["master"];
            cluster.Agent = urls["agent"];
            cluster.Services = urls["services"];
            cluster.Jobs = urls["jobs"];
            await Poll.UntilAsync(async () =>
            {
                var state = await cluster.Http.GetFromJsonAsync<JsonObject>(new Uri(cluster.Master, "master/state"));
                return state!["frameworks"]!.AsArray().Count == 2 && state["slaves"]!.AsArray().Count == 1;
            }, timeout, "the agent and both frameworks to register");
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
        }
    }

    /// <summary>The host path of a task's sandbox, from the agent's /state.</summary>
    public async Task<string> SandboxOfAsync(string taskId)
    {
        var state = await Http.GetFromJsonAsync<JsonObject>(new Uri(Agent, "state"));
        foreach (var framework in state!["frameworks"]!.AsArray())
        {
            foreach (var executor in framework!["executors"]!.AsArray().Concat(framework["completed_executors"]!.AsArray()))
            {
                if ((string?)executor!["source"] == taskId)
                {
                    return (string)executor["directory"]!;
                }
            }
        }

        throw new InvalidOperationException($"The agent knows no sandbox of task {taskId}");
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        if (!_process.HasExited)
        {
            // SIGTERM, like Ctrl-C, makes dev kill its tasks and stop cleanly; SIGINT would be ignored when the tests
            // themselves run in a background job of a non-interactive shell, which starts children with SIGINT ignored.
            using (var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
            {
                await kill.WaitForExitAsync();
            }

            using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            try
            {
                await _process.WaitForExitAsync(wait.Token);
            }
            catch (OperationCanceledException)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync();
            }
        }

        _process.Dispose();
        try
        {
            Directory.Delete(_workDir, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }

    [GeneratedRegex(@"^\s+(?<name>master|agent|services|jobs)\s+(?<url>http://\S+/)", RegexOptions.Multiline)]
    private static partial Regex UrlLine();
}
