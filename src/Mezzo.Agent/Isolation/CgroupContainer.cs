using System.Globalization;
using Mezzo.Agent.Launcher;

namespace Mezzo.Agent.Isolation;

/// <summary>One task's cgroups: one directory per hierarchy in use, all named after the container.</summary>
public sealed class CgroupContainer
{
    internal CgroupContainer(string id, IReadOnlyList<CgroupDirectory> directories, CgroupDirectory? memory, long memoryLimitBytes)
    {
        Id = id;
        Directories = directories;
        Memory = memory;
        MemoryLimitBytes = memoryLimitBytes;
    }

    public string Id { get; }

    public IReadOnlyList<CgroupDirectory> Directories { get; }

    public CgroupDirectory? Memory { get; }

    public long MemoryLimitBytes { get; }

    /// <summary>Where cpu time is counted: the cpuacct cgroup on v1 (cpuacct.stat), the cpu one on v2 (cpu.stat).</summary>
    public CgroupDirectory? CpuAccounting { get; init; }

    public CgroupDirectory? Pids { get; init; }

    /// <summary>The cgroup.procs files the task must join before it runs its command.</summary>
    public IReadOnlyList<string> ProcsFiles => [.. Directories.Select(d => Path.Combine(d.Path, "cgroup.procs"))];

    /// <summary>
    /// When the kernel's OOM killer struck inside this container, the TASK_FAILED message Mesos would give; else null.
    /// Read before <see cref="DestroyAsync"/>, which removes the counters.
    /// </summary>
    public string? MemoryLimitation(Launcher.ExitStatus exit)
    {
        if (Memory is not { } memory)
        {
            return null;
        }

        // v1 memory.oom_control and v2 memory.events both carry an "oom_kill N" line (v1 since Linux 4.13). Older v1
        // kernels only count hits of the limit: a task SIGKILLed after hitting it is taken to be the OOM killer's.
        var events = CgroupFiles.ReadKeyed(Path.Combine(memory.Path, memory.Version == 1 ? "memory.oom_control" : "memory.events"));
        var oomKilled = events.TryGetValue("oom_kill", out var kills)
            ? kills > 0
            : memory.Version == 1 && exit.Signal == Launcher.Signals.SIGKILL && CgroupFiles.ReadLong(Path.Combine(memory.Path, "memory.failcnt")) > 0;
        if (!oomKilled)
        {
            return null;
        }

        var peak = memory.Version == 1
            ? CgroupFiles.ReadLong(Path.Combine(memory.Path, "memory.max_usage_in_bytes"))
            : CgroupFiles.ReadLong(Path.Combine(memory.Path, "memory.peak")) ?? CgroupFiles.ReadLong(Path.Combine(memory.Path, "memory.current"));
        return string.Create(CultureInfo.InvariantCulture,
            $"Memory limit exceeded: Requested: {MemoryLimitBytes / (1024 * 1024)}MB Maximum Used: {(peak ?? MemoryLimitBytes) / (1024 * 1024)}MB");
    }

    /// <summary>Kills every process in the container and removes its directories; gives up at <paramref name="timeout"/>.</summary>
    public Task DestroyAsync(TimeSpan timeout) => CgroupFiles.KillAndRemoveAsync(Directories, timeout);
}

/// <summary>A cgroup directory and the version of the hierarchy it is in.</summary>
public sealed record CgroupDirectory(string Path, int Version);

/// <summary>Reading, killing and removing cgroups, shared by containers and by the clean-up of a previous run's leftovers.</summary>
internal static class CgroupFiles
{
    public static Dictionary<string, long> ReadKeyed(string file)
    {
        var result = new Dictionary<string, long>(StringComparer.Ordinal);
        try
        {
            foreach (var line in File.ReadLines(file))
            {
                var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (parts.Length == 2 && long.TryParse(parts[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out var value))
                {
                    result[parts[0]] = value;
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
        }

        return result;
    }

    public static long? ReadLong(string file)
    {
        try
        {
            return long.TryParse(File.ReadAllText(file).Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) ? value : null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    public static List<int> Procs(string directory)
    {
        var pids = new List<int>();
        try
        {
            foreach (var line in File.ReadLines(Path.Combine(directory, "cgroup.procs")))
            {
                if (int.TryParse(line, NumberStyles.Integer, CultureInfo.InvariantCulture, out var pid))
                {
                    pids.Add(pid);
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
        }

        return pids;
    }

    /// <summary>
    /// v2: cgroup.kill (Linux 5.14+) kills atomically, forks included. v1 has no such file, so every listed process is
    /// sent SIGKILL until the list stays empty; a fork racing the loop lands in the same cgroup and is caught next round.
    /// Directories are then removed, children before parents, retrying while the kernel still counts dying tasks.
    /// </summary>
    public static async Task KillAndRemoveAsync(IReadOnlyList<CgroupDirectory> directories, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        var pending = directories.Where(d => Directory.Exists(d.Path))
            .SelectMany(d => Descendants(d.Path).Select(p => d with { Path = p }))
            .OrderByDescending(d => d.Path.Length)
            .ToList();
        foreach (var directory in pending.Where(d => d.Version == 2))
        {
            try
            {
                File.WriteAllText(Path.Combine(directory.Path, "cgroup.kill"), "1");
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // Older kernel without cgroup.kill: the SIGKILL loop below does it.
            }
        }

        while (pending.Count > 0)
        {
            foreach (var directory in pending)
            {
                foreach (var pid in Procs(directory.Path))
                {
                    // The agent's launch thread visits task cgroups on v1; whatever goes wrong, never kill the agent.
                    if (pid != Environment.ProcessId)
                    {
                        _ = LibC.kill(pid, LibC.SIGKILL);
                    }
                }
            }

            pending.RemoveAll(d => LibC.rmdir(d.Path) == 0 || !Directory.Exists(d.Path));
            if (pending.Count == 0 || DateTime.UtcNow > deadline)
            {
                break;
            }

            await Task.Delay(10).ConfigureAwait(false);
        }

        if (pending.Count > 0)
        {
            throw new IOException($"cgroups not removed within {timeout.TotalSeconds:0.#} s: {string.Join(", ", pending.Select(d => d.Path))}");
        }
    }

    /// <summary>The directory and every cgroup below it.</summary>
    private static IEnumerable<string> Descendants(string path)
    {
        IEnumerable<string> children;
        try
        {
            children = Directory.EnumerateDirectories(path).ToList();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            children = [];
        }

        return children.SelectMany(Descendants).Append(path);
    }
}
