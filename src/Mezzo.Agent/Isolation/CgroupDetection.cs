using System.Text;

namespace Mezzo.Agent.Isolation;

public enum CgroupMode
{
    /// <summary>No cgroup file system is mounted under the hierarchy root.</summary>
    None,

    /// <summary>Only per-controller v1 hierarchies.</summary>
    V1,

    /// <summary>Only the unified v2 hierarchy.</summary>
    V2,

    /// <summary>Both: v1 controller hierarchies beside a v2 mount (systemd's "hybrid" layout).</summary>
    Hybrid,
}

/// <summary>Where one controller lives: a v1 hierarchy mounted for it (possibly shared with others) or the v2 one.</summary>
public sealed record CgroupHierarchy(string MountPoint, int Version);

/// <summary>What the host offers, before any probing: the mode and, per controller Mezzo uses, its hierarchy.</summary>
public sealed record CgroupLayout(CgroupMode Mode, IReadOnlyDictionary<string, CgroupHierarchy> Controllers, string? UnifiedMountPoint)
{
    public static readonly CgroupLayout Empty = new(CgroupMode.None, new Dictionary<string, CgroupHierarchy>(), null);
}

/// <summary>
/// Reads the cgroup layout from the text of /proc/self/mountinfo, /proc/cgroups and the v2 root's cgroup.controllers.
/// Pure, so every layout (v1, v2, hybrid, nothing) can be tested without such a machine.
/// </summary>
public static class CgroupDetection
{
    /// <summary>The controllers the isolators need: cpu shares/quota, memory limit, pids limit.</summary>
    public static readonly IReadOnlyList<string> Wanted = ["cpu", "memory", "pids"];

    /// <summary>
    /// v1 only: cpu time accounting, used with cgroups/cpu for /monitor/statistics when mounted (often together with
    /// cpu as "cpu,cpuacct", sometimes on its own); v2 has cpu.stat in every cgroup.
    /// </summary>
    public const string CpuAccounting = "cpuacct";

    /// <param name="mountinfo">Text of /proc/self/mountinfo.</param>
    /// <param name="procCgroups">Text of /proc/cgroups (v1 controllers and whether the kernel enables them); may be empty.</param>
    /// <param name="readUnifiedControllers">Returns the cgroup.controllers text of a v2 mount point, or null when unreadable.</param>
    /// <param name="hierarchyRoot">Only mounts at or under this path count (normally /sys/fs/cgroup).</param>
    public static CgroupLayout Parse(string mountinfo, string procCgroups, Func<string, string?> readUnifiedControllers, string hierarchyRoot)
    {
        ArgumentNullException.ThrowIfNull(mountinfo);
        ArgumentNullException.ThrowIfNull(readUnifiedControllers);
        var root = hierarchyRoot.TrimEnd('/');
        var disabled = DisabledControllers(procCgroups ?? "");
        var v1 = new Dictionary<string, CgroupHierarchy>(StringComparer.Ordinal);
        string? unified = null;
        var sawV1 = false;
        foreach (var line in mountinfo.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            // id parent major:minor root mount-point options [optional...] - fstype source super-options
            var fields = line.Split(' ');
            var separator = Array.IndexOf(fields, "-");
            if (fields.Length < 6 || separator < 6 || separator + 3 > fields.Length)
            {
                continue;
            }

            var mountPoint = Unescape(fields[4]);
            if (mountPoint != root && !mountPoint.StartsWith(root + "/", StringComparison.Ordinal))
            {
                continue;
            }

            var fsType = fields[separator + 1];
            if (fsType == "cgroup2")
            {
                unified ??= mountPoint;
            }
            else if (fsType == "cgroup" && separator + 3 < fields.Length)
            {
                sawV1 = true;
                foreach (var option in fields[separator + 3].Split(','))
                {
                    // The first mount of a hierarchy wins; bind mounts of the same one elsewhere add nothing.
                    if ((Wanted.Contains(option) || option == CpuAccounting) && !disabled.Contains(option))
                    {
                        v1.TryAdd(option, new CgroupHierarchy(mountPoint, 1));
                    }
                }
            }
        }

        var controllers = new Dictionary<string, CgroupHierarchy>(v1, StringComparer.Ordinal);
        if (unified is not null && readUnifiedControllers(unified) is { } text)
        {
            // A controller bound to a v1 hierarchy never shows up in v2's list, so v1 and v2 cannot both claim one.
            foreach (var name in text.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                if (Wanted.Contains(name))
                {
                    controllers.TryAdd(name, new CgroupHierarchy(unified, 2));
                }
            }
        }

        var mode = (sawV1, unified is not null) switch
        {
            (true, true) => CgroupMode.Hybrid,
            (true, false) => CgroupMode.V1,
            (false, true) => CgroupMode.V2,
            _ => CgroupMode.None,
        };
        return new CgroupLayout(mode, controllers, unified);
    }

    private static HashSet<string> DisabledControllers(string procCgroups)
    {
        var disabled = new HashSet<string>(StringComparer.Ordinal);
        foreach (var line in procCgroups.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (line.StartsWith('#'))
            {
                continue;
            }

            var fields = line.Split('\t', ' ');
            if (fields.Length >= 4 && fields[3] == "0")
            {
                disabled.Add(fields[0]);
            }
        }

        return disabled;
    }

    /// <summary>mountinfo escapes space, tab, newline and backslash as \ooo octal.</summary>
    private static string Unescape(string field)
    {
        if (!field.Contains('\\', StringComparison.Ordinal))
        {
            return field;
        }

        var builder = new StringBuilder(field.Length);
        for (var i = 0; i < field.Length; i++)
        {
            if (field[i] == '\\' && i + 3 < field.Length && IsOctal(field.AsSpan(i + 1, 3)))
            {
                builder.Append((char)Convert.ToInt32(field.Substring(i + 1, 3), 8));
                i += 3;
            }
            else
            {
                builder.Append(field[i]);
            }
        }

        return builder.ToString();
    }

    private static bool IsOctal(ReadOnlySpan<char> digits)
    {
        foreach (var c in digits)
        {
            if (c is < '0' or > '7')
            {
                return false;
            }
        }

        return true;
    }
}
