using Mezzo.Master.Actor;

namespace Mezzo.Master.Tests;

/// <summary>The master's own last hour of use, which the web UI's overview chart draws.</summary>
public sealed class UsageHistoryTests
{
    [Fact]
    public async Task Usage_is_sampled_on_the_tick_and_only_the_configured_window_is_kept()
    {
        await using var harness = new MasterHarness(options =>
        {
            options.AllocationInterval = TimeSpan.FromSeconds(5);
            options.UsageSampleInterval = TimeSpan.FromSeconds(10);
            options.UsageHistory = TimeSpan.FromMinutes(1);
        });
        var (agentId, agent) = await harness.AddAgentAsync("cpus:4;mem:4096;disk:100");
        var (frameworkId, scheduler) = await harness.SubscribeAsync();

        await harness.AdvanceAsync(TimeSpan.FromSeconds(30));
        var first = harness.Actor.UsageHistory;
        first.Should().HaveCount(3, "ticks at 5, 10, ... 30 s sample every 10 s from the first");
        first.Select(s => s.Time).Should().BeInAscendingOrder();
        first[^1].Should().Match<UsageSample>(s => s.CpusTotal == 4 && s.MemTotal == 4096 && s.DiskTotal == 100 && s.CpusUsed == 0);

        await harness.LaunchAsync(frameworkId, scheduler, agentId, agent, "t1", cpus: 1);
        await harness.AdvanceKeepingAliveAsync(TimeSpan.FromMinutes(2), (agentId, agent));

        var now = harness.Time.GetUtcNow();
        var kept = harness.Actor.UsageHistory;
        kept.Should().NotBeEmpty();
        kept[0].Time.Should().BeOnOrAfter(now - TimeSpan.FromMinutes(1), "samples older than the window are dropped");
        kept.Count.Should().BeLessThanOrEqualTo(7);
        kept[^1].CpusUsed.Should().Be(1, "the running task's cpu is in use");
        first.Should().HaveCount(3, "a reader's array never changes under it");
    }
}
