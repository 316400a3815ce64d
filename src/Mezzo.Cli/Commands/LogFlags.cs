using System.CommandLine;
using Mezzo.Cli.Flags;
using Mezzo.Hosting.Logging;
using Microsoft.Extensions.Logging;

namespace Mezzo.Cli.Commands;

/// <summary>
/// <c>--log-format console|json</c> and <c>--log-level</c> (also Mesos's <c>--logging_level</c>), defined once and added
/// to every command that runs a server (master, agent, services, jobs, dev) and to <c>execute</c>.
/// </summary>
public sealed record LogFlags(Option<string> Format, Option<string> Level)
{
    /// <param name="defaultLevel">The level when neither the flag nor MEZZO_LOG_LEVEL says.</param>
    public static LogFlags Create(string defaultLevel = "info")
    {
        var format = FlagOption.Create("log-format",
                "How log lines are written (on stderr): 'console' (one readable line per event) or 'json' (one JSON object per line, "
                + "with the event's structured state and scopes, timestamps in UTC ISO 8601)", () => "console")
            .Check(value => ProcessLogging.ParseFormat(value) is null
                ? $"--log-format: unknown format '{value}'; expected one of: {string.Join(", ", ProcessLogging.FormatNames)}"
                : null);
        var level = FlagOption.Create("log-level",
                "Lowest level logged: trace, debug, info, warning, error, critical or none (SET_LOGGING_LEVEL and /logging/toggle "
                + "raise it for a while at run time)", () => defaultLevel)
            .Check(value => ProcessLogging.ParseLevel(value) is null
                ? $"--log-level: unknown level '{value}'; expected one of: {string.Join(", ", ProcessLogging.LevelNames)}"
                : null);
        // Mesos's own spelling of the flag, so its configurations carry over.
        level.Aliases.Add("--logging-level");
        level.Aliases.Add("--logging_level");
        return new LogFlags(format, level);
    }

    public void AddTo(Command command)
    {
        ArgumentNullException.ThrowIfNull(command);
        command.Options.Add(Format);
        command.Options.Add(Level);
    }

    public ProcessLogging Settings(ParseResult parsed)
    {
        ArgumentNullException.ThrowIfNull(parsed);
        return new ProcessLogging(
            ProcessLogging.ParseFormat(parsed.GetValue(Format)) ?? LogFormat.Console,
            ProcessLogging.ParseLevel(parsed.GetValue(Level)) ?? LogLevel.Information);
    }

    /// <summary>The setup a server's Create takes.</summary>
    public Action<ILoggingBuilder> Configure(ParseResult parsed) => Settings(parsed).Configure;
}
