using Mezzo.Protocol.V1;

namespace Mezzo.Agent.Health;

/// <summary>CheckStatusInfo helpers: Mesos's "empty result of the check's type" and value comparison.</summary>
public static class CheckStatuses
{
    /// <summary>What a task with a check carries before the first result and after a check that timed out.</summary>
    public static CheckStatusInfo Empty(CheckInfoType type) => type switch
    {
        CheckInfoType.COMMAND => new CheckStatusInfo { Type = type, Command = new CheckStatusInfoCommand() },
        CheckInfoType.HTTP => new CheckStatusInfo { Type = type, Http = new CheckStatusInfoHttp() },
        CheckInfoType.TCP => new CheckStatusInfo { Type = type, Tcp = new CheckStatusInfoTcp() },
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "not a valid check type"),
    };

    public static CheckStatusInfo Command(int exitCode) => new() { Type = CheckInfoType.COMMAND, Command = new CheckStatusInfoCommand { ExitCode = exitCode } };

    public static CheckStatusInfo Http(int statusCode) => new() { Type = CheckInfoType.HTTP, Http = new CheckStatusInfoHttp { StatusCode = (uint)statusCode } };

    public static CheckStatusInfo Tcp(bool succeeded) => new() { Type = CheckInfoType.TCP, Tcp = new CheckStatusInfoTcp { Succeeded = succeeded } };

    /// <summary>Field-by-field equality: an update is sent exactly when this changes (Mesos compares the messages).</summary>
    public static bool Same(CheckStatusInfo a, CheckStatusInfo b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        return a.Type == b.Type
            && (a.Command is null) == (b.Command is null) && a.Command?.ExitCode == b.Command?.ExitCode
            && (a.Http is null) == (b.Http is null) && a.Http?.StatusCode == b.Http?.StatusCode
            && (a.Tcp is null) == (b.Tcp is null) && a.Tcp?.Succeeded == b.Tcp?.Succeeded;
    }

    public static CheckStatusInfo Copy(CheckStatusInfo status)
    {
        ArgumentNullException.ThrowIfNull(status);
        return new CheckStatusInfo
        {
            Type = status.Type,
            Command = status.Command is null ? null : new CheckStatusInfoCommand { ExitCode = status.Command.ExitCode },
            Http = status.Http is null ? null : new CheckStatusInfoHttp { StatusCode = status.Http.StatusCode },
            Tcp = status.Tcp is null ? null : new CheckStatusInfoTcp { Succeeded = status.Tcp.Succeeded },
        };
    }

    /// <summary>Mesos's health interpretation of a check result: null when healthy, else why not.</summary>
    public static string? HealthFailure(CheckStatusInfo status)
    {
        ArgumentNullException.ThrowIfNull(status);
        return status.Type switch
        {
            CheckInfoType.COMMAND when status.Command?.ExitCode is not 0 => $"Command exited with status {status.Command?.ExitCode}",
            CheckInfoType.HTTP when status.Http?.StatusCode is not (>= 200 and < 400) => $"Unexpected HTTP response code: {status.Http?.StatusCode}",
            CheckInfoType.TCP when status.Tcp?.Succeeded != true => "TCP connection failed",
            _ => null,
        };
    }
}
