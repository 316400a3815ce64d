using Mezzo.Agent.Images;

namespace Mezzo.Agent.Containers;

/// <summary>Images from the agent's image store: pulled from a registry or loaded from a local archive or layout.</summary>
public sealed class StoreImageResolver(ImageStore store) : IImageResolver, IDisposable
{
    public async Task<ContainerImage> ResolveAsync(ImageRequest image, string containerId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(image);
        var provisioned = await store.ProvisionAsync(new ImageSpec(image.Name, image.Cached), containerId, cancellationToken).ConfigureAwait(false);
        var config = provisioned.Config;
        return new ContainerImage(provisioned.RootfsPath, config.Entrypoint, config.Cmd, config.Env, config.WorkingDir, config.User, config.ExposedPorts);
    }

    public Task ReleaseAsync(string containerId) => store.ReleaseAsync(containerId);

    /// <summary>At start and stop: every container's root file system goes (none can be reattached yet); cached images stay.</summary>
    public Task<PruneResult> RemoveLeftoversAsync(IReadOnlySet<string>? keep = null) => store.RemoveLeftoverContainersAsync([.. keep ?? new HashSet<string>()]);

    public void Dispose() => store.Dispose();
}
