using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Mezzo.Agent.Launcher;

/// <summary>Launches task processes with posix_spawn and reaps them on one background thread.</summary>
/// <remarks>
/// <para>Why not System.Diagnostics.Process: it cannot start the child in a new session / process group,
/// can only redirect stdio to pipes that we would then have to pump into files, and costs more per launch.</para>
/// <para>Reaping design: one thread per launcher waits in epoll on a pidfd per child
/// (pidfd_open right after posix_spawn) and collects each exit with waitid(P_PIDFD). The classic
/// alternative, waitpid(-1) in a loop, reaps every child of the agent, which would steal the exit status
/// of anything started through System.Diagnostics.Process (or any library) elsewhere in the agent. With
/// pidfds we only ever reap our own children, need no SIGCHLD handling, and have no "child exited before
/// its pid was registered" race: an unreaped child stays a zombie, so pidfd_open on it still succeeds and
/// the pidfd is immediately readable.</para>
/// <para>Process groups: each child calls setsid (POSIX_SPAWN_SETSID), so pgid == pid and the whole tree
/// can be signalled with kill(-pid). When the leader exits we SIGKILL its group *before* reaping it: while
/// the leader is an unreaped zombie its pid, and so its process group id, cannot be recycled, so the kill
/// can only hit the task's own descendants. For the same reason <see cref="LaunchedProcess.Signal"/> is
/// serialized with reaping and becomes a no-op afterwards. Descendants that leave the group themselves
/// (setsid/setpgid, i.e. daemons) escape this; only a cgroup can catch those.</para>
/// <para>Launch is thread-safe and does not serialize the spawns themselves.</para>
/// <para>Caveat: if the agent was started with SIGCHLD ignored, the .NET runtime reaps all children itself;
/// exits are then still noticed but reported with an unknown status.</para>
/// </remarks>
public sealed unsafe partial class PosixProcessLauncher : IProcessLauncher, IDisposable
{
    private const string SetprivPath = "/usr/bin/setpriv";
    private const ulong WakeToken = ulong.MaxValue;
    private const int MaxEventsPerWait = 64;
    private static readonly TimeSpan DisposeTimeout = TimeSpan.FromSeconds(10);

    private readonly ConcurrentDictionary<long, Child> _children = new();
    private readonly Lock _gate = new();
    private readonly Thread _reaper;
    private long _reaperWakeups;
    private readonly int _epollFd;
    private readonly int _wakeFd;
    private long _nextId;
    private volatile bool _disposed;
    private volatile Exception? _reaperFailure;

    public PosixProcessLauncher()
    {
        _epollFd = LibC.epoll_create1(LibC.EPOLL_CLOEXEC);
        if (_epollFd < 0)
        {
            throw LastError("epoll_create1");
        }

        _wakeFd = LibC.eventfd(0, LibC.EFD_CLOEXEC | LibC.EFD_NONBLOCK);
        if (_wakeFd < 0)
        {
            var error = LastError("eventfd");
            LibC.close(_epollFd);
            throw error;
        }

        if (!EpollAdd(_wakeFd, WakeToken, out var errno))
        {
            LibC.close(_wakeFd);
            LibC.close(_epollFd);
            throw new InvalidOperationException($"epoll_ctl failed: {LibC.ErrorText(errno)}");
        }

        _reaper = new Thread(ReaperLoop) { IsBackground = true, Name = "Mezzo process reaper" };
        _reaper.Start();
    }

    /// <summary>Processes launched and not yet reaped, pid namespaces' inits included.</summary>
    public int RunningCount => _children.Count;

    /// <summary>How often the reaper thread has woken up: about once per exit, never a spin (tests hold us to it).</summary>
    public long ReaperWakeups => Interlocked.Read(ref _reaperWakeups);

    public LaunchedProcess Launch(LaunchSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ObjectDisposedException.ThrowIf(_disposed, this);

        if (!Directory.Exists(spec.WorkingDirectory))
        {
            throw new LaunchException($"Working directory '{spec.WorkingDirectory}' does not exist");
        }

        spec.Environment.TryGetValue("PATH", out var pathVariable);
        var executable = ExecutableResolver.Resolve(spec.Executable, pathVariable, spec.WorkingDirectory);
        if (spec.Supervisor is { } supervision)
        {
            return LaunchSupervised(spec, supervision, executable);
        }

        var argv = BuildArgv(spec, executable, out var spawnPath);
        var envp = BuildEnvironment(spec.Environment);

        // The cgroups are joined by the shell wrapper (BuildArgv), also on v1 where one thread could step into them
        // around posix_spawn: that was measured (bench/BENCHMARKS.md) at no more launches per second and 3-5x the idle
        // accept -> TASK_RUNNING latency, every move waiting for the kernel's cgroup lock on the launching thread.
        if (spec.Namespaces is not null)
        {
            var (taskPid, holderPid) = SpawnOnLaunchThread(spec, spawnPath, argv, envp);
            return Track(taskPid, holderPid);
        }

        var pid = Spawn(spec, spawnPath, argv, envp);
        return Track(pid, 0);
    }

    private const string CgroupJoinScript =
        "n=$1; shift; while [ \"$n\" -gt 0 ]; do echo $$ > \"$1\" || exit 125; n=$((n - 1)); shift; done; exec \"$@\"";

    private static List<string> BuildArgv(LaunchSpec spec, string executable, out string spawnPath)
    {
        var argv = new List<string>(spec.Arguments.Count + 6);
        spawnPath = executable;

        if (spec.User is { } user)
        {
            var identity = UserDatabase.Lookup(user)
                ?? throw new LaunchException($"Failed to get user information for '{user}'");
            var euid = LibC.geteuid();
            if (identity.Uid != euid)
            {
                if (euid != 0)
                {
                    throw new LaunchException(
                        $"Cannot run as user '{user}': the agent is not running as root");
                }

                // setpriv rather than setuid/setgid/initgroups in the child: posix_spawn has no hook to
                // run code between fork and exec, and a helper that exists on every Debian system
                // (util-linux) is simpler and safer than a fork path of our own. It inherits our fds
                // and environment untouched and exec()s the task in place, so the pid stays the same.
                if (!File.Exists(SetprivPath))
                {
                    throw new LaunchException($"Cannot run as user '{user}': {SetprivPath} is missing");
                }

                spawnPath = SetprivPath;
                argv.Add(SetprivPath);
                argv.Add($"--reuid={identity.Uid}");
                argv.Add($"--regid={identity.Gid}");
                argv.Add("--init-groups");
                argv.Add("--");
                argv.Add(executable);
            }
        }

        if (argv.Count == 0)
        {
            argv.Add(spec.Executable);
        }

        foreach (var argument in spec.Arguments)
        {
            if (argument.Contains('\0', StringComparison.Ordinal))
            {
                throw new LaunchException("Arguments must not contain NUL characters");
            }

            argv.Add(argument);
        }

        if (spec.CgroupProcs is { Count: > 0 } procs)
        {
            // The task must be inside its cgroups before it runs a single instruction of its own, or a fork could escape
            // the limits. posix_spawn has no hook between fork and exec, so a shell joins them ($$ is the spawned pid,
            // kept across exec) and then execs the real argv; this is the agent's user, before setpriv drops privileges.
            List<string> wrapped = ["/bin/sh", "-c", CgroupJoinScript, "mezzo-cgroup-join", procs.Count.ToString(System.Globalization.CultureInfo.InvariantCulture), .. procs, spawnPath, .. argv.Skip(1)];
            spawnPath = "/bin/sh";
            return wrapped;
        }

        return argv;
    }

    private static List<string> BuildEnvironment(IReadOnlyDictionary<string, string> environment)
    {
        var envp = new List<string>(environment.Count);
        foreach (var (name, value) in environment)
        {
            if (name.Length == 0 || name.Contains('=', StringComparison.Ordinal) ||
                name.Contains('\0', StringComparison.Ordinal) || value.Contains('\0', StringComparison.Ordinal))
            {
                throw new LaunchException($"Invalid environment variable '{name}'");
            }

            envp.Add($"{name}={value}");
        }

        return envp;
    }

    /// <param name="supervisor">For a supervisor: the descriptors it gets (see <see cref="SupervisorFds"/>); it then starts
    /// with the signals it forwards blocked (<see cref="Mezzo.Supervisor.SupervisorProtocol.ForwardedSignals"/>).</param>
    private static int Spawn(LaunchSpec spec, string spawnPath, List<string> argv, List<string> envp, SupervisorFds? supervisor = null)
    {
        // Opening the output files here rather than with posix_spawn_file_actions_addopen gives a precise
        // error ("which file, which errno") instead of an anonymous posix_spawn failure.
        var stdoutFd = OpenOutput(spec.StdoutPath, "stdout");
        var stderrFd = -1;
        try
        {
            stderrFd = OpenOutput(spec.StderrPath, "stderr");
            using var nativeArgv = NativeStringArray.Create(argv);
            using var nativeEnvp = NativeStringArray.Create(envp);

            var fileActions = stackalloc byte[LibC.FileActionsSize];
            var attr = stackalloc byte[LibC.SpawnAttrSize];
            Check(LibC.posix_spawn_file_actions_init(fileActions), "posix_spawn_file_actions_init");
            try
            {
                Check(LibC.posix_spawnattr_init(attr), "posix_spawnattr_init");
                try
                {
                    ConfigureAttributes(attr, supervisor is null ? null : Mezzo.Supervisor.SupervisorProtocol.ForwardedSignals);
                    Check(LibC.posix_spawn_file_actions_addopen(fileActions, 0, "/dev/null", LibC.O_RDONLY, 0),
                        "posix_spawn_file_actions_addopen");
                    Check(LibC.posix_spawn_file_actions_adddup2(fileActions, stdoutFd, 1), "posix_spawn_file_actions_adddup2");
                    Check(LibC.posix_spawn_file_actions_adddup2(fileActions, stderrFd, 2), "posix_spawn_file_actions_adddup2");
                    Check(LibC.posix_spawn_file_actions_addchdir_np(fileActions, spec.WorkingDirectory),
                        "posix_spawn_file_actions_addchdir_np");
                    if (supervisor is { } fds)
                    {
                        Check(LibC.posix_spawn_file_actions_adddup2(fileActions, fds.HostProc, 3), "posix_spawn_file_actions_adddup2");
                        Check(LibC.posix_spawn_file_actions_adddup2(fileActions, fds.Binary, 4), "posix_spawn_file_actions_adddup2");
                        spawnPath = SupervisorFds.ExecPath;
                    }

                    // .NET opens its own fds with O_CLOEXEC, but native libraries loaded into the agent
                    // may not; closing everything above stderr guarantees the task inherits nothing else.
                    Check(LibC.posix_spawn_file_actions_addclosefrom_np(fileActions, supervisor is null ? 3 : 5),
                        "posix_spawn_file_actions_addclosefrom_np");

                    var rc = LibC.posix_spawn(out var pid, spawnPath, fileActions, attr, nativeArgv.Pointer, nativeEnvp.Pointer);
                    if (rc != 0)
                    {
                        throw new LaunchException(supervisor is null
                            ? $"Failed to launch '{spec.Executable}': {LibC.ErrorText(rc)}"
                            : $"Failed to start the supervisor of '{spec.Executable}': {LibC.ErrorText(rc)}") { Errno = rc };
                    }

                    return pid;
                }
                finally
                {
                    LibC.posix_spawnattr_destroy(attr);
                }
            }
            finally
            {
                LibC.posix_spawn_file_actions_destroy(fileActions);
            }
        }
        finally
        {
            LibC.close(stdoutFd);
            if (stderrFd >= 0)
            {
                LibC.close(stderrFd);
            }
        }
    }

    /// <summary>New session, empty signal mask, every signal at its default disposition: the .NET
    /// runtime blocks and ignores signals (SIGPIPE among them) that a task must not inherit.</summary>
    /// <param name="blocked">Signals the child starts with blocked; none when null.</param>
    private static void ConfigureAttributes(byte* attr, IReadOnlyList<int>? blocked = null)
    {
        var mask = stackalloc byte[LibC.SigSetSize];
        var defaults = stackalloc byte[LibC.SigSetSize];
        LibC.sigemptyset(mask);
        foreach (var signal in blocked ?? [])
        {
            mask[(signal - 1) / 8] |= (byte)(1 << ((signal - 1) % 8));
        }

        // Every bit set by hand rather than with sigfillset: glibc's sigfillset leaves out its two
        // internal signals (32 and 33), and posix_spawn then starts the child with those *ignored*,
        // which fork+exec never does and which non-glibc runtimes in the task would inherit.
        new Span<byte>(defaults, LibC.SigSetSize).Fill(0xFF);
        Check(LibC.posix_spawnattr_setflags(attr,
            LibC.POSIX_SPAWN_SETSID | LibC.POSIX_SPAWN_SETSIGMASK | LibC.POSIX_SPAWN_SETSIGDEF), "posix_spawnattr_setflags");
        Check(LibC.posix_spawnattr_setsigmask(attr, mask), "posix_spawnattr_setsigmask");
        Check(LibC.posix_spawnattr_setsigdefault(attr, defaults), "posix_spawnattr_setsigdefault");
    }

    private static int OpenOutput(string path, string what)
    {
        var fd = LibC.open(path, LibC.O_WRONLY | LibC.O_CREAT | LibC.O_APPEND | LibC.O_CLOEXEC, 0b110_100_100);
        if (fd < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            throw new LaunchException($"Failed to open {what} file '{path}': {LibC.ErrorText(errno)}") { Errno = errno };
        }

        // If the agent runs with a closed standard fd, open() may hand that number back; the dup2
        // file actions for 0-2 would then clobber it before it is used.
        if (fd < 3)
        {
            var moved = LibC.fcntl(fd, LibC.F_DUPFD_CLOEXEC, 3);
            var errno = Marshal.GetLastPInvokeError();
            LibC.close(fd);
            if (moved < 0)
            {
                throw new LaunchException($"Failed to open {what} file '{path}': {LibC.ErrorText(errno)}") { Errno = errno };
            }

            fd = moved;
        }

        return fd;
    }

    private static void Check(int rc, string function)
    {
        if (rc != 0)
        {
            throw new LaunchException($"{function} failed: {LibC.ErrorText(rc)}") { Errno = rc };
        }
    }

    /// <param name="holderPid">The pid namespace's init (see SpawnInNamespaces), killed and reaped with the task; 0 for none.</param>
    private LaunchedProcess Track(int pid, int holderPid)
    {
        Child? holder = null;
        if (holderPid > 1)
        {
            try
            {
                holder = Register(holderPid, null);
            }
            catch (Exception)
            {
                LibC.kill(-pid, LibC.SIGKILL);
                WaitPid(pid);
                throw;
            }
        }

        try
        {
            var child = Register(pid, holder);
            return new LaunchedProcess(pid, child.Exit.Task, signal => SignalGroup(child, signal));
        }
        catch (Exception) when (holder is not null)
        {
            // The holder is registered: killing it is enough, the reaper collects it.
            SignalGroup(holder, LibC.SIGKILL);
            throw;
        }
    }

    private Child Register(int pid, Child? holder, string? exitFile = null)
    {
        // kill(-pid) with pid 0 or 1 would hit our own group or every process on the machine.
        if (pid <= 1)
        {
            throw new LaunchException($"posix_spawn returned an impossible pid {pid}");
        }

        var pidFd = LibC.pidfd_open(pid, 0);
        if (pidFd < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            LibC.kill(-pid, LibC.SIGKILL);
            WaitPid(pid);
            throw new LaunchException($"Failed to watch process {pid}: pidfd_open: {LibC.ErrorText(errno)}") { Errno = errno };
        }

        var child = new Child(Interlocked.Increment(ref _nextId), pid, pidFd) { Holder = holder, ExitFile = exitFile };
        if (holder is not null)
        {
            holder.Owner = child;
        }

        lock (_gate)
        {
            if (_disposed || _reaperFailure is not null)
            {
                KillAndReapNow(child);
                if (_reaperFailure is { } failure)
                {
                    throw new LaunchException("The process reaper has failed", failure);
                }

                throw new ObjectDisposedException(nameof(PosixProcessLauncher));
            }

            _children[child.Id] = child;
            if (!EpollAdd(pidFd, (ulong)child.Id, out var errno))
            {
                _children.TryRemove(child.Id, out _);
                KillAndReapNow(child);
                throw new LaunchException($"Failed to watch process {pid}: epoll_ctl: {LibC.ErrorText(errno)}") { Errno = errno };
            }
        }

        return child;
    }

    private static void SignalGroup(Child child, int signal)
    {
        lock (child.Gate)
        {
            if (child.Reaped || LibC.kill(-child.Pid, signal) == 0)
            {
                return;
            }

            var errno = Marshal.GetLastPInvokeError();
            // ESRCH: only the zombie leader is left, which no signal can affect.
            if (errno != LibC.ESRCH)
            {
                throw new InvalidOperationException(
                    $"Failed to send signal {signal} to process group {child.Pid}: {LibC.ErrorText(errno)}");
            }
        }
    }

    private bool EpollAdd(int fd, ulong token, out int errno)
    {
        var ev = stackalloc byte[16];
        *(uint*)ev = LibC.EPOLLIN;
        Unsafe.WriteUnaligned(ev + LibC.EpollDataOffset, token);
        if (LibC.epoll_ctl(_epollFd, LibC.EPOLL_CTL_ADD, fd, ev) == 0)
        {
            errno = 0;
            return true;
        }

        errno = Marshal.GetLastPInvokeError();
        return false;
    }

    private void ReaperLoop()
    {
        var eventSize = LibC.EpollEventSize;
        var events = (byte*)NativeMemory.Alloc((nuint)(MaxEventsPerWait * eventSize));
        try
        {
            while (true)
            {
                var count = LibC.epoll_wait(_epollFd, events, MaxEventsPerWait, -1);
                Interlocked.Increment(ref _reaperWakeups);
                if (count < 0)
                {
                    var errno = Marshal.GetLastPInvokeError();
                    if (errno == LibC.EINTR)
                    {
                        continue;
                    }

                    var failure = new InvalidOperationException($"epoll_wait failed: {LibC.ErrorText(errno)}");
                    lock (_gate)
                    {
                        _reaperFailure = failure;
                    }

                    FailAll(failure);
                    return;
                }

                for (var i = 0; i < count; i++)
                {
                    var token = Unsafe.ReadUnaligned<ulong>(events + (i * eventSize) + LibC.EpollDataOffset);
                    if (token == WakeToken)
                    {
                        ulong value;
                        LibC.read(_wakeFd, &value, sizeof(ulong));
                    }
                    else if (_children.TryGetValue((long)token, out var child))
                    {
                        TryReap(child);
                    }
                }

                if (_disposed && _children.IsEmpty)
                {
                    return;
                }
            }
        }
        finally
        {
            NativeMemory.Free(events);
            LibC.close(_wakeFd);
            LibC.close(_epollFd);
        }
    }

    private void TryReap(Child child)
    {
        ExitStatus status;
        lock (child.Gate)
        {
            // Kill the rest of the group while the zombie leader still pins the group id. Not for a supervisor: its task
            // has a group of its own (the supervisor sees to it), and an adopted one is not our child, so nothing pins its pid.
            if (child.ExitFile is null)
            {
                LibC.kill(-child.Pid, LibC.SIGKILL);
            }

            var info = stackalloc byte[LibC.SigInfoSize];
            new Span<byte>(info, LibC.SigInfoSize).Clear();
            int rc;
            do
            {
                rc = LibC.waitid(LibC.P_PIDFD, child.PidFd, info, LibC.WEXITED | LibC.WNOHANG);
            }
            while (rc < 0 && Marshal.GetLastPInvokeError() == LibC.EINTR);

            if (rc == 0)
            {
                var siPid = *(int*)(info + 16);
                if (siPid == 0)
                {
                    // Readable but not yet waitable; epoll is level-triggered, so we will be back.
                    return;
                }

                status = DecodeStatus(info);
            }
            else
            {
                // ECHILD: someone else reaped it (see the class remarks). Either way the child is gone
                // from our point of view; keeping it registered would make epoll spin on it.
                status = default;
            }

            child.Reaped = true;
        }

        if (child.ExitFile is { } exitFile)
        {
            status = ReadExitRecord(exitFile, status);
        }

        _children.TryRemove(child.Id, out _);
        // Deregister explicitly: close() alone leaves the epoll entry alive while a child spawned meanwhile still
        // holds a copy of the pidfd (until its exec closes it), and the level-triggered EPOLLHUP then spins the reaper.
        _ = LibC.epoll_ctl(_epollFd, LibC.EPOLL_CTL_DEL, child.PidFd, null);
        LibC.close(child.PidFd);

        // Both reaps run on this thread only, so Reaped/PendingExit need no further locking between them.
        if (child.Owner is { } owner)
        {
            // A pid namespace's init is gone, and with it (the kernel sees to it) every process in the namespace.
            if (owner.PendingExit is { } pending)
            {
                owner.Exit.TrySetResult(pending);
            }

            return;
        }

        if (child.Holder is { Reaped: false } holder)
        {
            // The task is done: its namespace's init dies now, which kills whatever else still runs in there
            // (daemons that left the process group included); the exit is reported once that init is reaped.
            child.PendingExit = status;
            LibC.kill(holder.Pid, LibC.SIGKILL);
            return;
        }

        child.Exit.TrySetResult(status);
    }

    private static ExitStatus DecodeStatus(byte* info)
    {
        var code = *(int*)(info + LibC.SigInfoCodeOffset);
        var value = *(int*)(info + LibC.SigInfoStatusOffset);
        return code switch
        {
            LibC.CLD_EXITED => ExitStatus.Exited(value),
            LibC.CLD_KILLED or LibC.CLD_DUMPED => ExitStatus.Killed(value),
            _ => default,
        };
    }

    /// <summary>For children we failed to register: nobody else will ever reap them.</summary>
    private static void KillAndReapNow(Child child)
    {
        LibC.kill(-child.Pid, LibC.SIGKILL);
        var info = stackalloc byte[LibC.SigInfoSize];
        while (LibC.waitid(LibC.P_PIDFD, child.PidFd, info, LibC.WEXITED) < 0 &&
               Marshal.GetLastPInvokeError() == LibC.EINTR)
        {
        }

        LibC.close(child.PidFd);
    }

    private static void WaitPid(int pid)
    {
        while (LibC.waitpid(pid, null, 0) < 0 && Marshal.GetLastPInvokeError() == LibC.EINTR)
        {
        }
    }

    private void FailAll(Exception error)
    {
        foreach (var child in _children.Values)
        {
            child.Exit.TrySetException(error);
        }
    }

    /// <summary>SIGKILLs every live process group and waits (bounded) until all of them are reaped.</summary>
    public void Dispose()
    {
        Child[] live;
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            live = [.. _children.Values];
        }

        foreach (var child in live)
        {
            try
            {
                if (child.ExitFile is null)
                {
                    SignalGroup(child, LibC.SIGKILL);
                }
                else
                {
                    SignalSupervisor(child, LibC.SIGKILL);
                }
            }
            catch (InvalidOperationException)
            {
                // Keep going: the other groups must still die.
            }
        }

        DisposeNamespaceThread();
        lock (_procGate)
        {
            if (_hostProcFd >= 0)
            {
                LibC.close(_hostProcFd);
                _hostProcFd = -1;
            }

            foreach (var fd in _supervisorFds.Values)
            {
                LibC.close(fd);
            }

            _supervisorFds.Clear();
        }

        ulong one = 1;
        LibC.write(_wakeFd, &one, sizeof(ulong));

        // Bounded because a process stuck in uninterruptible sleep cannot die yet; the thread then
        // finishes reaping (and closes its fds) on its own.
        if (Thread.CurrentThread != _reaper)
        {
            _reaper.Join(DisposeTimeout);
        }
    }

    /// <summary>Baseline for benchmarks: the bare posix_spawn + waitpid cost, without pidfds, epoll,
    /// file opening or PATH search per process. Spawns <paramref name="count"/> processes of
    /// <paramref name="exe"/> in batches (spawn a batch back to back, then wait for the whole batch),
    /// with the same spawn attributes as <see cref="Launch"/> and stdio on /dev/null.</summary>
    /// <returns>Processes per second.</returns>
    public static double SpawnLoopPerSecond(string exe, int count) => SpawnLoopPerSecond(exe, count, 64);

    public static double SpawnLoopPerSecond(string exe, int count, int batchSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        var path = ExecutableResolver.Resolve(
            exe, System.Environment.GetEnvironmentVariable("PATH"), System.Environment.CurrentDirectory);

        using var argv = NativeStringArray.Create([path]);
        using var envp = NativeStringArray.Create([]);
        var fileActions = stackalloc byte[LibC.FileActionsSize];
        var attr = stackalloc byte[LibC.SpawnAttrSize];
        Check(LibC.posix_spawn_file_actions_init(fileActions), "posix_spawn_file_actions_init");
        Check(LibC.posix_spawnattr_init(attr), "posix_spawnattr_init");
        var pids = new int[batchSize];
        try
        {
            ConfigureAttributes(attr);
            Check(LibC.posix_spawn_file_actions_addopen(fileActions, 0, "/dev/null", LibC.O_RDONLY, 0), "addopen");
            Check(LibC.posix_spawn_file_actions_addopen(fileActions, 1, "/dev/null", LibC.O_WRONLY, 0), "addopen");
            Check(LibC.posix_spawn_file_actions_adddup2(fileActions, 1, 2), "adddup2");
            Check(LibC.posix_spawn_file_actions_addclosefrom_np(fileActions, 3), "addclosefrom_np");

            var stopwatch = Stopwatch.StartNew();
            for (var done = 0; done < count;)
            {
                var batch = Math.Min(batchSize, count - done);
                var spawned = 0;
                try
                {
                    for (; spawned < batch; spawned++)
                    {
                        var rc = LibC.posix_spawn(out pids[spawned], path, fileActions, attr, argv.Pointer, envp.Pointer);
                        if (rc != 0)
                        {
                            throw new LaunchException($"Failed to launch '{exe}': {LibC.ErrorText(rc)}") { Errno = rc };
                        }
                    }
                }
                finally
                {
                    for (var i = 0; i < spawned; i++)
                    {
                        WaitPid(pids[i]);
                    }
                }

                done += batch;
            }

            return count / stopwatch.Elapsed.TotalSeconds;
        }
        finally
        {
            LibC.posix_spawnattr_destroy(attr);
            LibC.posix_spawn_file_actions_destroy(fileActions);
        }
    }

    private static InvalidOperationException LastError(string function) =>
        new($"{function} failed: {LibC.ErrorText(Marshal.GetLastPInvokeError())}");

    private sealed class Child(long id, int pid, int pidFd)
    {
        public long Id { get; } = id;

        public int Pid { get; } = pid;

        public int PidFd { get; } = pidFd;

        /// <summary>Serializes kill(-pgid) with reaping; see the class remarks.</summary>
        public Lock Gate { get; } = new();

        /// <summary>Guarded by <see cref="Gate"/>.</summary>
        public bool Reaped { get; set; }

        public TaskCompletionSource<ExitStatus> Exit { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>For a task in its own pid namespace: the namespace's init, reaped before the task's exit is reported.</summary>
        public Child? Holder { get; init; }

        /// <summary>For a pid namespace's init: the task it holds the namespace for.</summary>
        public Child? Owner { get; set; }

        /// <summary>The task's exit, kept until its namespace's init has been reaped.</summary>
        public ExitStatus? PendingExit { get; set; }

        /// <summary>For a supervisor: where it records how its task ended (the supervisor's own status is not the task's).</summary>
        public string? ExitFile { get; init; }
    }
}
