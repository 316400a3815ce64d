using System.Text.Json;
using System.Text.Json.Nodes;

namespace Mezzo.Agent.Containers;

/// <summary>
/// <c>--image-rootfs-dir</c>: images already unpacked on the agent's disk. Image <c>name[:tag]</c> (tag "latest" when
/// absent) is the directory <c>&lt;dir&gt;/&lt;name:tag with '/', ':' and '@' replaced by '_'&gt;</c> (e.g.
/// <c>library/busybox:1.36</c> → <c>library_busybox_1.36</c>), with an optional Docker image config beside it in
/// <c>&lt;same name&gt;.json</c> (the image config blob, whose <c>config</c> object holds Entrypoint, Cmd, Env,
/// WorkingDir, User, ExposedPorts; a bare <c>config</c> object is accepted too).
/// Each container gets an overlay mount of the image (changes go to an upper directory of its own under
/// <c>&lt;work_dir&gt;/images/containers/&lt;container id&gt;</c>), so containers never see each other's writes and the
/// image directory is never modified.
/// </summary>
public sealed class LocalImageResolver : IImageResolver
{
    private readonly string _imagesDir;
    private readonly string _containersDir;

    public LocalImageResolver(string imagesDir, string workDir)
    {
        _imagesDir = Path.GetFullPath(imagesDir);
        _containersDir = Path.Combine(Path.GetFullPath(workDir), "images", "containers");
    }

    /// <summary>The directory name an image reference maps to.</summary>
    public static string Key(string imageName)
    {
        ArgumentNullException.ThrowIfNull(imageName);
        var lastSegment = imageName[(imageName.LastIndexOf('/') + 1)..];
        var reference = lastSegment.Contains(':', StringComparison.Ordinal) || imageName.Contains('@', StringComparison.Ordinal) ? imageName : imageName + ":latest";
        return reference.Replace('/', '_').Replace(':', '_').Replace('@', '_');
    }

    /// <summary>Images on disk are always "cached": <see cref="ImageRequest.Cached"/> changes nothing here.</summary>
    public Task<ContainerImage> ResolveAsync(ImageRequest image, string containerId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(image);
        cancellationToken.ThrowIfCancellationRequested();
        var imageName = image.Name;
        var key = Key(imageName);
        if (key is "." or ".." || key.Contains(',', StringComparison.Ordinal))
        {
            throw new ContainerLaunchException($"Bad image name '{imageName}'");
        }

        var lower = Path.Combine(_imagesDir, key);
        if (!Directory.Exists(lower))
        {
            throw new ContainerLaunchException($"Image '{imageName}' not found: no directory {lower} (--image-rootfs-dir)");
        }

        var config = ReadConfig(imageName, Path.Combine(_imagesDir, key + ".json"));
        var dir = Path.Combine(_containersDir, containerId);
        var rootfs = Path.Combine(dir, "rootfs");
        var upper = Path.Combine(dir, "upper");
        var work = Path.Combine(dir, "work");
        if ((lower + dir).Contains(',', StringComparison.Ordinal) || (lower + dir).Contains(':', StringComparison.Ordinal))
        {
            throw new ContainerLaunchException($"Image '{imageName}': overlayfs cannot use paths with ',' or ':' ({lower}, {dir})");
        }

        Directory.CreateDirectory(rootfs);
        Directory.CreateDirectory(upper);
        Directory.CreateDirectory(work);
        if (ContainerNative.mount("overlay", rootfs, "overlay", 0, $"lowerdir={lower},upperdir={upper},workdir={work}") != 0)
        {
            var error = ContainerNative.LastError();
            Directory.Delete(dir, recursive: true);
            throw new ContainerLaunchException($"Image '{imageName}': overlay mount of {lower} failed: {error}");
        }

        return Task.FromResult(config with { RootfsPath = rootfs });
    }

    public Task ReleaseAsync(string containerId)
    {
        Remove(Path.Combine(_containersDir, containerId));
        return Task.CompletedTask;
    }

    /// <summary>At agent start: a previous run's container file systems, unmounted and removed, except those in <paramref name="keep"/>.</summary>
    public int RemoveLeftovers(IReadOnlySet<string>? keep = null)
    {
        if (!Directory.Exists(_containersDir))
        {
            return 0;
        }

        var dirs = Directory.GetDirectories(_containersDir).Where(d => keep?.Contains(Path.GetFileName(d)) != true).ToList();
        foreach (var dir in dirs)
        {
            Remove(dir);
        }

        return dirs.Count;
    }

    private static void Remove(string dir)
    {
        var rootfs = Path.Combine(dir, "rootfs");
        if (!Directory.Exists(dir))
        {
            return;
        }

        if (ContainerNative.umount2(rootfs, ContainerNative.MNT_DETACH) != 0 && IsMountPoint(rootfs))
        {
            // Deleting through a live mount would empty the container's view, not free it: leave it and say so.
            throw new IOException($"Cannot unmount {rootfs}: {ContainerNative.LastError()}");
        }

        Directory.Delete(dir, recursive: true);
    }

    private static bool IsMountPoint(string path)
    {
        var full = Path.GetFullPath(path);
        return File.ReadLines("/proc/self/mountinfo").Any(line => line.Split(' ') is { Length: > 4 } parts && parts[4] == full);
    }

    internal static ContainerImage ReadConfig(string imageName, string file)
    {
        if (!File.Exists(file))
        {
            return new ContainerImage("");
        }

        JsonNode? root;
        try
        {
            root = JsonNode.Parse(File.ReadAllText(file));
        }
        catch (JsonException ex)
        {
            throw new ContainerLaunchException($"Image '{imageName}': {file} is not valid JSON: {ex.Message}", ex);
        }

        return ParseConfig(imageName, root);
    }

    /// <summary>The runtime part of a Docker image config: the blob itself, or its <c>config</c> object.</summary>
    public static ContainerImage ParseConfig(string imageName, JsonNode? root)
    {
        try
        {
            var config = root?["config"] as JsonObject ?? root as JsonObject
                ?? throw new ContainerLaunchException($"Image '{imageName}': its config is not a JSON object");
            return new ContainerImage(
                "",
                StringList(config["Entrypoint"]),
                StringList(config["Cmd"]),
                StringList(config["Env"]),
                (string?)config["WorkingDir"],
                (string?)config["User"],
                config["ExposedPorts"] is JsonObject ports ? [.. ports.Select(p => p.Key)] : null);
        }
        catch (Exception ex) when (ex is InvalidOperationException or FormatException)
        {
            throw new ContainerLaunchException($"Image '{imageName}': bad image config: {ex.Message}", ex);
        }
    }

    private static List<string>? StringList(JsonNode? node) =>
        node is JsonArray array ? [.. array.Select(n => (string?)n ?? "")] : null;
}
