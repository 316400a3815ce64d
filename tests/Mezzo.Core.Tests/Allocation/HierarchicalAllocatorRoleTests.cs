using System.Text.RegularExpressions;
using AwesomeAssertions;
using Mezzo.Core.Allocation;
using Mezzo.Core.Resources;
using Mezzo.Core.Roles;
using Xunit;

namespace Mezzo.Core.Tests;

using Resources = Mezzo.Core.Resources.Resources;

/// <summary>Roles, weights, MULTI_ROLE, reservations, suppression, filters, min_allocatable, constraints, quota.</summary>
public sealed class HierarchicalAllocatorRoleTests
{
    private static readonly DateTimeOffset Now = new(2030, 1, 1, 12, 0, 0, TimeSpan.Zero);

    private readonly HierarchicalAllocator _allocator = new();

    [Fact]
    public void Weights_split_many_small_agents_in_their_ratio()
    {
        var decisions = Allocate(
            SmallAgents(400),
            [Framework("fw-a", "a"), Framework("fw-b", "b")],
            weights: new() { ["a"] = 1, ["b"] = 3 });

        Count(decisions, "fw-a").Should().BeInRange(99, 101);
        Count(decisions, "fw-b").Should().BeInRange(299, 301);
    }

    [Fact]
    public void Siblings_share_by_weight_at_every_level_of_the_role_tree()
    {
        // Top level: eng (weight 1) against ops (3); inside eng: eng/a (3) against eng/b (1).
        var decisions = Allocate(
            SmallAgents(80),
            [Framework("fw-a", "eng/a"), Framework("fw-b", "eng/b"), Framework("fw-ops", "ops")],
            weights: new() { ["ops"] = 3, ["eng/a"] = 3 });

        Count(decisions, "fw-ops").Should().BeInRange(59, 61);
        Count(decisions, "fw-a").Should().BeInRange(14, 16);
        Count(decisions, "fw-b").Should().BeInRange(4, 6);
    }

    [Fact]
    public void A_subrole_allocation_counts_toward_its_parent_share()
    {
        // eng/a holds 5 cpus, so eng as a whole is above ops although the new eng/b framework holds nothing.
        var decisions = Allocate(
            [Agent("a1", "cpus:1;mem:100")],
            [Framework("fw-a", "eng/a", allocated: "cpus:5"), Framework("fw-b", "eng/b"), Framework("fw-ops", "ops", allocated: "cpus:2")]);

        Summary(decisions).Should().Be("fw-ops@a1");
    }

    [Fact]
    public void A_role_with_frameworks_and_subroles_competes_with_its_subroles_through_its_own_leaf()
    {
        var decisions = Allocate(
            SmallAgents(60),
            [Framework("fw-eng", "eng"), Framework("fw-a", "eng/a"), Framework("fw-ops", "ops")]);

        Count(decisions, "fw-ops").Should().BeInRange(29, 31);
        Count(decisions, "fw-eng").Should().BeInRange(14, 16);
        Count(decisions, "fw-a").Should().BeInRange(14, 16);
    }

    [Fact]
    public void Frameworks_inside_a_role_are_ordered_by_their_own_share_in_that_role()
    {
        // fw-1's allocation in ops does not count inside eng.
        var decisions = Allocate(
            [Agent("a1", "cpus:1;mem:100")],
            [MultiRole("fw-1", ["eng", "ops"], allocated: new() { ["ops"] = "cpus:8" }), Framework("fw-2", "eng", allocated: "cpus:1")]);

        RoleSummary(decisions).Should().Be("fw-1(eng)@a1");
    }

    [Fact]
    public void A_multi_role_framework_gets_one_offer_per_role_on_the_same_agent()
    {
        var agent = Agent("a1", "cpus:4;mem:4096;cpus(ops):2;mem(ops):1024");

        var decisions = Allocate([agent], [MultiRole("fw", ["eng", "ops"])]);

        RoleSummary(decisions).Should().Be("fw(eng)@a1 | fw(ops)@a1");
        decisions[0].Resources.Equals(Resources.Parse("cpus:4;mem:4096").AllocateTo("eng")).Should().BeTrue($"{decisions[0].Resources}");
        decisions[1].Resources.Equals(Resources.Parse("cpus(ops):2;mem(ops):1024").AllocateTo("ops")).Should().BeTrue($"{decisions[1].Resources}");
    }

    [Fact]
    public void A_multi_role_framework_is_a_client_of_each_role()
    {
        var decisions = Allocate(SmallAgents(4), [MultiRole("fw", ["eng", "ops"])]);

        RoleSummary(decisions).Should().Be("fw(eng)@s0 | fw(ops)@s1 | fw(eng)@s2 | fw(ops)@s3");
    }

    [Fact]
    public void Resources_reserved_to_a_role_go_to_its_subroles_and_never_to_another_role()
    {
        AllocatorAgent[] agents = [Agent("a1", "cpus(eng):4;mem(eng):4096"), Agent("a2", "cpus(eng):4;mem(eng):4096")];

        var decisions = Allocate(agents, [Framework("fw-dev", "eng/dev", allocated: "cpus:100"), Framework("fw-ops", "ops")]);

        Summary(decisions).Should().Be("fw-dev@a1 | fw-dev@a2");
        decisions.Should().OnlyContain(d => d.Resources.All(r => r.AllocationRole == "eng/dev" && r.Role == "eng"));
    }

    [Fact]
    public void A_refined_reservation_follows_its_innermost_role()
    {
        var refined = new Resources(
        [
            Resource.ScalarOf("cpus", 2, new ReservationInfo(ReservationType.Static, "eng"), new ReservationInfo(ReservationType.Dynamic, "eng/dev", "bob")),
            Resource.ScalarOf("mem", 512, new ReservationInfo(ReservationType.Static, "eng"), new ReservationInfo(ReservationType.Dynamic, "eng/dev", "bob")),
        ]);
        AllocatorAgent[] agents = [new("a1", refined)];

        Allocate(agents, [Framework("fw-eng", "eng"), Framework("fw-qa", "eng/qa")]).Should().BeEmpty();
        Summary(Allocate(agents, [Framework("fw-eng", "eng"), Framework("fw-x", "eng/dev/x")])).Should().Be("fw-x@a1");
    }

    [Fact]
    public void A_suppressed_role_gets_nothing_and_its_allocation_still_counts()
    {
        // fw-m holds 5 cpus in ops, which it suppressed: ops is still above eng, and fw-m only gets eng offers.
        var framework = MultiRole("fw-m", ["eng", "ops"], allocated: new() { ["ops"] = "cpus:5" }) with { SuppressedRoles = new HashSet<string> { "ops" } };

        var decisions = Allocate(SmallAgents(3), [framework, Framework("fw-o", "ops"), Framework("fw-e", "eng", allocated: "cpus:1")]);

        decisions.Should().NotContain(d => d.FrameworkId == "fw-m" && d.Role == "ops");
        RoleSummary(decisions).Should().Be("fw-m(eng)@s0 | fw-e(eng)@s1 | fw-m(eng)@s2");
    }

    [Fact]
    public void A_filter_applies_only_to_the_role_it_was_set_for()
    {
        var agent = Agent("a1", "cpus:2;mem:1024");
        var framework = MultiRole("fw", ["eng", "ops"]) with
        {
            Filters = [new OfferFilter("a1", "eng", agent.Available.AllocateTo("eng"), Now.AddMinutes(1))],
        };

        RoleSummary(Allocate([agent], [framework])).Should().Be("fw(ops)@a1");
    }

    [Theory]
    [InlineData("", false)]
    [InlineData("disk:100", true)]
    [InlineData("disk:1000", false)]
    [InlineData("ports:10", true)]
    [InlineData("ports:11", false)]
    [InlineData("cpus:1|disk:100", true)]
    [InlineData("cpus:1;disk:100", false)]
    [InlineData("any", true)]
    public void A_framework_min_allocatable_replaces_the_cluster_one_for_its_role(string minimum, bool offered)
    {
        var agent = Agent("a1", "disk:500;ports:[31000-31009]");
        var framework = Framework("fw", "eng");
        if (minimum.Length > 0)
        {
            IReadOnlyList<ResourceQuantities> sets = minimum == "any" ? [] : [.. minimum.Split('|').Select(ResourceQuantities.Parse)];
            framework = framework with { MinAllocatable = new Dictionary<string, IReadOnlyList<ResourceQuantities>> { ["eng"] = sets } };
        }

        Allocate([agent], [framework]).Should().HaveCount(offered ? 1 : 0);
    }

    [Fact]
    public void A_framework_min_allocatable_for_another_role_does_not_apply()
    {
        var framework = MultiRole("fw", ["eng", "ops"]) with
        {
            MinAllocatable = new Dictionary<string, IReadOnlyList<ResourceQuantities>> { ["ops"] = [ResourceQuantities.Parse("disk:1")] },
        };

        RoleSummary(Allocate([Agent("a1", "disk:500")], [framework])).Should().Be("fw(ops)@a1");
    }

    [Fact]
    public void An_empty_cluster_min_allocatable_lets_any_non_empty_offer_through()
    {
        var input = new AllocationInput([Agent("a1", "ports:[31000-31000]")], [Framework("fw", "eng")], Totals(1), Now) { MinAllocatable = [] };

        Summary(_allocator.Allocate(input)).Should().Be("fw@a1");
    }

    [Theory]
    [InlineData("hostname=host-1", "a1")]
    [InlineData("rack exists", "a0 a1")]
    [InlineData("rack~r1", "a1")]
    [InlineData("rack!~r1", "a0 a2")]
    [InlineData("rack missing", "a2")]
    [InlineData("hostname=host-0 | rack missing", "a0 a2")]
    [InlineData("rack exists & hostname!=host-0", "a1")]
    public void Offer_constraints_restrict_a_role_to_the_agents_they_match(string constraints, string expected)
    {
        AllocatorAgent[] agents =
        [
            Agent("a0", "cpus:1;mem:100", host: "host-0", attributes: "rack:r0"),
            Agent("a1", "cpus:1;mem:100", host: "host-1", attributes: "rack:r1"),
            Agent("a2", "cpus:1;mem:100", host: "host-2", attributes: "cores:8"),
        ];
        var framework = Framework("fw", "eng") with
        {
            Constraints = new Dictionary<string, RoleOfferConstraints> { ["eng"] = ParseConstraints(constraints) },
        };

        string.Join(" ", Allocate(agents, [framework]).Select(d => d.AgentId)).Should().Be(expected);
    }

    [Fact]
    public void Offer_constraints_apply_only_to_their_role()
    {
        AllocatorAgent[] agents = [Agent("a0", "cpus:1;mem:100", host: "host-0"), Agent("a1", "cpus:1;mem:100", host: "host-1")];
        var framework = MultiRole("fw", ["eng", "ops"]) with
        {
            Constraints = new Dictionary<string, RoleOfferConstraints> { ["eng"] = ParseConstraints("hostname=host-1") },
        };

        RoleSummary(Allocate(agents, [framework])).Should().Be("fw(ops)@a0 | fw(eng)@a1");
    }

    [Fact]
    public void Stage_one_gives_a_role_its_missing_guarantee_before_a_greedy_role_with_a_lower_share()
    {
        // prod holds 8 cpus of a 10 cpu guarantee; batch holds nothing and would win every agent on share.
        var decisions = Allocate(
            SmallAgents(4, "cpus:4;mem:4096"),
            [Framework("fw-prod", "prod", allocated: "cpus:8"), Framework("fw-batch", "batch")],
            quotas: [Quota("prod", guarantees: "cpus:10")],
            totals: 24);

        Summary(decisions).Should().Be("fw-prod@s0 | fw-batch@s0 | fw-batch@s1 | fw-batch@s2 | fw-batch@s3");
        decisions[0].Resources.Unallocate().Equals(Resources.Parse("cpus:2;mem:4096")).Should().BeTrue($"guaranteed cpus are chopped to what is missing, mem comes along: {decisions[0].Resources}");
        decisions[1].Resources.Unallocate().Equals(Resources.Parse("cpus:2")).Should().BeTrue($"{decisions[1].Resources}");
    }

    [Fact]
    public void Without_quota_the_greedy_role_wins_on_share()
    {
        var decisions = Allocate(
            SmallAgents(4, "cpus:4;mem:4096"),
            [Framework("fw-prod", "prod", allocated: "cpus:8"), Framework("fw-batch", "batch")],
            totals: 24);

        Summary(decisions).Should().Be("fw-batch@s0 | fw-batch@s1 | fw-batch@s2 | fw-prod@s3");
    }

    [Fact]
    public void A_limit_is_never_exceeded_and_what_it_cuts_off_goes_to_the_next_role()
    {
        var decisions = Allocate(
            SmallAgents(4, "cpus:4;mem:1024"),
            [Framework("fw-capped", "capped"), Framework("fw-other", "other", allocated: "cpus:20")],
            quotas: [Quota("capped", limits: "cpus:10")],
            totals: 36);

        decisions.Where(d => d.Role == "capped").Sum(d => d.Resources.Cpus).Should().Be(10);
        Summary(decisions).Should().Be("fw-capped@s0 | fw-capped@s1 | fw-capped@s2 | fw-other@s2 | fw-capped@s3 | fw-other@s3");

        // At its cpus limit the role still gets memory (Mesos chops per resource).
        decisions[4].Resources.Unallocate().Equals(Resources.Parse("mem:1024")).Should().BeTrue($"{decisions[4].Resources}");
    }

    [Fact]
    public void A_zero_limit_keeps_the_role_from_that_resource_entirely()
    {
        var zero = new QuotaConfig("frozen", ResourceQuantities.Empty, ResourceQuantities.OfLimits([KeyValuePair.Create("cpus", 0L)]));
        var decisions = Allocate(SmallAgents(3, "cpus:4;mem:1024"), [Framework("fw-frozen", "frozen")], quotas: [zero], totals: 12);

        decisions.Where(d => d.Role == "frozen").Sum(d => d.Resources.Cpus).Should().Be(0);
        decisions.Where(d => d.Role == "frozen").Sum(d => d.Resources.Mem).Should().Be(3072, "mem has no limit");
    }

    [Fact]
    public void A_parent_limit_caps_its_subroles_together()
    {
        var decisions = Allocate(
            SmallAgents(4, "cpus:4;mem:1024"),
            [Framework("fw-a", "eng/a"), Framework("fw-b", "eng/b")],
            quotas: [Quota("eng", limits: "cpus:6")],
            totals: 16);

        decisions.Sum(d => d.Resources.Cpus).Should().Be(6);
    }

    [Fact]
    public void Headroom_for_an_unsatisfied_guarantee_is_held_back_from_other_roles()
    {
        // ops is guaranteed 8 of the 12 cpus and has no framework yet: eng may only take the 4 cpus nobody needs.
        var decisions = Allocate(
            SmallAgents(3, "cpus:4;mem:1024"),
            [Framework("fw-eng", "eng")],
            quotas: [Quota("ops", guarantees: "cpus:8")],
            totals: 12);

        decisions.Sum(d => d.Resources.Cpus).Should().Be(4);
        decisions.Should().OnlyContain(d => d.FrameworkId == "fw-eng");
    }

    [Fact]
    public void A_role_may_take_the_headroom_held_back_for_its_own_guarantee()
    {
        var decisions = Allocate(
            SmallAgents(3, "cpus:4;mem:1024"),
            [Framework("fw-eng", "eng", allocated: "cpus:1"), Framework("fw-ops", "ops", allocated: "cpus:10")],
            quotas: [Quota("ops", guarantees: "cpus:18")],
            totals: 23);

        // ops misses 8 of its guarantee: it gets them in stage 1, eng the 4 cpus left over.
        decisions.Where(d => d.Role == "ops").Sum(d => d.Resources.Cpus).Should().Be(8);
        decisions.Where(d => d.Role == "eng").Sum(d => d.Resources.Cpus).Should().Be(4);
    }

    [Fact]
    public void A_subrole_allocation_and_its_frameworks_serve_the_parent_guarantee()
    {
        // eng is guaranteed 8 cpus; eng/dev holds 4 of them and is where eng's frameworks are.
        var decisions = Allocate(
            SmallAgents(2, "cpus:4;mem:1024"),
            [Framework("fw-dev", "eng/dev", allocated: "cpus:4"), Framework("fw-batch", "batch")],
            quotas: [Quota("eng", guarantees: "cpus:8")],
            totals: 12);

        Summary(decisions).Should().Be("fw-dev@s0 | fw-batch@s1");
    }

    [Fact]
    public void Reservations_count_toward_a_role_quota_consumption()
    {
        // eng's 4 reserved cpus meet its 4 cpu guarantee: no headroom held back, the unreserved agent goes on share.
        AllocatorAgent[] agents = [Agent("r", "cpus(eng):4;mem(eng):1024"), Agent("u", "cpus:4;mem:1024")];

        var decisions = Allocate(
            agents,
            [Framework("fw-eng", "eng", allocated: "mem:8000"), Framework("fw-batch", "batch")],
            quotas: [Quota("eng", guarantees: "cpus:4")],
            totals: 8);

        Summary(decisions).Should().Be("fw-eng@r | fw-batch@u");
        decisions[1].Resources.Cpus.Should().Be(4);
    }

    private static AllocatorAgent[] SmallAgents(int count, string resources = "cpus:1;mem:100") =>
        [.. Enumerable.Range(0, count).Select(i => Agent($"s{i}", resources))];

    private static AllocatorAgent Agent(string id, string resources, string host = "", string attributes = "") =>
        new(id, Resources.Parse(resources)) { Hostname = host, Attributes = AttributeParser.Parse(attributes) };

    private static AllocatorFramework Framework(string id, string role, string allocated = "") =>
        new(id, [role], Resources.Parse(allocated).AllocateTo(role));

    private static AllocatorFramework MultiRole(string id, string[] roles, Dictionary<string, string>? allocated = null) =>
        new(id, roles, new Resources((allocated ?? []).SelectMany(a => Resources.Parse(a.Value).AllocateTo(a.Key))));

    private static QuotaConfig Quota(string role, string guarantees = "", string limits = "") =>
        new(role, ResourceQuantities.Parse(guarantees), ResourceQuantities.Parse(limits));

    /// <summary>"a | b" is OR of groups, "x &amp; y" AND inside a group; "hostname=h", "rack exists", "rack missing", "rack~re", "rack!~re".</summary>
    private static RoleOfferConstraints ParseConstraints(string text) =>
        new([.. text.Split('|').Select(group => (IReadOnlyList<AttributeConstraint>)[.. group.Split('&').Select(c => ParseConstraint(c.Trim()))])]);

    private static AttributeConstraint ParseConstraint(string text)
    {
        if (text.StartsWith("hostname!=", StringComparison.Ordinal))
        {
            return new AttributeConstraint(ConstraintSelectorKind.Hostname, null, ConstraintPredicateKind.TextNotEquals, text["hostname!=".Length..]);
        }

        if (text.StartsWith("hostname=", StringComparison.Ordinal))
        {
            return new AttributeConstraint(ConstraintSelectorKind.Hostname, null, ConstraintPredicateKind.TextEquals, text["hostname=".Length..]);
        }

        var parts = text.Split(' ', 2);
        if (parts.Length == 2)
        {
            return new AttributeConstraint(ConstraintSelectorKind.AttributeName, parts[0], parts[1] == "exists" ? ConstraintPredicateKind.Exists : ConstraintPredicateKind.NotExists, null);
        }

        var negated = text.Contains("!~", StringComparison.Ordinal);
        var pieces = text.Split(negated ? "!~" : "~");
        return new AttributeConstraint(ConstraintSelectorKind.AttributeName, pieces[0], negated ? ConstraintPredicateKind.TextNotMatches : ConstraintPredicateKind.TextMatches, pieces[1])
        {
            Regex = new Regex($"^(?:{pieces[1]})$"),
        };
    }

    private static int Count(IEnumerable<OfferDecision> decisions, string frameworkId) => decisions.Count(d => d.FrameworkId == frameworkId);

    private static string Summary(IEnumerable<OfferDecision> decisions) =>
        string.Join(" | ", decisions.Select(d => $"{d.FrameworkId}@{d.AgentId}"));

    private static string RoleSummary(IEnumerable<OfferDecision> decisions) =>
        string.Join(" | ", decisions.Select(d => $"{d.FrameworkId}({d.Role})@{d.AgentId}"));

    private static Dictionary<string, double> Totals(double cpus) => new() { ["cpus"] = cpus, ["mem"] = cpus * 1024 };

    private IReadOnlyList<OfferDecision> Allocate(
        AllocatorAgent[] agents,
        AllocatorFramework[] frameworks,
        Dictionary<string, double>? weights = null,
        QuotaConfig[]? quotas = null,
        double? totals = null) =>
        _allocator.Allocate(new AllocationInput(agents, frameworks, Totals(totals ?? agents.Sum(a => a.Available.Cpus) + frameworks.Sum(f => f.Allocated.Cpus)), Now)
        {
            Weights = weights ?? [],
            Quotas = (quotas ?? []).ToDictionary(q => q.Role),
        });
}
