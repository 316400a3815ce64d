namespace Mezzo.Agent.Containers;

/// <summary>The image side of one task: what was resolved for it and what runs for it, until it is released.</summary>
public sealed class ImageContainer
{
    public ImageContainer(string imageName) => ImageName = imageName;

    public string ImageName { get; }

    /// <summary>Set once the resolver has provided the root file system (and must then be asked to release it).</summary>
    public ContainerImage? Image { get; set; }

    /// <summary>BRIDGE port forwarding, while the container runs.</summary>
    public PortForwarder? Forwarder { get; set; }

    /// <summary>Set once a bundle was written (runc may have a container to delete).</summary>
    public bool BundleWritten { get; set; }

    /// <summary>Taken back after an agent restart: its root file system is the resolver's to release, though this run
    /// never resolved it.</summary>
    public bool Recovered { get; init; }
}
