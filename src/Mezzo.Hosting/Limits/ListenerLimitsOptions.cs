using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Mezzo.Hosting.Limits;

/// <summary>
/// Connection and header limits every Mezzo listener applies, so that no client can hold the process's sockets or
/// memory with huge or never-finished requests. Request bodies are not limited here: each API answers an oversized
/// body with its own 413 message.
/// </summary>
public sealed class ListenerLimitsOptions
{
    /// <summary>All header lines of one request together.</summary>
    public long MaxRequestHeadersTotalSize { get; set; } = 32 * 1024;

    public int MaxRequestHeaderCount { get; set; } = 100;

    /// <summary>
    /// Time a client has to send all of a request's headers. A slow-loris client trickling its headers byte by byte
    /// is cut when it passes, so it cannot keep connections open for free.
    /// </summary>
    public TimeSpan RequestHeadersTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Slowest body upload tolerated after <see cref="MinRequestBodyGracePeriod"/>: the same trickle, for bodies.
    /// </summary>
    public double MinRequestBodyBytesPerSecond { get; set; } = 240;

    public TimeSpan MinRequestBodyGracePeriod { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Open connections at once, above which new ones are refused. Generous: every agent, framework and event-stream
    /// subscriber holds one, and a thousand-agent cluster must fit with room to spare.
    /// </summary>
    public long MaxConcurrentConnections { get; set; } = 10_000;

    /// <summary>Idle time after which a kept-alive connection is closed.</summary>
    public TimeSpan KeepAliveTimeout { get; set; } = TimeSpan.FromSeconds(130);

    public void ApplyTo(KestrelServerLimits limits)
    {
        ArgumentNullException.ThrowIfNull(limits);
        limits.MaxRequestHeadersTotalSize = checked((int)MaxRequestHeadersTotalSize);
        limits.MaxRequestHeaderCount = MaxRequestHeaderCount;
        limits.RequestHeadersTimeout = RequestHeadersTimeout;
        limits.MinRequestBodyDataRate = new MinDataRate(MinRequestBodyBytesPerSecond, MinRequestBodyGracePeriod);
        limits.MaxConcurrentConnections = MaxConcurrentConnections;
        limits.KeepAliveTimeout = KeepAliveTimeout;
    }
}
