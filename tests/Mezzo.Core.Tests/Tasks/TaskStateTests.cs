using AwesomeAssertions;
using Mezzo.Core.Tasks;
using Xunit;

namespace Mezzo.Core.Tests;

public sealed class TaskStateTests
{
    [Theory]
    [InlineData(TaskState.TASK_STAGING, 6)]
    [InlineData(TaskState.TASK_STARTING, 0)]
    [InlineData(TaskState.TASK_RUNNING, 1)]
    [InlineData(TaskState.TASK_KILLING, 8)]
    [InlineData(TaskState.TASK_FINISHED, 2)]
    [InlineData(TaskState.TASK_FAILED, 3)]
    [InlineData(TaskState.TASK_KILLED, 4)]
    [InlineData(TaskState.TASK_ERROR, 7)]
    [InlineData(TaskState.TASK_LOST, 5)]
    [InlineData(TaskState.TASK_DROPPED, 9)]
    [InlineData(TaskState.TASK_UNREACHABLE, 10)]
    [InlineData(TaskState.TASK_GONE, 11)]
    [InlineData(TaskState.TASK_GONE_BY_OPERATOR, 12)]
    [InlineData(TaskState.TASK_UNKNOWN, 13)]
    public void Wire_numbers_match_mesos_proto(TaskState state, int number) => ((int)state).Should().Be(number);

    [Theory]
    [InlineData(TaskState.TASK_FINISHED, true)]
    [InlineData(TaskState.TASK_FAILED, true)]
    [InlineData(TaskState.TASK_KILLED, true)]
    [InlineData(TaskState.TASK_ERROR, true)]
    [InlineData(TaskState.TASK_LOST, true)]
    [InlineData(TaskState.TASK_DROPPED, true)]
    [InlineData(TaskState.TASK_GONE, true)]
    [InlineData(TaskState.TASK_GONE_BY_OPERATOR, true)]
    [InlineData(TaskState.TASK_STAGING, false)]
    [InlineData(TaskState.TASK_STARTING, false)]
    [InlineData(TaskState.TASK_RUNNING, false)]
    [InlineData(TaskState.TASK_KILLING, false)]
    [InlineData(TaskState.TASK_UNREACHABLE, false)]
    [InlineData(TaskState.TASK_UNKNOWN, false)]
    public void Terminal_states_are_those_of_mesos_isTerminalState(TaskState state, bool terminal) =>
        TaskStates.IsTerminal(state).Should().Be(terminal);

    [Fact]
    public void Nothing_leaves_a_terminal_state()
    {
        foreach (var from in Enum.GetValues<TaskState>().Where(TaskStates.IsTerminal))
        {
            foreach (var to in Enum.GetValues<TaskState>())
            {
                TaskStates.CanTransition(from, to).Should().BeFalse($"{from} is terminal, so {from} -> {to} is illegal");
            }
        }
    }

    [Fact]
    public void Every_live_state_may_end_and_may_repeat()
    {
        foreach (var from in Enum.GetValues<TaskState>().Where(s => !TaskStates.IsTerminal(s)))
        {
            TaskStates.CanTransition(from, from).Should().BeTrue($"{from} -> {from} (repeated updates carry health changes)");
            foreach (var to in Enum.GetValues<TaskState>().Where(TaskStates.IsTerminal))
            {
                TaskStates.CanTransition(from, to).Should().BeTrue($"{from} -> {to}");
            }
        }
    }

    [Theory]
    [InlineData(TaskState.TASK_STAGING, TaskState.TASK_STARTING, true)]
    [InlineData(TaskState.TASK_STAGING, TaskState.TASK_RUNNING, true)]
    [InlineData(TaskState.TASK_STARTING, TaskState.TASK_RUNNING, true)]
    [InlineData(TaskState.TASK_RUNNING, TaskState.TASK_KILLING, true)]
    [InlineData(TaskState.TASK_KILLING, TaskState.TASK_KILLED, true)]
    [InlineData(TaskState.TASK_RUNNING, TaskState.TASK_UNREACHABLE, true)]
    [InlineData(TaskState.TASK_UNREACHABLE, TaskState.TASK_RUNNING, true)]
    [InlineData(TaskState.TASK_UNKNOWN, TaskState.TASK_RUNNING, true)]
    [InlineData(TaskState.TASK_STARTING, TaskState.TASK_STAGING, false)]
    [InlineData(TaskState.TASK_RUNNING, TaskState.TASK_STAGING, false)]
    [InlineData(TaskState.TASK_RUNNING, TaskState.TASK_STARTING, false)]
    [InlineData(TaskState.TASK_KILLING, TaskState.TASK_RUNNING, false)]
    [InlineData(TaskState.TASK_KILLING, TaskState.TASK_STARTING, false)]
    [InlineData(TaskState.TASK_FINISHED, TaskState.TASK_RUNNING, false)]
    [InlineData(TaskState.TASK_LOST, TaskState.TASK_RUNNING, false)]
    public void Tasks_do_not_move_backwards(TaskState from, TaskState to, bool legal) =>
        TaskStates.CanTransition(from, to).Should().Be(legal);
}
