using Mezzo.Core.Tasks;

namespace Mezzo.Master.Actor;

/// <summary>Cumulative counters for /metrics/snapshot (Mesos counts terminal task states since start).</summary>
public sealed class MasterCounters
{
    public long Launched { get; set; }

    public long ValidStatusUpdates { get; set; }

    public long InvalidStatusUpdates { get; set; }

    public Dictionary<TaskState, long> Terminal { get; } = [];

    public void CountTerminal(TaskState state)
    {
        if (TaskStates.IsTerminal(state))
        {
            Terminal[state] = Terminal.GetValueOrDefault(state) + 1;
        }
    }
}
