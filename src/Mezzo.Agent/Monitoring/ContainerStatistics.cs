using System.Globalization;
using Mezzo.Agent.Isolation;
using Mezzo.Protocol.V1;

namespace Mezzo.Agent.Monitoring;

/// <summary>What the agent knows of one running container, captured on the actor; reading its usage happens off it.</summary>
public sealed record UsageTarget(
    string ExecutorId,
    string ExecutorName,
    string FrameworkId,
    string Source,
    double Cpus,
    double MemMb,
    double DiskMb,
    int? Pid,
    CgroupContainer? Container,
    long? DiskUsedBytes);

/// <summary>
/// ResourceStatistics of a container, as Mesos's cgroups isolators report them: cpu times from cpuacct.stat (v1, in
/// USER_HZ ticks) or cpu.stat (v2, µs), memory from memory.stat, process and thread counts from the cgroup. Without
/// cgroups, the task's process group is summed from /proc. Limits are the task's resources. Never throws: a file
/// that cannot be read leaves its fields out.
/// </summary>
public static class ContainerStatistics
{
    /// <summary>Linux's USER_HZ, the unit of cpuacct.stat and /proc/pid/stat times, is 100 on every architecture.</summary>
    private const double UserHz = 100;

    private static readonly long PageSize = Environment.SystemPageSize;

    public static MonitorStatisticsEntry Read(UsageTarget target, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(target);
        var statistics = new ResourceStatistics
        {
            Timestamp = now.ToUnixTimeMilliseconds() / 1000.0,
            CpusLimit = target.Cpus,
            MemLimitBytes = target.Container is { Memory: not null } container ? (ulong)container.MemoryLimitBytes : (ulong)(target.MemMb * 1024 * 1024),
        };
        if (target.DiskMb > 0)
        {
            statistics.DiskLimitBytes = (ulong)(target.DiskMb * 1024 * 1024);
        }

        if (target.DiskUsedBytes is { } used)
        {
            statistics.DiskUsedBytes = (ulong)used;
        }

        try
        {
            if (target.Container is { } cgroups)
            {
                FromCgroups(cgroups, statistics);
            }
            else if (target.Pid is { } pid)
            {
                FromProc(pid, statistics);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException)
        {
            // The container is going away while we read: what was read stands.
        }

        return new MonitorStatisticsEntry
        {
            ExecutorId = target.ExecutorId,
            ExecutorName = target.ExecutorName,
            FrameworkId = target.FrameworkId,
            Source = target.Source,
            Statistics = statistics,
        };
    }

    private static void FromCgroups(CgroupContainer container, ResourceStatistics statistics)
    {
        if (container.CpuAccounting is { } cpu)
        {
            if (cpu.Version == 1)
            {
                var stat = CgroupFiles.ReadKeyed(Path.Combine(cpu.Path, "cpuacct.stat"));
                if (stat.TryGetValue("user", out var user) && stat.TryGetValue("system", out var system))
                {
                    statistics.CpusUserTimeSecs = user / UserHz;
                    statistics.CpusSystemTimeSecs = system / UserHz;
                }
            }
            else
            {
                var stat = CgroupFiles.ReadKeyed(Path.Combine(cpu.Path, "cpu.stat"));
                if (stat.TryGetValue("user_usec", out var user) && stat.TryGetValue("system_usec", out var system))
                {
                    statistics.CpusUserTimeSecs = user / 1e6;
                    statistics.CpusSystemTimeSecs = system / 1e6;
                }

                if (stat.TryGetValue("nr_periods", out var periods) && stat.TryGetValue("nr_throttled", out var throttled))
                {
                    statistics.CpusNrPeriods = (uint)periods;
                    statistics.CpusNrThrottled = (uint)throttled;
                    statistics.CpusThrottledTimeSecs = stat.GetValueOrDefault("throttled_usec") / 1e6;
                }
            }
        }

        if (container.Memory is { } memory)
        {
            var stat = CgroupFiles.ReadKeyed(Path.Combine(memory.Path, "memory.stat"));
            if (memory.Version == 1)
            {
                // total_* include child cgroups, which a task may not create but a v1 memory.stat always offers.
                SetIfPresent(stat, "total_rss", v => statistics.MemRssBytes = v);
                SetIfPresent(stat, "total_rss", v => statistics.MemAnonBytes = v);
                SetIfPresent(stat, "total_cache", v => statistics.MemFileBytes = v);
                SetIfPresent(stat, "total_cache", v => statistics.MemCacheBytes = v);
                SetIfPresent(stat, "total_mapped_file", v => statistics.MemMappedFileBytes = v);
                if (CgroupFiles.ReadLong(Path.Combine(memory.Path, "memory.usage_in_bytes")) is { } total)
                {
                    statistics.MemTotalBytes = (ulong)total;
                }
            }
            else
            {
                SetIfPresent(stat, "anon", v => statistics.MemRssBytes = v);
                SetIfPresent(stat, "anon", v => statistics.MemAnonBytes = v);
                SetIfPresent(stat, "file", v => statistics.MemFileBytes = v);
                SetIfPresent(stat, "file", v => statistics.MemCacheBytes = v);
                SetIfPresent(stat, "file_mapped", v => statistics.MemMappedFileBytes = v);
                if (CgroupFiles.ReadLong(Path.Combine(memory.Path, "memory.current")) is { } total)
                {
                    statistics.MemTotalBytes = (ulong)total;
                }
            }
        }

        if ((container.Pids ?? container.Memory ?? container.Directories.FirstOrDefault()) is { } any)
        {
            statistics.Processes = (uint)CgroupFiles.Procs(any.Path).Count;
            var threads = any.Version == 1 ? CountLines(Path.Combine(any.Path, "tasks")) : CgroupFiles.ReadLong(Path.Combine(any.Path, "pids.current"));
            if (threads is { } count)
            {
                statistics.Threads = (uint)count;
            }
        }
    }

    private static void SetIfPresent(Dictionary<string, long> stat, string key, Action<ulong> set)
    {
        if (stat.TryGetValue(key, out var value))
        {
            set((ulong)value);
        }
    }

    private static long? CountLines(string file)
    {
        try
        {
            return File.ReadLines(file).LongCount(l => l.Length > 0);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>
    /// Without cgroups: the process tree under <paramref name="root"/> (a task's supervisor, or an executor), from
    /// /proc/N/stat. A tree rather than a process group: the supervisor and its task lead different groups, and the
    /// supervisor is a child subreaper, so what the task leaves behind stays in its tree.
    /// </summary>
    private static void FromProc(int root, ResourceStatistics statistics)
    {
        var all = new Dictionary<int, (int Parent, string[] Fields)>();
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                continue;
            }

            string text;
            try
            {
                text = File.ReadAllText(Path.Combine(directory, "stat"));
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                continue;
            }

            // pid (comm) state ppid pgrp ...: comm may hold spaces and parentheses, so fields start after the last ')'.
            var fields = text[(text.LastIndexOf(')') + 2)..].Split(' ');
            if (fields.Length >= 22 && int.TryParse(fields[1], NumberStyles.None, CultureInfo.InvariantCulture, out var parent))
            {
                all[pid] = (parent, fields);
            }
        }

        var children = all.ToLookup(p => p.Value.Parent, p => p.Key);
        long user = 0, system = 0, rssPages = 0;
        uint processes = 0, threads = 0;
        var pending = new Stack<int>([root]);
        while (pending.TryPop(out var pid))
        {
            foreach (var child in children[pid])
            {
                pending.Push(child);
            }

            // Zombies are done: their times went to their parent's cutime, and they hold no memory.
            if (!all.TryGetValue(pid, out var process) || process.Fields[0] is "Z" or "X")
            {
                continue;
            }

            var fields = process.Fields;
            processes++;
            user += long.Parse(fields[11], CultureInfo.InvariantCulture);
            system += long.Parse(fields[12], CultureInfo.InvariantCulture);
            threads += uint.Parse(fields[17], CultureInfo.InvariantCulture);
            rssPages += long.Parse(fields[21], CultureInfo.InvariantCulture);
        }

        if (processes > 0)
        {
            statistics.Processes = processes;
            statistics.Threads = threads;
            statistics.CpusUserTimeSecs = user / UserHz;
            statistics.CpusSystemTimeSecs = system / UserHz;
            statistics.MemRssBytes = (ulong)(rssPages * PageSize);
        }
    }
}
