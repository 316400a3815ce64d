using Mezzo.Agent.Containers;
using Mezzo.Agent.Isolation;
using Mezzo.Agent.Launcher;
using Mezzo.Agent.Tasks;
using Microsoft.Extensions.Logging;

namespace Mezzo.Agent;

/// <summary>
/// Tasks whose ContainerInfo names an image (type DOCKER with docker.image, or type MESOS with a DOCKER mesos.image):
/// the image is resolved off the actor during preparation, then <c>runc run</c> is the task's process (see
/// <see cref="RuncRuntime"/>), and after the exit the runc container, its cgroups, the bundle and the image's root
/// file system are released before the terminal update goes out.
/// </summary>
public sealed partial class AgentService
{
    private RuncRuntime? _runc;

    // Where images come from: the image store (registry pulls, docker-archive and OCI layouts), or, with
    // --image-rootfs-dir, a directory of images already unpacked on disk.
    private IImageResolver? _images;

    private string ContainerCgroupsParent => _isolator?.AgentCgroup ?? Path.Combine(_options.CgroupsRoot.Trim('/'), CgroupIsolator.AgentKey(_options.WorkDir));

    /// <summary>At Start: find runc, and remove the containers, bundles and root file systems of a previous run.</summary>
    private void StartContainers()
    {
        _runc = RuncRuntime.Create(_options.WorkDir, _options.RuncPath, _log);
        var local = _options.ImageRootfsDir is { Length: > 0 } dir ? new LocalImageResolver(dir, _options.WorkDir) : null;
        var store = local is null ? new StoreImageResolver(new Images.ImageStore(_options.Images, _options.WorkDir, _log, _time)) : null;
        _images = (IImageResolver?)local ?? store;
        // Containers of tasks taken back from checkpoints stay, with their bundles, root file systems and cgroups.
        var keep = _recoveredContainers;
        var leftovers = _runc.RemoveLeftoversAsync(keep).GetAwaiter().GetResult() + (local?.RemoveLeftovers(keep) ?? 0)
            + (store?.RemoveLeftoversAsync(keep).GetAwaiter().GetResult().ContainersRemoved ?? 0);
        RemoveContainerCgroupsAsync(null).GetAwaiter().GetResult();
        if (leftovers > 0)
        {
            Log.ContainerLeftoversRemoved(_log, leftovers);
        }
    }

    private static bool HasImage(AgentTask task) => task.Info.Container is { } container
        && (container.Type == Protocol.V1.ContainerInfoType.DOCKER || container.Mesos?.Image is not null);

    /// <summary>Off the actor: checks what can be checked before anything is made, then resolves the image.</summary>
    private async Task PrepareImageAsync(AgentTask task, CancellationToken cancellationToken)
    {
        var container = task.Info.Container!;
        var name = ContainerSettings.ImageName(container)!;
        if (_runc?.Unavailable is { } reason)
        {
            throw new ContainerLaunchException($"Cannot run image '{name}' on this agent: {reason}");
        }

        ContainerSettings.RejectUnsupported(container);
        ContainerSettings.PortMappings(container, task.Info.Resources);
        foreach (var volume in container.Volumes ?? [])
        {
            OciConfig.Volume(volume, task.Sandbox);
        }

        if (_images is null)
        {
            throw new ContainerLaunchException($"Cannot run image '{name}': this agent has no image source (start it with --image-rootfs-dir)");
        }

        var handle = new ImageContainer(name);
        task.Image = handle;
        handle.Image = await _images.ResolveAsync(new ImageRequest(name, ContainerSettings.Cached(container)), task.ContainerId, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>After an agent restart, for an image task still running: port forwarding again (it lived in the old agent).</summary>
    private void ResumeContainer(AgentTask task)
    {
        if (task.Image is { } handle && _runc is { } runc
            && ContainerSettings.PortMappings(task.Info.Container!, task.Info.Resources) is { Count: > 0 } mappings)
        {
            handle.Forwarder = PortForwarder.Start(mappings, () => runc.InitPidAsync(task.ContainerId), _log);
        }
    }

    /// <summary>On the actor, once the task's cgroups exist: the bundle, port forwarding, and how to run runc.</summary>
    private LaunchSpec StartContainer(AgentTask task, IReadOnlyDictionary<string, string> environment)
    {
        var handle = task.Image!;
        var container = task.Info.Container!;
        var network = ContainerSettings.Network(container);
        var spec = new ContainerSpec
        {
            ContainerId = task.ContainerId,
            Image = handle.Image!,
            Command = task.Info.Command,
            Container = container,
            Environment = environment,
            Sandbox = task.Sandbox,
            CgroupsPath = "/" + Path.Combine(ContainerCgroupsParent, task.ContainerId),
            // As Docker: the host's name on the host's network, else the short container id.
            DefaultHostname = network == ContainerNetwork.Host ? Environment.MachineName : task.ContainerId[..12],
        };
        handle.BundleWritten = true;
        var launch = _runc!.Prepare(spec);
        if (ContainerSettings.PortMappings(container, task.Info.Resources) is { Count: > 0 } mappings)
        {
            var runc = _runc;
            handle.Forwarder = PortForwarder.Start(mappings, () => runc.InitPidAsync(task.ContainerId), _log);
        }

        Log.ContainerStarting(_log, task.TaskId, handle.ImageName, network.ToString());
        return launch;
    }

    /// <summary>
    /// Off the actor, after the exit (or a failed or cancelled launch): stops port forwarding, deletes the runc
    /// container (killing anything left, e.g. after runc itself was SIGKILLed), removes its cgroups in every
    /// hierarchy runc made them in, the bundle, and the image's root file system. Never throws: failures are logged.
    /// </summary>
    private async Task ReleaseContainerAsync(AgentTask task)
    {
        if (task.Image is not { } handle)
        {
            return;
        }

        try
        {
            if (handle.Forwarder is { } forwarder)
            {
                handle.Forwarder = null;
                await forwarder.DisposeAsync().ConfigureAwait(false);
            }

            if (handle.BundleWritten && _runc is not null)
            {
                await _runc.DestroyAsync(task.ContainerId).ConfigureAwait(false);
                await RemoveContainerCgroupsAsync(task.ContainerId).ConfigureAwait(false);
            }

            if ((handle.Image is not null || handle.Recovered) && _images is not null)
            {
                handle.Image = null;
                await _images.ReleaseAsync(task.ContainerId).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidOperationException)
        {
            Log.ContainerNotReleased(_log, task.TaskId, ex.Message);
        }
    }

    /// <summary>
    /// runc makes the container's cgroup in every v1 hierarchy (devices, freezer, ...), below parents it creates and
    /// never removes. This removes, in every mounted hierarchy, the container's directory (or, with null, every
    /// container directory of this agent: start-up clean-up), so no cgroup outlives its task.
    /// </summary>
    private async Task RemoveContainerCgroupsAsync(string? containerId)
    {
        var directories = new List<CgroupDirectory>();
        foreach (var (mountPoint, version) in CgroupMounts())
        {
            var parent = Path.Combine(mountPoint, ContainerCgroupsParent);
            if (containerId is not null)
            {
                directories.Add(new CgroupDirectory(Path.Combine(parent, containerId), version));
            }
            else if (Directory.Exists(parent) && _isolator?.Controllers.Values.Any(h => h.MountPoint == mountPoint) != true)
            {
                directories.AddRange(Directory.GetDirectories(parent)
                    .Where(d => !_recoveredContainers.Contains(Path.GetFileName(d)))
                    .Select(d => new CgroupDirectory(d, version)));
            }
        }

        await CgroupFiles.KillAndRemoveAsync(directories, TimeSpan.FromSeconds(30)).ConfigureAwait(false);
    }

    /// <summary>
    /// At shutdown, after every task is gone: a last sweep for containers whose release was still in flight (a launch
    /// cancelled by the shutdown itself), then the agent's (now empty) parent cgroup in the hierarchies runc used.
    /// </summary>
    private async Task StopContainersAsync()
    {
        try
        {
            if (_runc is not null)
            {
                await _runc.RemoveLeftoversAsync().ConfigureAwait(false);
            }

            (_images as LocalImageResolver)?.RemoveLeftovers();
            if (_images is StoreImageResolver store)
            {
                await store.RemoveLeftoversAsync().ConfigureAwait(false);
                store.Dispose();
            }

            await RemoveContainerCgroupsAsync(null).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidOperationException)
        {
            Log.ContainerNotReleased(_log, "(agent shutdown)", ex.Message);
        }

        foreach (var (mountPoint, _) in CgroupMounts())
        {
            _ = LibC.rmdir(Path.Combine(mountPoint, ContainerCgroupsParent));
        }
    }

    private IReadOnlyList<(string MountPoint, int Version)> CgroupMounts() => CgroupIsolator.Mounts(_options.CgroupsHierarchy);

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "Task {TaskId}: starting image {Image} with runc (network {Network})")]
        public static partial void ContainerStarting(ILogger logger, string taskId, string image, string network);

        [LoggerMessage(Level = LogLevel.Error, Message = "Container of task {TaskId} not fully released: {Reason}")]
        public static partial void ContainerNotReleased(ILogger logger, string taskId, string reason);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Removed {Count} containers left over from a previous run")]
        public static partial void ContainerLeftoversRemoved(ILogger logger, int count);
    }
}
