using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Mezzo.Hosting.Logging;

/// <summary>
/// <para>The process's glog-style verbosity, as the operator API's GET/SET_LOGGING_LEVEL and <c>/logging/toggle</c> see
/// it: 0 logs what the flags configured, 1 adds Debug, 2 and above add Trace. Loggers read it on every IsEnabled, so a
/// change applies at once to loggers created long before.</para>
/// <para>A raised level lasts its duration (Mesos's semantics), then drops back to 0 on <see cref="TimeProvider"/>'s clock.
/// Each change installs a new <see cref="Raise"/> with one atomic exchange, and a revert removes only its own raise
/// with a compare-and-swap, so concurrent callers (HTTP requests, an actor) need no lock: the revert of an older raise
/// finds itself replaced and does nothing.</para>
/// </summary>
public sealed class LogVerbosity
{
    private readonly TimeProvider _time;
    private Raise _current;

    public LogVerbosity(TimeProvider? time = null)
    {
        _time = time ?? TimeProvider.System;
        _current = new Raise(this, 0);
    }

    /// <summary>The minimum level the process was configured with (level 0).</summary>
    public LogLevel Baseline { get; private set; } = LogLevel.Information;

    public uint Level => Volatile.Read(ref _current).Level;

    public LogLevel Minimum => Level switch
    {
        0 => Baseline,
        1 => Baseline < LogLevel.Debug ? Baseline : LogLevel.Debug,
        _ => LogLevel.Trace,
    };

    public bool IsEnabled(LogLevel level) => level != LogLevel.None && level >= Minimum;

    /// <summary>Mesos's SET_LOGGING_LEVEL: <paramref name="level"/> for <paramref name="duration"/>, then back to 0.</summary>
    public void Set(uint level, TimeSpan duration)
    {
        if (duration < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(duration), duration, "The duration of a logging level must not be negative");
        }

        // Mesos takes nanoseconds; below a tick the raise still happens, and ends at once.
        duration = duration == TimeSpan.Zero ? TimeSpan.FromTicks(1) : duration;

        var raise = new Raise(this, level);
        // Armed only once installed: a short duration must not fire before its raise is the current one.
        raise.Timer = _time.CreateTimer(static state => ((Raise)state!).RevertIfCurrent(), raise, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        Replace(raise);
        try
        {
            raise.Timer.Change(duration, Timeout.InfiniteTimeSpan);
        }
        catch (ObjectDisposedException)
        {
            // A concurrent Set or Reset already replaced this raise: nothing left to revert.
        }
    }

    /// <summary>Back to level 0 now (a stopping master's term takes its raised level with it).</summary>
    public void Reset() => Replace(new Raise(this, 0));

    private void Replace(Raise next) => Interlocked.Exchange(ref _current, next).Timer?.Dispose();

    /// <summary>
    /// Makes this verbosity decide every category that has no rule of its own (the "Microsoft" rules and the like
    /// stay as configured), starting from the minimum level the logging setup chose.
    /// </summary>
    public void AttachTo(IServiceCollection services) =>
        services.PostConfigure<LoggerFilterOptions>(options =>
        {
            Baseline = options.MinLevel;
            options.Rules.Add(new LoggerFilterRule(null, null, null, (_, _, level) => IsEnabled(level)));
        });

    /// <summary>One level with the timer that ends it; never changed once installed, except for its timer's arming.</summary>
    private sealed class Raise(LogVerbosity owner, uint level)
    {
        public uint Level { get; } = level;

        public ITimer? Timer { get; set; }

        public void RevertIfCurrent()
        {
            if (Interlocked.CompareExchange(ref owner._current, new Raise(owner, 0), this) == this)
            {
                Timer?.Dispose();
            }
        }
    }
}
