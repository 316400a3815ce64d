using System.Globalization;

namespace Mezzo.Hosting.Logging;

/// <summary>Mesos's duration syntax: "15secs", "50ms", "1mins", "2hrs" (and the short "15s", "2m", "1h").</summary>
public static class MesosDuration
{
    public static bool TryParse(string text, out TimeSpan value)
    {
        ArgumentNullException.ThrowIfNull(text);
        value = default;
        var trimmed = text.Trim();
        var split = 0;
        while (split < trimmed.Length && (char.IsDigit(trimmed[split]) || trimmed[split] == '.'))
        {
            split++;
        }

        if (split == 0 || !double.TryParse(trimmed[..split], NumberStyles.Float, CultureInfo.InvariantCulture, out var number) || !double.IsFinite(number))
        {
            return false;
        }

        double? seconds = trimmed[split..].Trim() switch
        {
            "ns" => number / 1e9,
            "us" => number / 1e6,
            "ms" => number / 1e3,
            "" or "s" or "sec" or "secs" => number,
            "m" or "min" or "mins" => number * 60,
            "h" or "hr" or "hrs" => number * 3600,
            "d" or "day" or "days" => number * 86400,
            "w" or "week" or "weeks" => number * 604800,
            _ => null,
        };
        if (seconds is null || seconds > TimeSpan.MaxValue.TotalSeconds / 2)
        {
            return false;
        }

        value = TimeSpan.FromSeconds(seconds.Value);
        return true;
    }
}
