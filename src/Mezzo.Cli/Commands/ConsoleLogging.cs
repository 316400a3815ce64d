using Mezzo.Hosting.Logging;
using Microsoft.Extensions.Logging;

namespace Mezzo.Cli.Commands;

/// <summary>The default console setup, for commands without <see cref="LogFlags"/>.</summary>
public static class ConsoleLogging
{
    /// <summary>One line per event with a UTC timestamp, on stderr so stdout stays for command output.</summary>
    public static void Configure(ILoggingBuilder logging, LogLevel minimum = LogLevel.Information) =>
        new ProcessLogging(LogFormat.Console, minimum).Configure(logging);
}
