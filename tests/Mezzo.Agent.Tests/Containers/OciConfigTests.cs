using System.Text.Json.Nodes;
using AwesomeAssertions;
using Mezzo.Agent.Containers;
using Mezzo.Protocol.V1;

namespace Mezzo.Agent.Tests.Containers;

public sealed class OciConfigTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("mezzo-oci-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Sandbox => Directory.CreateDirectory(Path.Combine(_dir, "sandbox")).FullName;

    private ContainerSpec Spec(ContainerInfo? container = null, CommandInfo? command = null, ContainerImage? image = null, Dictionary<string, string>? env = null) => new()
    {
        ContainerId = "c0ffee00-1111-2222-3333-444455556666",
        Image = image ?? new ContainerImage("/images/rootfs", ["/bin/sh"], ["-c", "echo hi"], ["PATH=/image/bin", "FROM_IMAGE=1", "OVERRIDDEN=image"], "/srv", null),
        Command = command ?? new CommandInfo { Shell = false },
        Container = container ?? new ContainerInfo { Type = ContainerInfoType.DOCKER, Docker = new ContainerInfoDockerInfo { Image = "busybox" } },
        Environment = env ?? new Dictionary<string, string>
        {
            ["PATH"] = "/usr/bin:/bin",
            ["MESOS_SANDBOX"] = "/host/sandbox",
            ["MESOS_TASK_ID"] = "t1",
            ["OVERRIDDEN"] = "task",
        },
        Sandbox = Sandbox,
        CgroupsPath = "/mezzo/agent-1/c0ffee00/runc",
        DefaultHostname = "c0ffee001111",
    };

    private static List<string> Strings(JsonNode? node) => [.. node!.AsArray().Select(n => (string)n!)];

    [Fact]
    public void Builds_process_root_namespaces_cgroups_and_docker_defaults()
    {
        var config = OciConfig.Build(Spec(), new ContainerUser(0, 0, []));
        ((string?)config["ociVersion"]).Should().StartWith("1.0");
        var process = config["process"]!;
        Strings(process["args"]).Should().Equal("/bin/sh", "-c", "echo hi");
        ((string?)process["cwd"]).Should().Be("/srv");
        ((bool)process["noNewPrivileges"]!).Should().BeTrue();
        Strings(process["capabilities"]!["bounding"]).Should().Contain(["CAP_CHOWN", "CAP_NET_BIND_SERVICE", "CAP_KILL"]).And.NotContain("CAP_SYS_ADMIN").And.HaveCount(14);
        ((string?)process["rlimits"]![0]!["type"]).Should().Be("RLIMIT_NOFILE");
        ((string?)config["root"]!["path"]).Should().Be("/images/rootfs");
        ((bool)config["root"]!["readonly"]!).Should().BeFalse();
        ((string?)config["hostname"]).Should().Be("c0ffee001111");
        var linux = config["linux"]!;
        linux["namespaces"]!.AsArray().Select(n => (string)n!["type"]!).Should().Equal("pid", "mount", "ipc", "uts");
        ((string?)linux["cgroupsPath"]).Should().Be("/mezzo/agent-1/c0ffee00/runc");
        Strings(linux["maskedPaths"]).Should().Contain(["/proc/kcore", "/proc/keys", "/sys/firmware"]);
        Strings(linux["readonlyPaths"]).Should().Contain(["/proc/sys", "/proc/sysrq-trigger"]);
        var mounts = config["mounts"]!.AsArray().ToDictionary(m => (string)m!["destination"]!, m => m!);
        mounts.Keys.Should().Contain(["/proc", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue", "/sys", OciConfig.SandboxMount]);
        Strings(mounts["/sys"]["options"]).Should().Contain("ro");
        ((string?)mounts[OciConfig.SandboxMount]["source"]).Should().Be(Sandbox);
        Strings(mounts[OciConfig.SandboxMount]["options"]).Should().Contain(["rbind", "rw"]);
    }

    [Theory]
    [InlineData(ContainerInfoDockerInfoNetwork.HOST, false)]
    [InlineData(ContainerInfoDockerInfoNetwork.BRIDGE, true)]
    [InlineData(ContainerInfoDockerInfoNetwork.NONE, true)]
    public void Only_bridge_and_none_get_their_own_network_namespace(ContainerInfoDockerInfoNetwork network, bool own)
    {
        var container = new ContainerInfo { Type = ContainerInfoType.DOCKER, Docker = new ContainerInfoDockerInfo { Image = "busybox", Network = network } };
        var namespaces = OciConfig.Build(Spec(container), new ContainerUser(0, 0, []))["linux"]!["namespaces"]!.AsArray().Select(n => (string)n!["type"]!);
        namespaces.Contains("network").Should().Be(own);
    }

    [Fact]
    public void Environment_is_the_image_env_under_the_task_env_with_the_sandbox_inside_and_the_image_PATH_kept()
    {
        var env = OciConfig.Environment(Spec());
        env["FROM_IMAGE"].Should().Be("1");
        env["OVERRIDDEN"].Should().Be("task");
        env["MESOS_TASK_ID"].Should().Be("t1");
        env["MESOS_SANDBOX"].Should().Be(OciConfig.SandboxMount);
        env["PATH"].Should().Be("/image/bin", "Mezzo's default PATH must not hide the image's");
    }

    [Fact]
    public void A_PATH_the_task_sets_itself_wins_over_the_image()
    {
        var command = new CommandInfo { Shell = false, Environment = new EnvironmentInfo { Variables = [new EnvironmentVariable { Name = "PATH", Value = "/mine" }] } };
        var env = OciConfig.Environment(Spec(command: command, env: new Dictionary<string, string> { ["PATH"] = "/mine" }));
        env["PATH"].Should().Be("/mine");
    }

    [Fact]
    public void Working_directory_defaults_to_root_for_DOCKER_and_to_the_sandbox_for_MESOS()
    {
        var image = new ContainerImage("/r", ["/bin/true"]);
        ((string?)OciConfig.Build(Spec(image: image), new ContainerUser(0, 0, []))["process"]!["cwd"]).Should().Be("/");
        var mesos = new ContainerInfo { Type = ContainerInfoType.MESOS, Mesos = new ContainerInfoMesosInfo { Image = new Image { Type = ImageType.DOCKER, Docker = new ImageDocker { Name = "busybox" } } } };
        ((string?)OciConfig.Build(Spec(mesos, image: image), new ContainerUser(0, 0, []))["process"]!["cwd"]).Should().Be(OciConfig.SandboxMount);
    }

    [Fact]
    public void User_goes_into_the_process()
    {
        var user = OciConfig.Build(Spec(), new ContainerUser(1000, 100, [27]))["process"]!["user"]!;
        ((uint)user["uid"]!).Should().Be(1000);
        ((uint)user["gid"]!).Should().Be(100);
        user["additionalGids"]!.AsArray().Select(g => (uint)g!).Should().Equal(27u);
    }

    [Fact]
    public void Host_and_sandbox_volumes_become_bind_mounts_with_their_mode()
    {
        var host = Directory.CreateDirectory(Path.Combine(_dir, "host")).FullName;
        var container = new ContainerInfo
        {
            Type = ContainerInfoType.DOCKER,
            Docker = new ContainerInfoDockerInfo { Image = "busybox" },
            Volumes =
            [
                new Volume { ContainerPath = "/data", Mode = VolumeMode.RO, Source = new VolumeSource { Type = VolumeSourceType.HOST_PATH, HostPath = new VolumeSourceHostPath { Path = host } } },
                new Volume { ContainerPath = "/legacy", Mode = VolumeMode.RW, HostPath = host },
                new Volume { ContainerPath = "/scratch", Mode = VolumeMode.RW, Source = new VolumeSource { Type = VolumeSourceType.SANDBOX_PATH, SandboxPath = new VolumeSourceSandboxPath { Type = VolumeSourceSandboxPathType.SELF, Path = "tmp/scratch" } } },
                new Volume { ContainerPath = "relative", Mode = VolumeMode.RO, HostPath = host },
            ],
        };
        var mounts = OciConfig.Build(Spec(container), new ContainerUser(0, 0, []))["mounts"]!.AsArray().ToDictionary(m => (string)m!["destination"]!, m => m!);
        ((string?)mounts["/data"]["source"]).Should().Be(host);
        Strings(mounts["/data"]["options"]).Should().Contain(["rbind", "ro"]);
        Strings(mounts["/legacy"]["options"]).Should().Contain("rw");
        ((string?)mounts["/scratch"]["source"]).Should().Be(Path.Combine(Sandbox, "tmp/scratch"));
        Directory.Exists(Path.Combine(Sandbox, "tmp/scratch")).Should().BeTrue("a missing SANDBOX_PATH source is created, as Mesos does");
        ((string?)mounts[OciConfig.SandboxMount + "/relative"]["source"]).Should().Be(host);
    }

    public static TheoryData<string, string?, string?, string> BadVolumes => new()
    {
        { "/x", null, "../x", "*path '../x' must be relative to the sandbox, without '..'*" },
        { "/x", null, "a/../../x", "*without '..'*" },
        { "/x", null, "/etc", "*path '/etc' must be relative*" },
        { "/x", null, "", "*must be relative*" },
        { "../escape", "/tmp", null, "*container_path '../escape' must not contain '..'*" },
        { "/x", "relative/host", null, "*host path 'relative/host' must be absolute*" },
        { "/x", "/no/such/mezzo/path", null, "*host path '/no/such/mezzo/path' does not exist*" },
        { "", "/tmp", null, "Volume has no container_path" },
    };

    [Theory]
    [MemberData(nameof(BadVolumes))]
    public void Bad_volumes_are_rejected_naming_the_input(string containerPath, string? hostPath, string? sandboxPath, string message)
    {
        var volume = sandboxPath is not null
            ? new Volume { ContainerPath = containerPath, Source = new VolumeSource { Type = VolumeSourceType.SANDBOX_PATH, SandboxPath = new VolumeSourceSandboxPath { Type = VolumeSourceSandboxPathType.SELF, Path = sandboxPath } } }
            : new Volume { ContainerPath = containerPath, Source = new VolumeSource { Type = VolumeSourceType.HOST_PATH, HostPath = new VolumeSourceHostPath { Path = hostPath } } };
        var act = () => OciConfig.Volume(volume, Sandbox);
        act.Should().Throw<ContainerLaunchException>().WithMessage(message);
    }

    [Theory]
    [InlineData(VolumeSourceType.DOCKER_VOLUME, "*source type DOCKER_VOLUME is not supported*")]
    [InlineData(VolumeSourceType.SECRET, "*source type SECRET is not supported*")]
    public void Unsupported_volume_sources_are_rejected(VolumeSourceType type, string message)
    {
        var act = () => OciConfig.Volume(new Volume { ContainerPath = "/x", Source = new VolumeSource { Type = type } }, Sandbox);
        act.Should().Throw<ContainerLaunchException>().WithMessage(message);
    }

    [Fact]
    public void A_PARENT_sandbox_path_is_rejected()
    {
        var volume = new Volume { ContainerPath = "/x", Source = new VolumeSource { Type = VolumeSourceType.SANDBOX_PATH, SandboxPath = new VolumeSourceSandboxPath { Type = VolumeSourceSandboxPathType.PARENT, Path = "p" } } };
        var act = () => OciConfig.Volume(volume, Sandbox);
        act.Should().Throw<ContainerLaunchException>().WithMessage("*type PARENT is not supported (only SELF)*");
    }
}
