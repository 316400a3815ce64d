using Mezzo.Hosting.Logging;
using Mezzo.Protocol.V1;
using Microsoft.Extensions.Logging;

namespace Mezzo.Master.Actor;

/// <summary>SET_LOGGING_LEVEL: raises the process's verbosity (Mezzo.Hosting.Logging), which reverts on its own clock.</summary>
public sealed partial class MasterActor
{
    private readonly LogVerbosity _verbosity;

    /// <summary>Shared with the process's logging filter (MasterServer attaches it); a private one on this actor's clock otherwise.</summary>
    public LogVerbosity Verbosity
    {
        get => _verbosity;
        init => _verbosity = value;
    }

    public TimeProvider Time => _time;

    /// <summary>Mesos's SET_LOGGING_LEVEL: <paramref name="level"/> for <paramref name="duration"/>, then back to 0.</summary>
    public void SetLoggingLevel(uint level, TimeSpan duration)
    {
        LoggingToggle.Apply(Verbosity, level, duration, _log);
    }

    /// <summary>Mesos's "Processing call X" of the operator API, at verbosity 1 (Debug).</summary>
    public void LogOperatorCall(MasterCallType type) => Log.OperatorCall(_log, type);

    /// <summary>
    /// A stopping actor (a master shutting down, or an etcd term ending) takes its raised level with it: the next term
    /// starts at 0, as a restarted Mesos master does.
    /// </summary>
    private void EndLoggingLevel() => _verbosity.Reset();

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
        [LoggerMessage(Level = LogLevel.Debug, Message = "Processing call {Type}")]
        public static partial void OperatorCall(ILogger logger, MasterCallType type);
    }
}
