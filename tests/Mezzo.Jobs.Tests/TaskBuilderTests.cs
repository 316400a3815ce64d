using Mezzo.Jobs.Engine;
using Mezzo.Protocol.Chronos;
using Mezzo.Protocol.V1;

namespace Mezzo.Jobs.Tests;

public sealed class TaskBuilderTests
{
    private static Job Job(string json) => JobJson.Parse(System.Text.Encoding.UTF8.GetBytes(json), new JobDefaults());

    private static Offer Offer(string host = "h1", params Protocol.V1.Attribute[] attributes) => new()
    {
        Id = new OfferID { Value = "o" },
        AgentId = new AgentID { Value = "a" },
        Hostname = host,
        Attributes = [.. attributes],
        Url = new URL { Scheme = "http", Address = new Address { Hostname = host, Ip = "10.0.0.1", Port = 5051 } },
    };

    private static Protocol.V1.Attribute Text(string name, string value) => new() { Name = name, Type = Protocol.V1.ValueType.TEXT, Text = new ValueText { Value = value } };

    private static readonly Run Run = new("ct:1:0:j:", "j", 1, 0, RunState.Launching, 1);

    [Fact]
    public void Fetch_environment_user_container_and_data_reach_the_task()
    {
        var task = TaskBuilder.Build(Job("""
            {"name": "j", "command": "run.sh", "runAsUser": "nobody", "taskInfoData": "payload",
             "fetch": [{"uri": "http://x/a.tgz", "extract": true, "cache": true}],
             "environmentVariables": [{"name": "A", "value": "1"}],
             "container": {"type": "MESOS", "image": "busybox", "forcePullImage": true, "volumes": [{"containerPath": "/data", "hostPath": "/srv", "mode": "RO"}]}}
            """), Run, Offer());
        task.Name.Should().Be("ChronosTask:j");
        task.Command!.User.Should().Be("nobody");
        task.Command.Uris.Should().ContainSingle().Which.Should().BeEquivalentTo(new CommandInfoURI { Value = "http://x/a.tgz", Extract = true, Cache = true, Executable = false });
        task.Command.Environment!.Variables!.Select(v => (v.Name, v.Value)).Should().Contain([("A", "1"), ("CHRONOS_JOB_NAME", "j"), ("mesos_task_id", "ct:1:0:j:")]);
        task.Container!.Type.Should().Be(ContainerInfoType.MESOS);
        task.Container.Mesos!.Image!.Docker!.Name.Should().Be("busybox");
        task.Container.Mesos.Image.Cached.Should().BeFalse("forcePullImage");
        task.Container.Volumes.Should().ContainSingle().Which.Mode.Should().Be(VolumeMode.RO);
        System.Text.Encoding.UTF8.GetString(task.Data!).Should().Be("payload");
    }

    [Fact]
    public void A_container_job_without_a_command_runs_the_image_entrypoint()
    {
        var task = TaskBuilder.Build(Job("""{"name": "j", "container": {"image": "busybox"}}"""), Run, Offer());
        task.Command!.Shell.Should().BeFalse();
        task.Command.Value.Should().BeNull();
        task.Container!.Type.Should().Be(ContainerInfoType.DOCKER);
        task.Container.Docker!.Image.Should().Be("busybox");
    }

    [Theory]
    [InlineData("rack", "EQUALS", "r1", true)]
    [InlineData("rack", "EQUALS", "r2", false)]
    [InlineData("rack", "LIKE", "r[0-9]", true)]
    [InlineData("rack", "LIKE", "r", false)]
    [InlineData("rack", "UNLIKE", "r[0-9]", false)]
    [InlineData("zone", "UNLIKE", "a", true)]
    [InlineData("zone", "EQUALS", "a", false)]
    [InlineData("hostname", "EQUALS", "h1", true)]
    [InlineData("hostname", "LIKE", "h.*", true)]
    public void Constraints_match_offer_attributes_as_Chronos_does(string attribute, string op, string value, bool matches) =>
        OfferResources.Matches(Offer("h1", Text("rack", "r1")), [new JobConstraint(attribute, op, value)]).Should().Be(matches);

    [Fact]
    public void A_job_retries_only_while_attempts_are_left_and_its_last_result_was_not_an_error()
    {
        var fresh = Job("""{"name":"j","command":"x","retries":2}""");
        QueueDecision.ShouldRetry(fresh, 0).Should().BeTrue();
        QueueDecision.ShouldRetry(fresh, 2).Should().BeFalse();
        QueueDecision.ShouldRetry(fresh with { LastError = "2026-01-02T00:00:00.000Z" }, 0).Should().BeFalse();
        QueueDecision.ShouldRetry(fresh with { LastError = "2026-01-01T00:00:00.000Z", LastSuccess = "2026-01-02T00:00:00.000Z" }, 0).Should().BeTrue();
        QueueDecision.ShouldRetry(fresh with { Retries = 0 }, 0).Should().BeFalse();
    }

    [Fact]
    public void Task_ids_are_Chronos_ids_with_what_Mesos_forbids_replaced()
    {
        Run.MakeTaskId("nightly report", 1000, 2, "-v x").Should().Be("ct:1000:2:nightly_report:-v_x");
        Run.MakeTaskId(new string('n', 200), 1, 0, new string('a', 200)).Should().HaveLength(255);
    }
}
