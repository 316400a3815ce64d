using System.Runtime.InteropServices;

namespace Mezzo.Agent.Launcher;

// Values are the Linux/glibc ones (checked against the glibc 2.36 headers on x86_64; the
// generic syscall ABI shares them on arm64). Opaque glibc types are allocated with generous
// sizes so a future glibc that grows them cannot make us write past our buffers.
internal static unsafe partial class LibC
{
    private const string Lib = "libc";

    internal const int SIGKILL = 9;
    internal const int SIGTERM = 15;

    internal const short POSIX_SPAWN_SETSIGDEF = 0x04;
    internal const short POSIX_SPAWN_SETSIGMASK = 0x08;
    internal const short POSIX_SPAWN_SETSID = 0x80;

    internal const int O_RDONLY = 0x0;
    internal const int O_WRONLY = 0x1;
    internal const int O_CREAT = 0x40;
    internal const int O_APPEND = 0x400;
    internal const int O_CLOEXEC = 0x80000;
    internal const int O_PATH = 0x200000;
    internal const int O_DIRECTORY = 0x10000;
    internal const int F_DUPFD_CLOEXEC = 1030;

    internal const int P_PIDFD = 3;
    internal const int WEXITED = 4;
    internal const int WNOHANG = 1;
    internal const int CLD_EXITED = 1;
    internal const int CLD_KILLED = 2;
    internal const int CLD_DUMPED = 3;

    internal const int EPOLL_CLOEXEC = 0x80000;
    internal const int EPOLL_CTL_ADD = 1;
    internal const int EPOLL_CTL_DEL = 2;
    internal const int EPOLLIN = 0x1;
    internal const int EFD_CLOEXEC = 0x80000;
    internal const int EFD_NONBLOCK = 0x800;

    internal const int EINTR = 4;
    internal const int ESRCH = 3;
    internal const int ECHILD = 10;
    internal const int ERANGE = 34;

    // sizeof(posix_spawnattr_t) == 336, sizeof(posix_spawn_file_actions_t) == 80 on glibc x86_64.
    internal const int SpawnAttrSize = 512;
    internal const int FileActionsSize = 256;
    internal const int SigSetSize = 128;
    internal const int SigInfoSize = 128;
    internal const int SigInfoCodeOffset = 8;
    internal const int SigInfoStatusOffset = 24;

    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int posix_spawn(out int pid, string path, void* fileActions, void* attr, byte** argv, byte** envp);

    [LibraryImport(Lib)]
    internal static partial int posix_spawn_file_actions_init(void* fileActions);

    [LibraryImport(Lib)]
    internal static partial int posix_spawn_file_actions_destroy(void* fileActions);

    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int posix_spawn_file_actions_addopen(void* fileActions, int fd, string path, int flags, uint mode);

    [LibraryImport(Lib)]
    internal static partial int posix_spawn_file_actions_adddup2(void* fileActions, int fd, int newFd);

    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int posix_spawn_file_actions_addchdir_np(void* fileActions, string path);

    [LibraryImport(Lib)]
    internal static partial int posix_spawn_file_actions_addclosefrom_np(void* fileActions, int from);

    [LibraryImport(Lib)]
    internal static partial int posix_spawnattr_init(void* attr);

    [LibraryImport(Lib)]
    internal static partial int posix_spawnattr_destroy(void* attr);

    [LibraryImport(Lib)]
    internal static partial int posix_spawnattr_setflags(void* attr, short flags);

    [LibraryImport(Lib)]
    internal static partial int posix_spawnattr_setsigmask(void* attr, void* sigset);

    [LibraryImport(Lib)]
    internal static partial int posix_spawnattr_setsigdefault(void* attr, void* sigset);

    [LibraryImport(Lib)]
    internal static partial int sigemptyset(void* sigset);

    [LibraryImport(Lib, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int open(string path, int flags, uint mode);

    [LibraryImport(Lib, SetLastError = true)]
    internal static partial int close(int fd);

    // fcntl is variadic; an int third argument is passed exactly like a fixed one on the
    // x86_64 and aarch64 Linux calling conventions.
    [LibraryImport(Lib, SetLastError = true)]
    internal static partial int fcntl(int fd, int command, int argument);

    [LibraryImport(Lib, SetLastError = true)]
    internal static partial int kill(int pid, int signal);

    [LibraryImport(Lib, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int rmdir(string path);

    [LibraryImport(Lib, SetLastError = true)]
    internal static partial int pidfd_open(int pid, uint flags);

    [LibraryImport(Lib, SetLastError = true)]
    internal static partial int fsync(int fd);

    /// <summary>Signals the process the pidfd refers to, never a recycled pid (glibc 2.36+).</summary>
    [LibraryImport(Lib, SetLastError = true)]
    internal static partial int pidfd_send_signal(int pidFd, int signal, void* info, uint flags);

    [LibraryImport(Lib, SetLastError = true)]
    internal static partial int waitid(int idType, int id, void* info, int options);

    [LibraryImport(Lib, SetLastError = true)]
    internal static partial int waitpid(int pid, int* status, int options);

    [LibraryImport(Lib, SetLastError = true)]
    internal static partial int epoll_create1(int flags);

    [LibraryImport(Lib, SetLastError = true)]
    internal static partial int epoll_ctl(int epfd, int op, int fd, void* ev);

    [LibraryImport(Lib, SetLastError = true)]
    internal static partial int epoll_wait(int epfd, void* events, int maxEvents, int timeout);

    [LibraryImport(Lib, SetLastError = true)]
    internal static partial int eventfd(uint initialValue, int flags);

    [LibraryImport(Lib, SetLastError = true)]
    internal static partial nint write(int fd, void* buffer, nuint count);

    [LibraryImport(Lib, SetLastError = true)]
    internal static partial nint read(int fd, void* buffer, nuint count);

    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int getpwnam_r(string name, void* pwd, byte* buffer, nuint bufferLength, void** result);

    [LibraryImport(Lib)]
    internal static partial uint geteuid();

    internal const int CLONE_NEWNS = 0x00020000;
    internal const int CLONE_NEWPID = 0x20000000;
    internal const ulong MS_RDONLY = 0x1;
    internal const ulong MS_NOSUID = 0x2;
    internal const ulong MS_NODEV = 0x4;
    internal const ulong MS_NOEXEC = 0x8;
    internal const ulong MS_REMOUNT = 0x20;
    internal const ulong MS_BIND = 0x1000;
    internal const ulong MS_REC = 0x4000;
    internal const ulong MS_PRIVATE = 0x40000;

    [LibraryImport(Lib, SetLastError = true)]
    internal static partial int unshare(int flags);

    [LibraryImport(Lib, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int chmod(string path, uint mode);

    [LibraryImport(Lib, SetLastError = true)]
    internal static partial int setns(int fd, int nstype);

    [LibraryImport(Lib, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int mount(string? source, string target, string? fileSystemType, ulong flags, string? data);

    [LibraryImport(Lib)]
    internal static partial int gettid();

    internal const int AT_FDCWD = -100;
    internal const int AT_SYMLINK_NOFOLLOW = 0x100;
    internal const int AT_NO_AUTOMOUNT = 0x800;
    internal const uint STATX_TYPE = 0x1;
    internal const uint STATX_MODE = 0x2;
    internal const uint STATX_NLINK = 0x4;
    internal const uint STATX_INO = 0x100;
    internal const uint STATX_BLOCKS = 0x400;
    internal const int StatxSize = 256;

    /// <summary>statx rather than lstat: its buffer layout is the same on every architecture.</summary>
    [LibraryImport(Lib, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int statx(int dirFd, string path, int flags, uint mask, void* buffer);

    internal const int X_OK = 1;

    [LibraryImport(Lib, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int access(string path, int mode);

    // struct epoll_event is __attribute__((packed)) on x86 only, so its size and the offset
    // of the data member depend on the architecture.
    internal static readonly bool PackedEpollEvent =
        RuntimeInformation.ProcessArchitecture is Architecture.X64 or Architecture.X86;

    internal static int EpollEventSize => PackedEpollEvent ? 12 : 16;

    internal static int EpollDataOffset => PackedEpollEvent ? 4 : 8;

    internal static string ErrorText(int errno) => Marshal.GetPInvokeErrorMessage(errno);
}
