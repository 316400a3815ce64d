using System.CommandLine;
using Mezzo.Agent;
using Mezzo.Agent.Fetching;
using Mezzo.Cli.Flags;

namespace Mezzo.Cli.Commands;

/// <summary>The fetcher flags (Mesos's --fetcher_cache_dir, --fetcher_cache_size, --fetcher_stall_timeout), shared by
/// <c>agent</c> and <c>dev</c>.</summary>
public sealed record FetcherFlags(Option<string?> CacheDir, Option<string> CacheSize, Option<TimeSpan> StallTimeout)
{
    public static FetcherFlags Create() => new(
        FlagOption.Create<string?>("fetcher-cache-dir", "Where URIs fetched with cache: true are kept (default: <work-dir>/fetch; cleared at start)", () => null),
        FlagOption.Create("fetcher-cache-size", "Size bound of the fetcher cache, e.g. 2GB or 512MB; least recently used files go first; 0 turns the cache off", () => "2GB")
            .Check(value => FetcherOptions.TryParseSize(value, out _) ? null : $"--fetcher-cache-size: '{value}' is not a size (e.g. 2GB, 512MB, 0)"),
        FlagOption.Duration("fetcher-stall-timeout", "A URI download that receives no data for this long fails", TimeSpan.FromSeconds(60)));

    public void Apply(ParseResult parsed, AgentOptions options)
    {
        options.FetcherCacheDir = parsed.GetValue(CacheDir) is { Length: > 0 } dir ? Path.GetFullPath(dir) : null;
        FetcherOptions.TryParseSize(parsed.GetValue(CacheSize), out var size);
        options.FetcherCacheSize = size;
        options.FetcherStallTimeout = parsed.GetValue(StallTimeout);
    }
}
