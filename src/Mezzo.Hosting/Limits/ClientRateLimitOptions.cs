namespace Mezzo.Hosting.Limits;

/// <summary>
/// Per-client token buckets in front of an API: a client may send <see cref="Burst"/> calls at once and then
/// <see cref="PermitsPerSecond"/> a second. Zero in either turns the limit off.
/// </summary>
public sealed class ClientRateLimitOptions
{
    /// <summary>Sustained calls per second per client.</summary>
    public int PermitsPerSecond { get; set; } = 2000;

    /// <summary>Calls a client may send at once (the bucket's size).</summary>
    public int Burst { get; set; } = 10_000;

    /// <summary>How often the bucket is refilled (with the second's share of <see cref="PermitsPerSecond"/>).</summary>
    public TimeSpan ReplenishmentPeriod { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Loopback clients are not limited: they are the operator's own tools and the load simulator, which sends
    /// thousands of calls a second from one address.
    /// </summary>
    public bool ExemptLoopback { get; set; } = true;

    public bool Enabled => PermitsPerSecond > 0 && Burst > 0;
}
