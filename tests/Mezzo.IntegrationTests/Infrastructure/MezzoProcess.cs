using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;

namespace Mezzo.IntegrationTests.Infrastructure;

/// <summary>A real <c>mezzo</c> process (the CLI built next to the tests), its output captured line by line.</summary>
public sealed partial class MezzoProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private readonly string? _agentWorkDir;

    private MezzoProcess(Process process, string? agentWorkDir)
    {
        _process = process;
        _agentWorkDir = agentWorkDir;
    }

    public int Pid => _process.Id;

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

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

    public static string CliPath => Path.Combine(AppContext.BaseDirectory, "mezzo.dll");

    public static MezzoProcess Start(params string[] args) => Start(null, args);

    public static MezzoProcess Start(IReadOnlyDictionary<string, string>? environment, params string[] args)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(CliPath);
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[key] = value;
        }

        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var result = new MezzoProcess(process, AgentWorkDir(args));
        process.OutputDataReceived += (_, e) => result.Append(e.Data);
        process.ErrorDataReceived += (_, e) => result.Append(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return result;
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

    /// <summary>Waits for the "listening on http://..." line and returns that URL.</summary>
    public async Task<Uri> WaitForUrlAsync()
    {
        var match = await Poll.UntilAsync(
            () =>
            {
                if (_process.HasExited)
                {
                    throw new InvalidOperationException($"mezzo exited with {_process.ExitCode}: {Output}");
                }

                var m = ListeningOn().Match(Output);
                return Task.FromResult(m.Success ? m : null);
            },
            "mezzo to start listening");
        return new Uri(match.Groups[1].Value);
    }

    public void Kill9() => _process.Kill(entireProcessTree: false);

    /// <summary>SIGSTOP: the process stays alive but silent, as one cut off by a network partition.</summary>
    public void Pause() => Signal("-STOP");

    /// <summary>SIGCONT: the partition heals.</summary>
    public void Resume() => Signal("-CONT");

    private void Signal(string signal)
    {
        if (_process.HasExited)
        {
            return;
        }

        using var kill = Process.Start("kill", [signal, _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
        if (kill.ExitCode != 0 && !_process.HasExited)
        {
            throw new InvalidOperationException($"kill {signal} {_process.Id} exited with {kill.ExitCode}");
        }
    }

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cts.Token);
        return _process.ExitCode;
    }

    private bool _disposed;

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        if (_agentWorkDir is not null)
        {
            // A killed agent cannot remove its cgroups; nothing a test started may outlive it.
            await Mezzo.Agent.Isolation.CgroupIsolator.RemoveAgentCgroupsAsync(new Mezzo.Agent.AgentOptions { WorkDir = _agentWorkDir });
        }
    }

    /// <summary>The work dir of the agent an <c>agent</c> or <c>dev</c> command runs, if the test gave one.</summary>
    private static string? AgentWorkDir(string[] args)
    {
        var index = Array.FindIndex(args, a => a is "--work-dir" or "--work_dir");
        if (args.Length == 0 || index < 0 || index + 1 >= args.Length)
        {
            return null;
        }

        return args[0] switch
        {
            "agent" => Path.GetFullPath(args[index + 1]),
            "dev" => Path.Combine(Path.GetFullPath(args[index + 1]), "agent"),
            _ => null,
        };
    }

    [GeneratedRegex(@"listening on (http://[^\s/]+)")]
    private static partial Regex ListeningOn();
}
