using Microsoft.Extensions.Logging;

namespace Mezzo.Hosting.Logging;

/// <summary>
/// The logging every Mezzo server sets up (<c>--log-format</c>, <c>--log-level</c>): one line per event with a UTC
/// timestamp, on stderr so stdout stays for what a command prints (its URL, a task's output).
/// </summary>
public sealed record ProcessLogging(LogFormat Format = LogFormat.Console, LogLevel Level = LogLevel.Information)
{
    /// <summary>ISO 8601 in UTC, to the millisecond: what log shippers parse without a pattern.</summary>
    public const string TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";

    public static readonly IReadOnlyList<string> FormatNames = ["console", "json"];

    /// <summary>Mesos's --logging_level values (INFO, WARNING, ERROR) and .NET's level names, in any case.</summary>
    public static readonly IReadOnlyList<string> LevelNames = ["trace", "debug", "info", "information", "warning", "error", "critical", "none"];

    public static LogFormat? ParseFormat(string? text) => text?.Trim().ToLowerInvariant() switch
    {
        "console" => LogFormat.Console,
        "json" => LogFormat.Json,
        _ => null,
    };

    public static LogLevel? ParseLevel(string? text) => text?.Trim().ToLowerInvariant() switch
    {
        "trace" => LogLevel.Trace,
        "debug" => LogLevel.Debug,
        "info" or "information" => LogLevel.Information,
        "warn" or "warning" => LogLevel.Warning,
        "error" => LogLevel.Error,
        "critical" or "fatal" => LogLevel.Critical,
        "none" => LogLevel.None,
        _ => null,
    };

    public void Configure(ILoggingBuilder logging)
    {
        ArgumentNullException.ThrowIfNull(logging);
        logging.SetMinimumLevel(Level);
        // The framework's own chatter (Kestrel, hosting) only when it matters; a raised verbosity leaves it alone too.
        logging.AddFilter("Microsoft", Level > LogLevel.Warning ? Level : LogLevel.Warning);
        if (Format == LogFormat.Json)
        {
            logging.AddJsonConsole(options =>
            {
                options.IncludeScopes = true;
                options.UseUtcTimestamp = true;
                options.TimestampFormat = TimestampFormat;
                options.JsonWriterOptions = new System.Text.Json.JsonWriterOptions { Indented = false };
            });
        }
        else
        {
            logging.AddSimpleConsole(options =>
            {
                options.SingleLine = true;
                options.UseUtcTimestamp = true;
                options.TimestampFormat = TimestampFormat + " ";
            });
        }

        logging.AddConsole(options => options.LogToStandardErrorThreshold = LogLevel.Trace);
    }
}
