namespace Mezzo.Master.Actor;

/// <summary>One sample of the cluster's use: used and total amounts of the active agents' resources.</summary>
public sealed record UsageSample(DateTimeOffset Time, double CpusUsed, double CpusTotal, double MemUsed, double MemTotal, double DiskUsed, double DiskTotal);

/// <summary>
/// The last hour of cluster use, sampled on the actor's tick so a web UI opened now draws the whole hour rather than
/// only what it saw since it was opened. Only the actor writes; each sample publishes a new array, never changed after,
/// so readers on other threads need no lock.
/// </summary>
public sealed partial class MasterActor
{
    private volatile UsageSample[] _usageHistory = [];
    private DateTimeOffset _nextUsageSample = DateTimeOffset.MinValue;

    /// <summary>Samples oldest first, at most <see cref="MasterOptions.UsageHistory"/> old; safe to read from any thread.</summary>
    public IReadOnlyList<UsageSample> UsageHistory => _usageHistory;

    private void SampleUsage(DateTimeOffset now)
    {
        if (now < _nextUsageSample)
        {
            return;
        }

        _nextUsageSample = now + _options.UsageSampleInterval;
        var active = _agents.Values.Where(a => a.IsActive).ToList();
        var sample = new UsageSample(
            now,
            active.Sum(a => a.Used.Scalar("cpus")), active.Sum(a => a.Total.Scalar("cpus")),
            active.Sum(a => a.Used.Scalar("mem")), active.Sum(a => a.Total.Scalar("mem")),
            active.Sum(a => a.Used.Scalar("disk")), active.Sum(a => a.Total.Scalar("disk")));
        var oldest = now - _options.UsageHistory;
        var kept = _usageHistory.SkipWhile(s => s.Time < oldest);
        _usageHistory = [.. kept, sample];
    }
}
