using System.Formats.Tar;
using System.IO.Compression;
using Mezzo.Agent.Sandbox;

namespace Mezzo.Agent.Fetching;

internal enum ArchiveKind
{
    Tar,
    TarGzip,
    Zip,
    Gzip,
}

/// <summary>
/// Unpacks the archives Mesos's fetcher unpacks (tar, tar.gz/tgz, zip, single-file gz) without shelling out to
/// tar or unzip. The agent runs as root, so every entry is checked before it is written: no absolute names, no
/// "..", no link that leads out of the destination, and nothing is ever written through a symlink.
/// </summary>
internal static class ArchiveExtractor
{
    private const UnixFileMode PermissionBits = (UnixFileMode)0x1FF; // rwxrwxrwx: setuid, setgid and sticky are dropped

    private const int MaxLinkTargetBytes = 4096;

    /// <summary>The kind of archive a file name says it is; null when extraction does not apply (Mesos copies
    /// such files as they are). bz2 and xz tarballs are not unpacked: .NET has no decoder for them.</summary>
    public static ArchiveKind? KindOf(string fileName)
    {
        var name = Path.GetFileName(fileName).ToLowerInvariant();
        if (name.EndsWith(".tar.gz", StringComparison.Ordinal) || name.EndsWith(".tgz", StringComparison.Ordinal))
        {
            return ArchiveKind.TarGzip;
        }

        if (name.EndsWith(".tar", StringComparison.Ordinal))
        {
            return ArchiveKind.Tar;
        }

        if (name.EndsWith(".zip", StringComparison.Ordinal))
        {
            return ArchiveKind.Zip;
        }

        return name.EndsWith(".gz", StringComparison.Ordinal) && name.Length > ".gz".Length ? ArchiveKind.Gzip : null;
    }

    /// <summary>Unpacks <paramref name="archive"/> into the empty directory <paramref name="destination"/>.
    /// <paramref name="fileName"/> is the archive's name in the sandbox (a .gz file unpacks to it minus ".gz").</summary>
    /// <exception cref="InvalidDataException">The archive is corrupt or has an entry that would escape.</exception>
    public static async Task ExtractAsync(string archive, ArchiveKind kind, string fileName, string destination, CancellationToken ct)
    {
        var root = SandboxNative.RealPath(destination, out _) ?? throw new IOException($"'{destination}' does not exist");
        switch (kind)
        {
            case ArchiveKind.Tar:
            {
                await using var file = OpenRead(archive);
                await ExtractTarAsync(file, root, ct).ConfigureAwait(false);
                break;
            }

            case ArchiveKind.TarGzip:
            {
                await using var file = OpenRead(archive);
                await RequireGzipMagicAsync(file, ct).ConfigureAwait(false);
                await using var gzip = new GZipStream(file, CompressionMode.Decompress);
                await ExtractTarAsync(gzip, root, ct).ConfigureAwait(false);
                break;
            }

            case ArchiveKind.Zip:
                await ExtractZipAsync(archive, root, ct).ConfigureAwait(false);
                break;

            case ArchiveKind.Gzip:
            {
                await using var file = OpenRead(archive);
                await RequireGzipMagicAsync(file, ct).ConfigureAwait(false);
                await using var gzip = new GZipStream(file, CompressionMode.Decompress);
                var target = Path.Join(root, Path.GetFileName(fileName)[..^".gz".Length]);
                await using var output = new FileStream(target, FileMode.CreateNew, FileAccess.Write, FileShare.None, 81920, useAsync: true);
                await gzip.CopyToAsync(output, ct).ConfigureAwait(false);
                await RequireCompleteAsync(file, output.Length, ct).ConfigureAwait(false);
                break;
            }

            default:
                throw new ArgumentOutOfRangeException(nameof(kind), kind, null);
        }

        VerifyLinks(root, root);
    }

    /// <summary>Each link was checked on its own; a chain ("s" -> "a/b", then "l" -> "s/../..") can still lead out.
    /// Following every link that resolves now, with all entries in place, catches that.</summary>
    private static void VerifyLinks(string root, string directory)
    {
        foreach (var path in Directory.EnumerateFileSystemEntries(directory))
        {
            var stat = SandboxNative.Stat(path, followSymlinks: false, out _);
            if (stat is { IsSymbolicLink: true })
            {
                if (SandboxNative.RealPath(path, out _) is { } real && !SandboxPaths.IsWithin(root, real))
                {
                    throw Escapes(Path.GetRelativePath(root, path), $"a symlink to '{new FileInfo(path).LinkTarget}'");
                }
            }
            else if (stat is { IsDirectory: true })
            {
                VerifyLinks(root, path);
            }
        }
    }

    private static FileStream OpenRead(string path) =>
        new(path, FileMode.Open, FileAccess.Read, FileShare.Read, 81920, useAsync: true);

    // GZipStream reports a file that is not gzip at all with a message about "unsupported compression method";
    // checking the magic first gives the user the plain answer.
    private static async Task RequireGzipMagicAsync(FileStream file, CancellationToken ct)
    {
        var magic = new byte[2];
        var read = await file.ReadAtLeastAsync(magic, 2, throwOnEndOfStream: false, ct).ConfigureAwait(false);
        if (read < 2 || magic[0] != 0x1f || magic[1] != 0x8b)
        {
            throw new InvalidDataException("not a valid gzip archive");
        }

        file.Position = 0;
    }

    /// <summary>
    /// GZipStream ends quietly when the input is cut short. The gzip trailer's ISIZE (uncompressed size mod 2^32 of the
    /// last member) catches that: in a truncated file those bytes are compressed data, almost never a number this
    /// small. Only "more than was written" counts, so a multi-member file (bgzip, pigz), whose total exceeds its last
    /// member's size, is not mistaken for a truncated one.
    /// </summary>
    private static async Task RequireCompleteAsync(FileStream file, long written, CancellationToken ct)
    {
        if (file.Length < 18 || written >= uint.MaxValue)
        {
            return;
        }

        var trailer = new byte[4];
        file.Position = file.Length - 4;
        await file.ReadExactlyAsync(trailer, ct).ConfigureAwait(false);
        if (System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(trailer) > written)
        {
            throw new InvalidDataException($"the gzip data ends early (unpacked {written} bytes); the file is truncated or corrupt");
        }
    }

    private static async Task ExtractTarAsync(Stream stream, string root, CancellationToken ct)
    {
        await using var reader = new TarReader(stream);
        var entries = 0;
        while (true)
        {
            TarEntry? entry;
            try
            {
                entry = await reader.GetNextEntryAsync(copyData: false, ct).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is FormatException or EndOfStreamException or ArgumentException)
            {
                throw new InvalidDataException(entries == 0 ? $"not a valid tar archive ({ex.Message})" : $"corrupt tar archive ({ex.Message})", ex);
            }

            if (entry is null)
            {
                break;
            }

            entries++;
            if (EntryPath(root, entry.Name) is not { } target)
            {
                continue; // the archive's root directory ("./")
            }

            try
            {
                switch (entry.EntryType)
                {
                    case TarEntryType.Directory:
                        CreateDirectory(root, target);
                        break;
                    case TarEntryType.RegularFile or TarEntryType.V7RegularFile or TarEntryType.ContiguousFile:
                        PrepareFile(root, target);
                        await using (var output = new FileStream(target, FileMode.CreateNew, FileAccess.Write, FileShare.None, 81920, useAsync: true))
                        {
                            if (entry.DataStream is { } data)
                            {
                                await data.CopyToAsync(output, ct).ConfigureAwait(false);
                            }
                        }

                        FetchNative.SetMode(target, entry.Mode & PermissionBits);
                        break;
                    case TarEntryType.SymbolicLink:
                        CreateSymbolicLink(root, target, entry.Name, entry.LinkName);
                        break;
                    case TarEntryType.HardLink:
                        // A hard link shares an inode with the file outside if one ever got named; a copy of the
                        // already-extracted file cannot.
                        var source = LinkSource(root, entry.LinkName) ?? throw Escapes(entry.Name, $"a hard link to '{entry.LinkName}'");

                        // The source's directories must be real ones: through an earlier symlink ("up" -> "d/l/..") a
                        // lexically inside name reaches a file outside, which the copy would read into the sandbox.
                        try
                        {
                            WalkParents(root, source, create: false);
                        }
                        catch (InvalidDataException)
                        {
                            throw Escapes(entry.Name, $"a hard link to '{entry.LinkName}'");
                        }

                        if (SandboxNative.Stat(source, followSymlinks: false, out _) is not { IsRegularFile: true })
                        {
                            throw new InvalidDataException($"entry '{entry.Name}' is a hard link to '{entry.LinkName}', which is not a file extracted before it");
                        }

                        PrepareFile(root, target);
                        File.Copy(source, target);
                        break;
                    default:
                        // Devices, FIFOs and tar's own metadata entries: nothing a task needs in its sandbox.
                        break;
                }
            }
            catch (IOException ex)
            {
                // Names too long for the file system, data cut short, a disk that is full: refused naming the entry.
                throw new InvalidDataException($"entry '{entry.Name}' could not be extracted: {ex.Message}", ex);
            }
        }
    }

    private static async Task ExtractZipAsync(string archive, string root, CancellationToken ct)
    {
        ZipArchive zip;
        try
        {
            zip = await ZipFile.OpenReadAsync(archive, ct).ConfigureAwait(false);
        }
        catch (InvalidDataException ex)
        {
            throw new InvalidDataException($"not a valid zip archive ({ex.Message})", ex);
        }

        await using (zip.ConfigureAwait(false))
        {
            foreach (var entry in zip.Entries)
            {
                if (EntryPath(root, entry.FullName) is not { } target)
                {
                    continue;
                }

                // Zip files made on Unix keep st_mode in the high half of the external attributes.
                var mode = (uint)entry.ExternalAttributes >> 16;
                try
                {
                    await ExtractZipEntryAsync(entry, root, target, mode, ct).ConfigureAwait(false);
                }
                catch (IOException ex)
                {
                    // Names too long for the file system, data cut short, a disk that is full: refused naming the entry.
                    throw new InvalidDataException($"entry '{entry.FullName}' could not be extracted: {ex.Message}", ex);
                }
            }
        }
    }

    private static async Task ExtractZipEntryAsync(ZipArchiveEntry entry, string root, string target, uint mode, CancellationToken ct)
    {
        if (entry.FullName.EndsWith('/'))
        {
            CreateDirectory(root, target);
        }
        else if ((mode & 0xF000) == 0xA000)
        {
            // A link's target is a path (PATH_MAX 4096): a larger "target" is a zip bomb, not read into memory.
            if (entry.Length > MaxLinkTargetBytes)
            {
                throw new InvalidDataException($"entry '{entry.FullName}' is a symlink with a target of {entry.Length} bytes (at most {MaxLinkTargetBytes})");
            }

            await using var data = await entry.OpenAsync(ct).ConfigureAwait(false);
            var buffer = new byte[MaxLinkTargetBytes + 1];
            var read = await data.ReadAtLeastAsync(buffer, buffer.Length, throwOnEndOfStream: false, ct).ConfigureAwait(false);
            if (read > MaxLinkTargetBytes)
            {
                throw new InvalidDataException($"entry '{entry.FullName}' is a symlink with a target longer than {MaxLinkTargetBytes} bytes");
            }

            CreateSymbolicLink(root, target, entry.FullName, System.Text.Encoding.UTF8.GetString(buffer, 0, read));
        }
        else
        {
            PrepareFile(root, target);
            await using (var data = await entry.OpenAsync(ct).ConfigureAwait(false))
            await using (var output = new FileStream(target, FileMode.CreateNew, FileAccess.Write, FileShare.None, 81920, useAsync: true))
            {
                await data.CopyToAsync(output, ct).ConfigureAwait(false);
            }

            if ((mode & 0x1FF) != 0)
            {
                FetchNative.SetMode(target, (UnixFileMode)mode & PermissionBits);
            }
        }
    }

    /// <summary>Where an entry goes; null for the root itself. Throws for absolute names and "..".</summary>
    private static string? EntryPath(string root, string name)
    {
        if (name.Contains('\0', StringComparison.Ordinal))
        {
            throw Escapes(name, "a NUL character");
        }

        if (name.StartsWith('/'))
        {
            throw Escapes(name, "an absolute path");
        }

        var parts = name.Split('/', StringSplitOptions.RemoveEmptyEntries).Where(p => p != ".").ToArray();
        if (parts.Contains(".."))
        {
            throw Escapes(name, "'..'");
        }

        return parts.Length == 0 ? null : Path.Join(root, string.Join('/', parts));
    }

    private static string? LinkSource(string root, string linkName)
    {
        try
        {
            return EntryPath(root, linkName);
        }
        catch (InvalidDataException)
        {
            return null;
        }
    }

    private static void CreateSymbolicLink(string root, string target, string name, string linkName)
    {
        if (string.IsNullOrEmpty(linkName) || linkName.StartsWith('/'))
        {
            throw Escapes(name, $"a symlink to '{linkName}'");
        }

        // Resolved lexically from the link's directory; writes never go through a symlink (PrepareParent), so the
        // lexical answer and the kernel's agree for everything this archive creates.
        var resolved = Path.GetFullPath(Path.Join(Path.GetDirectoryName(target)!, linkName));
        if (!SandboxPaths.IsWithin(root, resolved))
        {
            throw Escapes(name, $"a symlink to '{linkName}'");
        }

        PrepareFile(root, target);
        File.CreateSymbolicLink(target, linkName);
    }

    private static void CreateDirectory(string root, string target)
    {
        PrepareParent(root, target);
        if (SandboxNative.Stat(target, followSymlinks: false, out _) is { } existing && !existing.IsDirectory)
        {
            File.Delete(target);
        }

        Directory.CreateDirectory(target);
    }

    /// <summary>Makes way for a new file at <paramref name="target"/>: whatever is there (a file or a symlink from an
    /// earlier entry) is removed rather than written through, as tar does.</summary>
    private static void PrepareFile(string root, string target)
    {
        PrepareParent(root, target);
        if (SandboxNative.Stat(target, followSymlinks: false, out _) is { } existing)
        {
            if (existing.IsDirectory)
            {
                Directory.Delete(target, recursive: true);
            }
            else
            {
                File.Delete(target);
            }
        }
    }

    private static void PrepareParent(string root, string target) => WalkParents(root, target, create: true);

    /// <summary>
    /// Walks from the root to the parent of <paramref name="target"/> one component at a time, without following any
    /// symlink, creating missing directories when <paramref name="create"/>. An earlier entry may have made a symlink
    /// where this entry expects a directory ("lib" -> "..", then "lib/x/y"): Directory.CreateDirectory on the whole
    /// path would follow it and create directories outside before any check could refuse the entry.
    /// </summary>
    private static void WalkParents(string root, string target, bool create)
    {
        var name = Path.GetRelativePath(root, target);
        var parent = Path.GetRelativePath(root, Path.GetDirectoryName(target)!);
        if (parent == ".")
        {
            return;
        }

        var current = root;
        foreach (var part in parent.Split('/'))
        {
            current = Path.Join(current, part);
            var stat = SandboxNative.Stat(current, followSymlinks: false, out _);
            if (stat is null && create)
            {
                Directory.CreateDirectory(current);
            }
            else if (stat is null)
            {
                throw new InvalidDataException($"entry '{name}' does not exist in the archive");
            }
            else if (stat.Value.IsSymbolicLink)
            {
                throw Escapes(name, "a path through a symlink");
            }
            else if (!stat.Value.IsDirectory)
            {
                throw new InvalidDataException($"entry '{name}' lies under '{Path.GetRelativePath(root, current)}', which is not a directory");
            }
        }
    }

    private static InvalidDataException Escapes(string name, string what) =>
        new($"entry '{name}' is rejected: it has {what}, which would leave the sandbox");
}
