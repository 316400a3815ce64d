using System.Globalization;
using Mezzo.Agent.Launcher;

namespace Mezzo.Agent.Isolation;

/// <summary>
/// The disk/du isolator's measure, with <c>du -k -s -x</c>'s semantics (what Mesos runs) but without a process per
/// sandbox: blocks allocated (sparse files count what they use), symlinks counted as themselves and never followed,
/// other file systems mounted inside not entered, a file with several hard links inside counted once.
/// </summary>
public static unsafe class DiskUsage
{
    /// <summary>Bytes allocated under <paramref name="path"/>; 0 when it does not exist. Entries vanishing meanwhile are skipped.</summary>
    public static long Measure(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var buffer = stackalloc byte[LibC.StatxSize];
        if (!Stat(path, buffer, out var root))
        {
            return 0;
        }

        var seen = new HashSet<ulong>();
        var total = root.Blocks * 512;
        if (!root.IsDirectory)
        {
            return total;
        }

        var pending = new Stack<string>();
        pending.Push(path);
        while (pending.TryPop(out var directory))
        {
            IEnumerable<string> entries;
            try
            {
                entries = Directory.EnumerateFileSystemEntries(directory);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                continue;
            }

            foreach (var entry in SafeEnumerate(entries))
            {
                if (!Stat(entry, buffer, out var info) || info.Device != root.Device)
                {
                    continue;
                }

                if (info.Links > 1 && !info.IsDirectory && !seen.Add(info.Inode))
                {
                    continue;
                }

                total += info.Blocks * 512;
                if (info.IsDirectory)
                {
                    pending.Push(entry);
                }
            }
        }

        return total;
    }

    private static IEnumerable<string> SafeEnumerate(IEnumerable<string> entries)
    {
        using var enumerator = entries.GetEnumerator();
        while (true)
        {
            try
            {
                if (!enumerator.MoveNext())
                {
                    yield break;
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                yield break;
            }

            yield return enumerator.Current;
        }
    }

    private readonly record struct Info(long Blocks, ulong Inode, ulong Device, uint Links, bool IsDirectory);

    private static bool Stat(string path, byte* buffer, out Info info)
    {
        if (LibC.statx(LibC.AT_FDCWD, path, LibC.AT_SYMLINK_NOFOLLOW | LibC.AT_NO_AUTOMOUNT,
                LibC.STATX_TYPE | LibC.STATX_NLINK | LibC.STATX_INO | LibC.STATX_BLOCKS, buffer) != 0)
        {
            info = default;
            return false;
        }

        // struct statx: stx_nlink @16, stx_mode @28, stx_ino @32, stx_blocks @48, stx_dev_major @136, stx_dev_minor @140.
        var mode = *(ushort*)(buffer + 28);
        var device = ((ulong)*(uint*)(buffer + 136) << 32) | *(uint*)(buffer + 140);
        info = new Info((long)*(ulong*)(buffer + 48), *(ulong*)(buffer + 32), device, *(uint*)(buffer + 16), (mode & 0xF000) == 0x4000);
        return true;
    }

    /// <summary>Mesos's Bytes printing: the largest unit that loses nothing ("10MB", "1536KB", "1000B").</summary>
    public static string Format(long bytes)
    {
        (long Size, string Unit)[] units = [(1L << 40, "TB"), (1L << 30, "GB"), (1L << 20, "MB"), (1L << 10, "KB")];
        foreach (var (size, unit) in units)
        {
            if (bytes != 0 && bytes % size == 0)
            {
                return (bytes / size).ToString(CultureInfo.InvariantCulture) + unit;
            }
        }

        return bytes.ToString(CultureInfo.InvariantCulture) + "B";
    }

}
