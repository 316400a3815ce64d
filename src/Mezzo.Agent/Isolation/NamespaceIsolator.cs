using Mezzo.Agent.Launcher;
using Microsoft.Extensions.Logging;

namespace Mezzo.Agent.Isolation;

/// <summary>
/// The namespaces/pid and filesystem/linux isolators for command tasks without an image: a new mount namespace with
/// private propagation, a private /tmp (the sandbox's tmp, so it is counted with the sandbox and goes with it) and,
/// with namespaces/pid, a new pid namespace with its own /proc. MESOS_SANDBOX stays the host path, as in Mesos.
/// </summary>
public sealed partial class NamespaceIsolator
{
    private static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(10);

    private NamespaceIsolator(bool pid, bool privateTmp)
    {
        Pid = pid;
        PrivateTmp = privateTmp;
    }

    public bool Pid { get; }

    public bool PrivateTmp { get; }

    /// <summary>
    /// Null when --isolation asks for neither isolator, or when the host cannot give them: then it says so loudly and
    /// tasks run in the agent's namespaces. The check is a real namespaced launch of <c>true</c>, so whatever stops it
    /// (no root, a seccomp profile, a kernel without proc's pidns= option) is found at start, not at the first task.
    /// </summary>
    public static NamespaceIsolator? Create(AgentOptions options, IProcessLauncher launcher, ILogger log)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(launcher);
        var pid = IsolationFlag.Has(options.Isolation, IsolationFlag.PidNamespace);
        var filesystem = IsolationFlag.Has(options.Isolation, IsolationFlag.LinuxFilesystem);
        if (!pid && !filesystem)
        {
            return null;
        }

        var wanted = string.Join(",", new[] { pid ? IsolationFlag.PidNamespace : null, filesystem ? IsolationFlag.LinuxFilesystem : null }.OfType<string>());
        if (Probe(launcher, pid, options.WorkDir) is { } problem)
        {
            Log.Unavailable(log, wanted, problem);
            return null;
        }

        Log.Using(log, wanted);
        return new NamespaceIsolator(pid, filesystem);
    }

    private static string? Probe(IProcessLauncher launcher, bool pid, string workDir)
    {
        if (!Environment.IsPrivilegedProcess)
        {
            return "the agent is not running as root";
        }

        // In the work dir, not /tmp: an agent killed mid-probe leaves it where the next start (or whoever removes the
        // work dir) finds it, rather than in /tmp for good.
        var scratch = new DirectoryInfo(Path.Combine(workDir, "ns-probe"));
        if (scratch.Exists)
        {
            scratch.Delete(recursive: true);
        }

        scratch.Create();
        try
        {
            var tmp = Directory.CreateDirectory(Path.Combine(scratch.FullName, "tmp")).FullName;
            var process = launcher.Launch(new LaunchSpec(
                "/bin/sh", ["-c", "test -d /proc/self"], new Dictionary<string, string>(), scratch.FullName,
                Path.Combine(scratch.FullName, "stdout"), Path.Combine(scratch.FullName, "stderr"),
                Namespaces: new NamespaceSpec(pid, tmp)));
            if (!process.Exited.Wait(ProbeTimeout))
            {
                process.Signal(Signals.SIGKILL);
                return "a test task in new namespaces did not finish";
            }

            return process.Exited.Result.Success ? null : $"a test task in new namespaces failed: {process.Exited.Result.Describe()}";
        }
        catch (LaunchException ex)
        {
            return ex.Message;
        }
        finally
        {
            scratch.Delete(recursive: true);
        }
    }

    /// <summary>Makes <c>&lt;sandbox&gt;/tmp</c> (mode 1777, like /tmp) and says what the task's launch must do.</summary>
    public NamespaceSpec Prepare(string sandbox)
    {
        string? tmp = null;
        if (PrivateTmp)
        {
            tmp = Path.Combine(sandbox, "tmp");
            // Like /tmp: anyone may create, only owners may delete; the task may run as another user than the agent.
            Directory.CreateDirectory(tmp);
            if (Launcher.LibC.chmod(tmp, 0b1_111_111_111) != 0)
            {
                throw new IOException($"Cannot make '{tmp}' world-writable: {Launcher.LibC.ErrorText(System.Runtime.InteropServices.Marshal.GetLastPInvokeError())}");
            }
        }

        return new NamespaceSpec(Pid, tmp);
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "Isolation: {Isolators} (tasks get their own mount namespace and private /tmp, or pid namespace with its own /proc)")]
        public static partial void Using(ILogger logger, string isolators);

        [LoggerMessage(Level = LogLevel.Warning, Message = "!!! ISOLATION DEGRADED: --isolation asked for {Isolators} but the host cannot give them ({Problem}). Tasks run in the agent's own mount and pid namespaces: they see every process and share the host's /tmp. Run the agent as root on Linux 6.15+ for real isolation.")]
        public static partial void Unavailable(ILogger logger, string isolators, string problem);
    }
}
