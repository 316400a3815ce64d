using System.Text.Json.Nodes;

namespace Mezzo.Protocol.V1;

// mesos.proto's ContainerInfo, Image, Volume and NetworkInfo. Fields Mezzo does not act on (appc, linux
// capabilities, rlimits, tty) are kept as raw JSON so they survive the round trip through master and agent.

public enum ContainerInfoType
{
    DOCKER = 1,
    MESOS = 2,
}

public enum ContainerInfoDockerInfoNetwork
{
    HOST = 1,
    BRIDGE = 2,
    NONE = 3,
    USER = 4,
}

public sealed class ContainerInfoDockerInfoPortMapping
{
    public uint? HostPort { get; set; }

    public uint? ContainerPort { get; set; }

    public string? Protocol { get; set; }
}

public sealed class ContainerInfoDockerInfo
{
    public string? Image { get; set; }

    public ContainerInfoDockerInfoNetwork? Network { get; set; }

    public List<ContainerInfoDockerInfoPortMapping>? PortMappings { get; set; }

    public bool? Privileged { get; set; }

    public List<Parameter>? Parameters { get; set; }

    public bool? ForcePullImage { get; set; }

    public string? VolumeDriver { get; set; }
}

public sealed class ContainerInfoMesosInfo
{
    public Image? Image { get; set; }
}

public sealed class ContainerInfo
{
    public ContainerInfoType? Type { get; set; }

    public List<Volume>? Volumes { get; set; }

    public string? Hostname { get; set; }

    public ContainerInfoDockerInfo? Docker { get; set; }

    public ContainerInfoMesosInfo? Mesos { get; set; }

    public List<NetworkInfo>? NetworkInfos { get; set; }

    public JsonNode? LinuxInfo { get; set; }

    public JsonNode? RlimitInfo { get; set; }

    public JsonNode? TtyInfo { get; set; }
}

public enum ImageType
{
    APPC = 1,
    DOCKER = 2,
}

public sealed class ImageDocker
{
    public string? Name { get; set; }

    public JsonNode? Credential { get; set; }

    public JsonNode? Config { get; set; }
}

public sealed class Image
{
    public ImageType? Type { get; set; }

    public JsonNode? Appc { get; set; }

    public ImageDocker? Docker { get; set; }

    /// <summary>false: pull again even when the image is in the agent's store (proto default true).</summary>
    public bool? Cached { get; set; }
}

public enum MountPropagationMode
{
    UNKNOWN = 0,
    HOST_TO_CONTAINER = 1,
    BIDIRECTIONAL = 2,
}

public sealed class MountPropagation
{
    public MountPropagationMode? Mode { get; set; }
}

public enum VolumeMode
{
    RW = 1,
    RO = 2,
}

public enum VolumeSourceType
{
    UNKNOWN = 0,
    DOCKER_VOLUME = 1,
    HOST_PATH = 4,
    SANDBOX_PATH = 2,
    SECRET = 3,
}

public sealed class VolumeSourceHostPath
{
    public string? Path { get; set; }

    public MountPropagation? MountPropagation { get; set; }
}

public enum VolumeSourceSandboxPathType
{
    UNKNOWN = 0,
    SELF = 1,
    PARENT = 2,
}

public sealed class VolumeSourceSandboxPath
{
    public VolumeSourceSandboxPathType? Type { get; set; }

    public string? Path { get; set; }
}

public sealed class VolumeSource
{
    public VolumeSourceType? Type { get; set; }

    public JsonNode? DockerVolume { get; set; }

    public VolumeSourceHostPath? HostPath { get; set; }

    public VolumeSourceSandboxPath? SandboxPath { get; set; }

    public Secret? Secret { get; set; }
}

public sealed class Volume
{
    public VolumeMode? Mode { get; set; }

    public string? ContainerPath { get; set; }

    /// <summary>The pre-1.0 way to name a host path; <see cref="Source"/> is the current one.</summary>
    public string? HostPath { get; set; }

    public Image? Image { get; set; }

    public VolumeSource? Source { get; set; }
}

public enum NetworkInfoProtocol
{
    IPv4 = 1,
    IPv6 = 2,
}

public sealed class NetworkInfoIPAddress
{
    public NetworkInfoProtocol? Protocol { get; set; }

    public string? IpAddress { get; set; }
}

public sealed class NetworkInfoPortMapping
{
    public uint? HostPort { get; set; }

    public uint? ContainerPort { get; set; }

    public string? Protocol { get; set; }
}

public sealed class NetworkInfo
{
    public List<NetworkInfoIPAddress>? IpAddresses { get; set; }

    public string? Name { get; set; }

    public List<string>? Groups { get; set; }

    public Labels? Labels { get; set; }

    public List<NetworkInfoPortMapping>? PortMappings { get; set; }
}
