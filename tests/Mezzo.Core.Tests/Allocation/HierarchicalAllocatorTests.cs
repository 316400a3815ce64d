using AwesomeAssertions;
using Mezzo.Core.Allocation;
using Mezzo.Core.Resources;
using Xunit;

namespace Mezzo.Core.Tests;

using Resources = Mezzo.Core.Resources.Resources;

public sealed class HierarchicalAllocatorTests
{
    private static readonly DateTimeOffset Now = new(2030, 1, 1, 12, 0, 0, TimeSpan.Zero);

    private static readonly Dictionary<string, double> Totals = new()
    {
        ["cpus"] = 10,
        ["mem"] = 10240,
        ["disk"] = 100_000,
    };

    private readonly HierarchicalAllocator _allocator = new();

    [Fact]
    public void The_framework_with_the_lowest_dominant_share_gets_the_agent()
    {
        // fw-a holds 10% of the cpus but 80% of the memory: its dominant share (0.8) is above fw-b's (0.5, cpus).
        var decisions = Allocate(
            [Agent("a1", "cpus:2;mem:1024")],
            [Framework("fw-a", allocated: "cpus:1;mem:8192"), Framework("fw-b", allocated: "cpus:5")]);

        Summary(decisions).Should().Be("fw-b@a1");
    }

    [Fact]
    public void A_framework_share_grows_with_each_agent_it_is_given()
    {
        var decisions = Allocate(
            [Agent("a1", "cpus:8;mem:1024"), Agent("a2", "cpus:1;mem:1024")],
            [Framework("fw-a", allocated: "cpus:6"), Framework("fw-b", allocated: "cpus:1")]);

        // fw-b (0.1) takes a1 and goes to 0.9, so a2 goes to fw-a (0.6).
        Summary(decisions).Should().Be("fw-b@a1 | fw-a@a2");
    }

    [Fact]
    public void Equal_frameworks_take_turns_and_ties_go_to_the_lower_framework_id()
    {
        AllocatorAgent[] agents = [Agent("a1", "cpus:2;mem:2048"), Agent("a2", "cpus:2;mem:2048"), Agent("a3", "cpus:2;mem:2048")];

        Summary(Allocate(agents, [Framework("fw-a"), Framework("fw-b")])).Should().Be("fw-a@a1 | fw-b@a2 | fw-a@a3");
        Summary(Allocate(agents, [Framework("fw-b"), Framework("fw-a")])).Should().Be("fw-a@a1 | fw-b@a2 | fw-a@a3");
    }

    [Fact]
    public void The_offer_is_the_whole_offerable_pool_allocated_to_the_framework_role()
    {
        var agent = Agent("a1", "cpus:2;mem:1024;disk:500;ports:[31000-31010];devices:{x,y};cpus(eng):1");

        var decision = Allocate([agent], [Framework("fw-eng", role: "eng")]).Should().ContainSingle().Which;

        decision.AgentId.Should().Be("a1");
        decision.Resources.Should().OnlyContain(r => r.AllocationRole == "eng");
        decision.Resources.Equals(agent.Available.AllocateTo("eng")).Should().BeTrue($"offered {decision.Resources}");
    }

    [Fact]
    public void Reserved_resources_are_not_offered_to_other_roles_but_to_their_role_on_the_same_agent()
    {
        var agent = Agent("a1", "cpus(eng):4;mem(eng):4096;cpus:1;mem:1024");

        // ops has the lower share, so it goes first, but only gets the unreserved part; eng's reservation is left for eng.
        var decisions = Allocate([agent], [Framework("fw-ops", role: "ops"), Framework("fw-eng", role: "eng", allocated: "cpus:1")]);

        Summary(decisions).Should().Be("fw-ops@a1 | fw-eng@a1");
        decisions[0].Resources.Unallocate().Equals(Resources.Parse("cpus:1;mem:1024")).Should().BeTrue($"offered {decisions[0].Resources}");
        decisions[1].Resources.Unallocate().Equals(Resources.Parse("cpus(eng):4;mem(eng):4096")).Should().BeTrue($"offered {decisions[1].Resources}");
        decisions[1].Resources.Should().OnlyContain(r => r.AllocationRole == "eng");
    }

    [Fact]
    public void An_agent_with_only_another_role_reservations_is_offered_to_that_role_only()
    {
        var dynamic = new Resources([Resource.ScalarOf("cpus", 4, new ReservationInfo(ReservationType.Dynamic, "eng", "alice")), Resource.ScalarOf("mem", 4096, new ReservationInfo(ReservationType.Dynamic, "eng", "alice"))]);
        AllocatorAgent[] agents = [Agent("a1", "cpus(eng):4;mem(eng):4096"), new AllocatorAgent("a2", dynamic)];

        Allocate(agents, [Framework("fw-ops", role: "ops")]).Should().BeEmpty();
        Allocate(agents, [Framework("fw-ops", role: "ops"), Framework("fw-eng", role: "eng", allocated: "cpus:5")])
            .Select(d => d.FrameworkId).Should().Equal("fw-eng", "fw-eng");
    }

    [Fact]
    public void Resources_reserved_to_a_role_are_offered_to_its_subroles_but_not_to_its_parent_or_prefix_namesakes()
    {
        var engReserved = Agent("a1", "cpus(eng):4;mem(eng):4096");
        var devReserved = Agent("a2", "cpus(eng/dev):4;mem(eng/dev):4096");

        Summary(Allocate([engReserved], [Framework("fw-dev", role: "eng/dev")])).Should().Be("fw-dev@a1");
        Summary(Allocate([engReserved], [Framework("fw-deep", role: "eng/dev/qa")])).Should().Be("fw-deep@a1");
        Allocate([engReserved], [Framework("fw-x", role: "engineering")]).Should().BeEmpty();
        Allocate([devReserved], [Framework("fw-eng", role: "eng")]).Should().BeEmpty();
        Allocate([engReserved], [Framework("fw-star", role: "*")]).Should().BeEmpty();
    }

    [Fact]
    public void An_active_filter_keeps_the_refused_agent_from_the_framework()
    {
        var agent = Agent("a1", "cpus:2;mem:1024");
        var filter = new OfferFilter("a1", "*", agent.Available.AllocateTo("*"), Now.AddSeconds(5));

        var decisions = Allocate([agent, Agent("a2", "cpus:1;mem:512")], [Framework("fw-a", filters: filter), Framework("fw-b", allocated: "cpus:5")]);

        Summary(decisions).Should().Be("fw-b@a1 | fw-a@a2");
    }

    [Fact]
    public void A_filtered_agent_goes_unoffered_when_nobody_else_wants_it()
    {
        var agent = Agent("a1", "cpus:2;mem:1024");
        var filter = new OfferFilter("a1", "*", agent.Available, Now.AddSeconds(5));

        Allocate([agent], [Framework("fw-a", filters: filter)]).Should().BeEmpty();
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    public void A_filter_stops_applying_when_it_expires(int secondsLeft)
    {
        var agent = Agent("a1", "cpus:2;mem:1024");
        var filter = new OfferFilter("a1", "*", agent.Available, Now.AddSeconds(secondsLeft));

        Summary(Allocate([agent], [Framework("fw-a", filters: filter)])).Should().Be("fw-a@a1");
        Allocate([agent], [Framework("fw-a", filters: filter)], now: Now.AddSeconds(secondsLeft - 1)).Should().BeEmpty();
    }

    [Fact]
    public void A_filter_applies_to_its_agent_only()
    {
        var filter = new OfferFilter("a2", "*", Resources.Parse("cpus:2;mem:1024"), Now.AddHours(1));

        Summary(Allocate([Agent("a1", "cpus:2;mem:1024")], [Framework("fw-a", filters: filter)])).Should().Be("fw-a@a1");
    }

    [Fact]
    public void A_filter_does_not_apply_once_the_agent_has_more_than_was_refused()
    {
        // Mesos's RefusedOfferFilter: filtered only while the refused resources contain everything offerable.
        var filter = new OfferFilter("a1", "*", Resources.Parse("cpus:1;mem:512"), Now.AddHours(1));

        Summary(Allocate([Agent("a1", "cpus:2;mem:512")], [Framework("fw-a", filters: filter)])).Should().Be("fw-a@a1");
        Allocate([Agent("a1", "cpus:1;mem:256")], [Framework("fw-a", filters: filter)]).Should().BeEmpty();
    }

    [Fact]
    public void Refusing_unreserved_resources_does_not_refuse_resources_reserved_since()
    {
        // The declined offer was unreserved; the same amount is now reserved to eng, which is a different resource.
        var filter = new OfferFilter("a1", "eng", Resources.Parse("cpus:2;mem:1024").AllocateTo("eng"), Now.AddHours(1));

        Summary(Allocate([Agent("a1", "cpus(eng):2;mem:1024")], [Framework("fw-eng", role: "eng", filters: filter)])).Should().Be("fw-eng@a1");
    }

    [Fact]
    public void Suppressed_frameworks_get_nothing()
    {
        AllocatorAgent[] agents = [Agent("a1", "cpus:2;mem:1024"), Agent("a2", "cpus:2;mem:1024")];

        Allocate(agents, [Framework("fw-a", suppressed: true)]).Should().BeEmpty();
        Summary(Allocate(agents, [Framework("fw-a", suppressed: true), Framework("fw-b", allocated: "cpus:9")])).Should().Be("fw-b@a1 | fw-b@a2");
    }

    [Theory]
    [InlineData("cpus:0.01", true)]
    [InlineData("mem:32", true)]
    [InlineData("cpus:0.009;mem:31.999", false)]
    [InlineData("cpus:0.009;mem:32", true)]
    [InlineData("cpus:0.01;mem:1", true)]
    [InlineData("disk:1000;gpus:1;ports:[31000-32000]", false)]
    public void Only_offers_at_least_the_minimum_allocatable_cpus_or_mem(string available, bool offered) =>
        Allocate([Agent("a1", available)], [Framework("fw-a")]).Should().HaveCount(offered ? 1 : 0);

    [Fact]
    public void The_minimum_applies_to_what_the_framework_may_take()
    {
        // ops may only take cpus:0.005, under the minimum, so the agent goes to eng despite ops's lower share.
        var decisions = Allocate([Agent("a1", "cpus(eng):4;mem(eng):4096;cpus:0.005")], [Framework("fw-ops", role: "ops"), Framework("fw-eng", role: "eng", allocated: "cpus:5")]);

        Summary(decisions).Should().Be("fw-eng@a1");
    }

    [Fact]
    public void Nothing_to_do_without_agents_frameworks_or_resources()
    {
        Allocate([], [Framework("fw-a")]).Should().BeEmpty();
        Allocate([Agent("a1", "cpus:2;mem:1024")], []).Should().BeEmpty();
        Allocate([Agent("a1", "")], [Framework("fw-a")]).Should().BeEmpty();
    }

    [Fact]
    public void The_same_input_gives_the_same_decisions()
    {
        AllocatorAgent[] agents =
        [
            Agent("a1", "cpus:4;mem:4096;ports:[31000-31100]"),
            Agent("a2", "cpus(eng):2;mem(eng):2048;cpus:1;mem:256"),
            Agent("a3", "cpus:8;mem:16384;disk:5000"),
            Agent("a4", "cpus:0.5;mem:64"),
        ];
        AllocatorFramework[] frameworks =
        [
            Framework("fw-1", role: "eng", allocated: "cpus:1"),
            Framework("fw-2", role: "ops", allocated: "mem:1024"),
            Framework("fw-3", role: "eng/dev", filters: new OfferFilter("a3", "eng/dev", Resources.Parse("cpus:8;mem:16384;disk:5000"), Now.AddMinutes(1))),
            Framework("fw-4", suppressed: true),
        ];
        var input = new AllocationInput(agents, frameworks, Totals, Now);

        var first = _allocator.Allocate(input);
        var second = new HierarchicalAllocator().Allocate(input with { Frameworks = [.. frameworks.Reverse()] });

        first.Should().NotBeEmpty();
        Summary(second).Should().Be(Summary(first));
        first.Zip(second).Should().OnlyContain(pair => pair.First.Resources.Equals(pair.Second.Resources));
    }

    [Fact]
    public void A_framework_with_many_filters_is_filtered_exactly_on_the_agents_it_declined()
    {
        // More filters than the allocator scans as a plain list: it looks them up by agent instead.
        AllocatorAgent[] agents = [.. Enumerable.Range(1, 12).Select(i => Agent($"a{i}", "cpus:1;mem:512"))];
        OfferFilter[] filters =
        [
            .. Enumerable.Range(1, 10).Where(i => i % 2 == 0).Select(i => new OfferFilter($"a{i}", "*", agents[i - 1].Available, Now.AddMinutes(1))),
            new OfferFilter("a1", "*", Resources.Parse("cpus:1;mem:512"), Now.AddMinutes(-1)),
            new OfferFilter("a3", "*", Resources.Parse("cpus:0.5"), Now.AddMinutes(1)),
            new OfferFilter("a5", "*", Resources.Parse("cpus:1;mem:512"), Now.AddMinutes(1)),
            new OfferFilter("a5", "*", Resources.Parse("cpus:1;mem:512"), Now.AddMinutes(1)),
            new OfferFilter("a12", "*", Resources.Parse("cpus:1;mem:512"), Now.AddMinutes(1)),
        ];

        var decisions = Allocate(agents, [Framework("fw-a", filters: filters)]);

        // Expired (a1) and too small (a3) filters do not count; a5 twice is still declined once.
        Summary(decisions).Should().Be("fw-a@a1 | fw-a@a3 | fw-a@a7 | fw-a@a9 | fw-a@a11");
    }

    [Fact]
    public void An_agent_with_less_than_the_minimum_left_is_offered_to_no_one_and_changes_no_share()
    {
        var decisions = Allocate(
            [Agent("a1", "cpus:0.005;mem:16;disk:1000;ports:[31000-32000]"), Agent("a2", "cpus:1;mem:512"), Agent("a3", "cpus:1;mem:512")],
            [Framework("fw-a", allocated: "cpus:1"), Framework("fw-b", allocated: "cpus:2")]);

        Summary(decisions).Should().Be("fw-a@a2 | fw-a@a3");
    }

    [Fact]
    public void DominantShare_is_the_largest_share_of_any_resource_with_a_known_total()
    {
        var totals = new Dictionary<string, double> { ["cpus"] = 10, ["mem"] = 2048, ["gpus"] = 0 };

        HierarchicalAllocator.DominantShare(new Dictionary<string, double> { ["cpus"] = 2, ["mem"] = 1024 }, totals).Should().Be(0.5);
        HierarchicalAllocator.DominantShare(new Dictionary<string, double> { ["cpus"] = 3, ["mem"] = 512 }, totals).Should().BeApproximately(0.3, 1e-12);
        HierarchicalAllocator.DominantShare(new Dictionary<string, double> { ["gpus"] = 4, ["disk"] = 9 }, totals).Should().Be(0, "zero and unknown totals do not count");
        HierarchicalAllocator.DominantShare(new Dictionary<string, double>(), totals).Should().Be(0);
    }

    private static AllocatorAgent Agent(string id, string resources, string host = "", string attributes = "") =>
        new(id, Resources.Parse(resources)) { Hostname = host, Attributes = AttributeParser.Parse(attributes) };

    private static AllocatorFramework Framework(string id, string role = "*", string allocated = "", bool suppressed = false, params OfferFilter[] filters) =>
        new(id, [role], Resources.Parse(allocated).AllocateTo(role))
        {
            SuppressedRoles = suppressed ? new HashSet<string> { role } : new HashSet<string>(),
            Filters = filters,
        };

    private static string Summary(IEnumerable<OfferDecision> decisions) =>
        string.Join(" | ", decisions.Select(d => $"{d.FrameworkId}@{d.AgentId}"));

    private IReadOnlyList<OfferDecision> Allocate(AllocatorAgent[] agents, AllocatorFramework[] frameworks, DateTimeOffset? now = null) =>
        _allocator.Allocate(new AllocationInput(agents, frameworks, Totals, now ?? Now));
}
