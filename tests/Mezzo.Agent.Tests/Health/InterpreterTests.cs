using AwesomeAssertions;
using Mezzo.Agent.Health;
using Mezzo.Protocol.V1;

namespace Mezzo.Agent.Tests.Health;

/// <summary>Mesos's health interpretation (grace period, consecutive failures, what is reported) and check deduplication.</summary>
public sealed class InterpreterTests
{
    private static readonly DateTimeOffset Launch = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static readonly CheckOutcome Ok = CheckOutcome.Result(CheckStatuses.Command(0));
    private static readonly CheckOutcome Bad = CheckOutcome.Result(CheckStatuses.Command(1));

    private static DateTimeOffset At(double seconds) => Launch + TimeSpan.FromSeconds(seconds);

    private static HealthInterpreter Health(double? grace = null, uint? failures = null) =>
        new(new HealthCheck { Type = HealthCheckType.COMMAND, GracePeriodSeconds = grace, ConsecutiveFailures = failures }, Launch);

    [Fact]
    public void The_first_success_is_reported_and_later_ones_are_not()
    {
        var health = Health();

        health.OnOutcome(Ok, At(1)).Should().Be(new HealthVerdict(true, false, 0, null));
        health.OnOutcome(Ok, At(2)).Should().BeNull();
        health.OnOutcome(Ok, At(30)).Should().BeNull();
    }

    [Fact]
    public void Failures_in_the_grace_period_are_ignored_then_counted_and_the_third_kills()
    {
        var health = Health(grace: 10);

        health.OnOutcome(Bad, At(1)).Should().BeNull();
        health.OnOutcome(Bad, At(10)).Should().BeNull("the grace period includes its last instant");
        health.OnOutcome(Bad, At(10.5)).Should().Be(new HealthVerdict(false, false, 1, "Command exited with status 1"));
        health.OnOutcome(Bad, At(11)).Should().Be(new HealthVerdict(false, false, 2, "Command exited with status 1"));
        health.OnOutcome(Bad, At(12)).Should().Be(new HealthVerdict(false, true, 3, "Command exited with status 1"), "3 is mesos.proto's default");
    }

    [Fact]
    public void The_first_success_ends_the_grace_period()
    {
        var health = Health(grace: 60, failures: 1);

        health.OnOutcome(Ok, At(1)).Should().NotBeNull();
        health.OnOutcome(Bad, At(2)).Should().Be(new HealthVerdict(false, true, 1, "Command exited with status 1"));
    }

    [Fact]
    public void A_success_after_failures_is_reported_and_resets_the_count()
    {
        var health = Health(grace: 0, failures: 2);

        health.OnOutcome(Bad, At(1))!.Value.KillTask.Should().BeFalse();
        health.OnOutcome(Ok, At(2)).Should().Be(new HealthVerdict(true, false, 0, null));
        health.OnOutcome(Bad, At(3)).Should().Be(new HealthVerdict(false, false, 1, "Command exited with status 1"));
        health.OnOutcome(Bad, At(4))!.Value.KillTask.Should().BeTrue();
    }

    [Fact]
    public void Without_a_grace_period_the_first_failure_counts()
    {
        Health(grace: 0, failures: 1).OnOutcome(Bad, At(0.1)).Should().Be(new HealthVerdict(false, true, 1, "Command exited with status 1"));
    }

    [Fact]
    public void A_check_that_gave_no_result_is_a_failure_with_its_reason()
    {
        Health(grace: 0).OnOutcome(CheckOutcome.Failed("COMMAND health check timed out after 1s"), At(1))
            .Should().Be(new HealthVerdict(false, false, 1, "COMMAND health check timed out after 1s"));
    }

    [Theory]
    [InlineData(200, true)]
    [InlineData(302, true)]
    [InlineData(399, true)]
    [InlineData(400, false)]
    [InlineData(503, false)]
    [InlineData(199, false)]
    public void HTTP_health_is_200_to_399(int code, bool healthy)
    {
        CheckStatuses.HealthFailure(CheckStatuses.Http(code)).Should().Be(healthy ? null : $"Unexpected HTTP response code: {code}");
    }

    [Fact]
    public void TCP_health_is_a_successful_connection()
    {
        CheckStatuses.HealthFailure(CheckStatuses.Tcp(true)).Should().BeNull();
        CheckStatuses.HealthFailure(CheckStatuses.Tcp(false)).Should().Be("TCP connection failed");
    }

    [Fact]
    public void A_check_reports_only_changes_starting_from_the_empty_result()
    {
        var check = new CheckInterpreter(CheckInfoType.COMMAND);

        check.OnOutcome(CheckOutcome.Failed("timed out")).Should().BeNull("the empty result is what the task already carries");
        check.OnOutcome(CheckOutcome.Result(CheckStatuses.Command(0)))!.Command!.ExitCode.Should().Be(0);
        check.OnOutcome(CheckOutcome.Result(CheckStatuses.Command(0))).Should().BeNull();
        check.OnOutcome(CheckOutcome.Result(CheckStatuses.Command(3)))!.Command!.ExitCode.Should().Be(3);

        var empty = check.OnOutcome(CheckOutcome.Failed("timed out"));
        empty.Should().NotBeNull("a result that goes away is a change");
        empty!.Type.Should().Be(CheckInfoType.COMMAND);
        empty.Command.Should().NotBeNull();
        empty.Command!.ExitCode.Should().BeNull();
    }

    [Fact]
    public void An_HTTP_check_reports_each_distinct_status_code_unlike_a_health_check()
    {
        var check = new CheckInterpreter(CheckInfoType.HTTP);

        check.OnOutcome(CheckOutcome.Result(CheckStatuses.Http(200)))!.Http!.StatusCode.Should().Be(200u);
        check.OnOutcome(CheckOutcome.Result(CheckStatuses.Http(202)))!.Http!.StatusCode.Should().Be(202u);
    }

    [Fact]
    public void Specs_take_mesos_proto_defaults()
    {
        var spec = CheckSpec.From(new HealthCheck { Type = HealthCheckType.HTTP, Http = new HealthCheckHTTPCheckInfo { Port = 8080 } });

        spec.Should().Be(new CheckSpec(CheckInfoType.HTTP, "HTTP health check", TimeSpan.FromSeconds(15), TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(20), null, 8080, "", "http", false));
        CheckSpec.From(new HealthCheck
        {
            Type = HealthCheckType.HTTP,
            DelaySeconds = 0,
            IntervalSeconds = 0.2,
            TimeoutSeconds = 1.5,
            Http = new HealthCheckHTTPCheckInfo { Port = 443, Scheme = "https", Path = "/ready", Protocol = NetworkInfoProtocol.IPv6 },
        }).Should().Be(new CheckSpec(CheckInfoType.HTTP, "HTTP health check", TimeSpan.Zero, TimeSpan.FromSeconds(0.2), TimeSpan.FromSeconds(1.5), null, 443, "/ready", "https", true));
        CheckSpec.From(new CheckInfo { Type = CheckInfoType.TCP, Tcp = new CheckInfoTcp { Port = 9 } }).Name.Should().Be("TCP check");
    }

    [Fact]
    public void An_unknown_type_is_refused_rather_than_guessed()
    {
        var act = () => CheckSpec.From(new HealthCheck { Type = HealthCheckType.UNKNOWN });

        act.Should().Throw<ArgumentException>().WithMessage("*'UNKNOWN' is not a valid health check type*");
    }
}
