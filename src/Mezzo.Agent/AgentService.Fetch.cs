using Mezzo.Agent.Fetching;
using Mezzo.Agent.Tasks;

namespace Mezzo.Agent;

/// <summary>The fetch step of the launch pipeline: a task's CommandInfo.uris into its sandbox, off the actor.</summary>
public sealed partial class AgentService
{
    private Fetcher? _fetcher;

    /// <summary>At start: the cache from a previous run is cleared, as Mesos clears it at agent recovery.</summary>
    private void StartFetcher() =>
        _fetcher = new Fetcher(
            new FetcherOptions
            {
                CacheDirectory = _options.FetcherCacheDir ?? Path.Combine(_options.WorkDir, "fetch"),
                CacheSize = _options.FetcherCacheSize,
                StallTimeout = _options.FetcherStallTimeout,
            },
            _log,
            _time);

    /// <summary>Off the actor. Throws <see cref="FetchException"/> naming the URI; the pipeline turns it into
    /// TASK_FAILED with REASON_CONTAINER_LAUNCH_FAILED.</summary>
    private Task FetchUrisAsync(AgentTask task, CancellationToken cancellationToken)
    {
        var command = task.Info.Command!;
        var user = command.User ?? task.Framework.User;
        return (_fetcher ?? throw new InvalidOperationException("The agent has not started"))
            .FetchAsync(command.Uris!, task.Sandbox, string.IsNullOrEmpty(user) ? null : user, cancellationToken);
    }
}
