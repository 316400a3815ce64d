using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace Mezzo.LoadSim;

/// <summary>
/// A real `mezzo master` process (the mezzo.dll built next to this bench) with its own temporary work dir; disposing it
/// (or this process exiting) kills it and deletes the work dir.
/// </summary>
internal sealed partial class MasterProcess : IDisposable
{
    private readonly Process _process;
    private readonly string _workDir;
    private readonly StreamWriter? _log;
    private int _disposed;

    private MasterProcess(Process process, string workDir, StreamWriter? log, Uri url)
    {
        _process = process;
        _workDir = workDir;
        _log = log;
        Url = url;
    }

    public Uri Url { get; }

    public int Pid => _process.Id;

    /// <summary>Lines the master wrote to stderr (its log, one line per event).</summary>
    public long LogLines => Interlocked.Read(ref _logLines);

    private long _logLines;

    public static MasterProcess Start(string workRoot, string? logPath, IEnumerable<string> extraArgs, IReadOnlyDictionary<string, string> environment)
    {
        var workDir = Path.Combine(workRoot, "mezzo-loadsim-" + Guid.NewGuid().ToString("N")[..8]);
        var cli = Path.Combine(AppContext.BaseDirectory, "mezzo.dll");
        var info = new ProcessStartInfo("dotnet", [cli, "master", "--port", "0", "--work-dir", workDir, "--hostname", "127.0.0.1", "--ip", "127.0.0.1", .. extraArgs])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var (key, value) in environment)
        {
            info.Environment[key] = value;
        }

        var process = Process.Start(info)!;
        var log = logPath is null ? null : new StreamWriter(logPath) { AutoFlush = false };
        MasterProcess? master = null;
        try
        {
            Uri? url = null;
            while (url is null && process.StandardOutput.ReadLine() is { } line)
            {
                if (ListeningOn().Match(line) is { Success: true } m)
                {
                    url = new Uri(m.Groups[1].Value);
                }
            }

            master = new MasterProcess(process, workDir, log, url ?? throw new InvalidOperationException("mezzo master exited before printing its URL"));
            _ = process.StandardOutput.ReadToEndAsync();
            process.ErrorDataReceived += master.OnLogLine;
            process.BeginErrorReadLine();
            return master;
        }
        catch
        {
            if (master is null)
            {
                Kill(process);
                process.Dispose();
                log?.Dispose();
                DeleteDir(workDir);
            }

            throw;
        }
    }

    private void OnLogLine(object sender, DataReceivedEventArgs e)
    {
        if (e.Data is { } line)
        {
            Interlocked.Increment(ref _logLines);
            if (_log is not null)
            {
                lock (_log)
                {
                    _log.WriteLine(line);
                }
            }
        }
    }

    /// <summary>VmRSS of the master in MiB, from /proc/&lt;pid&gt;/status.</summary>
    public double RssMb()
    {
        foreach (var line in File.ReadLines($"/proc/{Pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                var kb = long.Parse(line["VmRSS:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
                return kb / 1024.0;
            }
        }

        throw new InvalidDataException($"no VmRSS in /proc/{Pid}/status");
    }

    /// <summary>User + system CPU seconds of the master, from /proc/&lt;pid&gt;/stat (utime, stime; USER_HZ = 100).</summary>
    public double CpuSeconds()
    {
        var stat = File.ReadAllText($"/proc/{Pid}/stat");
        // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        return ticks / 100.0;
    }

    public bool HasExited => _process.HasExited;

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        Kill(_process);
        _process.Dispose();
        if (_log is not null)
        {
            lock (_log)
            {
                _log.Dispose();
            }
        }

        DeleteDir(_workDir);
    }

    private static void Kill(Process process)
    {
        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit(10_000);
            }
        }
        catch (InvalidOperationException)
        {
            // already gone
        }
    }

    private static void DeleteDir(string dir)
    {
        try
        {
            if (Directory.Exists(dir))
            {
                Directory.Delete(dir, recursive: true);
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    [GeneratedRegex(@"listening on (http://\S+)")]
    private static partial Regex ListeningOn();
}
