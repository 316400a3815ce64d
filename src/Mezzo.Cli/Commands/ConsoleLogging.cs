using Microsoft.Extensions.Logging;

namespace Mezzo.Cli.Commands;

public static class ConsoleLogging
{
    /// <summary>One line per event with a UTC timestamp, on stderr so stdout stays for command output.</summary>
    public static void Configure(ILoggingBuilder logging, LogLevel minimum = LogLevel.Information)
    {
        logging.SetMinimumLevel(minimum);
        logging.AddFilter("Microsoft", LogLevel.Warning);
        logging.AddSimpleConsole(options =>
        {
            options.SingleLine = true;
            options.UseUtcTimestamp = true;
            options.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ";
        });
        logging.AddConsole(options => options.LogToStandardErrorThreshold = LogLevel.Trace);
    }
}
