using AwesomeAssertions;
using Mezzo.Agent.Launcher;

namespace Mezzo.Agent.Tests.Launcher;

/// <summary>KillAsync's escalation logic against a fake process group (no real processes).</summary>
public sealed class LaunchedProcessTests
{
    private sealed class FakeGroup
    {
        public TaskCompletionSource<ExitStatus> Exit { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public List<int> Sent { get; } = [];

        public bool DiesOnTerm { get; init; }

        public LaunchedProcess Process => new(42, Exit.Task, Send);

        private void Send(int signal)
        {
            lock (Sent)
            {
                Sent.Add(signal);
            }

            if (signal == Signals.SIGKILL || (DiesOnTerm && signal == Signals.SIGTERM))
            {
                Exit.TrySetResult(ExitStatus.Killed(signal));
            }
        }
    }

    [Fact]
    public async Task KillAsync_sends_SIGTERM_then_SIGKILL_when_the_grace_period_expires()
    {
        var group = new FakeGroup();

        await group.Process.KillAsync(TimeSpan.FromMilliseconds(50), TestContext.Current.CancellationToken);

        group.Sent.Should().Equal(Signals.SIGTERM, Signals.SIGKILL);
    }

    [Fact]
    public async Task KillAsync_stops_at_SIGTERM_when_that_is_enough()
    {
        var group = new FakeGroup { DiesOnTerm = true };

        await group.Process.KillAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);

        group.Sent.Should().Equal(Signals.SIGTERM);
    }

    [Fact]
    public async Task KillAsync_with_no_grace_period_sends_SIGKILL_only()
    {
        var group = new FakeGroup();

        await group.Process.KillAsync(TimeSpan.Zero, TestContext.Current.CancellationToken);

        group.Sent.Should().Equal(Signals.SIGKILL);
    }

    [Fact]
    public async Task Cancelled_KillAsync_still_sends_SIGKILL()
    {
        var group = new FakeGroup();
        using var cancellation = new CancellationTokenSource();
        var process = group.Process;

        var kill = process.KillAsync(TimeSpan.FromMinutes(5), cancellation.Token);
        await cancellation.CancelAsync();

        await kill.Invoking(async k => await k).Should().ThrowAsync<OperationCanceledException>();
        group.Sent.Should().Equal(Signals.SIGTERM, Signals.SIGKILL);
    }

    [Fact]
    public async Task KillAsync_on_an_exited_process_sends_nothing()
    {
        var group = new FakeGroup();
        group.Exit.SetResult(ExitStatus.Exited(0));

        await group.Process.KillAsync(TimeSpan.FromSeconds(1), TestContext.Current.CancellationToken);

        group.Sent.Should().BeEmpty();
    }

    [Fact]
    public void Signal_rejects_numbers_the_kernel_does_not_know()
    {
        var process = new FakeGroup().Process;

        process.Invoking(p => p.Signal(-1)).Should().Throw<ArgumentOutOfRangeException>();
        process.Invoking(p => p.Signal(65)).Should().Throw<ArgumentOutOfRangeException>();
    }
}
