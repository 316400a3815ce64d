namespace Mezzo.Hosting.Logging;

/// <summary>How a Mezzo process writes its log lines (<c>--log-format</c>).</summary>
public enum LogFormat
{
    /// <summary>One human-readable line per event.</summary>
    Console,

    /// <summary>One JSON object per line, with the event's structured state and scopes, for log shippers.</summary>
    Json,
}
