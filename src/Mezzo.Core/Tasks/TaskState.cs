namespace Mezzo.Core.Tasks;

/// <summary>Mesos task states. Member names are the wire spelling (mesos.proto TaskState), so they serialize as-is.</summary>
public enum TaskState
{
    TASK_STAGING = 6,
    TASK_STARTING = 0,
    TASK_RUNNING = 1,
    TASK_KILLING = 8,
    TASK_FINISHED = 2,
    TASK_FAILED = 3,
    TASK_KILLED = 4,
    TASK_ERROR = 7,
    TASK_LOST = 5,
    TASK_DROPPED = 9,
    TASK_UNREACHABLE = 10,
    TASK_GONE = 11,
    TASK_GONE_BY_OPERATOR = 12,
    TASK_UNKNOWN = 13,
}

public static class TaskStates
{
    public static bool IsTerminal(TaskState state) => state is TaskState.TASK_FINISHED or TaskState.TASK_FAILED
        or TaskState.TASK_KILLED or TaskState.TASK_ERROR or TaskState.TASK_LOST or TaskState.TASK_DROPPED
        or TaskState.TASK_GONE or TaskState.TASK_GONE_BY_OPERATOR;

    /// <summary>
    /// Whether an agent-reported transition is legal. Terminal states are final; TASK_UNREACHABLE is a master-side
    /// state that an agent coming back may move out of (the task was running all along).
    /// </summary>
    public static bool CanTransition(TaskState from, TaskState to)
    {
        if (IsTerminal(from))
        {
            return false;
        }

        if (from == to)
        {
            // Repeated RUNNING updates carry health changes; they are legal.
            return !IsTerminal(to);
        }

        return (from, to) switch
        {
            (TaskState.TASK_STAGING, _) => true,
            (TaskState.TASK_STARTING, TaskState.TASK_STAGING) => false,
            (TaskState.TASK_STARTING, _) => true,
            (TaskState.TASK_RUNNING, TaskState.TASK_STAGING or TaskState.TASK_STARTING) => false,
            (TaskState.TASK_RUNNING, _) => true,
            (TaskState.TASK_KILLING, TaskState.TASK_STAGING or TaskState.TASK_STARTING or TaskState.TASK_RUNNING) => false,
            (TaskState.TASK_KILLING, _) => true,
            (TaskState.TASK_UNREACHABLE, _) => true,
            (TaskState.TASK_UNKNOWN, _) => true,
            _ => false,
        };
    }
}
