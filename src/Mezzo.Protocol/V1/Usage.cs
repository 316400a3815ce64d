namespace Mezzo.Protocol.V1;

/// <summary>mesos.proto ResourceStatistics: a snapshot of one container's usage, as /monitor/statistics reports it.</summary>
public sealed class ResourceStatistics
{
    /// <summary>Seconds since the Epoch.</summary>
    public double? Timestamp { get; set; }

    public uint? Processes { get; set; }

    public uint? Threads { get; set; }

    public double? CpusUserTimeSecs { get; set; }

    public double? CpusSystemTimeSecs { get; set; }

    public double? CpusLimit { get; set; }

    public uint? CpusNrPeriods { get; set; }

    public uint? CpusNrThrottled { get; set; }

    public double? CpusThrottledTimeSecs { get; set; }

    public ulong? MemTotalBytes { get; set; }

    public ulong? MemLimitBytes { get; set; }

    public ulong? MemFileBytes { get; set; }

    public ulong? MemAnonBytes { get; set; }

    public ulong? MemCacheBytes { get; set; }

    public ulong? MemRssBytes { get; set; }

    public ulong? MemMappedFileBytes { get; set; }

    public ulong? MemSwapBytes { get; set; }

    public ulong? DiskLimitBytes { get; set; }

    public ulong? DiskUsedBytes { get; set; }
}

/// <summary>One element of the agent's /monitor/statistics array (Mesos's slave/monitor.cpp; not a proto message).</summary>
public sealed class MonitorStatisticsEntry
{
    public string? ExecutorId { get; set; }

    public string? ExecutorName { get; set; }

    public string? FrameworkId { get; set; }

    public string? Source { get; set; }

    public ResourceStatistics? Statistics { get; set; }
}
