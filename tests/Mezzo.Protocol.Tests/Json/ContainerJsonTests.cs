using System.Text.Json;
using Mezzo.Protocol.V1;

namespace Mezzo.Protocol.Tests.Json;

/// <summary>A task's container, health check and check travel through master and agent unchanged.</summary>
public sealed class ContainerJsonTests
{
    private const string Task = """
        {"name":"web","task_id":{"value":"t1"},
         "container":{"type":"MESOS","volumes":[{"mode":"RO","container_path":"/data","source":{"type":"SANDBOX_PATH","sandbox_path":{"type":"SELF","path":"data"}}},
                                                {"mode":"RW","container_path":"/host","source":{"type":"HOST_PATH","host_path":{"path":"/srv"}}}],
                      "mesos":{"image":{"type":"DOCKER","docker":{"name":"127.0.0.1:5000/busybox:1"},"cached":false}},
                      "network_infos":[{"name":"mezzo","port_mappings":[{"host_port":31000,"container_port":80,"protocol":"tcp"}]}],
                      "linux_info":{"share_pid_namespace":false,"effective_capabilities":{"capabilities":["NET_BIND_SERVICE"]}}},
         "health_check":{"type":"HTTP","http":{"scheme":"http","port":8080,"path":"/ping","statuses":[200]},"delay_seconds":0,"interval_seconds":1.5,"consecutive_failures":2,"grace_period_seconds":5},
         "check":{"type":"TCP","tcp":{"port":8080},"timeout_seconds":3}}
        """;

    [Fact]
    public void A_task_with_container_health_check_and_check_round_trips_field_for_field()
    {
        var parsed = MesosJson.Deserialize<TaskInfo>(Task)!;

        parsed.Container!.Type.Should().Be(ContainerInfoType.MESOS);
        parsed.Container.Volumes![0].Source!.SandboxPath!.Path.Should().Be("data");
        parsed.Container.Volumes[1].Source!.HostPath!.Path.Should().Be("/srv");
        parsed.Container.Mesos!.Image!.Docker!.Name.Should().Be("127.0.0.1:5000/busybox:1");
        parsed.Container.NetworkInfos![0].PortMappings![0].ContainerPort.Should().Be(80u);
        parsed.HealthCheck!.Http!.Statuses.Should().Equal(200u);
        parsed.Check!.Tcp!.Port.Should().Be(8080u);

        var again = JsonDocument.Parse(MesosJson.Serialize(parsed));
        JsonElement.DeepEquals(again.RootElement, JsonDocument.Parse(Task).RootElement).Should().BeTrue();
    }

    [Theory]
    [InlineData("""{"container":{"type":"RKT"}}""", "*ContainerInfoType*")]
    [InlineData("""{"container":{"type":"DOCKER","docker":{"image":"x","network":"OVERLAY"}}}""", "*ContainerInfoDockerInfoNetwork*")]
    [InlineData("""{"container":{"type":"MESOS","volumes":[{"mode":"rw"}]}}""", "*VolumeMode*")]
    [InlineData("""{"health_check":{"type":"PING"}}""", "*HealthCheckType*")]
    [InlineData("""{"health_check":{"type":"HTTP","http":{"port":"eighty"}}}""", "*")]
    public void Misspelled_container_and_check_fields_are_rejected(string json, string message)
    {
        var act = () => MesosJson.Deserialize<TaskInfo>(json);

        act.Should().Throw<JsonException>().WithMessage(message);
    }
}
