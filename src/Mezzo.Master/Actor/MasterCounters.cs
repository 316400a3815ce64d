using Mezzo.Core.Tasks;

namespace Mezzo.Master.Actor;

/// <summary>Cumulative counters for /metrics/snapshot (Mesos counts terminal task states since start).</summary>
public sealed class MasterCounters
{
    public long Launched { get; set; }

    public long ValidStatusUpdates { get; set; }

    public long InvalidStatusUpdates { get; set; }

    public Dictionary<TaskState, long> Terminal { get; } = [];

    /// <summary>Allocation cycles run, and their total and last duration (Mesos's allocator/mesos/allocation_run_ms).</summary>
    public long AllocationRuns { get; set; }

    public double AllocationSeconds { get; set; }

    public double LastAllocationSeconds { get; set; }

    public void CountAllocation(TimeSpan took)
    {
        AllocationRuns++;
        AllocationSeconds += took.TotalSeconds;
        LastAllocationSeconds = took.TotalSeconds;
    }

    public void CountTerminal(TaskState state)
    {
        if (TaskStates.IsTerminal(state))
        {
            Terminal[state] = Terminal.GetValueOrDefault(state) + 1;
        }
    }
}
