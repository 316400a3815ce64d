using AwesomeAssertions;
using Mezzo.Agent.Containers;
using Mezzo.Protocol.V1;

namespace Mezzo.Agent.Tests.Containers;

public sealed class ContainerSettingsTests
{
    private static ContainerInfo Docker(ContainerInfoDockerInfoNetwork? network = null, params (uint Host, uint Container, string? Protocol)[] mappings) => new()
    {
        Type = ContainerInfoType.DOCKER,
        Docker = new ContainerInfoDockerInfo
        {
            Image = "busybox",
            Network = network,
            PortMappings = [.. mappings.Select(m => new ContainerInfoDockerInfoPortMapping { HostPort = m.Host, ContainerPort = m.Container, Protocol = m.Protocol })],
        },
    };

    private static readonly List<Resource> Ports = [new Resource { Name = "ports", Ranges = new ValueRanges { Range = [new ValueRange { Begin = 31000, End = 31010 }] } }];

    [Fact]
    public void Image_name_comes_from_docker_image_or_a_DOCKER_mesos_image()
    {
        ContainerSettings.ImageName(Docker()).Should().Be("busybox");
        ContainerSettings.ImageName(new ContainerInfo { Type = ContainerInfoType.MESOS, Mesos = new ContainerInfoMesosInfo { Image = new Image { Type = ImageType.DOCKER, Docker = new ImageDocker { Name = "library/redis:7" } } } })
            .Should().Be("library/redis:7");
        ContainerSettings.ImageName(new ContainerInfo { Type = ContainerInfoType.MESOS }).Should().BeNull("MESOS without an image runs on the host file system");
        ContainerSettings.ImageName(null).Should().BeNull();
    }

    [Fact]
    public void Missing_or_unsupported_images_are_named()
    {
        var noImage = () => ContainerSettings.ImageName(new ContainerInfo { Type = ContainerInfoType.DOCKER, Docker = new ContainerInfoDockerInfo() });
        noImage.Should().Throw<ContainerLaunchException>().WithMessage("ContainerInfo type DOCKER needs docker.image");
        var appc = () => ContainerSettings.ImageName(new ContainerInfo { Type = ContainerInfoType.MESOS, Mesos = new ContainerInfoMesosInfo { Image = new Image { Type = ImageType.APPC } } });
        appc.Should().Throw<ContainerLaunchException>().WithMessage("mesos.image of type APPC is not supported*");
    }

    [Fact]
    public void Cached_follows_force_pull_image_and_image_cached()
    {
        ContainerSettings.Cached(Docker()).Should().BeTrue();
        var forced = Docker();
        forced.Docker!.ForcePullImage = true;
        ContainerSettings.Cached(forced).Should().BeFalse();
        var mesos = new ContainerInfo { Type = ContainerInfoType.MESOS, Mesos = new ContainerInfoMesosInfo { Image = new Image { Type = ImageType.DOCKER, Docker = new ImageDocker { Name = "b" } } } };
        ContainerSettings.Cached(mesos).Should().BeTrue("mesos.proto: cached defaults to true");
        mesos.Mesos!.Image!.Cached = false;
        ContainerSettings.Cached(mesos).Should().BeFalse();
    }

    [Fact]
    public void Privileged_is_refused_by_name()
    {
        var container = Docker();
        ContainerSettings.RejectUnsupported(container);
        container.Docker!.Privileged = true;
        var act = () => ContainerSettings.RejectUnsupported(container);
        act.Should().Throw<ContainerLaunchException>().WithMessage("docker.privileged is not supported*");
    }

    [Fact]
    public void Network_defaults_to_host_and_USER_is_rejected()
    {
        ContainerSettings.Network(Docker()).Should().Be(ContainerNetwork.Host);
        ContainerSettings.Network(Docker(ContainerInfoDockerInfoNetwork.BRIDGE)).Should().Be(ContainerNetwork.Bridge);
        ContainerSettings.Network(Docker(ContainerInfoDockerInfoNetwork.NONE)).Should().Be(ContainerNetwork.None);
        var user = () => ContainerSettings.Network(Docker(ContainerInfoDockerInfoNetwork.USER));
        user.Should().Throw<ContainerLaunchException>().WithMessage("docker.network USER is not supported*");
    }

    [Fact]
    public void Port_mappings_must_use_the_tasks_ports_on_a_bridge_over_tcp()
    {
        ContainerSettings.PortMappings(Docker(ContainerInfoDockerInfoNetwork.BRIDGE, (31005, 80, "tcp")), Ports).Should().Equal(new PortMapping(31005, 80));

        var notOurs = () => ContainerSettings.PortMappings(Docker(ContainerInfoDockerInfoNetwork.BRIDGE, (8080, 80, null)), Ports);
        notOurs.Should().Throw<ContainerLaunchException>().WithMessage("*host_port 8080 is not among the task's ports resources*");
        var udp = () => ContainerSettings.PortMappings(Docker(ContainerInfoDockerInfoNetwork.BRIDGE, (31001, 53, "udp")), Ports);
        udp.Should().Throw<ContainerLaunchException>().WithMessage("*only tcp is supported*");
        var host = () => ContainerSettings.PortMappings(Docker(ContainerInfoDockerInfoNetwork.HOST, (31001, 80, null)), Ports);
        host.Should().Throw<ContainerLaunchException>().WithMessage("docker.port_mappings need docker.network BRIDGE");
        var zero = () => ContainerSettings.PortMappings(Docker(ContainerInfoDockerInfoNetwork.BRIDGE, (31001, 0, null)), Ports);
        zero.Should().Throw<ContainerLaunchException>().WithMessage("*container_port must be 1-65535*");
    }
}
