namespace Mezzo.Cli.Flags;

/// <summary>Mesos's duration syntax: "15secs", "50ms", "1mins", "2hrs" (and the short "15s", "2m", "1h").</summary>
public static class DurationText
{
    public static bool TryParse(string text, out TimeSpan value) => Mezzo.Hosting.Logging.MesosDuration.TryParse(text, out value);
}
