using System.Globalization;
using System.Runtime.InteropServices;

namespace Mezzo.Supervisor;

/// <summary>
/// <para>Why a supervisor: a task that is the agent's own child loses its exit status when the agent dies (init reaps
/// it), and the agent cannot wait for a process it did not start. The supervisor is the task's parent instead. It
/// joins the task's cgroups, starts the task in a session of its own, forwards the signals the agent sends it to the
/// task's process group, reaps it, and writes how it ended to <c>RUN_DIR/exit</c>, whether or not an agent is alive
/// to hear about it. In a pid namespace it is the namespace's init (so no extra holder process is needed): it reaps
/// orphans there, and when it exits the kernel kills whatever is left in the namespace.</para>
/// <para>SIGKILL cannot be forwarded (nor caught), so the agent asks for one with <see cref="SupervisorProtocol.KillSignal"/>.</para>
/// <para>With <c>--agent-file</c> it also watches the agent (pid and start time written there by each agent) and, like a
/// Mesos executor, ends the task if no agent has been alive for <c>--recovery-timeout</c>.</para>
/// </summary>
internal static unsafe class Supervisor
{
    private const int KillSignal = SupervisorProtocol.KillSignal;
    private static readonly IReadOnlyList<int> Forwarded = SupervisorProtocol.ForwardedSignals;
    private static int _task;
    private static int _pendingSignal;
    private static string? _killReason;
    private static readonly ManualResetEventSlim Done = new();

    public static int Run(string[] args)
    {
        Options options;
        try
        {
            options = Options.Parse(args);
        }
        catch (FormatException ex)
        {
            Console.Error.WriteLine($"mezzo-supervisor: {ex.Message}");
            return 2;
        }

        try
        {
            return Supervise(options);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidOperationException)
        {
            return Fail(options, ex.Message);
        }
    }

    private static int Supervise(Options options)
    {
        // The agent execs us through /proc/self/fd/4 (our path may be hidden in the task's mount namespace), which would
        // leave "4" as our name in ps and /proc/PID/comm.
        fixed (byte* name = "mezzo-supervisor\0"u8)
        {
            _ = Native.prctl(Native.PR_SET_NAME, (ulong)name, 0, 0, 0);
        }

        if (options.HostProcFd is { } procFd && Native.fcntl(procFd, Native.F_SETFD, Native.FD_CLOEXEC) != 0)
        {
            return Fail(options, $"--host-proc-fd {procFd} is not an open file descriptor");
        }

        // Handlers before the task exists: a kill that arrives while it starts is delivered right after. The agent starts
        // us with these signals blocked, so one sent before the handlers exist waits for them instead of killing us.
        var registrations = Forwarded.Select(signal => PosixSignalRegistration.Create((PosixSignal)signal, context =>
        {
            context.Cancel = true;
            Forward(signal);
        })).ToList();
        UnblockForwarded();

        foreach (var procs in options.Cgroups)
        {
            try
            {
                // "0" is the writer itself, whichever pid namespace it is in.
                File.WriteAllText(procs, "0");
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                return Fail(options, $"cannot join cgroup '{Path.GetDirectoryName(procs)}': {ex.Message}");
            }
        }

        var environment = File.ReadAllBytes("/proc/self/environ");
        if (options.MountProc)
        {
            // As the namespace's init, a plain proc mount shows this pid namespace.
            if (Native.mount("proc", "/proc", "proc", Native.MS_NOSUID | Native.MS_NODEV | Native.MS_NOEXEC, null) != 0)
            {
                return Fail(options, $"cannot mount /proc: {Native.ErrorText(Native.LastError)}");
            }
        }

        // What the task leaves behind when it exits (its orphans) comes to us, not to init: we reap it, and the agent's
        // statistics find it in our tree. A namespace's init gets them anyway.
        _ = Native.prctl(Native.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
        var logs = new List<LogRotation>();
        var writeEnds = new List<int>();
        if (options.LogMaxSize is { } maxSize)
        {
            foreach (var (path, target) in (ReadOnlySpan<(string, int)>)[(options.StdoutPath!, 1), (options.StderrPath!, 2)])
            {
                var log = LogRotation.Create(path, target, maxSize, options.LogMaxFiles, out var writeEnd, out var pipeError);
                if (log is null)
                {
                    return Fail(options, pipeError!);
                }

                logs.Add(log);
                writeEnds.Add(writeEnd);
            }
        }

        var spawned = Spawn(options.Path, options.Argv, environment, writeEnds, out var error);
        // Only the task holds the write ends now: the copiers see end-of-file once it (and whatever inherited them) is gone.
        foreach (var fd in writeEnds)
        {
            Native.close(fd);
        }

        foreach (var log in logs)
        {
            log.Start();
        }

        if (spawned <= 0)
        {
            return Fail(options, error!);
        }

        Volatile.Write(ref _task, spawned);
        if (Interlocked.Exchange(ref _pendingSignal, 0) is var pending and > 0)
        {
            Forward(pending);
        }

        if (options.AgentFile is { } agentFile)
        {
            var watchdog = new Thread(() => WatchAgent(agentFile, options.RecoveryTimeout, options.HostProcFd)) { IsBackground = true, Name = "agent watchdog" };
            watchdog.Start();
        }

        var record = WaitForTask(spawned);
        Done.Set();
        // What the task wrote last is in the pipes: copy it before the exit is recorded. A process the task left behind
        // in another session may hold a pipe open forever, so the wait is bounded.
        var drainUntil = DateTime.UtcNow + DrainTimeout;
        foreach (var log in logs)
        {
            _ = log.Drain(Max(drainUntil - DateTime.UtcNow, TimeSpan.Zero));
        }

        GC.KeepAlive(registrations);
        return Write(options, record with { Reason = Volatile.Read(ref _killReason) }) ? 0 : 1;
    }

    private static void UnblockForwarded()
    {
        var set = stackalloc ulong[Native.SigSetSize / sizeof(ulong)];
        new Span<ulong>(set, Native.SigSetSize / sizeof(ulong)).Clear();
        foreach (var signal in Forwarded)
        {
            set[(signal - 1) / 64] |= 1UL << ((signal - 1) % 64);
        }

        _ = Native.sigprocmask(Native.SIG_UNBLOCK, set, null);
    }

    private static void Forward(int signal)
    {
        var task = Volatile.Read(ref _task);
        if (task <= 0)
        {
            Interlocked.Exchange(ref _pendingSignal, signal);
            return;
        }

        _ = Native.kill(-task, signal == KillSignal ? Native.SIGKILL : signal);
    }

    /// <summary>Reaps every child (orphans re-parent to a namespace's init) until the task itself has exited.</summary>
    private static ExitRecord WaitForTask(int task)
    {
        var info = stackalloc byte[Native.SigInfoSize];
        while (true)
        {
            new Span<byte>(info, Native.SigInfoSize).Clear();
            if (Native.waitid(Native.P_ALL, 0, info, Native.WEXITED | Native.WNOWAIT) != 0)
            {
                var errno = Native.LastError;
                if (errno == Native.EINTR)
                {
                    continue;
                }

                return new ExitRecord(ExitRecord.Outcome.Failed, 0, $"waitid: {Native.ErrorText(errno)}");
            }

            var pid = *(int*)(info + 16);
            if (pid != task)
            {
                ReapOne(pid);
                continue;
            }

            // The task's group dies while its zombie leader still pins the group id, so no other group can be hit.
            _ = Native.kill(-task, Native.SIGKILL);
            var code = *(int*)(info + 8);
            var value = *(int*)(info + 24);
            ReapOne(task);
            return code == Native.CLD_EXITED
                ? new ExitRecord(ExitRecord.Outcome.Exited, value, null)
                : new ExitRecord(ExitRecord.Outcome.Killed, value, null);
        }
    }

    private static void ReapOne(int pid)
    {
        while (Native.waitpid(pid, null, 0) < 0 && Native.LastError == Native.EINTR)
        {
        }
    }

    /// <summary>How long the log copiers get, after the task has exited, to copy what is left in their pipes.</summary>
    private static readonly TimeSpan DrainTimeout = TimeSpan.FromSeconds(2);

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    /// <param name="outputs">With the logrotate logger: the write ends of the stdout and stderr pipes, the task's fd 1 and 2.</param>
    private static int Spawn(string path, IReadOnlyList<string> argv, byte[] environment, IReadOnlyList<int> outputs, out string? error)
    {
        var envp = environment.AsSpan().TrimEnd((byte)0).ToArray();
        var pointers = new List<nint>();
        try
        {
            var nativeArgv = ToNative(argv.Select(System.Text.Encoding.UTF8.GetBytes), pointers);
            var nativeEnvp = ToNative(envp.Length == 0 ? [] : SplitNul(envp), pointers);
            var fileActions = stackalloc byte[Native.FileActionsSize];
            var attr = stackalloc byte[Native.SpawnAttrSize];
            var mask = stackalloc byte[Native.SigSetSize];
            var defaults = stackalloc byte[Native.SigSetSize];
            new Span<byte>(mask, Native.SigSetSize).Clear();
            // Every signal back to its default, including the ones this runtime handles: the task must not inherit them.
            new Span<byte>(defaults, Native.SigSetSize).Fill(0xFF);
            Native.posix_spawn_file_actions_init(fileActions);
            Native.posix_spawnattr_init(attr);
            try
            {
                Native.posix_spawnattr_setflags(attr, (short)(Native.POSIX_SPAWN_SETSID | Native.POSIX_SPAWN_SETSIGMASK | Native.POSIX_SPAWN_SETSIGDEF));
                Native.posix_spawnattr_setsigmask(attr, mask);
                Native.posix_spawnattr_setsigdefault(attr, defaults);
                for (var i = 0; i < outputs.Count; i++)
                {
                    Native.posix_spawn_file_actions_adddup2(fileActions, outputs[i], i + 1);
                }

                Native.posix_spawn_file_actions_addclosefrom_np(fileActions, 3);
                var rc = Native.posix_spawn(out var pid, path, fileActions, attr, (byte**)nativeArgv, (byte**)nativeEnvp);
                if (rc != 0)
                {
                    error = $"Failed to launch '{argv[0]}': {Native.ErrorText(rc)}";
                    return -1;
                }

                error = null;
                return pid;
            }
            finally
            {
                Native.posix_spawnattr_destroy(attr);
                Native.posix_spawn_file_actions_destroy(fileActions);
            }
        }
        finally
        {
            foreach (var pointer in pointers)
            {
                NativeMemory.Free((void*)pointer);
            }
        }
    }

    private static IEnumerable<byte[]> SplitNul(byte[] block)
    {
        var start = 0;
        for (var i = 0; i <= block.Length; i++)
        {
            if (i == block.Length || block[i] == 0)
            {
                yield return block[start..i];
                start = i + 1;
            }
        }
    }

    private static nint ToNative(IEnumerable<byte[]> strings, List<nint> owned)
    {
        var list = strings.ToList();
        var array = (nint*)NativeMemory.Alloc((nuint)((list.Count + 1) * sizeof(nint)));
        owned.Add((nint)array);
        for (var i = 0; i < list.Count; i++)
        {
            var bytes = (byte*)NativeMemory.Alloc((nuint)(list[i].Length + 1));
            owned.Add((nint)bytes);
            list[i].CopyTo(new Span<byte>(bytes, list[i].Length));
            bytes[list[i].Length] = 0;
            array[i] = (nint)bytes;
        }

        array[list.Count] = 0;
        return (nint)array;
    }

    /// <summary>
    /// Ends the task when no agent has been alive for <paramref name="timeout"/>. An agent is alive when the pid in the
    /// agent file runs with the start time written beside it (so a recycled pid does not count).
    /// </summary>
    private static void WatchAgent(string agentFile, TimeSpan timeout, int? hostProcFd)
    {
        var period = TimeSpan.FromTicks(Math.Clamp(timeout.Ticks / 10, TimeSpan.FromMilliseconds(50).Ticks, TimeSpan.FromSeconds(10).Ticks));
        var procRoot = hostProcFd is { } fd ? $"/proc/self/fd/{fd.ToString(CultureInfo.InvariantCulture)}" : "/proc";
        var lastAlive = DateTime.UtcNow;
        while (!Done.Wait(period))
        {
            if (AgentAlive(agentFile, procRoot))
            {
                lastAlive = DateTime.UtcNow;
                continue;
            }

            if (DateTime.UtcNow - lastAlive >= timeout)
            {
                Volatile.Write(ref _killReason, $"no agent recovered within the recovery timeout ({timeout.TotalSeconds.ToString(CultureInfo.InvariantCulture)}s)");
                Forward(KillSignal);
                return;
            }
        }
    }

    private static bool AgentAlive(string agentFile, string procRoot)
    {
        try
        {
            var parts = File.ReadAllText(agentFile).Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (parts.Length < 2)
            {
                return false;
            }

            return int.TryParse(parts[0], CultureInfo.InvariantCulture, out var pid) && ProcStat.StartTime(procRoot, pid) == parts[1];
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    private static int Fail(Options options, string message)
    {
        Console.Error.WriteLine($"mezzo-supervisor: {message}");
        return Write(options, new ExitRecord(ExitRecord.Outcome.Failed, 0, message)) ? 3 : 1;
    }

    /// <summary>
    /// Renamed into place whole, so a reader sees all of it or nothing. Not fsynced: the record only has to survive the
    /// agent's death, and the page cache does; after a host reboot the agent starts afresh and never reads it.
    /// </summary>
    private static bool Write(Options options, ExitRecord record)
    {
        try
        {
            var target = Path.Combine(options.RunDir, ExitRecord.FileName);
            var temporary = target + ".tmp";
            File.WriteAllText(temporary, record.Format());
            File.Move(temporary, target, overwrite: true);
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"mezzo-supervisor: cannot record the task's exit in '{options.RunDir}': {ex.Message}");
            return false;
        }
    }

    /// <param name="LogMaxSize">Set: the logrotate container logger (see <see cref="LogRotation"/>), with the task's
    /// <paramref name="StdoutPath"/> and <paramref name="StderrPath"/> rotated past this many bytes.</param>
    private sealed record Options(string RunDir, IReadOnlyList<string> Cgroups, bool MountProc, int? HostProcFd, string? AgentFile, TimeSpan RecoveryTimeout, string Path, IReadOnlyList<string> Argv)
    {
        public long? LogMaxSize { get; init; }

        public int LogMaxFiles { get; init; }

        public string? StdoutPath { get; init; }

        public string? StderrPath { get; init; }

        public static Options Parse(string[] args)
        {
            string? runDir = null;
            string? agentFile = null;
            int? procFd = null;
            var timeout = TimeSpan.FromMinutes(15);
            var cgroups = new List<string>();
            var mountProc = false;
            long? logMaxSize = null;
            var logMaxFiles = 5;
            string? stdoutPath = null;
            string? stderrPath = null;
            var i = 0;
            for (; i < args.Length && args[i] != "--"; i++)
            {
                switch (args[i])
                {
                    case "--run-dir":
                        runDir = Value(args, ++i);
                        break;
                    case "--cgroup":
                        cgroups.Add(Value(args, ++i));
                        break;
                    case "--mount-proc":
                        mountProc = true;
                        break;
                    case "--host-proc-fd":
                        procFd = int.TryParse(Value(args, ++i), NumberStyles.None, CultureInfo.InvariantCulture, out var fd) && fd > 2
                            ? fd : throw new FormatException($"--host-proc-fd must be a descriptor above 2, not '{args[i]}'");
                        break;
                    case "--agent-file":
                        agentFile = Value(args, ++i);
                        break;
                    case "--recovery-timeout":
                        timeout = double.TryParse(Value(args, ++i), NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) && seconds > 0
                            ? TimeSpan.FromSeconds(seconds) : throw new FormatException($"--recovery-timeout must be a positive number of seconds, not '{args[i]}'");
                        break;
                    case "--log-max-size":
                        logMaxSize = LogRotation.ParseSize(Value(args, ++i));
                        break;
                    case "--log-max-files":
                        logMaxFiles = int.TryParse(Value(args, ++i), NumberStyles.None, CultureInfo.InvariantCulture, out var files) && files <= 1000
                            ? files : throw new FormatException($"--log-max-files must be a count from 0 to 1000, not '{args[i]}'");
                        break;
                    case "--stdout":
                        stdoutPath = Value(args, ++i);
                        break;
                    case "--stderr":
                        stderrPath = Value(args, ++i);
                        break;
                    default:
                        throw new FormatException($"unknown option '{args[i]}'");
                }
            }

            if (runDir is null || !Directory.Exists(runDir))
            {
                throw new FormatException($"--run-dir must name an existing directory{(runDir is null ? "" : $", not '{runDir}'")}");
            }

            if (args.Length - i < 3)
            {
                throw new FormatException("expected '-- PATH ARGV0 [ARG]...' after the options");
            }

            if (logMaxSize is not null && (stdoutPath is null || stderrPath is null))
            {
                throw new FormatException("--log-max-size needs --stdout PATH and --stderr PATH (the files to rotate)");
            }

            return new Options(runDir, cgroups, mountProc, procFd, agentFile, timeout, args[i + 1], args[(i + 2)..])
            {
                LogMaxSize = logMaxSize,
                LogMaxFiles = logMaxFiles,
                StdoutPath = stdoutPath,
                StderrPath = stderrPath,
            };
        }

        private static string Value(string[] args, int index) =>
            index < args.Length ? args[index] : throw new FormatException($"option '{args[index - 1]}' needs a value");
    }
}
