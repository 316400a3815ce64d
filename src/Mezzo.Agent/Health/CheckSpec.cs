using Mezzo.Protocol.V1;

namespace Mezzo.Agent.Health;

/// <summary>
/// One check to run, from a <see cref="HealthCheck"/> or a <see cref="CheckInfo"/>, with mesos.proto's defaults filled
/// in (as Mesos's HealthChecker turns a health check into a check before running it).
/// </summary>
/// <param name="Timeout">Null: no timeout (mesos.proto: 0 means infinite).</param>
public sealed record CheckSpec(
    CheckInfoType Type,
    string Name,
    TimeSpan Delay,
    TimeSpan Interval,
    TimeSpan? Timeout,
    CommandInfo? Command = null,
    uint Port = 0,
    string Path = "",
    string Scheme = "http",
    bool Ipv6 = false)
{
    public static readonly TimeSpan DefaultDelay = TimeSpan.FromSeconds(15);
    public static readonly TimeSpan DefaultInterval = TimeSpan.FromSeconds(10);
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(20);

    /// <summary>The definition must have passed <see cref="Protocol.CheckValidation"/>.</summary>
    public static CheckSpec From(HealthCheck check)
    {
        ArgumentNullException.ThrowIfNull(check);
        var type = check.Type switch
        {
            HealthCheckType.COMMAND => CheckInfoType.COMMAND,
            HealthCheckType.HTTP => CheckInfoType.HTTP,
            HealthCheckType.TCP => CheckInfoType.TCP,
            _ => throw new ArgumentException($"'{check.Type}' is not a valid health check type", nameof(check)),
        };
        return new CheckSpec(
            type,
            $"{type} health check",
            Seconds(check.DelaySeconds, DefaultDelay),
            Seconds(check.IntervalSeconds, DefaultInterval),
            TimeoutOrNone(check.TimeoutSeconds),
            check.Command,
            check.Http?.Port ?? check.Tcp?.Port ?? 0,
            check.Http?.Path ?? "",
            check.Http?.Scheme ?? "http",
            (check.Http?.Protocol ?? check.Tcp?.Protocol) == NetworkInfoProtocol.IPv6);
    }

    public static CheckSpec From(CheckInfo check)
    {
        ArgumentNullException.ThrowIfNull(check);
        if (check.Type is not (CheckInfoType.COMMAND or CheckInfoType.HTTP or CheckInfoType.TCP))
        {
            throw new ArgumentException($"'{check.Type}' is not a valid check type", nameof(check));
        }

        // Mesos: HTTP checks (unlike HTTP health checks) are plain http on IPv4.
        return new CheckSpec(
            check.Type.Value,
            $"{check.Type} check",
            Seconds(check.DelaySeconds, DefaultDelay),
            Seconds(check.IntervalSeconds, DefaultInterval),
            TimeoutOrNone(check.TimeoutSeconds),
            check.Command?.Command,
            check.Http?.Port ?? check.Tcp?.Port ?? 0,
            check.Http?.Path ?? "");
    }

    private static TimeSpan Seconds(double? value, TimeSpan fallback) => value is { } seconds ? TimeSpan.FromSeconds(seconds) : fallback;

    private static TimeSpan? TimeoutOrNone(double? value) => Seconds(value, DefaultTimeout) is { } timeout && timeout > TimeSpan.Zero ? timeout : null;
}
