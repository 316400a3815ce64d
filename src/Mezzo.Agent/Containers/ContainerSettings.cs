using Mezzo.Protocol.V1;

namespace Mezzo.Agent.Containers;

/// <summary>How a container's network is set up.</summary>
public enum ContainerNetwork
{
    /// <summary>The host's network namespace (Docker's and Mesos's default).</summary>
    Host,

    /// <summary>Its own network namespace with loopback, reached through host-port → container-port forwarding.</summary>
    Bridge,

    /// <summary>Its own network namespace with loopback only.</summary>
    None,
}

/// <summary>A TCP port on the host forwarded to a port inside the container's network namespace.</summary>
public sealed record PortMapping(int HostPort, int ContainerPort);

/// <summary>Reads what the runtime needs out of a task's ContainerInfo, rejecting what it cannot honour by name.</summary>
public static class ContainerSettings
{
    /// <summary>
    /// The image a task asks for: type DOCKER with <c>docker.image</c>, or type MESOS with a DOCKER <c>mesos.image</c>.
    /// Null when the task runs on the host file system (no ContainerInfo, or MESOS without an image).
    /// </summary>
    public static string? ImageName(ContainerInfo? container)
    {
        switch (container?.Type)
        {
            case ContainerInfoType.DOCKER:
                return string.IsNullOrWhiteSpace(container.Docker?.Image)
                    ? throw new ContainerLaunchException("ContainerInfo type DOCKER needs docker.image")
                    : container.Docker.Image;
            case ContainerInfoType.MESOS when container.Mesos?.Image is { } image:
                return image.Type switch
                {
                    ImageType.DOCKER when !string.IsNullOrWhiteSpace(image.Docker?.Name) => image.Docker.Name,
                    ImageType.DOCKER => throw new ContainerLaunchException("mesos.image of type DOCKER needs docker.name"),
                    _ => throw new ContainerLaunchException($"mesos.image of type {image.Type?.ToString() ?? "(none)"} is not supported: only DOCKER images are"),
                };
            default:
                return null;
        }
    }

    /// <summary>Whether a cached copy of the image may be used (Mesos: <c>Image.cached</c>, Docker: not <c>force_pull_image</c>).</summary>
    public static bool Cached(ContainerInfo container)
    {
        ArgumentNullException.ThrowIfNull(container);
        return container.Type == ContainerInfoType.DOCKER ? container.Docker?.ForcePullImage != true : container.Mesos?.Image?.Cached != false;
    }

    /// <summary>
    /// DockerInfo options runc cannot honour are refused rather than silently dropped: a framework asking for a
    /// privileged container must not get an unprivileged one without being told.
    /// </summary>
    public static void RejectUnsupported(ContainerInfo container)
    {
        ArgumentNullException.ThrowIfNull(container);
        if (container.Docker?.Privileged == true)
        {
            throw new ContainerLaunchException("docker.privileged is not supported: Mezzo runs images with Docker's default capabilities");
        }
    }

    /// <summary>Docker's network for type DOCKER (default HOST, as in mesos.proto); type MESOS shares the host's.</summary>
    public static ContainerNetwork Network(ContainerInfo container)
    {
        ArgumentNullException.ThrowIfNull(container);
        if (container.Type != ContainerInfoType.DOCKER)
        {
            return ContainerNetwork.Host;
        }

        return container.Docker?.Network switch
        {
            null or ContainerInfoDockerInfoNetwork.HOST => ContainerNetwork.Host,
            ContainerInfoDockerInfoNetwork.BRIDGE => ContainerNetwork.Bridge,
            ContainerInfoDockerInfoNetwork.NONE => ContainerNetwork.None,
            var other => throw new ContainerLaunchException($"docker.network {other} is not supported (HOST, BRIDGE or NONE)"),
        };
    }

    /// <summary>
    /// BRIDGE port mappings, checked as Mesos's Docker containerizer checks them: each host_port must be one of the
    /// task's <c>ports</c> resources (the agent must not hand out a port it did not give the task), and only TCP is
    /// forwarded. Mappings on any other network are an error rather than silently ignored.
    /// </summary>
    public static IReadOnlyList<PortMapping> PortMappings(ContainerInfo container, IReadOnlyList<Resource>? resources)
    {
        ArgumentNullException.ThrowIfNull(container);
        var mappings = container.Docker?.PortMappings ?? [];
        if (mappings.Count == 0)
        {
            return [];
        }

        if (Network(container) != ContainerNetwork.Bridge)
        {
            throw new ContainerLaunchException("docker.port_mappings need docker.network BRIDGE");
        }

        var ranges = (resources ?? []).Where(r => r.Name == "ports").SelectMany(r => r.Ranges?.Range ?? []).ToList();
        var result = new List<PortMapping>();
        foreach (var mapping in mappings)
        {
            var host = mapping.HostPort ?? 0;
            var inside = mapping.ContainerPort ?? 0;
            if (mapping.Protocol is { Length: > 0 } protocol && !protocol.Equals("tcp", StringComparison.OrdinalIgnoreCase))
            {
                throw new ContainerLaunchException($"Port mapping {host} -> {inside}/{protocol}: only tcp is supported");
            }

            if (inside is 0 or > 65535)
            {
                throw new ContainerLaunchException($"Port mapping {host} -> {inside}: container_port must be 1-65535");
            }

            if (!ranges.Any(r => host >= (r.Begin ?? 1) && host <= (r.End ?? 0)))
            {
                throw new ContainerLaunchException($"Port mapping {host} -> {inside}: host_port {host} is not among the task's ports resources");
            }

            result.Add(new PortMapping((int)host, (int)inside));
        }

        return result;
    }
}
