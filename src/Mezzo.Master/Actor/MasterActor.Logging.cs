using Mezzo.Master.Logging;
using Microsoft.Extensions.Logging;

namespace Mezzo.Master.Actor;

/// <summary>SET_LOGGING_LEVEL: the actor owns the verbosity's changes and reverts them on its clock.</summary>
public sealed partial class MasterActor
{
    private ITimer? _verbosityRevert;
    private long _verbosityGeneration;

    /// <summary>Shared with the process's logging filter (MasterServer attaches it); a private one otherwise.</summary>
    public LogVerbosity Verbosity { get; init; } = new();

    public TimeProvider Time => _time;

    /// <summary>Mesos's SET_LOGGING_LEVEL: <paramref name="level"/> for <paramref name="duration"/>, then back to 0.</summary>
    public void SetLoggingLevel(uint level, TimeSpan duration)
    {
        _verbosityRevert?.Dispose();
        var generation = ++_verbosityGeneration;
        Verbosity.Set(level);
        Log.LoggingLevelSet(_log, level, duration.TotalSeconds);
        _verbosityRevert = _time.CreateTimer(
            _ => Post(() =>
            {
                // A later SET_LOGGING_LEVEL owns the level now; this older timer must not undo it.
                if (generation == _verbosityGeneration)
                {
                    Verbosity.Set(0);
                    Log.LoggingLevelReverted(_log);
                }
            }),
            null,
            duration,
            Timeout.InfiniteTimeSpan);
    }

    /// <summary>
    /// A stopping actor (a master shutting down, or an etcd term ending) takes its raised level with it: the next term
    /// starts at 0, as a restarted Mesos master does.
    /// </summary>
    private void EndLoggingLevel()
    {
        if (_verbosityRevert is not null)
        {
            _verbosityRevert.Dispose();
            _verbosityRevert = null;
            _verbosityGeneration++;
            Verbosity.Set(0);
        }
    }

    /// <summary>
    /// The metrics that do not need the actor: what GET_METRICS still answers when its timeout passes before the actor
    /// does (Mesos: "some metrics may not be included in the response").
    /// </summary>
    public Dictionary<string, double> MetricsWithoutActor() => new()
    {
        ["master/elected"] = 1,
        ["master/uptime_secs"] = (_time.GetUtcNow() - StartTime).TotalSeconds,
        ["master/event_queue_messages"] = Interlocked.Read(ref _queued),
    };

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "Logging level set to {Level} for {Seconds}s")]
        public static partial void LoggingLevelSet(ILogger logger, uint level, double seconds);

        [LoggerMessage(Level = LogLevel.Information, Message = "Logging level reverted to 0")]
        public static partial void LoggingLevelReverted(ILogger logger);
    }
}
