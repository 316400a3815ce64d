namespace Mezzo.Agent.Isolation;

/// <summary>The --isolation flag: a comma-separated list of Mesos isolator names.</summary>
public static class IsolationFlag
{
    public const string Default = "cgroups/cpu,cgroups/mem,cgroups/pids,namespaces/pid,filesystem/linux";

    public const string PidNamespace = "namespaces/pid";
    public const string LinuxFilesystem = "filesystem/linux";
    public const string DiskDu = "disk/du";

    /// <summary>
/// Isolator name → cgroup controller; posix/* are Mesos's no-limit isolators (process-group isolation only);
/// namespaces/pid, filesystem/linux and disk/du need no controller.
/// </summary>
    private static readonly Dictionary<string, string?> Known = new(StringComparer.Ordinal)
    {
        ["cgroups/cpu"] = "cpu",
        ["cgroups/mem"] = "memory",
        ["cgroups/pids"] = "pids",
        ["posix/cpu"] = null,
        ["posix/mem"] = null,
        [PidNamespace] = null,
        [LinuxFilesystem] = null,
        [DiskDu] = null,
    };

    /// <summary>Whether the flag (already validated) names <paramref name="isolator"/>; an empty flag means the default.</summary>
    public static bool Has(string? text, string isolator) =>
        (string.IsNullOrWhiteSpace(text) ? Default : text).Split(',', StringSplitOptions.TrimEntries).Contains(isolator, StringComparer.Ordinal);

    /// <summary>Returns the cgroup controllers the flag asks for, or throws ArgumentException naming the bad isolator.</summary>
    public static IReadOnlyList<string> Controllers(string? text)
    {
        var controllers = new List<string>();
        foreach (var name in (string.IsNullOrWhiteSpace(text) ? Default : text).Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            if (!Known.TryGetValue(name, out var controller))
            {
                throw new ArgumentException($"--isolation: unknown isolator '{name}' (supported: {string.Join(", ", Known.Keys)})");
            }

            if (controller is not null && !controllers.Contains(controller))
            {
                controllers.Add(controller);
            }
        }

        return controllers;
    }

    /// <summary>For command-line validation: null when valid, else the message.</summary>
    public static string? Check(string? text)
    {
        try
        {
            Controllers(text);
            return null;
        }
        catch (ArgumentException ex)
        {
            return ex.Message;
        }
    }
}
