using AwesomeAssertions;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Mezzo.Core.Maintenance;
using Xunit;

namespace Mezzo.Core.Tests.Maintenance;

public sealed class InverseOfferPlannerTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 25, 12, 0, 0, TimeSpan.Zero);

    private static InverseOfferInput Input(
        IReadOnlyList<DrainingAgent> agents, IEnumerable<string>? active = null, IEnumerable<InverseOfferKey>? outstanding = null,
        Dictionary<InverseOfferKey, DateTimeOffset>? filters = null) =>
        new(agents, (active ?? agents.SelectMany(a => a.FrameworksWithResources)).ToHashSet(), (outstanding ?? []).ToHashSet(), filters ?? [], Now);

    [Fact]
    public void Every_framework_with_resources_on_a_draining_agent_gets_one_inverse_offer_for_it()
    {
        var plan = InverseOfferPlanner.Plan(Input([new DrainingAgent("a1", ["f2", "f1", "f1"]), new DrainingAgent("a2", ["f1"])]));

        plan.Should().Equal(new InverseOfferKey("f1", "a1"), new InverseOfferKey("f2", "a1"), new InverseOfferKey("f1", "a2"));
    }

    [Fact]
    public void Frameworks_without_resources_there_inactive_frameworks_outstanding_and_filtered_ones_get_none()
    {
        var agents = new[] { new DrainingAgent("a1", ["f1", "f2", "f3"]), new DrainingAgent("a2", []) };
        var plan = InverseOfferPlanner.Plan(Input(
            agents,
            active: ["f1", "f3", "f4"],
            outstanding: [new InverseOfferKey("f3", "a1")],
            filters: new() { [new InverseOfferKey("f1", "a1")] = Now.AddSeconds(1) }));

        plan.Should().BeEmpty("f1 is filtered, f2 is not connected, f3 has one outstanding, f4 holds nothing on a draining agent");
    }

    [Fact]
    public void A_filter_that_has_ended_no_longer_holds_the_inverse_offer_back()
    {
        var key = new InverseOfferKey("f1", "a1");

        InverseOfferPlanner.Plan(Input([new DrainingAgent("a1", ["f1"])], filters: new() { [key] = Now })).Should().Equal(key);
        InverseOfferPlanner.Plan(Input([new DrainingAgent("a1", ["f1"])], filters: new() { [key] = Now.AddTicks(1) })).Should().BeEmpty();
    }

    [Theory]
    [InlineData(null, 5.0)]
    [InlineData(30.0, 30.0)]
    [InlineData(0.5, 0.5)]
    [InlineData(-1.0, 5.0)]
    [InlineData(double.NaN, 5.0)]
    [InlineData(double.PositiveInfinity, 5.0)]
    [InlineData(1e12, 5.0)]
    public void Refuse_seconds_are_read_as_Mesos_reads_them(double? refuseSeconds, double expectedSeconds)
    {
        InverseOfferPlanner.RefuseDuration(refuseSeconds).Should().Be(TimeSpan.FromSeconds(expectedSeconds));
    }

    [Fact]
    public void Zero_refuse_seconds_install_no_filter()
    {
        InverseOfferPlanner.RefuseDuration(0).Should().BeNull();
    }

    [Fact]
    public void A_shorter_new_filter_does_not_cut_a_longer_one_short()
    {
        InverseOfferPlanner.Extend(Now.AddSeconds(60), Now, TimeSpan.FromSeconds(5)).Should().Be(Now.AddSeconds(60));
        InverseOfferPlanner.Extend(Now.AddSeconds(1), Now, TimeSpan.FromSeconds(5)).Should().Be(Now.AddSeconds(5));
        InverseOfferPlanner.Extend(null, Now, TimeSpan.MaxValue).Should().Be(DateTimeOffset.MaxValue);
    }

    /// <summary>
    /// The plan is exactly the (framework, agent) pairs with resources there, connected, nothing outstanding and no live
    /// filter; each at most once. Stated on its own, not with the planner's helpers.
    /// </summary>
    [Property(MaxTest = 300)]
    public Property Plans_exactly_the_eligible_pairs_once_each()
    {
        var frameworks = Gen.Elements("f1", "f2", "f3", "f4");
        var agentIds = Gen.Elements("a1", "a2", "a3");
        var keys = Gen.Zip(frameworks, agentIds).Select(t => new InverseOfferKey(t.Item1, t.Item2));
        var scenario =
            from agents in Gen.Zip(agentIds, frameworks.ListOf()).ListOf()
            from active in frameworks.ListOf()
            from outstanding in keys.ListOf()
            from filters in Gen.Zip(keys, Gen.Choose(-3, 3)).ListOf()
            select (agents, active, outstanding, filters);

        return Prop.ForAll(scenario.ToArbitrary(), s =>
        {
            var draining = s.agents.DistinctBy(a => a.Item1).Select(a => new DrainingAgent(a.Item1, [.. a.Item2])).ToList();
            var filterMap = new Dictionary<InverseOfferKey, DateTimeOffset>();
            foreach (var (key, seconds) in s.filters)
            {
                filterMap[key] = Now.AddSeconds(seconds);
            }

            var input = new InverseOfferInput(draining, s.active.ToHashSet(), s.outstanding.ToHashSet(), filterMap, Now);
            var plan = InverseOfferPlanner.Plan(input);

            var expected = draining
                .SelectMany(a => a.FrameworksWithResources.Select(f => new InverseOfferKey(f, a.AgentId)))
                .Where(k => s.active.Contains(k.FrameworkId) && !s.outstanding.Contains(k) && !(filterMap.TryGetValue(k, out var until) && until > Now))
                .ToHashSet();
            plan.Should().OnlyHaveUniqueItems();
            plan.ToHashSet().SetEquals(expected).Should().BeTrue();
        });
    }
}
