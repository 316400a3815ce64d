using System.Globalization;

namespace Mezzo.Agent.Isolation;

public sealed partial class CgroupIsolator
{
    /// <summary>
    /// New limits for a live container: an executor's, as its tasks come and go (Mesos updates an executor's container
    /// to the executor's resources plus its live tasks'). Throws IOException when the kernel refuses, e.g. a memory
    /// limit below what the container already uses.
    /// </summary>
    public void Resize(CgroupContainer container, double cpus, double memMb)
    {
        var limit = Math.Max(MinMemoryBytes, (long)(memMb * 1024 * 1024));
        try
        {
            foreach (var directory in container.Directories)
            {
                foreach (var (controller, hierarchy) in _controllers)
                {
                    if (directory.Path != Path.Combine(hierarchy.MountPoint, AgentCgroup, container.Id))
                    {
                        continue;
                    }

                    if (controller == "cpu")
                    {
                        WriteCpu(directory, cpus);
                    }
                    else if (controller == "memory")
                    {
                        ResizeMemory(directory, limit);
                    }
                }
            }
        }
        catch (UnauthorizedAccessException ex)
        {
            throw new IOException($"Failed to resize the cgroups of container {container.Id}: {ex.Message}", ex);
        }
    }

    /// <summary>v1 wants memory ≤ memory+swap at every step: growing writes memsw first, shrinking the memory limit first.</summary>
    private static void ResizeMemory(CgroupDirectory directory, long limit)
    {
        if (directory.Version != 1 || !File.Exists(Path.Combine(directory.Path, "memory.memsw.limit_in_bytes")))
        {
            WriteMemory(directory, limit);
            return;
        }

        var text = limit.ToString(CultureInfo.InvariantCulture);
        var current = CgroupFiles.ReadLong(Path.Combine(directory.Path, "memory.limit_in_bytes")) ?? 0;
        string[] order = limit >= current
            ? ["memory.memsw.limit_in_bytes", "memory.limit_in_bytes"]
            : ["memory.limit_in_bytes", "memory.memsw.limit_in_bytes"];
        foreach (var file in order)
        {
            Write(directory.Path, file, text);
        }
    }
}
