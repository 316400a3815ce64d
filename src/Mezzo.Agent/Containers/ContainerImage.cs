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

/// <summary>Turns an image reference into a root file system for one container, and gives it back afterwards.</summary>
public interface IImageResolver
{
    /// <summary>Off the agent actor. Throws with a message naming the image when it cannot be provided.</summary>
    Task<ContainerImage> ResolveAsync(string imageName, string containerId, CancellationToken cancellationToken);

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
