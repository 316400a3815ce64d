using System.Collections.Concurrent;
using AwesomeAssertions;
using Mezzo.Agent.Health;
using Mezzo.Protocol.V1;
using Microsoft.Extensions.Time.Testing;

namespace Mezzo.Agent.Tests.Health;

/// <summary>The checker's schedule (delay, interval from the end of an attempt, timeout, stop) on a fake clock.</summary>
public sealed class CheckLoopTests : IAsyncDisposable
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
    private readonly ScriptedProbe _probe;
    private readonly ConcurrentQueue<CheckOutcome> _reports = new();
    private readonly CancellationTokenSource _stop = new();
    private Task? _loop;

    public CheckLoopTests() => _probe = new ScriptedProbe(_time);

    private static CheckSpec Spec(double delay = 5, double interval = 10, double? timeout = 3) =>
        new(CheckInfoType.COMMAND, "COMMAND check", TimeSpan.FromSeconds(delay), TimeSpan.FromSeconds(interval), timeout is { } t ? TimeSpan.FromSeconds(t) : null);

    private void Start(CheckSpec spec) => _loop = CheckLoop.RunAsync(spec, _probe, _reports.Enqueue, _time, _stop.Token);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        if (_loop is not null)
        {
            await _loop.WaitAsync(Eventually.DefaultTimeout);
        }

        _stop.Dispose();
    }

    [Fact]
    public async Task The_first_attempt_waits_for_delay_seconds()
    {
        Start(Spec(delay: 5));

        _time.Advance(TimeSpan.FromSeconds(4.9));
        _probe.Started.Should().BeEmpty();
        _time.Advance(TimeSpan.FromSeconds(0.1));

        (await Eventually.TrueAsync(() => _probe.Started.Count == 1)).Should().BeTrue();
        _probe.Started.Single().Should().Be(_time.Start + TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task The_interval_counts_from_the_end_of_the_previous_attempt()
    {
        Start(Spec(delay: 0, interval: 10, timeout: 100));
        (await Eventually.TrueAsync(() => _probe.Started.Count == 1)).Should().BeTrue();

        // The first attempt takes 7 s.
        _time.Advance(TimeSpan.FromSeconds(7));
        _probe.Complete(CheckStatuses.Command(0));
        (await Eventually.TrueAsync(() => _reports.Count == 1)).Should().BeTrue();

        _time.Advance(TimeSpan.FromSeconds(9.9));
        _probe.Started.Should().HaveCount(1, "10 s have not passed since the end of the first attempt");
        _time.Advance(TimeSpan.FromSeconds(0.1));
        (await Eventually.TrueAsync(() => _probe.Started.Count == 2)).Should().BeTrue();
        _probe.Started.Last().Should().Be(_time.Start + TimeSpan.FromSeconds(17));
        _reports.Single().Should().Be(CheckOutcome.Result(_probe.Results[0]));
    }

    [Fact]
    public async Task An_attempt_past_its_timeout_is_cancelled_and_reported_as_failed()
    {
        Start(Spec(delay: 0, interval: 10, timeout: 3));
        (await Eventually.TrueAsync(() => _probe.Started.Count == 1)).Should().BeTrue();

        _time.Advance(TimeSpan.FromSeconds(2.9));
        _reports.Should().BeEmpty();
        _time.Advance(TimeSpan.FromSeconds(0.1));

        (await Eventually.TrueAsync(() => _reports.Count == 1)).Should().BeTrue();
        _probe.Cancelled.Should().Be(1, "the probe must see the cancellation so it can kill what it started");
        var outcome = _reports.Single();
        outcome.Status.Should().BeNull();
        outcome.Error.Should().Be("COMMAND check timed out after 3s");

        // The schedule goes on after a timeout.
        _time.Advance(TimeSpan.FromSeconds(10));
        (await Eventually.TrueAsync(() => _probe.Started.Count == 2)).Should().BeTrue();
    }

    [Fact]
    public async Task A_zero_timeout_means_none()
    {
        Start(Spec(delay: 0, timeout: null));
        (await Eventually.TrueAsync(() => _probe.Started.Count == 1)).Should().BeTrue();

        _time.Advance(TimeSpan.FromDays(1));

        _probe.Cancelled.Should().Be(0);
        _reports.Should().BeEmpty();
        _probe.Complete(CheckStatuses.Command(4));
        (await Eventually.TrueAsync(() => _reports.Count == 1)).Should().BeTrue();
        CheckSpec.From(new CheckInfo { Type = CheckInfoType.TCP, Tcp = new CheckInfoTcp { Port = 1 }, TimeoutSeconds = 0 }).Timeout.Should().BeNull();
    }

    [Fact]
    public async Task A_probe_that_cannot_run_is_reported_with_its_reason()
    {
        _probe.FailWith = "Failed to run the COMMAND check: no such file";
        Start(Spec(delay: 0));

        (await Eventually.TrueAsync(() => _reports.Count == 1)).Should().BeTrue();

        _reports.Single().Should().Be(CheckOutcome.Failed("Failed to run the COMMAND check: no such file"));
    }

    [Fact]
    public async Task Stopping_cancels_the_running_attempt_and_reports_nothing_more()
    {
        Start(Spec(delay: 0, timeout: null));
        (await Eventually.TrueAsync(() => _probe.Started.Count == 1)).Should().BeTrue();

        await _stop.CancelAsync();

        await _loop!.WaitAsync(Eventually.DefaultTimeout);
        _probe.Cancelled.Should().Be(1);
        _reports.Should().BeEmpty();
        _time.Advance(TimeSpan.FromMinutes(5));
        _probe.Started.Should().HaveCount(1);
    }

    [Fact]
    public async Task Stopping_during_the_delay_never_runs_a_check()
    {
        Start(Spec(delay: 15));

        await _stop.CancelAsync();
        await _loop!.WaitAsync(Eventually.DefaultTimeout);
        _time.Advance(TimeSpan.FromMinutes(1));

        _probe.Started.Should().BeEmpty();
    }

    /// <summary>A probe whose attempts finish when the test says so.</summary>
    private sealed class ScriptedProbe(TimeProvider clock) : ICheckProbe
    {
        private readonly ConcurrentQueue<DateTimeOffset> _started = new();
        private TaskCompletionSource<CheckStatusInfo>? _current;
        private int _cancelled;

        public IReadOnlyCollection<DateTimeOffset> Started => _started;

        public List<CheckStatusInfo> Results { get; } = [];

        public int Cancelled => Volatile.Read(ref _cancelled);

        public string? FailWith { get; set; }

        public void Complete(CheckStatusInfo status)
        {
            Results.Add(status);
            _current!.SetResult(status);
        }

        public async Task<CheckStatusInfo> ProbeAsync(CheckSpec spec, CancellationToken cancellationToken)
        {
            _current = new TaskCompletionSource<CheckStatusInfo>(TaskCreationOptions.RunContinuationsAsynchronously);
            _started.Enqueue(clock.GetUtcNow());
            if (FailWith is { } failure)
            {
                throw new CheckFailedException(failure);
            }

            try
            {
                return await _current.Task.WaitAsync(cancellationToken);
            }
            catch (OperationCanceledException)
            {
                Interlocked.Increment(ref _cancelled);
                throw;
            }
        }
    }
}
