using System.Collections.Concurrent;
using System.Globalization;
using System.Runtime.InteropServices;

namespace Mezzo.Agent.Launcher;

/// <remarks>
/// <para>Namespaces without helper processes: one dedicated thread unshares its own mount and pid namespaces
/// (Linux keeps both per thread: the mount namespace with the thread's unshared fs_struct, the pid namespace as the one
/// its children are born into), makes the mounts with mount(2) directly, spawns, and setns()es back to the agent's
/// namespaces. Compared with chaining <c>unshare</c> and <c>mount</c> binaries this costs no exec for the mounts.</para>
/// <para>The task is not the namespace's pid 1: a pid 1 only receives the signals it installed a handler for, so a
/// SIGTERM of the kill grace period would be silently dropped for most commands. A holder (<c>sleep infinity</c>) is
/// spawned first and becomes pid 1; the task, spawned next, is pid 2 and still the agent's own child, so its exit
/// status is collected exactly and signals to its process group work as without namespaces. When the task has been
/// reaped the holder is killed, and the kernel kills everything else in the namespace with it (daemons that left the
/// task's process group included); the mount namespace and its mounts go with the last process.</para>
/// <para>/proc is mounted from the agent's thread with <c>pidns=</c> (Linux 6.15+) naming the holder's namespace,
/// since a plain proc mount shows the mounting process's own pid namespace.</para>
/// </remarks>
public sealed unsafe partial class PosixProcessLauncher
{
    private const string HolderName = "mezzo-init";
    private readonly BlockingCollection<Action> _namespaceWork = [];
    private readonly Lock _namespaceThreadGate = new();
    private Thread? _namespaceThread;
    private string? _holderPath;
    private int _hostMountNs = -1;
    private int _hostPidNs = -1;
    private volatile string? _namespaceThreadBroken;

    private (int Task, int Holder) SpawnOnLaunchThread(LaunchSpec spec, string spawnPath, List<string> argv, List<string> envp, int inheritFd = -1)
    {
        EnsureNamespaceThread();
        (int, int) result = default;
        Exception? error = null;
        using var done = new ManualResetEventSlim();
        try
        {
            _namespaceWork.Add(() =>
            {
                try
                {
                    result = SpawnOnNamespaceThread(spec, spawnPath, argv, envp, inheritFd);
                }
                catch (Exception ex)
                {
                    error = ex;
                }
                finally
                {
                    done.Set();
                }
            });
        }
        catch (InvalidOperationException)
        {
            throw new ObjectDisposedException(nameof(PosixProcessLauncher));
        }

        done.Wait();
        if (error is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(error).Throw();
        }

        return result;
    }

    /// <summary>The launch thread: namespaced launches, and on cgroup v1 every launch into cgroups.</summary>
    private void EnsureNamespaceThread()
    {
        lock (_namespaceThreadGate)
        {
            if (_namespaceThread is not null)
            {
                return;
            }

            _hostMountNs = OpenNamespace("/proc/self/ns/mnt");
            _hostPidNs = OpenNamespace("/proc/self/ns/pid");
            _namespaceThread = new Thread(() =>
            {
                foreach (var work in _namespaceWork.GetConsumingEnumerable())
                {
                    work();
                }
            })
            { IsBackground = true, Name = "Mezzo namespace launcher" };
            _namespaceThread.Start();
        }
    }

    private static int OpenNamespace(string path)
    {
        var fd = LibC.open(path, LibC.O_RDONLY | LibC.O_CLOEXEC, 0);
        if (fd < 0)
        {
            throw new LaunchException($"Cannot open {path}: {LibC.ErrorText(Marshal.GetLastPInvokeError())}");
        }

        return fd;
    }

    private (int Task, int Holder) SpawnOnNamespaceThread(LaunchSpec spec, string spawnPath, List<string> argv, List<string> envp, int inheritFd)
    {
        if (_namespaceThreadBroken is { } broken)
        {
            throw new LaunchException($"The launch thread is unusable: {broken}");
        }

        return SpawnInNamespaces(spec, spec.Namespaces!, spawnPath, argv, envp, inheritFd);
    }

    /// <remarks>A supervised task (<see cref="LaunchSpec.Supervisor"/>) needs no holder: its supervisor is the pid
    /// namespace's init and mounts /proc itself.</remarks>
    private (int Task, int Holder) SpawnInNamespaces(LaunchSpec spec, NamespaceSpec namespaces, string spawnPath, List<string> argv, List<string> envp, int inheritFd)
    {
        var flags = LibC.CLONE_NEWNS | (namespaces.Pid ? LibC.CLONE_NEWPID : 0);
        if (LibC.unshare(flags) != 0)
        {
            throw new LaunchException($"Failed to create namespaces: unshare: {LibC.ErrorText(Marshal.GetLastPInvokeError())}");
        }

        var holder = 0;
        var task = 0;
        try
        {
            // Private first: without it a bind mount below would propagate to the host's shared mounts.
            Mount(null, "/", null, LibC.MS_REC | LibC.MS_PRIVATE, null);
            if (namespaces.PrivateTmp is { } tmp)
            {
                BindPrivateTmp(tmp);
            }

            foreach (var bind in namespaces.Binds ?? [])
            {
                Directory.CreateDirectory(bind.Target);
                Mount(bind.Source, bind.Target, null, LibC.MS_BIND | LibC.MS_REC, null);
                if (bind.ReadOnly)
                {
                    // A bind mount takes MS_RDONLY only on a remount of itself.
                    Mount(null, bind.Target, null, LibC.MS_BIND | LibC.MS_REMOUNT | LibC.MS_RDONLY, null);
                }
            }

            if (namespaces.Pid && spec.Supervisor is null)
            {
                holder = SpawnHolder(envp);
                Mount("proc", "/proc", "proc", LibC.MS_NOSUID | LibC.MS_NODEV | LibC.MS_NOEXEC,
                    string.Create(CultureInfo.InvariantCulture, $"pidns=/proc/{holder}/ns/pid"));
            }

            task = Spawn(spec, spawnPath, argv, envp, inheritFd);
            return (task, holder);
        }
        catch (Exception) when (holder > 0)
        {
            LibC.kill(holder, LibC.SIGKILL);
            WaitPid(holder);
            throw;
        }
        finally
        {
            // Back to the agent's namespaces; a thread stuck in a task's namespaces must never launch again.
            if (LibC.setns(_hostMountNs, LibC.CLONE_NEWNS) != 0 ||
                (namespaces.Pid && LibC.setns(_hostPidNs, LibC.CLONE_NEWPID) != 0))
            {
                _namespaceThreadBroken = $"cannot return to the agent's namespaces: {LibC.ErrorText(Marshal.GetLastPInvokeError())}";
            }
        }
    }

    /// <summary>
    /// Binds <paramref name="tmp"/> onto /tmp. A sandbox that itself lies under /tmp (work dirs often do) would then be
    /// hidden behind its own tmp, so the host's /tmp/&lt;first component&gt; of its path is bound back inside the new
    /// /tmp: MESOS_SANDBOX, the working directory and the output files stay where they were, at the price of one empty
    /// directory (the mount point) in the sandbox's tmp.
    /// </summary>
    private static void BindPrivateTmp(string tmp)
    {
        var sandbox = Path.GetDirectoryName(Path.GetFullPath(tmp).TrimEnd('/'))!;
        string? hidden = sandbox.StartsWith("/tmp/", StringComparison.Ordinal) ? "/tmp/" + sandbox["/tmp/".Length..].Split('/')[0] : null;
        var hiddenFd = -1;
        if (hidden is not null)
        {
            hiddenFd = LibC.open(hidden, LibC.O_PATH | LibC.O_CLOEXEC, 0);
            if (hiddenFd < 0)
            {
                throw new LaunchException($"Cannot open '{hidden}': {LibC.ErrorText(Marshal.GetLastPInvokeError())}");
            }
        }

        try
        {
            Mount(tmp, "/tmp", null, LibC.MS_BIND | LibC.MS_REC, null);
            if (hidden is not null)
            {
                Directory.CreateDirectory(hidden);
                Mount(string.Create(CultureInfo.InvariantCulture, $"/proc/self/fd/{hiddenFd}"), hidden, null, LibC.MS_BIND | LibC.MS_REC, null);
            }
        }
        finally
        {
            if (hiddenFd >= 0)
            {
                LibC.close(hiddenFd);
            }
        }
    }

    private static void Mount(string? source, string target, string? type, ulong flags, string? data)
    {
        if (LibC.mount(source, target, type, flags, data) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            throw new LaunchException($"Failed to mount {source ?? type ?? "(propagation)"} on {target}: {LibC.ErrorText(errno)}") { Errno = errno };
        }
    }

    /// <summary>The pid namespace's init. It carries the task's environment so that a crashed agent's successor finds
    /// it by MESOS_SANDBOX like any task process (<see cref="Tasks.OrphanReaper"/>).</summary>
    private int SpawnHolder(List<string> envp)
    {
        _holderPath ??= ExecutableResolver.Resolve("sleep", "/usr/bin:/bin", "/");
        using var nativeArgv = NativeStringArray.Create([HolderName, "infinity"]);
        using var nativeEnvp = NativeStringArray.Create(envp);
        var fileActions = stackalloc byte[LibC.FileActionsSize];
        var attr = stackalloc byte[LibC.SpawnAttrSize];
        Check(LibC.posix_spawn_file_actions_init(fileActions), "posix_spawn_file_actions_init");
        try
        {
            Check(LibC.posix_spawnattr_init(attr), "posix_spawnattr_init");
            try
            {
                ConfigureAttributes(attr);
                Check(LibC.posix_spawn_file_actions_addopen(fileActions, 0, "/dev/null", LibC.O_RDONLY, 0), "addopen");
                Check(LibC.posix_spawn_file_actions_addopen(fileActions, 1, "/dev/null", LibC.O_WRONLY, 0), "addopen");
                Check(LibC.posix_spawn_file_actions_adddup2(fileActions, 1, 2), "adddup2");
                Check(LibC.posix_spawn_file_actions_addchdir_np(fileActions, "/"), "addchdir_np");
                Check(LibC.posix_spawn_file_actions_addclosefrom_np(fileActions, 3), "addclosefrom_np");
                var rc = LibC.posix_spawn(out var pid, _holderPath!, fileActions, attr, nativeArgv.Pointer, nativeEnvp.Pointer);
                if (rc != 0)
                {
                    throw new LaunchException($"Failed to start the pid namespace's init {_holderPath}: {LibC.ErrorText(rc)}") { Errno = rc };
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

    private void DisposeNamespaceThread()
    {
        _namespaceWork.CompleteAdding();
        if (_namespaceThread is not { } thread || (Thread.CurrentThread != thread && thread.Join(DisposeTimeout)))
        {
            _namespaceWork.Dispose();
        }

        if (_hostMountNs >= 0)
        {
            LibC.close(_hostMountNs);
        }

        if (_hostPidNs >= 0)
        {
            LibC.close(_hostPidNs);
        }
    }
}
