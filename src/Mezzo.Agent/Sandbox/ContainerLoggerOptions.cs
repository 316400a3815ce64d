using Mezzo.Agent.Launcher;

namespace Mezzo.Agent.Sandbox;

/// <summary>Where a task's stdout and stderr go (<c>--container-logger</c>).</summary>
public enum ContainerLoggerKind
{
    /// <summary>Mesos's default SandboxContainerLogger: the task writes the sandbox's stdout/stderr files directly, unbounded.</summary>
    Sandbox,

    /// <summary>Mesos's LogrotateContainerLogger: the task's supervisor copies its output into the files and rotates them by size.</summary>
    Logrotate,
}

/// <summary>
/// <c>--container-logger</c>, <c>--container-logger-max-size</c>, <c>--container-logger-max-files</c>. With logrotate, a
/// sandbox keeps at most about (max files + 1) × max size per stream: <c>stdout</c> with the newest output and
/// <c>stdout.1</c> … <c>stdout.N</c> before it.
/// </summary>
public sealed class ContainerLoggerOptions
{
    /// <summary>Mesos's LogrotateContainerLogger default (--max_stdout_size, --max_stderr_size).</summary>
    public const long DefaultMaxSize = 10L * 1024 * 1024;

    public const int DefaultMaxFiles = 5;

    /// <summary>What --container-logger accepts: ours, and Mesos's module names so its configurations carry over.</summary>
    public static readonly IReadOnlyList<string> Names = ["sandbox", "logrotate"];

    public ContainerLoggerKind Kind { get; set; } = ContainerLoggerKind.Sandbox;

    public long MaxSize { get; set; } = DefaultMaxSize;

    public int MaxFiles { get; set; } = DefaultMaxFiles;

    /// <summary>What a supervisor is told to do with its task's output; null for the sandbox logger (no copying at all).</summary>
    public LogRotation? Rotation => Kind == ContainerLoggerKind.Logrotate ? new LogRotation(MaxSize, MaxFiles) : null;

    public static ContainerLoggerKind? ParseKind(string? text) => text?.Trim().ToLowerInvariant() switch
    {
        "sandbox" or "" or "org_apache_mesos_sandboxcontainerlogger" => ContainerLoggerKind.Sandbox,
        "logrotate" or "org_apache_mesos_logrotatecontainerlogger" => ContainerLoggerKind.Logrotate,
        _ => null,
    };
}
