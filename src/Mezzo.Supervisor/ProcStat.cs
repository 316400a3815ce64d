namespace Mezzo.Supervisor;

/// <summary>Reads /proc/PID/stat. Shared with the agent (linked source): both tell a live process from a recycled pid
/// by its start time.</summary>
public static class ProcStat
{
    /// <summary>Field 22 (start time in clock ticks since boot); the command name before it may contain spaces and ')'.</summary>
    public static string? StartTime(string stat)
    {
        var close = stat.LastIndexOf(')');
        if (close < 0 || close + 2 > stat.Length)
        {
            return null;
        }

        var fields = stat[(close + 2)..].Split(' ');
        return fields.Length > 19 ? fields[19] : null;
    }

    /// <summary>The start time of <paramref name="pid"/> as seen under <paramref name="procRoot"/>; null if it is gone.</summary>
    public static string? StartTime(string procRoot, int pid)
    {
        try
        {
            return StartTime(File.ReadAllText($"{procRoot}/{pid.ToString(System.Globalization.CultureInfo.InvariantCulture)}/stat"));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
