using System.Globalization;
using System.Runtime.InteropServices;
using Mezzo.Supervisor;

namespace Mezzo.Agent.Launcher;

/// <remarks>
/// <para>Supervised launches (<see cref="LaunchSpec.Supervisor"/>): the process the agent starts and watches is
/// <c>mezzo-supervisor</c>, which starts the task. The supervisor's pid stands for the task: signals go to it and it
/// forwards them to the task's process group (a SIGKILL request travels as <see cref="SupervisorKillSignal"/>, since
/// SIGKILL cannot be caught), and it is the process whose namespaces a check enters. Its exit means the task's exit,
/// read from the record it leaves.</para>
/// <para>After an agent restart the new agent <see cref="Adopt"/>s supervisors it did not start: it cannot reap them
/// (init does), but a pidfd still says when they exit, and signals go through that pidfd, never to a recycled pid.</para>
/// </remarks>
public sealed unsafe partial class PosixProcessLauncher
{
    /// <summary>SIGRTMIN+6: asks a supervisor to SIGKILL its task's process group.</summary>
    public const int SupervisorKillSignal = SupervisorProtocol.KillSignal;

    private readonly Lock _procGate = new();
    private int _hostProcFd = -1;
    private readonly Dictionary<string, int> _supervisorFds = new(StringComparer.Ordinal);

    private LaunchedProcess LaunchSupervised(LaunchSpec spec, Supervision supervision, string executable)
    {
        var taskArgv = BuildArgv(spec with { CgroupProcs = null }, executable, out var taskPath);
        List<string> argv =
        [
            supervision.Path, "--run-dir", supervision.RunDir, "--host-proc-fd", "3",
            "--agent-file", supervision.AgentFile,
            "--recovery-timeout", supervision.RecoveryTimeout.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture),
        ];
        foreach (var procs in spec.CgroupProcs ?? [])
        {
            argv.Add("--cgroup");
            argv.Add(procs);
        }

        if (spec.Namespaces is { Pid: true })
        {
            argv.Add("--mount-proc");
        }

        if (supervision.Rotation is { } rotation)
        {
            argv.AddRange([
                "--log-max-size", rotation.MaxSize.ToString(CultureInfo.InvariantCulture),
                "--log-max-files", rotation.MaxFiles.ToString(CultureInfo.InvariantCulture),
                "--stdout", Path.GetFullPath(spec.StdoutPath, spec.WorkingDirectory),
                "--stderr", Path.GetFullPath(spec.StderrPath, spec.WorkingDirectory),
            ]);
        }

        argv.Add("--");
        argv.Add(taskPath);
        argv.AddRange(taskArgv);
        var envp = BuildEnvironment(spec.Environment);
        if (!File.Exists(supervision.Path))
        {
            throw new LaunchException($"The task supervisor '{supervision.Path}' is missing (is the agent installed whole?)");
        }

        var fds = new SupervisorFds(HostProcFd(), SupervisorBinaryFd(supervision.Path));
        var pid = spec.Namespaces is not null
            ? SpawnOnLaunchThread(spec, supervision.Path, argv, envp, fds).Task
            : Spawn(spec, supervision.Path, argv, envp, fds);
        var child = Register(pid, null, Path.Combine(supervision.RunDir, ExitRecord.FileName));
        return new LaunchedProcess(pid, child.Exit.Task, signal => SignalSupervisor(child, signal));
    }

    /// <summary>
    /// Watches a supervisor a previous agent started, if <paramref name="pid"/> still is that process (same start time).
    /// Returns null when it is gone; its exit record then says how the task ended.
    /// </summary>
    public LaunchedProcess? Adopt(int pid, string startTime, string runDir)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (pid <= 1 || ProcStat.StartTime("/proc", pid) != startTime)
        {
            return null;
        }

        var pidFd = LibC.pidfd_open(pid, 0);
        if (pidFd < 0)
        {
            return null;
        }

        // Checked again with the pidfd held: from here on the pid cannot be recycled under us.
        if (ProcStat.StartTime("/proc", pid) != startTime)
        {
            LibC.close(pidFd);
            return null;
        }

        var child = new Child(Interlocked.Increment(ref _nextId), pid, pidFd) { ExitFile = Path.Combine(runDir, ExitRecord.FileName) };
        lock (_gate)
        {
            if (_disposed || _reaperFailure is not null || !EpollAdd(pidFd, (ulong)child.Id, out _))
            {
                LibC.close(pidFd);
                throw new LaunchException($"Cannot watch supervisor {pid}: the process reaper is not running");
            }

            _children[child.Id] = child;
        }

        return new LaunchedProcess(pid, child.Exit.Task, signal => SignalSupervisor(child, signal));
    }

    /// <summary>The task's exit as its supervisor recorded it; the supervisor's own status when it left none.</summary>
    public static ExitStatus ReadExitRecord(string exitFile, ExitStatus supervisorStatus)
    {
        string text;
        try
        {
            text = File.ReadAllText(exitFile);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return supervisorStatus switch
            {
                { Signal: { } signal } => ExitStatus.Killed(signal),
                { ExitCode: { } code } => new ExitStatus(null, null, $"The task's supervisor exited with status {code} without starting it"),
                _ => default,
            };
        }

        var record = ExitRecord.Parse(text, out var error);
        return record?.How switch
        {
            ExitRecord.Outcome.Exited => ExitStatus.Exited(record.Value),
            ExitRecord.Outcome.Killed => ExitStatus.Killed(record.Value),
            ExitRecord.Outcome.Failed => new ExitStatus(null, null, record.Reason ?? "The task could not be started"),
            _ => new ExitStatus(null, null, $"The task's exit record '{exitFile}' is unreadable: {error}"),
        };
    }

    private static void SignalSupervisor(Child child, int signal)
    {
        lock (child.Gate)
        {
            if (child.Reaped)
            {
                return;
            }

            var forwarded = signal == LibC.SIGKILL ? SupervisorKillSignal : signal;
            if (LibC.pidfd_send_signal(child.PidFd, forwarded, null, 0) != 0 && Marshal.GetLastPInvokeError() is var errno && errno != LibC.ESRCH)
            {
                throw new InvalidOperationException($"Failed to send signal {signal} to supervisor {child.Pid}: {LibC.ErrorText(errno)}");
            }
        }
    }

    /// <summary>
    /// The supervisor binary, held open (O_PATH) and exec'd through <see cref="SupervisorFds.ExecPath"/>: in a task's
    /// mount namespace its path may be hidden (a private /tmp hides a build under /tmp), an open file never is.
    /// </summary>
    private int SupervisorBinaryFd(string path)
    {
        lock (_procGate)
        {
            if (!_supervisorFds.TryGetValue(path, out var fd))
            {
                fd = LibC.open(path, LibC.O_PATH | LibC.O_CLOEXEC, 0);
                if (fd < 0)
                {
                    throw new LaunchException($"Cannot open the task supervisor '{path}': {LibC.ErrorText(Marshal.GetLastPInvokeError())}");
                }

                _supervisorFds[path] = fd;
            }

            return fd;
        }
    }

    /// <summary>The host's /proc, handed to supervisors as fd 3: inside a pid namespace their own /proc cannot see the agent.</summary>
    private int HostProcFd()
    {
        lock (_procGate)
        {
            if (_hostProcFd < 0)
            {
                _hostProcFd = LibC.open("/proc", LibC.O_PATH | LibC.O_DIRECTORY | LibC.O_CLOEXEC, 0);
                if (_hostProcFd < 0)
                {
                    throw new LaunchException($"Cannot open /proc: {LibC.ErrorText(Marshal.GetLastPInvokeError())}");
                }
            }

            return _hostProcFd;
        }
    }
}

/// <summary>
/// What a supervisor is started with besides stdio: fd 3 is the host's /proc (see --host-proc-fd) and fd 4 the
/// supervisor binary itself, which is what gets exec'd (<see cref="ExecPath"/>, resolved in the child before any
/// other file of the task's mount namespace matters).
/// </summary>
internal readonly record struct SupervisorFds(int HostProc, int Binary)
{
    public const string ExecPath = "/proc/self/fd/4";
}
