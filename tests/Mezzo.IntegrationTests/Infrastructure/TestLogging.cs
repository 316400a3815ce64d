using Microsoft.Extensions.Logging;

namespace Mezzo.IntegrationTests.Infrastructure;

/// <summary>In-process hosts log to stderr when MEZZO_TEST_LOG=1, so a failing test can be replayed with the story.</summary>
public static class TestLogging
{
    public static void Configure(ILoggingBuilder logging)
    {
        if (Environment.GetEnvironmentVariable("MEZZO_TEST_LOG") == "1")
        {
            Mezzo.Cli.Commands.ConsoleLogging.Configure(logging, LogLevel.Debug);
        }
    }
}
