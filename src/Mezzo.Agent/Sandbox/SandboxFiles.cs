using System.Text;
using System.Text.Json.Serialization;
using Microsoft.Win32.SafeHandles;

namespace Mezzo.Agent.Sandbox;

/// <summary>Response body of /files/read.</summary>
public sealed record FileReadResult(
    [property: JsonPropertyName("offset")] long Offset,
    [property: JsonPropertyName("data")] string Data);

/// <summary>Bytes read from a sandbox file: <see cref="Count"/> bytes of <see cref="Data"/>, and the file's size.</summary>
public sealed record FileChunk(long Size, byte[] Data, int Count);

/// <summary>One element of the /files/browse response, in Mesos's JSON shape
/// (uid and gid are user and group names, falling back to the number).</summary>
public sealed record FileEntry(
    [property: JsonPropertyName("path")] string Path,
    [property: JsonPropertyName("nlink")] long Nlink,
    [property: JsonPropertyName("size")] long Size,
    [property: JsonPropertyName("mtime")] double Mtime,
    [property: JsonPropertyName("mode")] string Mode,
    [property: JsonPropertyName("uid")] string Uid,
    [property: JsonPropertyName("gid")] string Gid,
    [property: JsonIgnore] uint ModeBits = 0);

/// <summary>Mesos /files/read and /files/browse over a sandbox directory.</summary>
public static unsafe class SandboxFiles
{
    /// <summary>Upper bound of one read, whatever length is asked for, so a client cannot make the
    /// agent buffer a huge file in memory.</summary>
    public const int MaxReadLength = 1 << 20;

    /// <summary>Reads up to <paramref name="length"/> bytes at <paramref name="offset"/>.</summary>
    /// <remarks>As in Mesos: offset -1 returns the file size as offset and no data (the web UI's pailer
    /// uses it to find the end); an offset at or past the end returns no data and echoes the offset;
    /// length null or -1 means "to the end" (the pailer sends -1), further capped at
    /// <see cref="MaxReadLength"/>; offsets or lengths below -1 are bad requests.</remarks>
    public static FileReadResult Read(string root, string path, long offset, long? length)
    {
        var chunk = ReadBytes(root, path, offset, length, MaxReadLength);
        return new FileReadResult(offset == -1 ? chunk.Size : offset, Encoding.UTF8.GetString(chunk.Data, 0, chunk.Count));
    }

    /// <summary>
    /// The bytes behind <see cref="Read"/> (same rules and errors), at most <paramref name="maxLength"/> of them, with
    /// the file's size: what the operator API's READ_FILE answers.
    /// </summary>
    public static FileChunk ReadBytes(string root, string path, long offset, long? length, int maxLength)
    {
        if (offset < -1)
        {
            throw SandboxFileException.BadRequest($"Negative offset provided: {offset}.");
        }

        if (length < -1)
        {
            throw SandboxFileException.BadRequest($"Negative length provided: {length}.");
        }

        var resolved = SandboxPaths.ResolveOrThrow(root, path);

        // O_NONBLOCK: a task can put a FIFO in its sandbox, and opening one for reading would otherwise
        // block until a writer shows up.
        var fd = SandboxNative.open(resolved.RealPath,
            SandboxNative.O_RDONLY | SandboxNative.O_CLOEXEC | SandboxNative.O_NONBLOCK | SandboxNative.O_NOCTTY, 0);
        if (fd < 0)
        {
            var errno = System.Runtime.InteropServices.Marshal.GetLastPInvokeError();
            throw errno == SandboxNative.ENOENT
                ? SandboxFileException.NotFound($"'{path}' does not exist.")
                : SandboxFileException.Internal($"Failed to open file at '{path}': {ErrorText(errno)}.");
        }

        using var handle = new SafeFileHandle(fd, ownsHandle: true);

        // The task owns its sandbox and can swap a checked path for a symlink between realpath and
        // open; checking what was actually opened closes that window.
        var opened = new FileInfo($"/proc/self/fd/{fd}").LinkTarget;
        if (opened is null || !SandboxPaths.IsWithin(resolved.RealRoot, opened))
        {
            throw SandboxPaths.Inaccessible(path);
        }

        var stat = SandboxNative.Stat(fd, out var statErrno)
            ?? throw SandboxFileException.Internal($"Failed to stat '{path}': {ErrorText(statErrno)}.");
        if (stat.IsDirectory)
        {
            throw SandboxFileException.BadRequest("Cannot read a directory.");
        }

        // Devices and FIFOs have no meaningful size or offsets (and /dev/zero never ends).
        if (!stat.IsRegularFile)
        {
            throw SandboxFileException.BadRequest("Cannot read a special file.");
        }

        var size = stat.Size;
        if (offset == -1)
        {
            return new FileChunk(size, [], 0);
        }

        if (offset >= size)
        {
            return new FileChunk(size, [], 0);
        }

        var wanted = length is null or -1 ? size - offset : length.Value;
        var count = (int)Math.Min(Math.Min(wanted, size - offset), maxLength);
        if (count == 0)
        {
            return new FileChunk(size, [], 0);
        }

        var buffer = new byte[count];
        var total = 0;
        fixed (byte* bufferPointer = buffer)
        {
            while (total < count)
            {
                var read = SandboxNative.pread(fd, bufferPointer + total, (nuint)(count - total), offset + total);
                if (read < 0)
                {
                    var errno = System.Runtime.InteropServices.Marshal.GetLastPInvokeError();
                    if (errno == SandboxNative.EINTR)
                    {
                        continue;
                    }

                    throw SandboxFileException.Internal($"Failed to read file at '{path}': {ErrorText(errno)}.");
                }

                if (read == 0)
                {
                    break; // Truncated since we looked at its size.
                }

                total += (int)read;
            }
        }

        return new FileChunk(size, buffer, total);
    }

    /// <summary>Lists a directory, sorted by path. Browsing a file yields an empty list, as in Mesos.</summary>
    /// <remarks>Entries are stat'ed through symlinks (as Mesos does), except symlinks that lead out of
    /// the sandbox, which are described as links so nothing about the target leaks; dangling
    /// symlinks are left out, as Mesos does when stat fails.</remarks>
    public static IReadOnlyList<FileEntry> Browse(string root, string path)
    {
        var resolved = SandboxPaths.ResolveOrThrow(root, path);
        var self = SandboxNative.Stat(resolved.RealPath, followSymlinks: true, out _);
        if (self is not { IsDirectory: true })
        {
            return [];
        }

        string[] children;
        try
        {
            children = Directory.GetFileSystemEntries(resolved.RealPath);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [];
        }

        Array.Sort(children, StringComparer.Ordinal);
        var users = new Dictionary<uint, string>();
        var groups = new Dictionary<uint, string>();
        var listing = new List<FileEntry>(children.Length);
        foreach (var child in children)
        {
            if (StatEntry(resolved.RealRoot, child) is not { } stat)
            {
                continue;
            }

            listing.Add(new FileEntry(
                JoinVirtual(path, System.IO.Path.GetFileName(child)),
                stat.Nlink,
                stat.Size,
                stat.MtimeSeconds,
                FormatMode(stat.Mode),
                Name(users, stat.Uid, SandboxNative.UserName),
                Name(groups, stat.Gid, SandboxNative.GroupName),
                stat.Mode));
        }

        return listing;
    }

    private static StatInfo? StatEntry(string realRoot, string entry)
    {
        var link = SandboxNative.Stat(entry, followSymlinks: false, out _);
        if (link is not { IsSymbolicLink: true })
        {
            return link;
        }

        var target = SandboxNative.RealPath(entry, out _);
        if (target is null)
        {
            return null;
        }

        return SandboxPaths.IsWithin(realRoot, target) ? SandboxNative.Stat(target, followSymlinks: true, out _) : link;
    }

    private static string Name(Dictionary<uint, string> cache, uint id, Func<uint, string?> lookup)
    {
        if (!cache.TryGetValue(id, out var name))
        {
            name = lookup(id) ?? id.ToString(System.Globalization.CultureInfo.InvariantCulture);
            cache[id] = name;
        }

        return name;
    }

    /// <summary>Mesos's path::join: exactly one '/' between the parts.</summary>
    private static string JoinVirtual(string directory, string name)
    {
        var trimmed = directory.TrimEnd('/');
        return trimmed.Length == 0 && directory.Length > 0 ? "/" + name : trimmed + "/" + name;
    }

    /// <summary>"drwxr-xr-x" style. Like Mesos, only the type and the nine rwx bits are shown
    /// (no setuid/setgid/sticky letters).</summary>
    public static string FormatMode(uint mode)
    {
        var type = (mode & 0xF000) switch
        {
            0x4000 => 'd',
            0x2000 => 'c',
            0x6000 => 'b',
            0x1000 => 'p',
            0xA000 => 'l',
            0xC000 => 's',
            _ => '-',
        };

        Span<char> text = stackalloc char[10];
        text[0] = type;
        const string Letters = "rwxrwxrwx";
        for (var i = 0; i < 9; i++)
        {
            text[i + 1] = (mode & (1u << (8 - i))) != 0 ? Letters[i] : '-';
        }

        return new string(text);
    }

    private static string ErrorText(int errno) => System.Runtime.InteropServices.Marshal.GetPInvokeErrorMessage(errno);
}
