using Mezzo.Protocol.V1;
using Mezzo.Services.Scheduling;
using static Mezzo.Services.Tests.Scheduling.Apps;

namespace Mezzo.Services.Tests.Scheduling;

public sealed class TaskBuilderTests
{
    [Fact]
    public void Tasks_get_Marathons_environment()
    {
        var app = App("""{"id":"/prod/web","cmd":"x","cpus":0.5,"mem":64,"env":{"A":"1"},"labels":{"team-name":"core"},"portDefinitions":[{"port":0,"name":"http"},{"port":0}]}""", "2026-01-01T00:00:00.000Z");
        var env = TaskBuilder.Environment(app, "h1", [31000, 31005], "prod_web.instance-1");

        env.Should().Contain(new Dictionary<string, string>
        {
            ["A"] = "1",
            ["PORT0"] = "31000",
            ["PORT1"] = "31005",
            ["PORT"] = "31000",
            ["PORTS"] = "31000,31005",
            ["PORT_HTTP"] = "31000",
            ["HOST"] = "h1",
            ["MESOS_TASK_ID"] = "prod_web.instance-1",
            ["MARATHON_APP_ID"] = "/prod/web",
            ["MARATHON_APP_VERSION"] = "2026-01-01T00:00:00.000Z",
            ["MARATHON_APP_RESOURCE_CPUS"] = "0.5",
            ["MARATHON_APP_RESOURCE_MEM"] = "64.0",
            ["MARATHON_APP_LABELS"] = "TEAM_NAME",
            ["MARATHON_APP_LABEL_TEAM_NAME"] = "core",
        });
    }

    [Fact]
    public void A_task_carries_the_command_resources_and_a_Mesos_health_check_on_its_port()
    {
        var app = App("""{"id":"/web","cmd":"python3 -m http.server $PORT0","cpus":0.5,"mem":64,"taskKillGracePeriodSeconds":3,"healthChecks":[{"protocol":"MESOS_HTTP","path":"/health","intervalSeconds":2}]}""");
        var offer = OfferMatcherTests.Offer();
        var match = OfferMatcher.Match(offer, [new Demand(app, 1, [])]).Single();

        var task = TaskBuilder.Build(app, offer, match, "web.instance-1");

        task.TaskId!.Value.Should().Be("web.instance-1");
        task.AgentId!.Value.Should().Be("agent-h1");
        task.Command!.Shell.Should().BeTrue();
        task.Command.Value.Should().Be("python3 -m http.server $PORT0");
        task.Resources.Should().Contain(r => r.Name == "ports" && r.Ranges!.Range![0].Begin == 31000);
        task.HealthCheck!.Type.Should().Be(HealthCheckType.HTTP);
        task.HealthCheck.Http!.Port.Should().Be(31000);
        task.HealthCheck.Http.Path.Should().Be("/health");
        task.HealthCheck.IntervalSeconds.Should().Be(2);
        task.KillPolicy!.GracePeriod!.Nanoseconds.Should().Be(3_000_000_000L);
    }

    [Fact]
    public void Args_without_a_container_run_the_first_argument_without_a_shell()
    {
        var app = App("""{"id":"/web","args":["sleep","100"],"cpus":0.1,"mem":1}""");
        var offer = OfferMatcherTests.Offer();
        var task = TaskBuilder.Build(app, offer, OfferMatcher.Match(offer, [new Demand(app, 1, [])]).Single(), "t");

        task.Command!.Shell.Should().BeFalse();
        task.Command.Value.Should().Be("sleep");
        task.Command.Arguments.Should().Equal("sleep", "100");
    }

    [Fact]
    public void A_docker_image_in_a_MESOS_container_runs_under_the_Mesos_containerizer()
    {
        var app = App("""{"id":"/web","cpus":0.1,"mem":1,"container":{"type":"MESOS","docker":{"image":"busybox:1.36"}}}""");
        var offer = OfferMatcherTests.Offer();
        var task = TaskBuilder.Build(app, offer, OfferMatcher.Match(offer, [new Demand(app, 1, [])]).Single(), "t");

        task.Container!.Type.Should().Be(ContainerInfoType.MESOS);
        task.Container.Mesos!.Image!.Docker!.Name.Should().Be("busybox:1.36");
        task.Command!.Shell.Should().BeFalse();
    }

    [Theory]
    [InlineData("""{"type":"DOCKER","docker":{"image":"busybox:1.36"},"portMappings":[{"containerPort":8080,"hostPort":0},{"containerPort":0}]}""", """[{"mode":"container/bridge"}]""")]
    [InlineData("""{"type":"DOCKER","docker":{"image":"busybox:1.36","network":"BRIDGE","portMappings":[{"containerPort":8080,"hostPort":0},{"containerPort":0}]}}""", "null")]
    public void A_DOCKER_container_on_the_bridge_maps_its_allocated_host_ports_to_its_container_ports(string container, string networks)
    {
        var app = App($$"""{"id":"/web","cpus":0.1,"mem":1,"container":{{container}},"networks":{{networks}},"healthChecks":[{"protocol":"MESOS_HTTP","portIndex":0},{"protocol":"HTTP","portIndex":1}]}""");
        var offer = OfferMatcherTests.Offer();
        var match = OfferMatcher.Match(offer, [new Demand(app, 1, [])]).Single();
        var task = TaskBuilder.Build(app, offer, match, "t");

        match.HostPorts.Should().HaveCount(2);
        task.Container!.Type.Should().Be(ContainerInfoType.DOCKER);
        var docker = task.Container.Docker!;
        docker.Image.Should().Be("busybox:1.36");
        docker.Network.Should().Be(ContainerInfoDockerInfoNetwork.BRIDGE);
        docker.PortMappings!.Select(m => $"{m.HostPort}->{m.ContainerPort}").Should().Equal(
            $"{match.HostPorts[0]}->8080",
            $"{match.HostPorts[1]}->{match.HostPorts[1]}");
        task.HealthCheck!.Http!.Port.Should().Be((uint)match.HostPorts[0], "Mezzo's agent probes from the host, through the port forwarding");
    }

    [Fact]
    public void Marathon_side_checks_stay_with_the_services_process_and_only_the_Mesos_check_goes_to_the_agent()
    {
        var app = App("""{"id":"/web","cmd":"x","cpus":0.1,"mem":1,"healthChecks":[{"protocol":"HTTP"},{"protocol":"TCP"},{"protocol":"COMMAND","command":{"value":"true"}}]}""");
        var offer = OfferMatcherTests.Offer();
        var task = TaskBuilder.Build(app, offer, OfferMatcher.Match(offer, [new Demand(app, 1, [])]).Single(), "t");

        task.HealthCheck!.Type.Should().Be(HealthCheckType.COMMAND);
        task.HealthCheck.Command!.Value.Should().Be("true");

        var marathonOnly = App("""{"id":"/web","cmd":"x","cpus":0.1,"mem":1,"healthChecks":[{"protocol":"HTTP"},{"protocol":"HTTPS"}]}""");
        TaskBuilder.Build(marathonOnly, offer, OfferMatcher.Match(offer, [new Demand(marathonOnly, 1, [])]).Single(), "t").HealthCheck.Should().BeNull();
    }
}
