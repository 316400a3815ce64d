using System.Diagnostics;

namespace Mezzo.IntegrationTests.Infrastructure;

/// <summary>
/// One run of a <c>mezzo</c> client verb to completion, with stdout and stderr kept apart (a <c>--json</c> answer must be
/// all of stdout). The client's address variables and config file come only from what the test passes: the
/// environment of the test run and the real ~/.config are kept out.
/// </summary>
public static class CliRun
{
    public sealed record Result(int Exit, string Stdout, string Stderr)
    {
        public override string ToString() => $"exit {Exit}\n--- stdout\n{Stdout}\n--- stderr\n{Stderr}";
    }

    private static readonly string[] ClientVariables = ["MEZZO_MASTER", "MEZZO_SERVICES", "MEZZO_JOBS", "MEZZO_CONFIG", "MEZZO_PRINCIPAL", "MEZZO_SECRET", "MEZZO_TLS_CA"];

    /// <summary>An XDG config home that does not exist, so no test reads a config file it did not write.</summary>
    private static readonly string NoConfig = Path.Combine(Path.GetTempPath(), "mezzo-cli-no-config-" + Guid.NewGuid().ToString("N"));

    public static Task<Result> RunAsync(params string[] args) => RunAsync(null, args);

    public static Task<Result> RunAsync(IReadOnlyDictionary<string, string>? environment, params string[] args) => Start(environment, args).WaitAsync();

    /// <summary>Starts the verb; its stdout can be watched while it runs (for <c>task log -f</c>).</summary>
    public static Running Start(IReadOnlyDictionary<string, string>? environment, params string[] args)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(MezzoProcess.CliPath);
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        foreach (var name in ClientVariables)
        {
            info.Environment.Remove(name);
        }

        info.Environment["XDG_CONFIG_HOME"] = NoConfig;
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[key] = value;
        }

        return new Running(Process.Start(info)!, args);
    }

    public sealed class Running
    {
        private readonly Process _process;
        private readonly string[] _args;
        private readonly System.Text.StringBuilder _stdout = new();
        private readonly Task _stdoutDone;
        private readonly Task<string> _stderr;

        public Running(Process process, string[] args)
        {
            _process = process;
            _args = args;
            _stderr = process.StandardError.ReadToEndAsync();
            _stdoutDone = Task.Run(async () =>
            {
                var buffer = new char[4096];
                int read;
                while ((read = await process.StandardOutput.ReadAsync(buffer)) > 0)
                {
                    lock (_stdout)
                    {
                        _stdout.Append(buffer, 0, read);
                    }
                }
            });
        }

        /// <summary>What the verb has printed to stdout so far.</summary>
        public string Stdout
        {
            get
            {
                lock (_stdout)
                {
                    return _stdout.ToString();
                }
            }
        }

        public async Task<Result> WaitAsync()
        {
            using (_process)
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
                try
                {
                    await _process.WaitForExitAsync(timeout.Token);
                }
                catch (OperationCanceledException)
                {
                    _process.Kill(entireProcessTree: true);
                    await _process.WaitForExitAsync();
                    throw new TimeoutException($"mezzo {string.Join(' ', _args)} did not exit within 120s: {Stdout}{await _stderr}");
                }

                await _stdoutDone;
                return new Result(_process.ExitCode, Stdout, await _stderr);
            }
        }
    }
}
