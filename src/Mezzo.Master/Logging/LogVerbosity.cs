using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Mezzo.Master.Logging;

/// <summary>
/// The process's glog-style verbosity, as the operator API's GET/SET_LOGGING_LEVEL see it: 0 logs what the flags
/// configured, 1 adds Debug, 2 and above add Trace. The master actor is the only writer; loggers read the level on
/// every IsEnabled, so a change applies at once to loggers created long before.
/// </summary>
public sealed class LogVerbosity
{
    private volatile int _level;

    /// <summary>The minimum level the process was configured with (level 0).</summary>
    public LogLevel Baseline { get; private set; } = LogLevel.Information;

    public uint Level => (uint)_level;

    public LogLevel Minimum => _level switch
    {
        0 => Baseline,
        1 => Baseline < LogLevel.Debug ? Baseline : LogLevel.Debug,
        _ => LogLevel.Trace,
    };

    public bool IsEnabled(LogLevel level) => level != LogLevel.None && level >= Minimum;

    internal void Set(uint level) => _level = (int)Math.Min(level, int.MaxValue);

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
}
