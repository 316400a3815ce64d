using Mezzo.Protocol.V1;

namespace Mezzo.Protocol.Conversion;

/// <summary>
/// Validation of the read calls' sub-messages that the master's and the agent's operator APIs share (GET_METRICS,
/// SET_LOGGING_LEVEL, LIST_FILES, READ_FILE): the message, without the "Failed to validate" prefix, or null.
/// </summary>
public static class ReadCallValidation
{
    /// <summary>Mesos reads at most 16 memory pages per READ_FILE.</summary>
    public const int MaxReadLength = 16 * 4096;

    public static string? Timeout(DurationInfo? timeout) => timeout switch
    {
        null => null,
        { Nanoseconds: null } => "Expecting 'get_metrics.timeout.nanoseconds' to be present",
        { Nanoseconds: < 0 } => "'get_metrics.timeout.nanoseconds' must not be negative",
        _ => null,
    };

    public static string? SetLoggingLevel(MasterCallSetLoggingLevel? set) => set switch
    {
        null => "Expecting 'set_logging_level' to be present",
        { Level: null } => "Expecting 'set_logging_level.level' to be present",
        { Duration.Nanoseconds: null } or { Duration: null } => "Expecting 'set_logging_level.duration' to be present",
        { Duration.Nanoseconds: <= 0 } => "'set_logging_level.duration.nanoseconds' must be positive",
        _ => null,
    };

    public static string? ListFiles(MasterCallListFiles? list) => list switch
    {
        null => "Expecting 'list_files' to be present",
        { Path: null or "" } => "Expecting 'list_files.path' to be present",
        _ => null,
    };

    public static string? ReadFile(MasterCallReadFile? read) => read switch
    {
        null => "Expecting 'read_file' to be present",
        { Path: null or "" } => "Expecting 'read_file.path' to be present",
        { Offset: null } => "Expecting 'read_file.offset' to be present",
        { Offset: > long.MaxValue } => "'read_file.offset' is too large",
        _ => null,
    };

    public static TimeSpan? TimeoutOf(DurationInfo? timeout) =>
        timeout?.Nanoseconds is { } ns ? TimeSpan.FromTicks(ns / 100) : null;

    public static TimeSpan DurationOf(MasterCallSetLoggingLevel set) => TimeSpan.FromTicks(set.Duration!.Nanoseconds!.Value / 100);

    /// <summary>The bytes to read: what was asked, at most <see cref="MaxReadLength"/>.</summary>
    public static long LengthOf(MasterCallReadFile read) => (long)Math.Min(read.Length ?? MaxReadLength, MaxReadLength);
}
