using System.Globalization;
using Mezzo.Core.Resources;

namespace Mezzo.Agent.Detection;

/// <summary>
/// Fills in what --resources leaves out, as the Mesos agent does: all CPUs; memory minus a reserve for the host
/// (1 GiB, or half when the machine has less than 2 GiB); the work dir's disk minus a reserve (5 GiB, or half when
/// smaller than 10 GiB); ports 31000-32000.
/// </summary>
public static class ResourceDetector
{
    public static Resources Detect(string? configured, string workDir)
    {
        var given = string.IsNullOrWhiteSpace(configured) ? Resources.Empty : Resources.Parse(configured);
        var result = given;
        if (!given.Names.Contains("cpus"))
        {
            result += new Resources([Resource.ScalarOf("cpus", Environment.ProcessorCount)]);
        }

        if (!given.Names.Contains("mem"))
        {
            var totalMb = TotalMemoryMb();
            var reserve = totalMb >= 2048 ? 1024 : totalMb / 2;
            result += new Resources([Resource.ScalarOf("mem", Math.Floor(totalMb - reserve))]);
        }

        if (!given.Names.Contains("disk"))
        {
            Directory.CreateDirectory(workDir);
            var totalMb = new DriveInfo(Path.GetFullPath(workDir)).TotalSize / 1024.0 / 1024.0;
            var reserve = totalMb >= 10240 ? 5120 : totalMb / 2;
            result += new Resources([Resource.ScalarOf("disk", Math.Floor(totalMb - reserve))]);
        }

        if (!given.Names.Contains("ports"))
        {
            result += new Resources([Resource.RangesOf("ports", ValueRanges.Of(new ValueRange(31000, 32000)))]);
        }

        return result;
    }

    private static double TotalMemoryMb()
    {
        foreach (var line in File.ReadLines("/proc/meminfo"))
        {
            if (line.StartsWith("MemTotal:", StringComparison.Ordinal))
            {
                var kb = double.Parse(line["MemTotal:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
                return kb / 1024;
            }
        }

        return 1024;
    }
}
