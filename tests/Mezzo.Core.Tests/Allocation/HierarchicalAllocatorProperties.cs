using System.Text;
using AwesomeAssertions;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Mezzo.Core.Allocation;
using Mezzo.Core.Resources;
using Mezzo.Core.Roles;

namespace Mezzo.Core.Tests;

using Resources = Mezzo.Core.Resources.Resources;

/// <summary>
/// Invariants of one allocation cycle (and of repeated cycles) on random clusters: agents with unreserved, reserved and
/// refined-reserved resources, hostnames and attributes; MULTI_ROLE frameworks in flat and hierarchical roles, some
/// roles suppressed, filters per role, offer constraints, per-role min_allocatable; weights; quotas with guarantees and
/// limits, also nested. The checks state the rules on their own (and use the reference resource model), not the
/// allocator's helpers.
/// </summary>
[Properties(Arbitrary = new[] { typeof(AllocationArbitraries) }, MaxTest = 500)]
public sealed class HierarchicalAllocatorProperties
{
    [Property]
    public void No_resource_is_offered_twice_and_an_agent_offers_at_most_what_it_has(AllocationScenario scenario)
    {
        var input = scenario.Input;
        var decisions = new HierarchicalAllocator().Allocate(input);

        decisions.Select(d => (d.FrameworkId, d.Role, d.AgentId)).Should().OnlyHaveUniqueItems("one offer per framework, role and agent");
        foreach (var group in decisions.GroupBy(d => d.AgentId))
        {
            var agent = input.Agents.Should().ContainSingle(a => a.AgentId == group.Key).Which;
            var offered = ResourceModel.Of(Resources.Empty);
            foreach (var decision in group)
            {
                decision.Resources.IsEmpty.Should().BeFalse();
                decision.Resources.Should().OnlyContain(r => r.AllocationRole == decision.Role);
                decision.Resources.Should().OnlyContain(r => !r.IsReserved || RoleNames.IsSelfOrDescendant(decision.Role, r.Role), "reserved resources go to the role or its subroles");
                offered = offered.Add(ResourceModel.Of(decision.Resources.Unallocate()));
            }

            ResourceModel.Of(agent.Available).Contains(offered).Should().BeTrue($"{agent.AgentId} has {agent.Available} but was offered {string.Join(" + ", group.Select(d => d.Resources))}");
        }
    }

    [Property]
    public void No_offer_takes_a_role_or_an_ancestor_above_its_quota_limit(AllocationScenario scenario)
    {
        var input = scenario.Input;
        var decisions = new HierarchicalAllocator().Allocate(input);

        foreach (var (role, quota) in input.Quotas)
        {
            var before = Consumed(input, role);
            var added = Added(decisions, role);
            foreach (var (name, limit) in quota.Limits)
            {
                added.GetValueOrDefault(name).Should().BeLessThanOrEqualTo(Math.Max(0, limit - before.GetValueOrDefault(name)), $"{role} held {before.GetValueOrDefault(name)} {name} of a {limit} limit");
            }
        }
    }

    [Property]
    public void Guarantees_are_met_when_the_unreserved_pool_can_cover_them(AllocationScenario scenario)
    {
        // Nothing that could keep a framework from taking what it is offered: no filters, constraints, minimum, limits.
        var input = scenario.Input with
        {
            Frameworks = [.. scenario.Input.Frameworks.Select(f => f with { Filters = [], Constraints = new Dictionary<string, RoleOfferConstraints>(), MinAllocatable = new Dictionary<string, IReadOnlyList<ResourceQuantities>>() })],
            Quotas = scenario.Input.Quotas.ToDictionary(q => q.Key, q => q.Value with { Limits = ResourceQuantities.Empty }),
            MinAllocatable = [],
        };
        var missing = new Dictionary<string, long>();
        foreach (var (role, quota) in input.Quotas)
        {
            var consumed = Consumed(input, role);
            foreach (var (name, guarantee) in quota.Guarantees)
            {
                missing[name] = missing.GetValueOrDefault(name) + Math.Max(0, guarantee - consumed.GetValueOrDefault(name));
            }
        }

        // A subrole's guarantee is held as headroom inside its parent's: while no framework is in the subrole, what it is
        // guaranteed is kept for it, so the parent's guarantee is only met once the subrole gets a framework.
        bool Served(string role) => input.Frameworks.Any(f => f.Roles.Any(r => !f.SuppressedRoles.Contains(r) && RoleNames.IsSelfOrDescendant(r, role)));
        if (input.Quotas.Keys.Any(r => !Served(r) && RoleNames.Ancestors(r).Any(a => input.Quotas.ContainsKey(a) && Served(a))))
        {
            return;
        }

        var unreserved = input.Agents.SelectMany(a => a.Available).Where(r => !r.IsReserved && r.Type == ResourceType.Scalar)
            .GroupBy(r => r.Name).ToDictionary(g => g.Key, g => g.Sum(r => r.ScalarMilli));
        if (missing.Any(m => m.Value > unreserved.GetValueOrDefault(m.Key)))
        {
            return;
        }

        var decisions = new HierarchicalAllocator().Allocate(input);
        foreach (var (role, quota) in input.Quotas)
        {
            if (!Served(role))
            {
                continue;
            }

            var before = Consumed(input, role);
            var added = Added(decisions, role);
            foreach (var (name, guarantee) in quota.Guarantees)
            {
                (before.GetValueOrDefault(name) + added.GetValueOrDefault(name)).Should().BeGreaterThanOrEqualTo(guarantee, $"{role} is guaranteed {guarantee} {name}");
            }
        }
    }

    [Property]
    public void Repeated_cycles_leave_nothing_that_a_framework_could_take(AllocationScenario scenario)
    {
        // Frameworks accept everything and free nothing; cycles run until one offers nothing.
        var input = scenario.Input with { Quotas = new Dictionary<string, QuotaConfig>() };
        var allocator = new HierarchicalAllocator();
        for (var cycle = 0; cycle < 100; cycle++)
        {
            var decisions = allocator.Allocate(input);
            if (decisions.Count == 0)
            {
                break;
            }

            input = Accept(input, decisions);
        }

        allocator.Allocate(input).Should().BeEmpty("the cycles reach a fixed point");
        foreach (var framework in input.Frameworks)
        {
            foreach (var role in framework.Roles.Where(r => !framework.SuppressedRoles.Contains(r)))
            {
                foreach (var agent in input.Agents)
                {
                    var offerable = OfferableTo(agent.Available, role);
                    var blocked = offerable.IsEmpty
                        || !MeetsMinimum(offerable, framework.MinAllocatable.TryGetValue(role, out var own) ? own : input.MinAllocatable)
                        || (framework.Constraints.TryGetValue(role, out var constraints) && !constraints.Matches(agent))
                        || IsFiltered(framework, role, agent.AgentId, offerable, input.Now);
                    blocked.Should().BeTrue($"{framework.FrameworkId} ({role}) could still take {offerable} on {agent.AgentId}");
                }
            }
        }
    }

    [Property]
    public void Suppressed_roles_filtered_and_excluded_agents_and_small_offers_get_nothing(AllocationScenario scenario)
    {
        var input = scenario.Input;

        foreach (var decision in new HierarchicalAllocator().Allocate(input))
        {
            var framework = input.Frameworks.Should().ContainSingle(f => f.FrameworkId == decision.FrameworkId).Which;
            var agent = input.Agents.Single(a => a.AgentId == decision.AgentId);
            var offered = decision.Resources.Unallocate();

            framework.Roles.Should().Contain(decision.Role);
            framework.SuppressedRoles.Should().NotContain(decision.Role);
            IsFiltered(framework, decision.Role, agent.AgentId, offered, input.Now).Should().BeFalse($"{framework.FrameworkId} refused {offered} on {agent.AgentId} for {decision.Role}");
            if (framework.Constraints.TryGetValue(decision.Role, out var constraints))
            {
                constraints.Matches(agent).Should().BeTrue($"{agent.AgentId} is excluded for {decision.Role}");
            }

            MeetsMinimum(offered, framework.MinAllocatable.TryGetValue(decision.Role, out var own) ? own : input.MinAllocatable)
                .Should().BeTrue($"{offered} is under the minimum");
        }
    }

    [Property]
    public void The_same_input_gives_the_same_decisions_whatever_the_framework_order(AllocationScenario scenario, int seed)
    {
        var input = scenario.Input;
        var shuffled = input.Frameworks.ToArray();
        new Random(seed).Shuffle(shuffled);

        var first = new HierarchicalAllocator().Allocate(input);
        var again = new HierarchicalAllocator().Allocate(input);
        var reordered = new HierarchicalAllocator().Allocate(input with { Frameworks = shuffled });

        foreach (var other in new[] { again, reordered })
        {
            other.Select(d => (d.FrameworkId, d.Role, d.AgentId)).Should().Equal(first.Select(d => (d.FrameworkId, d.Role, d.AgentId)));
            other.Zip(first).Should().OnlyContain(pair => pair.First.Resources.Equals(pair.Second.Resources));
        }
    }

    /// <summary>The frameworks accept every decision: offered resources move from the agents to the frameworks.</summary>
    public static AllocationInput Accept(AllocationInput input, IReadOnlyList<OfferDecision> decisions) => input with
    {
        Agents = [.. input.Agents.Select(a => a with { Available = a.Available - new Resources(decisions.Where(d => d.AgentId == a.AgentId).SelectMany(d => d.Resources.Unallocate())) })],
        Frameworks = [.. input.Frameworks.Select(f => f with { Allocated = f.Allocated + new Resources(decisions.Where(d => d.FrameworkId == f.FrameworkId).SelectMany(d => d.Resources)) })],
    };

    /// <summary>
    /// A role's consumed quota by name (thousandths): unreserved scalars allocated to its subtree, plus scalars reserved
    /// to its subtree whether allocated or not. A resource without an allocation role counts for the framework's first role.
    /// </summary>
    public static Dictionary<string, long> Consumed(AllocationInput input, string role)
    {
        var consumed = new Dictionary<string, long>();
        void Count(Resource r, string? owner)
        {
            if (r.Type == ResourceType.Scalar && owner is not null && RoleNames.IsSelfOrDescendant(owner, role))
            {
                consumed[r.Name] = consumed.GetValueOrDefault(r.Name) + r.ScalarMilli;
            }
        }

        foreach (var framework in input.Frameworks)
        {
            foreach (var r in framework.Allocated)
            {
                Count(r, r.IsReserved ? r.Reservations[^1].Role : r.AllocationRole ?? framework.Roles.FirstOrDefault());
            }
        }

        foreach (var r in input.Agents.SelectMany(a => a.Available).Where(r => r.IsReserved))
        {
            Count(r, r.Reservations[^1].Role);
        }

        return consumed;
    }

    /// <summary>Unreserved scalars the decisions give to <paramref name="role"/>'s subtree, by name.</summary>
    public static Dictionary<string, long> Added(IEnumerable<OfferDecision> decisions, string role) =>
        decisions.Where(d => RoleNames.IsSelfOrDescendant(d.Role, role))
            .SelectMany(d => d.Resources)
            .Where(r => !r.IsReserved && r.Type == ResourceType.Scalar)
            .GroupBy(r => r.Name)
            .ToDictionary(g => g.Key, g => g.Sum(r => r.ScalarMilli));

    /// <summary>Mesos's isAllocatableTo: unreserved, or reserved to the role or to one of its ancestors.</summary>
    public static Resources OfferableTo(Resources available, string role) =>
        available.Filter(r => r.Reservations.Count == 0
            || r.Reservations[^1].Role == role
            || role.StartsWith(r.Reservations[^1].Role + "/", StringComparison.Ordinal));

    /// <summary>Mesos's allocatable(): no sets means anything; else all quantities of one set (ranges and sets by count).</summary>
    public static bool MeetsMinimum(Resources offer, IReadOnlyList<ResourceQuantities> minimum) =>
        !offer.IsEmpty && (minimum.Count == 0 || minimum.Any(set => set.All(q => Quantity(offer, q.Key) >= q.Value)));

    private static long Quantity(Resources offer, string name) => offer.Where(r => r.Name == name).Sum(r => r.Type switch
    {
        ResourceType.Scalar => r.ScalarMilli,
        ResourceType.Ranges => (long)r.Ranges.Size * 1000,
        _ => r.Set.Count * 1000L,
    });

    public static bool IsFiltered(AllocatorFramework framework, string role, string agentId, Resources offerable, DateTimeOffset now) =>
        framework.Filters.Any(f => f.AgentId == agentId && f.Role == role && now < f.Expires
            && ResourceModel.Of(f.Refused.Unallocate()).Contains(ResourceModel.Of(offerable.Unallocate())));
}

/// <summary>One allocation cycle's input, printed legibly when a property fails.</summary>
public sealed record AllocationScenario(AllocationInput Input)
{
    public override string ToString()
    {
        var text = new StringBuilder().AppendLine();
        foreach (var agent in Input.Agents)
        {
            text.AppendLine($"  agent {agent.AgentId} ({agent.Hostname}; {string.Join(";", agent.Attributes)}): {agent.Available}");
        }

        foreach (var framework in Input.Frameworks)
        {
            text.AppendLine($"  framework {framework.FrameworkId} roles=[{string.Join(",", framework.Roles)}] suppressed=[{string.Join(",", framework.SuppressedRoles)}] allocated={framework.Allocated}");
            foreach (var filter in framework.Filters)
            {
                text.AppendLine($"    filter {filter.AgentId} {filter.Role} expires {(filter.Expires - Input.Now).TotalSeconds}s: {filter.Refused}");
            }

            foreach (var (role, constraints) in framework.Constraints)
            {
                text.AppendLine($"    constraints {role}: {string.Join(" | ", constraints.Groups.Select(g => string.Join(" & ", g)))}");
            }

            foreach (var (role, minimum) in framework.MinAllocatable)
            {
                text.AppendLine($"    min_allocatable {role}: {string.Join(" | ", minimum)}");
            }
        }

        text.AppendLine($"  weights: {string.Join(", ", Input.Weights.Select(w => $"{w.Key}={w.Value}"))}");
        foreach (var quota in Input.Quotas.Values)
        {
            text.AppendLine($"  quota {quota.Role}: guarantees {quota.Guarantees} limits {quota.Limits}");
        }

        text.AppendLine($"  min_allocatable: {string.Join(" | ", Input.MinAllocatable)}");
        text.AppendLine($"  totals: {string.Join(", ", Input.ClusterTotals.Select(t => $"{t.Key}={t.Value}"))}");
        return text.ToString();
    }
}

public static class AllocationArbitraries
{
    public static readonly DateTimeOffset Now = new(2030, 1, 1, 12, 0, 0, TimeSpan.Zero);

    /// <summary>Flat and nested roles; "engineering" shares a prefix with "eng" without being under it.</summary>
    private static readonly string[] FrameworkRoles = ["eng", "ops", "eng/dev", "eng/qa", "*", "engineering", "eng/dev/x"];

    private static readonly string[] QuotaRoles = ["eng", "ops", "eng/dev", "engineering"];

    private static readonly string[] ShareNames = ["cpus", "mem", "disk", "gpus"];

    private static readonly IReadOnlyList<ResourceQuantities>[] Minimums =
    [
        [],
        [ResourceQuantities.Parse("disk:1")],
        [ResourceQuantities.Parse("cpus:1;mem:64")],
        [ResourceQuantities.Parse("ports:2"), ResourceQuantities.Parse("gpus:1")],
    ];

    public static Arbitrary<AllocationScenario> Scenarios() => Arb.From(Scenario());

    private static Gen<AllocationScenario> Scenario() =>
        from agentCount in Gen.Choose(1, 6)
        from pools in Gen.ArrayOf(ResourceGenerators.Resources(allowAllocation: false, maxItems: 6), agentCount)
        from racks in Gen.ArrayOf(Gen.Elements("r0", "r1", "r2", ""), agentCount)
        let agents = pools.Select((pool, i) => new AllocatorAgent($"agent-{i}", pool)
        {
            Hostname = $"host-{i}",
            Attributes = racks[i].Length == 0 ? [] : [new AgentAttribute("rack", AttributeType.Text, Text: racks[i])],
        }).ToArray()
        from frameworkCount in Gen.Choose(1, 5)
        from frameworks in Gen.ArrayOf(Framework(agents), frameworkCount)
        from weights in Gen.ArrayOf(Gen.Elements(0.5, 1.0, 1.0, 2.0, 3.0), FrameworkRoles.Length)
        from quotaCount in Gen.Choose(0, 3)
        from quotas in Gen.ArrayOf(Quota(), quotaCount)
        from minimum in Gen.Frequency(
            (3, Gen.Constant(AllocationInput.DefaultMinAllocatable)),
            (1, Gen.Elements(Minimums)))
        select new AllocationScenario(new AllocationInput(
            agents,
            [.. frameworks.Select((f, i) => f with { FrameworkId = $"fw-{i}" })],
            Totals(agents, frameworks),
            Now)
        {
            Weights = FrameworkRoles.Zip(weights).Where(w => w.Second != 1.0).ToDictionary(w => w.First, w => w.Second),
            Quotas = quotas.DistinctBy(q => q.Role).ToDictionary(q => q.Role),
            MinAllocatable = minimum,
        });

    private static Gen<QuotaConfig> Quota() =>
        from role in Gen.Elements(QuotaRoles)
        from cpus in Gen.Choose(0, 40)
        from mem in Gen.Choose(0, 20)
        from limitCpus in Gen.Frequency((1, Gen.Constant(-1)), (2, Gen.Choose(0, 60)))
        from limitMem in Gen.Frequency((2, Gen.Constant(-1)), (1, Gen.Choose(0, 40)))
        select new QuotaConfig(
            role,
            ResourceQuantities.Of([KeyValuePair.Create("cpus", cpus * 1000L), KeyValuePair.Create("mem", mem * 4000L)]),
            ResourceQuantities.Of([
                .. limitCpus < 0 ? [] : new[] { KeyValuePair.Create("cpus", Math.Max(limitCpus, 1) * 1000L) },
                .. limitMem < 0 ? [] : new[] { KeyValuePair.Create("mem", Math.Max(limitMem, 1) * 4000L) },
            ]));

    private static Gen<AllocatorFramework> Framework(AllocatorAgent[] agents) =>
        from roles in Gen.SubListOf(FrameworkRoles).Where(r => r.Count > 0 && r.Count <= 3)
        from suppressed in Gen.SubListOf(roles.ToArray()).Select(s => s.Where((_, i) => i % 2 == 0).ToHashSet())
        from allocated in Gen.ArrayOf(ResourceGenerators.Resources(allowAllocation: false, maxItems: 2), roles.Count)
        from filterCount in agents.Length == 0 ? Gen.Constant(0) : Gen.Choose(0, 3)
        from filters in Gen.ArrayOf(Filter(agents, roles.ToArray()), filterCount)
        from constraintRoll in Gen.Choose(0, 3)
        from constrained in Gen.Elements(roles.ToArray())
        from constraint in Constraint(agents)
        from minimumRoll in Gen.Choose(0, 3)
        from minimumRole in Gen.Elements(roles.ToArray())
        from minimum in Gen.Elements(Minimums)
        select new AllocatorFramework("", roles.ToArray(), new Resources(allocated.SelectMany((a, i) => a.AllocateTo(roles[i]))))
        {
            SuppressedRoles = suppressed,
            Filters = filters,
            Constraints = constraintRoll == 0 ? new Dictionary<string, RoleOfferConstraints> { [constrained] = constraint } : new Dictionary<string, RoleOfferConstraints>(),
            MinAllocatable = minimumRoll == 0 ? new Dictionary<string, IReadOnlyList<ResourceQuantities>> { [minimumRole] = minimum } : new Dictionary<string, IReadOnlyList<ResourceQuantities>>(),
        };

    private static Gen<RoleOfferConstraints> Constraint(AllocatorAgent[] agents) =>
        from kind in Gen.Choose(0, 3)
        from host in agents.Length == 0 ? Gen.Constant("host-0") : Gen.Elements(agents.Select(a => a.Hostname).ToArray())
        select new RoleOfferConstraints([kind switch
        {
            0 => [new AttributeConstraint(ConstraintSelectorKind.Hostname, null, ConstraintPredicateKind.TextEquals, host)],
            1 => [new AttributeConstraint(ConstraintSelectorKind.AttributeName, "rack", ConstraintPredicateKind.Exists, null)],
            2 => [new AttributeConstraint(ConstraintSelectorKind.AttributeName, "rack", ConstraintPredicateKind.TextMatches, "r[01]") { Regex = new System.Text.RegularExpressions.Regex("^(?:r[01])$") }],
            _ => [new AttributeConstraint(ConstraintSelectorKind.AttributeName, "rack", ConstraintPredicateKind.NotExists, null), new AttributeConstraint(ConstraintSelectorKind.Hostname, null, ConstraintPredicateKind.TextNotEquals, host)],
        }]);

    /// <summary>Filters refusing exactly what the agent offers the role (as after a DECLINE), part of it, or anything.</summary>
    private static Gen<OfferFilter> Filter(AllocatorAgent[] agents, string[] roles) =>
        from agent in Gen.Elements(agents)
        from role in Gen.Elements(roles)
        from kind in Gen.Choose(0, 2)
        from random in ResourceGenerators.Resources(allowAllocation: false, maxItems: 4)
        from expiresIn in Gen.Choose(-30, 30)
        let offerable = HierarchicalAllocatorProperties.OfferableTo(agent.Available, role)
        let refused = kind switch
        {
            0 => offerable.AllocateTo(role),
            1 => new Resources(offerable.Where((_, i) => i % 2 == 0)),
            _ => random,
        }
        select new OfferFilter(agent.AgentId, role, refused, Now.AddSeconds(expiresIn));

    private static Dictionary<string, double> Totals(AllocatorAgent[] agents, AllocatorFramework[] frameworks) =>
        ShareNames.ToDictionary(
            name => name,
            name => agents.Sum(a => a.Available.Scalar(name)) + frameworks.Sum(f => f.Allocated.Scalar(name)));
}
