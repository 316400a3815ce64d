using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Mezzo.Agent.Launcher;
using Microsoft.Extensions.Logging;

namespace Mezzo.Agent.Containers;

/// <summary>
/// Runs task containers with runc (no daemon): one OCI bundle per container, and <c>runc run</c> in the foreground as
/// the task's process, started by the agent's ordinary launcher. So the exit status, SIGTERM (runc forwards it to the
/// container's init) and SIGKILL after the grace period take exactly the path of a command task; whatever runc leaves
/// behind (a container whose runc was SIGKILLed) is removed by <see cref="DestroyAsync"/>.
/// <para>Layout under the work dir: <c>runc/state</c> is runc's <c>--root</c>; <c>runc/bundles/&lt;container id&gt;</c>
/// holds config.json. Bundles are kept outside the sandbox on purpose: the sandbox is what the task (and
/// <c>/files</c>) sees, the bundle is the agent's.</para>
/// </summary>
public sealed partial class RuncRuntime
{
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(30);
    private readonly ILogger _log;

    private RuncRuntime(string? runc, string? unavailable, string workDir, ILogger log)
    {
        RuncPath = runc;
        Unavailable = unavailable;
        StateRoot = Path.Combine(workDir, "runc", "state");
        BundlesRoot = Path.Combine(workDir, "runc", "bundles");
        _log = log;
    }

    /// <summary>The runc binary; null when none was found.</summary>
    public string? RuncPath { get; }

    /// <summary>Why image tasks cannot run on this agent; null when they can.</summary>
    public string? Unavailable { get; }

    public string StateRoot { get; }

    public string BundlesRoot { get; }

    /// <summary>Finds runc (<paramref name="runcPath"/>, else on PATH) and checks the agent can run it (root).</summary>
    public static RuncRuntime Create(string workDir, string? runcPath, ILogger log)
    {
        ArgumentNullException.ThrowIfNull(workDir);
        var runc = runcPath ?? FindOnPath("runc");
        string? unavailable = null;
        if (runc is null || !File.Exists(runc))
        {
            unavailable = runcPath is null ? "runc is not installed (not found on PATH)" : $"runc not found at {runcPath}";
            runc = null;
        }
        else if (!Environment.IsPrivilegedProcess)
        {
            unavailable = "the agent is not running as root, which runc needs";
        }

        var runtime = new RuncRuntime(runc, unavailable, Path.GetFullPath(workDir), log);
        if (unavailable is null)
        {
            Log.Available(log, runc!);
        }
        else
        {
            Log.NotAvailable(log, unavailable);
        }

        return runtime;
    }

    private static string? FindOnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
            .Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, name))
            .FirstOrDefault(File.Exists);

    /// <summary>
    /// Writes the bundle and returns how to run it: <c>runc --root &lt;state&gt; run --keep --bundle &lt;bundle&gt; &lt;id&gt;</c>
    /// with the task's stdout and stderr files, started in the sandbox. --keep: runc must not remove the container's
    /// cgroups when it exits, because the agent reads the OOM counters there first (then <see cref="DestroyAsync"/>). runc's own environment is the host view of
    /// the task's (so tools that find task processes by MESOS_SANDBOX find runc), not the container's.
    /// </summary>
    public LaunchSpec Prepare(ContainerSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (Unavailable is not null)
        {
            throw new ContainerLaunchException($"Cannot run container images on this agent: {Unavailable}");
        }

        var user = ImageUsers.Resolve(
            spec.Command?.User is { Length: > 0 } commandUser ? commandUser : spec.Image.User,
            ReadImageFile(spec.Image.RootfsPath, "etc/passwd"),
            ReadImageFile(spec.Image.RootfsPath, "etc/group"));
        // As Docker does: the container inherits the agent's (hard) open-files limit, which needs no privilege to set.
        var config = OciConfig.Build(spec with { NoFileLimit = ContainerNative.NoFileHardLimit() }, user);
        var bundle = Path.Combine(BundlesRoot, spec.ContainerId);
        Directory.CreateDirectory(bundle);
        File.WriteAllText(Path.Combine(bundle, "config.json"), config.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        return new LaunchSpec(
            RuncPath!,
            ["--root", StateRoot, "run", "--keep", "--bundle", bundle, spec.ContainerId],
            new Dictionary<string, string>(StringComparer.Ordinal)
            {
                ["PATH"] = Tasks.TaskEnvironment.DefaultPath,
                ["MESOS_SANDBOX"] = spec.Sandbox,
                ["MESOS_CONTAINER_NAME"] = "mesos-" + spec.ContainerId,
            },
            spec.Sandbox,
            Path.Combine(spec.Sandbox, "stdout"),
            Path.Combine(spec.Sandbox, "stderr"));
    }

    /// <summary>A file of the image, or null; a symlink is not followed, since it would resolve against the host's root.</summary>
    private static string? ReadImageFile(string rootfs, string relative)
    {
        var file = new FileInfo(Path.Combine(rootfs, relative));
        return file.Exists && file.LinkTarget is null ? File.ReadAllText(file.FullName) : null;
    }

    /// <summary>
    /// <c>runc delete --force</c> (kills what is left of the container, removes its cgroups and state) and removes
    /// the bundle. Safe to call for a container runc has already cleaned up, or never created.
    /// </summary>
    public async Task DestroyAsync(string containerId)
    {
        if (RuncPath is not null && Directory.Exists(Path.Combine(StateRoot, containerId)))
        {
            var (code, _, error) = await RunAsync(["--root", StateRoot, "delete", "--force", containerId]).ConfigureAwait(false);
            if (code != 0 && Directory.Exists(Path.Combine(StateRoot, containerId)))
            {
                throw new IOException($"runc delete --force {containerId} failed ({code}): {error.Trim()}");
            }
        }

        var bundle = Path.Combine(BundlesRoot, containerId);
        if (Directory.Exists(bundle))
        {
            Directory.Delete(bundle, recursive: true);
        }
    }

    /// <summary>The host pid of the container's init once runc has created it; null while it does not exist.</summary>
    public async Task<int?> InitPidAsync(string containerId)
    {
        var (code, output, _) = await RunAsync(["--root", StateRoot, "state", containerId]).ConfigureAwait(false);
        if (code != 0)
        {
            return null;
        }

        try
        {
            return (int?)JsonNode.Parse(output)?["pid"] is > 0 and var pid ? pid : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>At agent start: containers and bundles a previous run left, except those of recovered tasks.</summary>
    public async Task<int> RemoveLeftoversAsync(IReadOnlySet<string>? keep = null)
    {
        if (RuncPath is null || !Environment.IsPrivilegedProcess)
        {
            return 0;
        }

        var ids = new HashSet<string>(StringComparer.Ordinal);
        if (Directory.Exists(StateRoot))
        {
            var (code, output, _) = await RunAsync(["--root", StateRoot, "list", "--quiet"]).ConfigureAwait(false);
            if (code == 0)
            {
                ids.UnionWith(output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
            }
        }

        if (Directory.Exists(BundlesRoot))
        {
            ids.UnionWith(Directory.GetDirectories(BundlesRoot).Select(Path.GetFileName).OfType<string>());
        }

        ids.ExceptWith(keep ?? new HashSet<string>());
        foreach (var id in ids)
        {
            await DestroyAsync(id).ConfigureAwait(false);
        }

        return ids.Count;
    }

    private async Task<(int Code, string Stdout, string Stderr)> RunAsync(IReadOnlyList<string> arguments)
    {
        var start = new ProcessStartInfo(RuncPath!)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new IOException($"Cannot start {RuncPath}");
        using var timeout = new CancellationTokenSource(CommandTimeout);
        var stdout = process.StandardOutput.ReadToEndAsync(timeout.Token);
        var stderr = process.StandardError.ReadToEndAsync(timeout.Token);
        try
        {
            await process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            process.Kill();
            throw new IOException($"runc {string.Join(' ', arguments)} did not finish within {CommandTimeout.TotalSeconds:0} s");
        }

        Log.RuncCommand(_log, string.Join(' ', arguments), process.ExitCode);
        return (process.ExitCode, await stdout.ConfigureAwait(false), await stderr.ConfigureAwait(false));
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "Container images: running them with {Runc}")]
        public static partial void Available(ILogger logger, string runc);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Container images: tasks with an image will fail here: {Reason}")]
        public static partial void NotAvailable(ILogger logger, string reason);

        [LoggerMessage(Level = LogLevel.Debug, Message = "runc {Arguments} exited with {Code}")]
        public static partial void RuncCommand(ILogger logger, string arguments, int code);
    }
}
