using Wire = Mezzo.Protocol.V1;

namespace Mezzo.Protocol;

/// <summary>
/// Mesos's <c>validateHealthCheck</c> and <c>validateCheckInfo</c> (common/validation.cpp), with its wording, plus
/// what the proto marks required and Mesos only finds out when the check runs: a port in 1..65535 and finite
/// durations. The master rejects a task that fails them with TASK_ERROR; the agent refuses to launch one.
/// </summary>
public static class CheckValidation
{
    /// <summary>A task's health check and check, in Mesos's master wording ("Task uses invalid ..."). Null when valid.</summary>
    public static string? ValidateTask(Wire.TaskInfo task)
    {
        ArgumentNullException.ThrowIfNull(task);
        if (task.HealthCheck is { } healthCheck && Validate(healthCheck) is { } healthError)
        {
            return $"Task uses invalid health check: {healthError}";
        }

        return task.Check is { } check && Validate(check) is { } checkError ? $"Task uses invalid check: {checkError}" : null;
    }

    public static string? Validate(Wire.HealthCheck check)
    {
        ArgumentNullException.ThrowIfNull(check);
        switch (check.Type)
        {
            case null:
                return "HealthCheck must specify 'type'";
            case Wire.HealthCheckType.COMMAND:
                if (check.Command is null)
                {
                    return "Expecting 'command' to be set for COMMAND health check";
                }

                if (CommandError(check.Command) is { } commandError)
                {
                    return $"Command health check must contain {commandError}";
                }

                break;
            case Wire.HealthCheckType.HTTP:
                if (check.Http is null)
                {
                    return "Expecting 'http' to be set for HTTP health check";
                }

                if (check.Http.Scheme is { } scheme && scheme is not ("http" or "https"))
                {
                    return $"Unsupported HTTP health check scheme: '{scheme}'";
                }

                if (check.Http.Path is { } path && !path.StartsWith('/'))
                {
                    return $"The path '{path}' of HTTP health check must start with '/'";
                }

                if (PortError(check.Http.Port, "http.port", "HTTP health check") is { } httpPort)
                {
                    return httpPort;
                }

                break;
            case Wire.HealthCheckType.TCP:
                if (check.Tcp is null)
                {
                    return "Expecting 'tcp' to be set for TCP health check";
                }

                if (PortError(check.Tcp.Port, "tcp.port", "TCP health check") is { } tcpPort)
                {
                    return tcpPort;
                }

                break;
            default:
                return $"'{check.Type}' is not a valid health check type";
        }

        return DurationError(check.DelaySeconds, "delay_seconds")
            ?? DurationError(check.GracePeriodSeconds, "grace_period_seconds")
            ?? DurationError(check.IntervalSeconds, "interval_seconds")
            ?? DurationError(check.TimeoutSeconds, "timeout_seconds");
    }

    public static string? Validate(Wire.CheckInfo check)
    {
        ArgumentNullException.ThrowIfNull(check);
        switch (check.Type)
        {
            case null:
                return "CheckInfo must specify 'type'";
            case Wire.CheckInfoType.COMMAND:
                if (check.Command?.Command is null)
                {
                    return "Expecting 'command' to be set for COMMAND check";
                }

                if (CommandError(check.Command.Command) is { } commandError)
                {
                    return $"Command check must contain {commandError}";
                }

                break;
            case Wire.CheckInfoType.HTTP:
                if (check.Http is null)
                {
                    return "Expecting 'http' to be set for HTTP check";
                }

                if (check.Http.Path is { } path && !path.StartsWith('/'))
                {
                    return $"The path '{path}' of HTTP check must start with '/'";
                }

                if (PortError(check.Http.Port, "http.port", "HTTP check") is { } httpPort)
                {
                    return httpPort;
                }

                break;
            case Wire.CheckInfoType.TCP:
                if (check.Tcp is null)
                {
                    return "Expecting 'tcp' to be set for TCP check";
                }

                if (PortError(check.Tcp.Port, "tcp.port", "TCP check") is { } tcpPort)
                {
                    return tcpPort;
                }

                break;
            default:
                return $"'{check.Type}' is not a valid check type";
        }

        return DurationError(check.DelaySeconds, "delay_seconds")
            ?? DurationError(check.IntervalSeconds, "interval_seconds")
            ?? DurationError(check.TimeoutSeconds, "timeout_seconds");
    }

    private static string? CommandError(Wire.CommandInfo command)
    {
        if (string.IsNullOrEmpty(command.Value))
        {
            return command.Shell != false ? "'shell command'" : "'executable path'";
        }

        foreach (var variable in command.Environment?.Variables ?? [])
        {
            if (string.IsNullOrEmpty(variable.Name) || variable.Name.Contains('=', StringComparison.Ordinal))
            {
                return $"valid environment variable names ('{variable.Name}' is not)";
            }
        }

        return null;
    }

    private static string? PortError(uint? port, string field, string what) => port switch
    {
        null => $"Expecting '{field}' to be set for {what}",
        0 or > 65535 => $"Expecting '{field}' of {what} to be between 1 and 65535, not {port}",
        _ => null,
    };

    private static string? DurationError(double? seconds, string field) => seconds switch
    {
        null => null,
        < 0 => $"Expecting '{field}' to be non-negative",
        { } value when !double.IsFinite(value) || value > TimeSpan.MaxValue.TotalSeconds / 2 => $"Expecting '{field}' to be a finite number of seconds",
        _ => null,
    };
}
