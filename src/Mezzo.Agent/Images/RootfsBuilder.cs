namespace Mezzo.Agent.Images;

/// <summary>
/// The copy backend: stacks unpacked layers, lowest first, into a fresh directory, applying OCI whiteouts as it goes
/// (<c>.wh.name</c> removes <c>name</c> from the layers below, <c>.wh..wh..opq</c> empties its directory of them).
/// Files are copied, never hardlinked to the cache, so a container writing into its rootfs cannot change the cache;
/// files hardlinked to each other inside one layer stay hardlinked to each other in the rootfs.
/// </summary>
internal static class RootfsBuilder
{
    public const string WhiteoutPrefix = ".wh.";
    public const string OpaqueWhiteout = ".wh..wh..opq";

    public static void Build(IReadOnlyList<string> layerDirectories, string target)
    {
        Directory.CreateDirectory(target);
        var isRoot = ImageNative.IsRoot;
        var directories = new Dictionary<string, ImageNative.FileStat>(StringComparer.Ordinal);
        foreach (var layer in layerDirectories)
        {
            var links = new Dictionary<(ulong Device, ulong Inode), string>();
            ApplyDirectory(layer, target, links, directories, isRoot);
        }

        // Deepest first, so a read-only directory is locked only after everything under it exists.
        foreach (var (path, stat) in directories.OrderByDescending(d => d.Key.Length))
        {
            if (ImageNative.LStat(path) is { Type: ImageNative.S_IFDIR })
            {
                if (isRoot)
                {
                    ImageNative.LChown(path, stat.Uid, stat.Gid);
                }

                ImageNative.Chmod(path, stat.Permissions);
            }
        }
    }

    private static void ApplyDirectory(
        string source,
        string target,
        Dictionary<(ulong Device, ulong Inode), string> links,
        Dictionary<string, ImageNative.FileStat> directories,
        bool isRoot)
    {
        var names = Directory.EnumerateFileSystemEntries(source).Select(Path.GetFileName).OfType<string>().ToList();
        if (names.Contains(OpaqueWhiteout))
        {
            foreach (var child in Directory.EnumerateFileSystemEntries(target))
            {
                Remove(child);
            }
        }

        foreach (var name in names)
        {
            // The unpacker refuses whiteouts of "", "." and "..": checked again here, as they would remove the rootfs itself.
            if (name.StartsWith(WhiteoutPrefix, StringComparison.Ordinal) && name != OpaqueWhiteout && name[WhiteoutPrefix.Length..] is not ("" or "." or ".."))
            {
                Remove(Path.Join(target, name[WhiteoutPrefix.Length..]));
            }
        }

        foreach (var name in names)
        {
            if (name.StartsWith(WhiteoutPrefix, StringComparison.Ordinal))
            {
                continue;
            }

            var from = Path.Join(source, name);
            var to = Path.Join(target, name);
            if (ImageNative.LStat(from) is not { } stat)
            {
                continue;
            }

            switch (stat.Type)
            {
                case ImageNative.S_IFDIR:
                    if (ImageNative.LStat(to) is { } existing && existing.Type != ImageNative.S_IFDIR)
                    {
                        Remove(to);
                    }

                    Directory.CreateDirectory(to);
                    directories[to] = stat;
                    ApplyDirectory(from, to, links, directories, isRoot);
                    break;

                case ImageNative.S_IFREG:
                    Remove(to);
                    if (stat.Links > 1 && links.TryGetValue((stat.Device, stat.Inode), out var first))
                    {
                        ImageNative.Link(first, to);
                        break;
                    }

                    File.Copy(from, to);
                    if (isRoot)
                    {
                        ImageNative.LChown(to, stat.Uid, stat.Gid);
                    }

                    ImageNative.Chmod(to, stat.Permissions);
                    File.SetLastWriteTimeUtc(to, File.GetLastWriteTimeUtc(from));
                    if (stat.Links > 1)
                    {
                        links[(stat.Device, stat.Inode)] = to;
                    }

                    break;

                case ImageNative.S_IFLNK:
                    Remove(to);
                    File.CreateSymbolicLink(to, new FileInfo(from).LinkTarget!);
                    if (isRoot)
                    {
                        ImageNative.LChown(to, stat.Uid, stat.Gid);
                    }

                    break;

                case ImageNative.S_IFCHR or ImageNative.S_IFBLK or ImageNative.S_IFIFO:
                    if (stat.Type != ImageNative.S_IFIFO && !isRoot)
                    {
                        break;
                    }

                    Remove(to);
                    ImageNative.MkNod(to, stat.Type, stat.Permissions, stat.RdevMajor, stat.RdevMinor);
                    if (isRoot)
                    {
                        ImageNative.LChown(to, stat.Uid, stat.Gid);
                    }

                    break;
            }
        }
    }

    /// <summary>Removes a file, symlink or whole directory without following symlinks; a missing path is fine.</summary>
    internal static void Remove(string path)
    {
        switch (ImageNative.LStat(path))
        {
            case null:
                return;
            case { Type: ImageNative.S_IFDIR }:
                MakeWritable(path);
                Directory.Delete(path, recursive: true);
                return;
            default:
                File.Delete(path);
                return;
        }
    }

    /// <summary>A non-root agent cannot delete inside a read-only directory an image shipped; open them up first.</summary>
    internal static void MakeWritable(string directory)
    {
        if (ImageNative.IsRoot)
        {
            return;
        }

        var stack = new Stack<string>([directory]);
        while (stack.TryPop(out var dir))
        {
            ImageNative.Chmod(dir, (ImageNative.LStat(dir)?.Permissions ?? 0) | 0x1C0);
            foreach (var child in Directory.EnumerateDirectories(dir))
            {
                if (ImageNative.LStat(child) is { Type: ImageNative.S_IFDIR })
                {
                    stack.Push(child);
                }
            }
        }
    }
}
