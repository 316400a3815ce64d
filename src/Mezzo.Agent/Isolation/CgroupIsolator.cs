using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;

namespace Mezzo.Agent.Isolation;

/// <summary>
/// The cgroups isolators (cgroups/cpu, cgroups/mem, cgroups/pids): detects what the host offers at agent start,
/// keeps the requested controllers that really work, and makes one cgroup per container under
/// <c>&lt;hierarchy&gt;/&lt;cgroups root&gt;/agent-&lt;work-dir hash&gt;/</c> so agents sharing a machine (and parallel
/// tests) never see each other's cgroups, while a restarted agent finds its own leftovers.
/// </summary>
public sealed partial class CgroupIsolator
{
    public const long MinMemoryBytes = 32L * 1024 * 1024;
    private const int CfsPeriodMicros = 100_000;
    private static readonly TimeSpan DestroyTimeout = TimeSpan.FromSeconds(30);

    private readonly AgentOptions _options;
    private readonly Dictionary<string, CgroupHierarchy> _controllers;

    private CgroupIsolator(AgentOptions options, CgroupLayout layout, Dictionary<string, CgroupHierarchy> controllers, string agentCgroup)
    {
        _options = options;
        Layout = layout;
        _controllers = controllers;
        AgentCgroup = agentCgroup;
    }

    public CgroupLayout Layout { get; }

    /// <summary>The controllers in use; empty means process-group isolation only.</summary>
    public IReadOnlyDictionary<string, CgroupHierarchy> Controllers => _controllers;

    public bool Enabled => _controllers.Count > 0;

    /// <summary>This agent's parent cgroup, relative to each hierarchy's mount point.</summary>
    public string AgentCgroup { get; }

    /// <summary>The agent's parent directory in every hierarchy in use.</summary>
    public IReadOnlyList<CgroupDirectory> AgentDirectories =>
        [.. _controllers.Values.DistinctBy(h => h.MountPoint).Select(h => new CgroupDirectory(Path.Combine(h.MountPoint, AgentCgroup), h.Version))];

    /// <summary>
    /// Detects and probes (a previous run's cgroups are left to <see cref="RemoveLeftoversAsync"/>, after recovery). Never throws for a host without cgroups: it logs a
    /// warning and returns an isolator with nothing enabled. Throws ArgumentException for a bad --isolation.
    /// </summary>
    public static CgroupIsolator Create(AgentOptions options, ILogger log)
    {
        ArgumentNullException.ThrowIfNull(options);
        var wanted = IsolationFlag.Controllers(options.Isolation);
        var agentCgroup = Path.Combine(options.CgroupsRoot.Trim('/'), AgentKey(options.WorkDir));
        var layout = Detect(options.CgroupsHierarchy);
        var usable = new Dictionary<string, CgroupHierarchy>(StringComparer.Ordinal);
        var problems = new List<string>();
        foreach (var controller in wanted)
        {
            if (!layout.Controllers.TryGetValue(controller, out var hierarchy))
            {
                problems.Add($"{controller}: not mounted under {options.CgroupsHierarchy}");
                continue;
            }

            if (Probe(hierarchy, agentCgroup, controller) is { } problem)
            {
                problems.Add($"{controller}: {problem}");
                continue;
            }

            usable[controller] = hierarchy;
        }

        if (usable.ContainsKey("cpu") && layout.Controllers.TryGetValue(CgroupDetection.CpuAccounting, out var accounting)
            && Probe(accounting, agentCgroup, CgroupDetection.CpuAccounting) is null)
        {
            usable[CgroupDetection.CpuAccounting] = accounting;
        }

        var isolator = new CgroupIsolator(options, layout, usable, agentCgroup);
        if (wanted.Count == 0)
        {
            Log.NotRequested(log, options.Isolation ?? "");
        }
        else if (usable.Count == 0)
        {
            Log.Unavailable(log, options.Isolation ?? IsolationFlag.Default, string.Join("; ", problems));
        }
        else
        {
            Log.Using(log, layout.Mode.ToString().ToLowerInvariant(),
                string.Join(", ", usable.Select(kv => $"{kv.Key} (v{kv.Value.Version} {kv.Value.MountPoint})")), agentCgroup,
                problems.Count == 0 ? "" : "; not available: " + string.Join("; ", problems));
        }

        return isolator;
    }

    /// <summary>An isolator over controllers already known to work: no detection, probing or clean-up (tests, tools).</summary>
    public static CgroupIsolator ForControllers(AgentOptions options, IReadOnlyDictionary<string, CgroupHierarchy> controllers)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(controllers);
        var layout = new CgroupLayout(CgroupMode.None, controllers, null);
        return new CgroupIsolator(options, layout, new Dictionary<string, CgroupHierarchy>(controllers, StringComparer.Ordinal),
            Path.Combine(options.CgroupsRoot.Trim('/'), AgentKey(options.WorkDir)));
    }

    /// <summary>"agent-" and a hash of the work dir: stable across restarts, distinct for agents in other work dirs.</summary>
    public static string AgentKey(string workDir) =>
        "agent-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Path.GetFullPath(workDir))))[..16];

    private static CgroupLayout Detect(string hierarchyRoot)
    {
        try
        {
            var mountinfo = File.ReadAllText("/proc/self/mountinfo");
            var procCgroups = File.Exists("/proc/cgroups") ? File.ReadAllText("/proc/cgroups") : "";
            return CgroupDetection.Parse(mountinfo, procCgroups, ReadControllers, hierarchyRoot);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return CgroupLayout.Empty;
        }

        static string? ReadControllers(string mountPoint)
        {
            try
            {
                return File.ReadAllText(Path.Combine(mountPoint, "cgroup.controllers"));
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                return null;
            }
        }
    }

    /// <summary>Creates the agent's parent (enabling the controller down to it on v2) and a probe cgroup, then removes the probe.</summary>
    private static string? Probe(CgroupHierarchy hierarchy, string agentCgroup, string controller)
    {
        try
        {
            var agentDir = Path.Combine(hierarchy.MountPoint, agentCgroup);
            Directory.CreateDirectory(agentDir);
            if (hierarchy.Version == 2)
            {
                // v2 only offers a controller to a child whose parent lists it in cgroup.subtree_control, level by level.
                var current = hierarchy.MountPoint;
                foreach (var part in agentCgroup.Split('/'))
                {
                    File.WriteAllText(Path.Combine(current, "cgroup.subtree_control"), "+" + controller);
                    current = Path.Combine(current, part);
                }

                File.WriteAllText(Path.Combine(agentDir, "cgroup.subtree_control"), "+" + controller);
            }

            var probe = Path.Combine(agentDir, "probe-" + Guid.NewGuid().ToString("N")[..12]);
            Directory.CreateDirectory(probe);
            var file = (controller, hierarchy.Version) switch
            {
                ("cpu", 1) => "cpu.shares",
                ("cpu", _) => "cpu.weight",
                ("memory", 1) => "memory.limit_in_bytes",
                ("memory", _) => "memory.max",
                (CgroupDetection.CpuAccounting, _) => "cpuacct.stat",
                _ => "pids.max",
            };
            var works = File.Exists(Path.Combine(probe, file));
            if (Launcher.LibC.rmdir(probe) != 0)
            {
                return $"cannot remove probe cgroup {probe}";
            }

            return works ? null : $"{file} missing in a new cgroup";
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return ex.Message;
        }
    }

    /// <summary>
    /// Kills and removes the container cgroups a previous run left, except those of tasks recovered from checkpoints.
    /// Returns how many went.
    /// </summary>
    public async Task<int> RemoveLeftoversAsync(IReadOnlySet<string> keep, ILogger log)
    {
        ArgumentNullException.ThrowIfNull(keep);
        var leftovers = AgentDirectories
            .SelectMany(d => SafeChildren(d.Path).Where(c => !keep.Contains(Path.GetFileName(c))).Select(c => d with { Path = c }))
            .ToList();
        if (leftovers.Count > 0)
        {
            await CgroupFiles.KillAndRemoveAsync(leftovers, DestroyTimeout).ConfigureAwait(false);
            Log.LeftoversRemoved(log, leftovers.Count);
        }

        return leftovers.Count;
    }

    /// <summary>The cgroups of a recovered task's container, as <see cref="Prepare"/> made them (nothing is written).</summary>
    public CgroupContainer Attach(string containerId, double memMb) => Build(containerId, 0, memMb, write: false);

    /// <summary>Makes the container's cgroups and writes its limits. Throws IOException when the kernel refuses.</summary>
    public CgroupContainer Prepare(string containerId, double cpus, double memMb) => Build(containerId, cpus, memMb, write: true);

    private CgroupContainer Build(string containerId, double cpus, double memMb, bool write)
    {
        var directories = new List<CgroupDirectory>();
        CgroupDirectory? memory = null;
        CgroupDirectory? accounting = null;
        CgroupDirectory? pids = null;
        var memoryLimit = Math.Max(MinMemoryBytes, (long)(memMb * 1024 * 1024));
        try
        {
            foreach (var group in _controllers.GroupBy(kv => kv.Value.MountPoint))
            {
                var version = group.First().Value.Version;
                var directory = new CgroupDirectory(Path.Combine(group.Key, AgentCgroup, containerId), version);
                if (write)
                {
                    Directory.CreateDirectory(directory.Path);
                }

                directories.Add(directory);
                foreach (var controller in group.Select(kv => kv.Key))
                {
                    switch (controller)
                    {
                        case "cpu":
                            if (write)
                            {
                                WriteCpu(directory, cpus);
                            }

                            if (version == 2)
                            {
                                accounting = directory;
                            }

                            break;
                        case CgroupDetection.CpuAccounting:
                            accounting = directory;
                            break;
                        case "memory":
                            if (write)
                            {
                                WriteMemory(directory, memoryLimit);
                            }

                            memory = directory;
                            break;
                        case "pids":
                            if (write)
                            {
                                Write(directory.Path, "pids.max", _options.CgroupsMaxPids.ToString(CultureInfo.InvariantCulture));
                            }

                            pids = directory;
                            break;
                        default:
                            break;
                    }
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            CgroupFiles.KillAndRemoveAsync(directories, DestroyTimeout).GetAwaiter().GetResult();
            throw new IOException($"Failed to prepare cgroups for container {containerId}: {ex.Message}", ex);
        }

        return new CgroupContainer(containerId, directories, memory, memoryLimit) { CpuAccounting = accounting, Pids = pids };
    }

    private void WriteCpu(CgroupDirectory directory, double cpus)
    {
        // Mesos: shares = 1024 per cpu, at least the kernel's minimum of 2.
        var shares = Math.Max(2, (long)(1024 * cpus));
        var quota = Math.Max(1000, (long)(cpus * CfsPeriodMicros));
        if (directory.Version == 1)
        {
            Write(directory.Path, "cpu.shares", shares.ToString(CultureInfo.InvariantCulture));
            if (_options.CgroupsEnableCfs)
            {
                Write(directory.Path, "cpu.cfs_period_us", CfsPeriodMicros.ToString(CultureInfo.InvariantCulture));
                Write(directory.Path, "cpu.cfs_quota_us", quota.ToString(CultureInfo.InvariantCulture));
            }
        }
        else
        {
            Write(directory.Path, "cpu.weight", SharesToWeight(shares).ToString(CultureInfo.InvariantCulture));
            if (_options.CgroupsEnableCfs)
            {
                Write(directory.Path, "cpu.max", string.Create(CultureInfo.InvariantCulture, $"{quota} {CfsPeriodMicros}"));
            }
        }
    }

    /// <summary>systemd's mapping of v1 shares onto v2 weight: 1024 shares (one cpu) is the default weight 100, clamped to [1, 10000].</summary>
    public static long SharesToWeight(long shares) => Math.Clamp(shares * 100 / 1024, 1, 10_000);

    private static void WriteMemory(CgroupDirectory directory, long limit)
    {
        var text = limit.ToString(CultureInfo.InvariantCulture);
        if (directory.Version == 1)
        {
            Write(directory.Path, "memory.limit_in_bytes", text);
            // With swap accounting on, the same limit on memory+swap keeps the task from swapping past its limit.
            if (File.Exists(Path.Combine(directory.Path, "memory.memsw.limit_in_bytes")))
            {
                Write(directory.Path, "memory.memsw.limit_in_bytes", text);
            }
        }
        else
        {
            Write(directory.Path, "memory.max", text);
            if (File.Exists(Path.Combine(directory.Path, "memory.swap.max")))
            {
                Write(directory.Path, "memory.swap.max", "0");
            }
        }
    }

    private static void Write(string directory, string file, string value) => File.WriteAllText(Path.Combine(directory, file), value);

    /// <summary>Kills and removes every container cgroup of this agent; with <paramref name="removeAgentCgroup"/> the parent too.</summary>
    public async Task RemoveAllAsync(bool removeAgentCgroup)
    {
        var directories = removeAgentCgroup
            ? AgentDirectories
            : [.. AgentDirectories.SelectMany(d => SafeChildren(d.Path).Select(c => d with { Path = c }))];
        await CgroupFiles.KillAndRemoveAsync(directories, DestroyTimeout).ConfigureAwait(false);
    }

    /// <summary>
    /// Kills and removes every cgroup of the agent with these options without starting one: for an agent that died
    /// (kill -9) and will not come back to clean up after itself. Returns how many agent cgroups were removed.
    /// </summary>
    public static async Task<int> RemoveAgentCgroupsAsync(AgentOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var agentCgroup = Path.Combine(options.CgroupsRoot.Trim('/'), AgentKey(options.WorkDir));
        // Every cgroup hierarchy, not only the controllers Mezzo limits with: runc makes its containers' cgroups (and
        // so this agent's parent) in all of them (devices, freezer, ...).
        var directories = Mounts(options.CgroupsHierarchy)
            .Select(m => new CgroupDirectory(Path.Combine(m.MountPoint, agentCgroup), m.Version))
            .Where(d => Directory.Exists(d.Path))
            .ToList();
        await CgroupFiles.KillAndRemoveAsync(directories, DestroyTimeout).ConfigureAwait(false);
        return directories.Count;
    }

    /// <summary>Every cgroup (v1 or v2) file system mounted at or under <paramref name="hierarchyRoot"/>.</summary>
    public static IReadOnlyList<(string MountPoint, int Version)> Mounts(string hierarchyRoot)
    {
        var result = new List<(string, int)>();
        try
        {
            var root = hierarchyRoot.TrimEnd('/');
            foreach (var line in File.ReadLines("/proc/self/mountinfo"))
            {
                var fields = line.Split(' ');
                var separator = Array.IndexOf(fields, "-");
                if (separator < 0 || separator + 1 >= fields.Length || fields.Length < 5)
                {
                    continue;
                }

                var type = fields[separator + 1];
                var mountPoint = fields[4];
                if (type is "cgroup" or "cgroup2" && (mountPoint == root || mountPoint.StartsWith(root + "/", StringComparison.Ordinal)))
                {
                    result.Add((mountPoint, type == "cgroup2" ? 2 : 1));
                }
            }
        }
        catch (IOException)
        {
        }

        return result;
    }

    private static IEnumerable<string> SafeChildren(string path)
    {
        try
        {
            return Directory.Exists(path) ? Directory.EnumerateDirectories(path).ToList() : [];
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "Isolation: cgroups {Mode}, using {Controllers} under {AgentCgroup}{Missing}")]
        public static partial void Using(ILogger logger, string mode, string controllers, string agentCgroup, string missing);

        [LoggerMessage(Level = LogLevel.Warning, Message = "!!! ISOLATION DEGRADED: --isolation {Isolation} asked for cgroups but none are usable ({Problems}). Tasks run with process-group isolation only: no cpu, memory or pids limits, and processes that leave their group are not tracked. Run the agent as root on a host with writable cgroups for real isolation.")]
        public static partial void Unavailable(ILogger logger, string isolation, string problems);

        [LoggerMessage(Level = LogLevel.Information, Message = "Isolation: process groups only (--isolation {Isolation})")]
        public static partial void NotRequested(ILogger logger, string isolation);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Removed {Count} container cgroups left over from a previous run, killing their processes")]
        public static partial void LeftoversRemoved(ILogger logger, int count);
    }
}
