using System.Runtime.InteropServices;

namespace Mezzo.Agent.Sandbox;

/// <summary>What browse needs from stat(2) that .NET does not expose (nlink, uid, gid).</summary>
internal readonly record struct StatInfo(uint Mode, long Nlink, uint Uid, uint Gid, long Size, long MtimeSeconds)
{
    private const uint TypeMask = 0xF000;

    public bool IsDirectory => (Mode & TypeMask) == 0x4000;

    public bool IsRegularFile => (Mode & TypeMask) == 0x8000;

    public bool IsSymbolicLink => (Mode & TypeMask) == 0xA000;
}

// statx rather than stat: struct statx has the same layout on every architecture, struct stat does not.
internal static unsafe partial class SandboxNative
{
    private const string Lib = "libc";

    internal const int O_RDONLY = 0x0;
    internal const int O_NONBLOCK = 0x800;
    internal const int O_NOCTTY = 0x100;
    internal const int O_CLOEXEC = 0x80000;
    internal const int ENOENT = 2;
    internal const int ENOTDIR = 20;
    internal const int EINTR = 4;
    internal const int ERANGE = 34;

    private const int AT_FDCWD = -100;
    private const int AT_SYMLINK_NOFOLLOW = 0x100;
    private const int AT_EMPTY_PATH = 0x1000;
    private const uint STATX_BASIC_STATS = 0x7ff;
    private const int StatxSize = 256;

    [LibraryImport(Lib, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial nint realpath(string path, nint resolved);

    [LibraryImport(Lib)]
    private static partial void free(nint pointer);

    [LibraryImport(Lib, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int open(string path, int flags, uint mode);

    [LibraryImport(Lib, SetLastError = true)]
    internal static partial nint pread(int fd, byte* buffer, nuint count, long offset);

    [LibraryImport(Lib, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int statx(int dirFd, string path, int flags, uint mask, byte* buffer);

    [LibraryImport(Lib)]
    private static partial int getpwuid_r(uint uid, byte* pwd, byte* buffer, nuint bufferLength, void** result);

    [LibraryImport(Lib)]
    private static partial int getgrgid_r(uint gid, byte* grp, byte* buffer, nuint bufferLength, void** result);

    /// <summary>realpath(3): resolves every symlink and "..", which Path.GetFullPath does not do.</summary>
    internal static string? RealPath(string path, out int errno)
    {
        var resolved = realpath(path, 0);
        if (resolved == 0)
        {
            errno = Marshal.GetLastPInvokeError();
            return null;
        }

        errno = 0;
        try
        {
            return Marshal.PtrToStringUTF8(resolved);
        }
        finally
        {
            free(resolved);
        }
    }

    internal static StatInfo? Stat(string path, bool followSymlinks, out int errno) =>
        StatCore(AT_FDCWD, path, followSymlinks ? 0 : AT_SYMLINK_NOFOLLOW, out errno);

    internal static StatInfo? Stat(int fd, out int errno) => StatCore(fd, "", AT_EMPTY_PATH, out errno);

    private static StatInfo? StatCore(int dirFd, string path, int flags, out int errno)
    {
        var buffer = stackalloc byte[StatxSize];
        if (statx(dirFd, path, flags, STATX_BASIC_STATS, buffer) != 0)
        {
            errno = Marshal.GetLastPInvokeError();
            return null;
        }

        errno = 0;
        return new StatInfo(
            Mode: *(ushort*)(buffer + 28),
            Nlink: *(uint*)(buffer + 16),
            Uid: *(uint*)(buffer + 20),
            Gid: *(uint*)(buffer + 24),
            Size: *(long*)(buffer + 40),
            MtimeSeconds: *(long*)(buffer + 112));
    }

    /// <summary>User name for a uid, or null. pw_name is the first member of struct passwd.</summary>
    internal static string? UserName(uint uid) =>
        LookupName((pwd, buf, len, result) => getpwuid_r(uid, pwd, buf, len, result));

    /// <summary>Group name for a gid, or null. gr_name is the first member of struct group.</summary>
    internal static string? GroupName(uint gid) =>
        LookupName((grp, buf, len, result) => getgrgid_r(gid, grp, buf, len, result));

    private delegate int NameLookup(byte* entry, byte* buffer, nuint bufferLength, void** result);

    private static string? LookupName(NameLookup lookup)
    {
        // Both struct passwd (48 bytes) and struct group (32 bytes) fit.
        var entry = stackalloc byte[64];
        for (var size = 1024; size <= 1 << 20; size *= 4)
        {
            var buffer = new byte[size];
            fixed (byte* bufferPointer = buffer)
            {
                void* result;
                var rc = lookup(entry, bufferPointer, (nuint)size, &result);
                if (rc == ERANGE)
                {
                    continue;
                }

                return rc != 0 || result == null ? null : Marshal.PtrToStringUTF8(*(nint*)entry);
            }
        }

        return null;
    }
}
