using System.Globalization;

namespace Mezzo.Agent.Fetching;

/// <summary>Fetcher flags. Defaults follow Mesos's agent flags of the same names.</summary>
public sealed class FetcherOptions
{
    /// <summary>Mesos: --fetcher_cache_size=2GB.</summary>
    public const long DefaultCacheSize = 2L * 1024 * 1024 * 1024;

    /// <summary>--fetcher-cache-dir: where cached downloads live. The agent clears it at start, as Mesos does.</summary>
    public required string CacheDirectory { get; set; }

    /// <summary>--fetcher-cache-size in bytes; 0 turns the cache off (every URI is fetched straight into the sandbox).</summary>
    public long CacheSize { get; set; } = DefaultCacheSize;

    /// <summary>--fetcher-stall-timeout: a download that receives no byte for this long fails (Mesos: 60 s). Zero or
    /// less: never.</summary>
    public TimeSpan StallTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Parses a Mesos byte size: "2GB", "512MB", "100KB", "10B" or a plain number of bytes.</summary>
    public static bool TryParseSize(string? text, out long bytes)
    {
        bytes = 0;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        var value = text.Trim();
        long unit = 1;
        foreach (var (suffix, multiplier) in Units)
        {
            if (value.EndsWith(suffix, StringComparison.OrdinalIgnoreCase))
            {
                unit = multiplier;
                value = value[..^suffix.Length].TrimEnd();
                break;
            }
        }

        if (!double.TryParse(value, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var number)
            || number < 0 || number * unit > long.MaxValue)
        {
            return false;
        }

        bytes = (long)(number * unit);
        return true;
    }

    private static readonly (string Suffix, long Multiplier)[] Units =
    [
        ("TB", 1L << 40), ("GB", 1L << 30), ("MB", 1L << 20), ("KB", 1L << 10), ("B", 1),
    ];
}
