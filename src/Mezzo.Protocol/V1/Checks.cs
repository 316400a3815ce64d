namespace Mezzo.Protocol.V1;

// mesos.proto's HealthCheck, CheckInfo and CheckStatusInfo. Defaults (delay 15 s, interval 10 s, timeout 20 s,
// 3 consecutive failures, grace 10 s) are the proto's; they are applied by the checker, not here, so that what a
// framework sent is what state endpoints show.

public enum HealthCheckType
{
    UNKNOWN = 0,
    COMMAND = 1,
    HTTP = 2,
    TCP = 3,
}

public sealed class HealthCheckHTTPCheckInfo
{
    public NetworkInfoProtocol? Protocol { get; set; }

    public string? Scheme { get; set; }

    public uint? Port { get; set; }

    public string? Path { get; set; }

    public List<uint>? Statuses { get; set; }
}

public sealed class HealthCheckTCPCheckInfo
{
    public NetworkInfoProtocol? Protocol { get; set; }

    public uint? Port { get; set; }
}

public sealed class HealthCheck
{
    public double? DelaySeconds { get; set; }

    public double? IntervalSeconds { get; set; }

    public double? TimeoutSeconds { get; set; }

    public uint? ConsecutiveFailures { get; set; }

    public double? GracePeriodSeconds { get; set; }

    public HealthCheckType? Type { get; set; }

    public CommandInfo? Command { get; set; }

    public HealthCheckHTTPCheckInfo? Http { get; set; }

    public HealthCheckTCPCheckInfo? Tcp { get; set; }
}

public enum CheckInfoType
{
    UNKNOWN = 0,
    COMMAND = 1,
    HTTP = 2,
    TCP = 3,
}

public sealed class CheckInfoCommand
{
    public CommandInfo? Command { get; set; }
}

public sealed class CheckInfoHttp
{
    public uint? Port { get; set; }

    public string? Path { get; set; }
}

public sealed class CheckInfoTcp
{
    public uint? Port { get; set; }
}

public sealed class CheckInfo
{
    public CheckInfoType? Type { get; set; }

    public CheckInfoCommand? Command { get; set; }

    public CheckInfoHttp? Http { get; set; }

    public CheckInfoTcp? Tcp { get; set; }

    public double? DelaySeconds { get; set; }

    public double? IntervalSeconds { get; set; }

    public double? TimeoutSeconds { get; set; }
}

public sealed class CheckStatusInfoCommand
{
    public int? ExitCode { get; set; }
}

public sealed class CheckStatusInfoHttp
{
    public uint? StatusCode { get; set; }
}

public sealed class CheckStatusInfoTcp
{
    public bool? Succeeded { get; set; }
}

public sealed class CheckStatusInfo
{
    public CheckInfoType? Type { get; set; }

    public CheckStatusInfoCommand? Command { get; set; }

    public CheckStatusInfoHttp? Http { get; set; }

    public CheckStatusInfoTcp? Tcp { get; set; }
}

public sealed class TaskResourceLimitation
{
    public List<Resource>? Resources { get; set; }
}
