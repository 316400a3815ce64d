using Mezzo.Protocol.V1;

namespace Mezzo.Protocol.Tests.Conversion;

/// <summary>Mesos's HealthCheck / CheckInfo validation, with its wording, and the port and duration rules added to it.</summary>
public sealed class CheckValidationTests
{
    private static HealthCheck Tcp(uint? port = 8080) => new() { Type = HealthCheckType.TCP, Tcp = new HealthCheckTCPCheckInfo { Port = port } };

    public static TheoryData<HealthCheck, string?> HealthChecks() => new()
    {
        { Tcp(), null },
        { new HealthCheck { Type = HealthCheckType.COMMAND, Command = new CommandInfo { Value = "true" } }, null },
        { new HealthCheck { Type = HealthCheckType.HTTP, Http = new HealthCheckHTTPCheckInfo { Port = 80, Scheme = "https", Path = "/health" } }, null },
        { new HealthCheck(), "HealthCheck must specify 'type'" },
        { new HealthCheck { Type = HealthCheckType.UNKNOWN }, "'UNKNOWN' is not a valid health check type" },
        { new HealthCheck { Type = HealthCheckType.COMMAND }, "Expecting 'command' to be set for COMMAND health check" },
        { new HealthCheck { Type = HealthCheckType.COMMAND, Command = new CommandInfo() }, "Command health check must contain 'shell command'" },
        { new HealthCheck { Type = HealthCheckType.COMMAND, Command = new CommandInfo { Shell = false } }, "Command health check must contain 'executable path'" },
        { new HealthCheck { Type = HealthCheckType.COMMAND, Command = new CommandInfo { Value = "true", Environment = new EnvironmentInfo { Variables = [new EnvironmentVariable { Name = "A=B", Value = "1" }] } } }, "Command health check must contain valid environment variable names ('A=B' is not)" },
        { new HealthCheck { Type = HealthCheckType.HTTP }, "Expecting 'http' to be set for HTTP health check" },
        { new HealthCheck { Type = HealthCheckType.HTTP, Http = new HealthCheckHTTPCheckInfo { Port = 80, Scheme = "ftp" } }, "Unsupported HTTP health check scheme: 'ftp'" },
        { new HealthCheck { Type = HealthCheckType.HTTP, Http = new HealthCheckHTTPCheckInfo { Port = 80, Path = "health" } }, "The path 'health' of HTTP health check must start with '/'" },
        { new HealthCheck { Type = HealthCheckType.HTTP, Http = new HealthCheckHTTPCheckInfo() }, "Expecting 'http.port' to be set for HTTP health check" },
        { new HealthCheck { Type = HealthCheckType.TCP }, "Expecting 'tcp' to be set for TCP health check" },
        { Tcp(null), "Expecting 'tcp.port' to be set for TCP health check" },
        { Tcp(0), "Expecting 'tcp.port' of TCP health check to be between 1 and 65535, not 0" },
        { Tcp(65536), "Expecting 'tcp.port' of TCP health check to be between 1 and 65535, not 65536" },
        { WithDurations(Tcp(), delay: -1), "Expecting 'delay_seconds' to be non-negative" },
        { WithDurations(Tcp(), grace: -0.5), "Expecting 'grace_period_seconds' to be non-negative" },
        { WithDurations(Tcp(), interval: -1), "Expecting 'interval_seconds' to be non-negative" },
        { WithDurations(Tcp(), timeout: -1), "Expecting 'timeout_seconds' to be non-negative" },
        { WithDurations(Tcp(), interval: double.PositiveInfinity), "Expecting 'interval_seconds' to be a finite number of seconds" },
        { WithDurations(Tcp(), timeout: double.NaN), "Expecting 'timeout_seconds' to be a finite number of seconds" },
        { WithDurations(Tcp(), delay: 0, interval: 0, timeout: 0, grace: 0), null },
    };

    [Theory]
    [MemberData(nameof(HealthChecks))]
    public void Health_checks(HealthCheck check, string? error)
    {
        CheckValidation.Validate(check).Should().Be(error);
    }

    public static TheoryData<CheckInfo, string?> Checks() => new()
    {
        { new CheckInfo { Type = CheckInfoType.COMMAND, Command = new CheckInfoCommand { Command = new CommandInfo { Value = "true" } } }, null },
        { new CheckInfo { Type = CheckInfoType.HTTP, Http = new CheckInfoHttp { Port = 80, Path = "/x" } }, null },
        { new CheckInfo { Type = CheckInfoType.TCP, Tcp = new CheckInfoTcp { Port = 1 } }, null },
        { new CheckInfo(), "CheckInfo must specify 'type'" },
        { new CheckInfo { Type = CheckInfoType.UNKNOWN }, "'UNKNOWN' is not a valid check type" },
        { new CheckInfo { Type = CheckInfoType.COMMAND, Command = new CheckInfoCommand() }, "Expecting 'command' to be set for COMMAND check" },
        { new CheckInfo { Type = CheckInfoType.COMMAND, Command = new CheckInfoCommand { Command = new CommandInfo() } }, "Command check must contain 'shell command'" },
        { new CheckInfo { Type = CheckInfoType.HTTP }, "Expecting 'http' to be set for HTTP check" },
        { new CheckInfo { Type = CheckInfoType.HTTP, Http = new CheckInfoHttp { Port = 80, Path = "x" } }, "The path 'x' of HTTP check must start with '/'" },
        { new CheckInfo { Type = CheckInfoType.HTTP, Http = new CheckInfoHttp { Port = 70000 } }, "Expecting 'http.port' of HTTP check to be between 1 and 65535, not 70000" },
        { new CheckInfo { Type = CheckInfoType.TCP }, "Expecting 'tcp' to be set for TCP check" },
        { new CheckInfo { Type = CheckInfoType.TCP, Tcp = new CheckInfoTcp() }, "Expecting 'tcp.port' to be set for TCP check" },
        { new CheckInfo { Type = CheckInfoType.TCP, Tcp = new CheckInfoTcp { Port = 1 }, DelaySeconds = -1 }, "Expecting 'delay_seconds' to be non-negative" },
        { new CheckInfo { Type = CheckInfoType.TCP, Tcp = new CheckInfoTcp { Port = 1 }, IntervalSeconds = -1 }, "Expecting 'interval_seconds' to be non-negative" },
        { new CheckInfo { Type = CheckInfoType.TCP, Tcp = new CheckInfoTcp { Port = 1 }, TimeoutSeconds = -1 }, "Expecting 'timeout_seconds' to be non-negative" },
    };

    [Theory]
    [MemberData(nameof(Checks))]
    public void Checks_(CheckInfo check, string? error)
    {
        CheckValidation.Validate(check).Should().Be(error);
    }

    [Fact]
    public void A_task_is_checked_health_check_first_in_the_masters_wording()
    {
        var task = new TaskInfo { HealthCheck = Tcp(0), Check = new CheckInfo() };

        CheckValidation.ValidateTask(task).Should().Be("Task uses invalid health check: Expecting 'tcp.port' of TCP health check to be between 1 and 65535, not 0");
        task.HealthCheck = Tcp();
        CheckValidation.ValidateTask(task).Should().Be("Task uses invalid check: CheckInfo must specify 'type'");
        task.Check = null;
        CheckValidation.ValidateTask(task).Should().BeNull();
        CheckValidation.ValidateTask(new TaskInfo()).Should().BeNull();
    }

    private static HealthCheck WithDurations(HealthCheck check, double? delay = null, double? interval = null, double? timeout = null, double? grace = null)
    {
        check.DelaySeconds = delay;
        check.IntervalSeconds = interval;
        check.TimeoutSeconds = timeout;
        check.GracePeriodSeconds = grace;
        return check;
    }
}
