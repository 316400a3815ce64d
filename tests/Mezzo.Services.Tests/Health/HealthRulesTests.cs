using Mezzo.Protocol.Marathon;
using Mezzo.Services.Health;
using Microsoft.Extensions.Time.Testing;

namespace Mezzo.Services.Tests.Health;

/// <summary>Marathon's health semantics (docs/docs/health-checks.md) on a fake clock.</summary>
public sealed class HealthRulesTests
{
    private static readonly ProbeOutcome Pass = new ProbeOutcome.Healthy();
    private static readonly ProbeOutcome Fail = new ProbeOutcome.Unhealthy("HTTP 503");

    private static AppHealthCheck Check(int grace = 10, int max = 3, bool ignore1xx = false) =>
        new() { Protocol = "HTTP", GracePeriodSeconds = grace, MaxConsecutiveFailures = max, IgnoreHttp1xx = ignore1xx, IntervalSeconds = 1, TimeoutSeconds = 1 };

    [Fact]
    public void Failures_inside_the_grace_period_of_a_task_never_healthy_are_ignored_and_count_after_it()
    {
        var time = new FakeTimeProvider();
        var started = time.GetUtcNow();
        var check = Check(grace: 10, max: 3);
        CheckHealth? health = null;

        for (var i = 0; i < 5; i++)
        {
            time.Advance(TimeSpan.FromSeconds(1));
            var step = HealthRules.Apply(health, Fail, check, started, time.GetUtcNow());
            step.Counted.Should().BeFalse("second {0} is inside the 10 s grace period", i + 1);
            step.Kill.Should().BeFalse();
            health = step.Health;
        }

        health.Should().BeNull("nothing is known while failures are ignored");
        time.Advance(TimeSpan.FromSeconds(5));
        var counted = HealthRules.Apply(health, Fail, check, started, time.GetUtcNow());
        counted.Counted.Should().BeTrue();
        counted.Health!.Alive.Should().BeFalse();
        counted.Health.ConsecutiveFailures.Should().Be(1);
        counted.Health.LastFailureCause.Should().Be("HTTP 503");
        counted.Health.LastFailure.Should().Be(time.GetUtcNow());
    }

    [Fact]
    public void Once_a_task_passed_the_grace_period_no_longer_shields_it()
    {
        var time = new FakeTimeProvider();
        var started = time.GetUtcNow();
        var check = Check(grace: 300, max: 2);

        var healthy = HealthRules.Apply(null, Pass, check, started, time.GetUtcNow()).Health;
        healthy!.Alive.Should().BeTrue();
        healthy.FirstSuccess.Should().Be(started);

        time.Advance(TimeSpan.FromSeconds(1));
        var first = HealthRules.Apply(healthy, Fail, check, started, time.GetUtcNow());
        first.Counted.Should().BeTrue();
        first.Kill.Should().BeFalse();
        time.Advance(TimeSpan.FromSeconds(1));
        var second = HealthRules.Apply(first.Health, Fail, check, started, time.GetUtcNow());
        second.Kill.Should().BeTrue("2 failures in a row reach maxConsecutiveFailures 2, even inside the grace period");
        second.Health!.FirstSuccess.Should().Be(started, "the first success is kept");
        second.Health.LastSuccess.Should().Be(started);
    }

    [Fact]
    public void A_success_resets_the_streak_and_maxConsecutiveFailures_0_never_kills()
    {
        var time = new FakeTimeProvider();
        var started = time.GetUtcNow();
        var check = Check(grace: 0, max: 3);
        CheckHealth? health = null;
        foreach (var outcome in new[] { Fail, Fail, Pass, Fail, Fail })
        {
            time.Advance(TimeSpan.FromSeconds(1));
            var step = HealthRules.Apply(health, outcome, check, started, time.GetUtcNow());
            step.Kill.Should().BeFalse();
            health = step.Health;
        }

        health!.ConsecutiveFailures.Should().Be(2, "the success in between reset the streak");

        var never = Check(grace: 0, max: 0);
        health = null;
        for (var i = 0; i < 50; i++)
        {
            var step = HealthRules.Apply(health, Fail, never, started, time.GetUtcNow());
            step.Kill.Should().BeFalse();
            health = step.Health;
        }

        health!.ConsecutiveFailures.Should().Be(50);
    }

    [Fact]
    public void An_ignored_1xx_changes_nothing()
    {
        var time = new FakeTimeProvider();
        var started = time.GetUtcNow();
        var check = Check(grace: 0, max: 1, ignore1xx: true);
        var healthy = HealthRules.Apply(null, Pass, check, started, time.GetUtcNow()).Health;

        var step = HealthRules.Apply(healthy, new ProbeOutcome.Ignored("101"), check, started, time.GetUtcNow());

        step.Counted.Should().BeFalse();
        step.Kill.Should().BeFalse();
        step.Health.Should().Be(healthy);
    }

    [Fact]
    public void A_task_is_healthy_only_when_every_check_passes()
    {
        var alive = new CheckHealth { Alive = true };
        var dead = new CheckHealth { Alive = false, ConsecutiveFailures = 1 };

        HealthRules.Aggregate([alive, alive], null).Should().BeTrue();
        HealthRules.Aggregate([alive, dead], true).Should().BeFalse();
        HealthRules.Aggregate([dead, null], true).Should().BeFalse("one failing check is enough");
        HealthRules.Aggregate([alive, null], null).Should().BeNull("a check without a result yet keeps what was known");
        HealthRules.Aggregate([alive, null], true).Should().BeTrue();
    }
}
