namespace Mezzo.Agent.Images;

/// <summary>
/// What a container asks for. <paramref name="Name"/> is Mesos's <c>Image.docker.name</c> (or
/// <c>ContainerInfo.docker.image</c>), or a local source: <c>docker-archive:/path.tar</c> (a <c>docker save</c> tar)
/// or <c>oci:/path</c> (an OCI image layout directory or tar, optionally <c>oci:/path:ref</c> to pick the manifest
/// annotated <c>org.opencontainers.image.ref.name=ref</c>). <paramref name="Cached"/> is Mesos's <c>Image.cached</c>:
/// true (the default) reuses an image already in the store under that name without asking the registry.
/// </summary>
public sealed record ImageSpec(string Name, bool Cached = true);

/// <summary>The runtime part of an image's config (Docker's <c>config</c> object), as the runtime needs it.</summary>
public sealed record ImageConfig
{
    /// <summary>Null when the image sets none (which differs from an empty list for Docker's entrypoint/cmd rules).</summary>
    public IReadOnlyList<string>? Entrypoint { get; init; }

    public IReadOnlyList<string>? Cmd { get; init; }

    /// <summary><c>NAME=value</c> entries in image order.</summary>
    public IReadOnlyList<string> Env { get; init; } = [];

    /// <summary>Null or empty: the runtime's default (<c>/</c>).</summary>
    public string? WorkingDir { get; init; }

    /// <summary><c>user</c>, <c>uid</c>, <c>user:group</c> or <c>uid:gid</c> as the image wrote it; null or empty: root.</summary>
    public string? User { get; init; }

    /// <summary>e.g. <c>80/tcp</c>, <c>53/udp</c>, sorted.</summary>
    public IReadOnlyList<string> ExposedPorts { get; init; } = [];

    public IReadOnlyDictionary<string, string> Labels { get; init; } = new Dictionary<string, string>();

    public string? StopSignal { get; init; }

    internal static ImageConfig From(ContainerConfigDocument? config) => new()
    {
        Entrypoint = config?.Entrypoint,
        Cmd = config?.Cmd,
        Env = config?.Env ?? [],
        WorkingDir = config?.WorkingDir,
        User = config?.User,
        ExposedPorts = config?.ExposedPorts is { } ports ? [.. ports.Keys.Order(StringComparer.Ordinal)] : [],
        Labels = config?.Labels ?? [],
        StopSignal = config?.StopSignal,
    };
}

/// <summary>
/// A container's root file system, ready for a bundle. The directory belongs to the container: it may write into it
/// freely (the layer cache is never shared with it) until <see cref="ImageStore.ReleaseAsync"/> removes it.
/// </summary>
/// <param name="RootfsPath">Absolute path of the assembled root file system.</param>
/// <param name="Config">Entrypoint, Cmd, Env, WorkingDir, User, ExposedPorts from the image config.</param>
/// <param name="Digest">The image's identity: the (platform) manifest digest for registry and OCI images, the config
/// digest (Docker's image id) for docker-archive images.</param>
/// <param name="Reference">The canonical reference the image was resolved from, e.g. <c>127.0.0.1:5000/busybox:1</c>.</param>
public sealed record ProvisionedImage(string RootfsPath, ImageConfig Config, string Digest, string Reference);
