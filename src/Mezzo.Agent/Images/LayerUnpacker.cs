using System.Formats.Tar;
using System.IO.Compression;
using Microsoft.Extensions.Logging;

namespace Mezzo.Agent.Images;

/// <summary>
/// Extracts one layer tar (gzip or plain) into a directory of its own. Whiteout files (<c>.wh.name</c>,
/// <c>.wh..wh..opq</c>) are kept as they are: they only mean something when layers are stacked
/// (<see cref="RootfsBuilder"/>). Nothing may land outside the target: <c>..</c> in a name or a hardlink target is
/// rejected, an entry below a symlink is rejected (a layer cannot write through its own symlinks), and absolute
/// hardlink targets are rejected.
/// </summary>
internal static partial class LayerUnpacker
{
    /// <summary>Unpacks <paramref name="blob"/> into <paramref name="target"/> (which must exist and be empty).
    /// Returns the bytes of file content written. Throws ImageException naming <paramref name="image"/> on bad input.</summary>
    public static async Task<long> UnpackAsync(Stream blob, string target, string image, string layer, ILogger log, CancellationToken ct)
    {
        var input = await DecompressAsync(blob, image, layer, ct);
        var state = new State(target, image, layer, ImageNative.IsRoot);
        long bytes = 0;
        await using (var reader = new TarReader(input, leaveOpen: true))
        {
            while (await ReadNextAsync(reader, image, layer, ct) is { } entry)
            {
                bytes += await ExtractAsync(entry, state, log, ct);
            }
        }

        // The tar's end marker may come before the end of the (compressed) stream: the digest covers all of it.
        var scratch = new byte[81920];
        while (await input.ReadAsync(scratch, ct) > 0)
        {
        }

        // Deepest first, so a read-only directory is locked only after everything under it exists.
        foreach (var (path, mode) in state.DirectoryModes.OrderByDescending(d => d.Path.Length))
        {
            ImageNative.Chmod(path, mode);
        }

        return bytes;
    }

    internal static string? NormalizeName(string name, string image, string layer)
    {
        var parts = new List<string>();
        foreach (var part in name.Split('/'))
        {
            if (part is "" or ".")
            {
                continue;
            }

            if (part == "..")
            {
                throw new ImageException($"Failed to unpack layer {layer} of image '{image}': entry '{name}' escapes the layer (path traversal)");
            }

            parts.Add(part);
        }

        return parts.Count == 0 ? null : string.Join('/', parts);
    }

    private static async Task<TarEntry?> ReadNextAsync(TarReader reader, string image, string layer, CancellationToken ct)
    {
        try
        {
            return await reader.GetNextEntryAsync(copyData: false, ct);
        }
        catch (Exception e) when (e is InvalidDataException or FormatException or EndOfStreamException)
        {
            throw new ImageException($"Failed to unpack layer {layer} of image '{image}': corrupt archive: {e.Message}", e);
        }
    }

    private static async Task<Stream> DecompressAsync(Stream blob, string image, string layer, CancellationToken ct)
    {
        var head = new byte[4];
        var got = await blob.ReadAtLeastAsync(head, head.Length, throwOnEndOfStream: false, ct);
        var prefixed = new PrefixedStream(head.AsMemory(0, got), blob);
        if (got >= 2 && head[0] == 0x1f && head[1] == 0x8b)
        {
            return new GZipStream(prefixed, CompressionMode.Decompress);
        }

        if (got == 4 && head[0] == 0x28 && head[1] == 0xb5 && head[2] == 0x2f && head[3] == 0xfd)
        {
            throw new ImageException($"Failed to unpack layer {layer} of image '{image}': zstd-compressed layers are not supported");
        }

        if (got >= 3 && head[0] == (byte)'B' && head[1] == (byte)'Z' && head[2] == (byte)'h')
        {
            throw new ImageException($"Failed to unpack layer {layer} of image '{image}': bzip2-compressed layers are not supported");
        }

        return prefixed;
    }

    private static async Task<long> ExtractAsync(TarEntry entry, State state, ILogger log, CancellationToken ct)
    {
        var relative = NormalizeName(entry.Name, state.Image, state.Layer);
        if (relative is null)
        {
            return 0; // "./" itself: the target already exists.
        }

        if (entry.EntryType is TarEntryType.GlobalExtendedAttributes)
        {
            return 0;
        }

        var leaf = relative[(relative.LastIndexOf('/') + 1)..];
        if (leaf is RootfsBuilder.WhiteoutPrefix or RootfsBuilder.WhiteoutPrefix + "." or RootfsBuilder.WhiteoutPrefix + "..")
        {
            // Would white out "", "." or "..": the directory itself or its parent.
            throw state.Fail($"entry '{entry.Name}' is a whiteout of its own directory or its parent");
        }

        var path = state.EnsureParents(relative, entry.Name);
        var mode = (uint)entry.Mode & 0xFFF;
        switch (entry.EntryType)
        {
            case TarEntryType.Directory:
                if (ImageNative.LStat(path) is { } existing && existing.Type != ImageNative.S_IFDIR)
                {
                    state.Remove(relative, path);
                }

                Directory.CreateDirectory(path);
                state.SafeDirectories.Add(relative);
                state.Own(path, entry);
                state.DirectoryModes.Add((path, mode));
                return 0;

            case TarEntryType.RegularFile or TarEntryType.V7RegularFile or TarEntryType.ContiguousFile:
                state.Remove(relative, path);
                var options = new FileStreamOptions
                {
                    Mode = FileMode.CreateNew,
                    Access = FileAccess.Write,
                    Options = FileOptions.Asynchronous,
                };
                long length = 0;
                await using (var file = new FileStream(path, options))
                {
                    if (entry.DataStream is { } data)
                    {
                        await data.CopyToAsync(file, ct);
                        length = file.Length;
                    }
                }

                state.Own(path, entry);
                ImageNative.Chmod(path, mode);
                File.SetLastWriteTimeUtc(path, entry.ModificationTime.UtcDateTime);
                return length;

            case TarEntryType.SymbolicLink:
                state.Remove(relative, path);
                File.CreateSymbolicLink(path, entry.LinkName);
                state.Own(path, entry);
                return 0;

            case TarEntryType.HardLink:
                var linkTarget = entry.LinkName;
                if (linkTarget.StartsWith('/'))
                {
                    throw state.Fail($"hardlink '{entry.Name}' points to absolute path '{linkTarget}'");
                }

                var targetRelative = NormalizeName(linkTarget, state.Image, state.Layer)
                    ?? throw state.Fail($"hardlink '{entry.Name}' has an empty target");
                var targetPath = state.CheckExistingParents(targetRelative, entry.Name);
                var targetStat = ImageNative.LStat(targetPath);
                if (targetStat is null || targetStat.Value.Type == ImageNative.S_IFDIR)
                {
                    throw state.Fail($"hardlink '{entry.Name}' points to '{linkTarget}', which is not a file of this layer");
                }

                if (targetRelative == relative)
                {
                    return 0;
                }

                state.Remove(relative, path);
                ImageNative.Link(targetPath, path);
                return 0;

            case TarEntryType.CharacterDevice or TarEntryType.BlockDevice:
                if (!state.IsRoot)
                {
                    Log.DeviceSkipped(log, entry.Name, state.Layer);
                    return 0;
                }

                // Only ustar, pax and gnu headers carry device numbers; a V7 header claiming a device type is corrupt.
                if (entry is not PosixTarEntry device)
                {
                    throw state.Fail($"entry '{entry.Name}' is a device node without device numbers (a V7 tar header)");
                }

                state.Remove(relative, path);
                ImageNative.MkNod(path, entry.EntryType == TarEntryType.CharacterDevice ? ImageNative.S_IFCHR : ImageNative.S_IFBLK, mode, (uint)device.DeviceMajor, (uint)device.DeviceMinor);
                state.Own(path, entry);
                return 0;

            case TarEntryType.Fifo:
                state.Remove(relative, path);
                ImageNative.MkNod(path, ImageNative.S_IFIFO, mode, 0, 0);
                state.Own(path, entry);
                return 0;

            default:
                throw state.Fail($"entry '{entry.Name}' has unsupported type {entry.EntryType}");
        }
    }

    private sealed class State(string root, string image, string layer, bool isRoot)
    {
        public string Image => image;

        public string Layer => layer;

        public bool IsRoot => isRoot;

        /// <summary>Relative paths known to be real directories (not symlinks) inside the target.</summary>
        public HashSet<string> SafeDirectories { get; } = new(StringComparer.Ordinal);

        public List<(string Path, uint Mode)> DirectoryModes { get; } = [];

        public ImageException Fail(string why) => new($"Failed to unpack layer {layer} of image '{image}': {why}");

        /// <summary>Makes every parent of <paramref name="relative"/> a real directory; returns the full path.</summary>
        public string EnsureParents(string relative, string entryName) => Parents(relative, entryName, create: true);

        public string CheckExistingParents(string relative, string entryName) => Parents(relative, entryName, create: false);

        /// <summary>Clears whatever is at <paramref name="path"/>, without following symlinks.</summary>
        public void Remove(string relative, string path)
        {
            if (ImageNative.LStat(path) is not { } stat)
            {
                return;
            }

            if (stat.Type == ImageNative.S_IFDIR)
            {
                Directory.Delete(path, recursive: true);
                SafeDirectories.RemoveWhere(d => d == relative || d.StartsWith(relative + "/", StringComparison.Ordinal));
            }
            else
            {
                File.Delete(path);
            }
        }

        public void Own(string path, TarEntry entry)
        {
            if (isRoot && entry is PosixTarEntry)
            {
                ImageNative.LChown(path, (uint)entry.Uid, (uint)entry.Gid);
            }
        }

        private string Parents(string relative, string entryName, bool create)
        {
            var slash = -1;
            while ((slash = relative.IndexOf('/', slash + 1)) >= 0)
            {
                var prefix = relative[..slash];
                if (SafeDirectories.Contains(prefix))
                {
                    continue;
                }

                var full = Path.Join(root, prefix);
                var stat = ImageNative.LStat(full);
                if (stat is null && create)
                {
                    Directory.CreateDirectory(full);
                }
                else if (stat is null)
                {
                    throw Fail($"entry '{entryName}' refers to '{relative}', which does not exist in this layer");
                }
                else if (stat.Value.Type != ImageNative.S_IFDIR)
                {
                    throw Fail($"entry '{entryName}' lies under '{prefix}', which is not a directory (a layer cannot write through a symlink)");
                }

                SafeDirectories.Add(prefix);
            }

            return Path.Join(root, relative);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Debug, Message = "Skipping device node '{Entry}' of layer {Layer}: creating device nodes needs root")]
        public static partial void DeviceSkipped(ILogger logger, string entry, string layer);
    }
}

/// <summary>Bytes already read (to sniff the compression) followed by the rest of the stream.</summary>
internal sealed class PrefixedStream(ReadOnlyMemory<byte> prefix, Stream rest) : Stream
{
    private ReadOnlyMemory<byte> _prefix = prefix;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        if (_prefix.IsEmpty)
        {
            return rest.Read(buffer);
        }

        var n = Math.Min(buffer.Length, _prefix.Length);
        _prefix.Span[..n].CopyTo(buffer);
        _prefix = _prefix[n..];
        return n;
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_prefix.IsEmpty)
        {
            return rest.ReadAsync(buffer, cancellationToken);
        }

        return ValueTask.FromResult(Read(buffer.Span));
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
