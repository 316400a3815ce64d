namespace Mezzo.Agent.Containers;

/// <summary>
/// What the runtime needs from an image: an unpacked root file system that this container may write to, and the
/// runtime part of the image config (Docker's <c>config</c> object: Entrypoint, Cmd, Env, WorkingDir, User,
/// ExposedPorts). Produced by an <see cref="IImageResolver"/>.
/// </summary>
/// <param name="RootfsPath">Absolute path of the container's root file system (not shared with other containers:
/// the container writes into it).</param>
/// <param name="Env">"NAME=value" entries, as in the image config.</param>
/// <param name="User">The image's User: "name", "uid", "name:group" or "uid:gid"; null or empty means root.</param>
/// <param name="ExposedPorts">"80/tcp"-style keys of the image config's ExposedPorts.</param>
public sealed record ContainerImage(
    string RootfsPath,
    IReadOnlyList<string>? Entrypoint = null,
    IReadOnlyList<string>? Cmd = null,
    IReadOnlyList<string>? Env = null,
    string? WorkingDir = null,
    string? User = null,
    IReadOnlyList<string>? ExposedPorts = null);

/// <summary>
/// The image a task asks for: <paramref name="Name"/> is <c>docker.image</c> or <c>mesos.image.docker.name</c>;
/// <paramref name="Cached"/> is false for <c>docker.force_pull_image</c> or <c>mesos.image.cached: false</c> (pull
/// again even when the image is already on the agent).
/// </summary>
public sealed record ImageRequest(string Name, bool Cached = true);

/// <summary>Turns an image reference into a root file system for one container, and gives it back afterwards.</summary>
public interface IImageResolver
{
    /// <summary>
    /// Off the agent actor. Throws (ContainerLaunchException, or any exception whose message names the image) when
    /// the image cannot be provided; the message becomes the TASK_FAILED message.
    /// </summary>
    Task<ContainerImage> ResolveAsync(ImageRequest image, string containerId, CancellationToken cancellationToken);

    /// <summary>Releases what <see cref="ResolveAsync"/> made for the container; a no-op for an unknown container.</summary>
    Task ReleaseAsync(string containerId);
}

/// <summary>A container cannot be set up as asked; the message names the offending input.</summary>
public sealed class ContainerLaunchException : Exception
{
    public ContainerLaunchException(string message)
        : base(message)
    {
    }

    public ContainerLaunchException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
