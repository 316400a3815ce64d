using System.Runtime.InteropServices;

namespace Mezzo.Agent.Images;

// statx rather than stat: its struct layout is the same on every Linux architecture, so one declaration is right on
// x86_64 and arm64 alike. Offsets are from linux/stat.h (struct statx, 256 bytes).
internal static unsafe partial class ImageNative
{
    private const string Lib = "libc";
    private const int AtFdCwd = -100;
    private const int AtSymlinkNoFollow = 0x100;
    private const uint StatxBasicStats = 0x7ff;

    internal const uint S_IFMT = 0xF000;
    internal const uint S_IFIFO = 0x1000;
    internal const uint S_IFCHR = 0x2000;
    internal const uint S_IFDIR = 0x4000;
    internal const uint S_IFBLK = 0x6000;
    internal const uint S_IFREG = 0x8000;
    internal const uint S_IFLNK = 0xA000;

    internal readonly record struct FileStat(uint Mode, uint Uid, uint Gid, ulong Inode, uint Links, ulong Size, uint RdevMajor, uint RdevMinor, ulong Device)
    {
        public uint Type => Mode & S_IFMT;

        public uint Permissions => Mode & 0xFFF;
    }

    [LibraryImport(Lib, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int statx(int dirFd, string path, int flags, uint mask, byte* buffer);

    [LibraryImport(Lib, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int lchown(string path, uint owner, uint group);

    [LibraryImport(Lib, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int mknod(string path, uint mode, ulong device);

    [LibraryImport(Lib, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int link(string oldPath, string newPath);

    [LibraryImport(Lib, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int chmod(string path, uint mode);

    [LibraryImport(Lib)]
    private static partial uint geteuid();

    internal static bool IsRoot => geteuid() == 0;

    /// <summary>lstat: never follows a final symlink. Null when the path does not exist.</summary>
    internal static FileStat? LStat(string path)
    {
        var buffer = stackalloc byte[256];
        if (statx(AtFdCwd, path, AtSymlinkNoFollow, StatxBasicStats, buffer) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            if (errno is 2 or 20)
            {
                return null; // ENOENT, ENOTDIR
            }

            throw new IOException($"statx '{path}' failed: {Marshal.GetPInvokeErrorMessage(errno)}");
        }

        return new FileStat(
            Mode: *(ushort*)(buffer + 28),
            Uid: *(uint*)(buffer + 20),
            Gid: *(uint*)(buffer + 24),
            Inode: *(ulong*)(buffer + 32),
            Links: *(uint*)(buffer + 16),
            Size: *(ulong*)(buffer + 40),
            RdevMajor: *(uint*)(buffer + 128),
            RdevMinor: *(uint*)(buffer + 132),
            Device: ((ulong)*(uint*)(buffer + 136) << 32) | *(uint*)(buffer + 140));
    }

    internal static void LChown(string path, uint uid, uint gid) =>
        Check(lchown(path, uid, gid), "lchown", path);

    /// <summary>chmod with the full 12 bits (setuid, setgid, sticky included); follows symlinks, so never call it on one.</summary>
    internal static void Chmod(string path, uint permissions) =>
        Check(chmod(path, permissions & 0xFFF), "chmod", path);

    internal static void MkNod(string path, uint type, uint permissions, uint major, uint minor)
    {
        // glibc's makedev encoding.
        ulong dev = ((ulong)(major & 0xfff) << 8) | ((ulong)(major & ~0xfffu) << 32) | (minor & 0xffu) | ((ulong)(minor & ~0xffu) << 12);
        Check(mknod(path, type | permissions, dev), "mknod", path);
    }

    internal static void Link(string existing, string newPath) =>
        Check(link(existing, newPath), "link", newPath);

    private static void Check(int result, string call, string path)
    {
        if (result != 0)
        {
            throw new IOException($"{call} '{path}' failed: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");
        }
    }
}
