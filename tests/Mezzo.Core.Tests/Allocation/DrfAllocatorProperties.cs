using System.Text;
using AwesomeAssertions;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Mezzo.Core.Allocation;
using Mezzo.Core.Resources;

namespace Mezzo.Core.Tests;

using Resources = Mezzo.Core.Resources.Resources;

/// <summary>
/// Safety and liveness of one allocation cycle on random clusters: agents with reserved and unreserved resources,
/// frameworks in related and unrelated roles, some suppressed, some with live or expired filters. The checks use
/// their own statement of the rules (and the reference resource model), not the allocator's helpers.
/// </summary>
[Properties(Arbitrary = new[] { typeof(AllocationArbitraries) }, MaxTest = 300)]
public sealed class DrfAllocatorProperties
{
    [Property]
    public void No_agent_is_offered_twice_and_every_offer_fits_in_its_agent(AllocationScenario scenario)
    {
        var decisions = new DrfAllocator().Allocate(scenario.Input);

        decisions.Select(d => d.AgentId).Should().OnlyHaveUniqueItems();
        foreach (var decision in decisions)
        {
            var agent = scenario.Input.Agents.Should().ContainSingle(a => a.AgentId == decision.AgentId).Which;
            var offered = decision.Resources.Unallocate();
            offered.IsEmpty.Should().BeFalse();
            agent.Available.Contains(offered).Should().BeTrue($"{decision.AgentId} has {agent.Available} but {offered} was offered");
            ResourceModel.Of(agent.Available).Contains(ResourceModel.Of(offered)).Should().BeTrue();
        }
    }

    [Property]
    public void Every_offer_respects_roles_suppression_the_minimum_and_filters(AllocationScenario scenario)
    {
        var input = scenario.Input;

        foreach (var decision in new DrfAllocator().Allocate(input))
        {
            var framework = input.Frameworks.Should().ContainSingle(f => f.FrameworkId == decision.FrameworkId).Which;
            var agent = input.Agents.Single(a => a.AgentId == decision.AgentId);
            var offered = decision.Resources.Unallocate();

            framework.Suppressed.Should().BeFalse($"{framework.FrameworkId} is suppressed");
            decision.Resources.Should().OnlyContain(r => r.AllocationRole == framework.Role);
            offered.Equals(OfferableTo(agent, framework.Role)).Should().BeTrue($"{framework.Role} may take {OfferableTo(agent, framework.Role)} of {agent.Available}, got {offered}");
            MeetsMinimum(offered).Should().BeTrue($"{offered} is under the minimum");
            IsFiltered(framework, agent.AgentId, offered, input.Now).Should().BeFalse($"{framework.FrameworkId} refused {offered} on {agent.AgentId}");
        }
    }

    [Property]
    public void An_agent_is_left_unoffered_only_when_no_framework_may_take_it(AllocationScenario scenario)
    {
        var input = scenario.Input;
        var offeredAgents = new DrfAllocator().Allocate(input).Select(d => d.AgentId).ToHashSet();

        foreach (var agent in input.Agents.Where(a => !offeredAgents.Contains(a.AgentId)))
        {
            foreach (var framework in input.Frameworks.Where(f => !f.Suppressed))
            {
                var offerable = OfferableTo(agent, framework.Role);
                (!MeetsMinimum(offerable) || IsFiltered(framework, agent.AgentId, offerable, input.Now))
                    .Should().BeTrue($"{agent.AgentId} was not offered although {framework.FrameworkId} ({framework.Role}) could take {offerable}");
            }
        }
    }

    [Property]
    public void The_same_input_gives_the_same_decisions_whatever_the_framework_order(AllocationScenario scenario)
    {
        var first = new DrfAllocator().Allocate(scenario.Input);
        var again = new DrfAllocator().Allocate(scenario.Input);
        var reordered = new DrfAllocator().Allocate(scenario.Input with { Frameworks = [.. scenario.Input.Frameworks.Reverse()] });

        foreach (var other in new[] { again, reordered })
        {
            other.Select(d => (d.FrameworkId, d.AgentId)).Should().Equal(first.Select(d => (d.FrameworkId, d.AgentId)));
            other.Zip(first).Should().OnlyContain(pair => pair.First.Resources.Equals(pair.Second.Resources));
        }
    }

    /// <summary>Mesos's isAllocatableTo: unreserved, or reserved to the role or to one of its ancestors.</summary>
    private static Resources OfferableTo(AllocatorAgent agent, string role) =>
        agent.Available.Filter(r => r.Reservations.Count == 0
            || r.Reservations[^1].Role == role
            || role.StartsWith(r.Reservations[^1].Role + "/", StringComparison.Ordinal));

    /// <summary>Mesos's default --min_allocatable_resources "cpus:0.01|mem:32".</summary>
    private static bool MeetsMinimum(Resources resources) =>
        resources.ScalarMilli("cpus") >= 10 || resources.ScalarMilli("mem") >= 32_000;

    private static bool IsFiltered(AllocatorFramework framework, string agentId, Resources offerable, DateTimeOffset now) =>
        framework.Filters.Any(f => f.AgentId == agentId && now < f.Expires
            && ResourceModel.Of(f.Refused.Unallocate()).Contains(ResourceModel.Of(offerable)));
}

/// <summary>One allocation cycle's input, printed legibly when a property fails.</summary>
public sealed record AllocationScenario(AllocationInput Input)
{
    public override string ToString()
    {
        var text = new StringBuilder().AppendLine();
        foreach (var agent in Input.Agents)
        {
            text.AppendLine($"  agent {agent.AgentId}: {agent.Available}");
        }

        foreach (var framework in Input.Frameworks)
        {
            text.AppendLine($"  framework {framework.FrameworkId} role={framework.Role} suppressed={framework.Suppressed} allocated={framework.Allocated}");
            foreach (var filter in framework.Filters)
            {
                text.AppendLine($"    filter {filter.AgentId} expires {(filter.Expires - Input.Now).TotalSeconds}s: {filter.Refused}");
            }
        }

        text.AppendLine($"  totals: {string.Join(", ", Input.ClusterTotals.Select(t => $"{t.Key}={t.Value}"))}");
        return text.ToString();
    }
}

public static class AllocationArbitraries
{
    public static readonly DateTimeOffset Now = new(2030, 1, 1, 12, 0, 0, TimeSpan.Zero);

    private static readonly string[] FrameworkRoles = ["eng", "ops", "eng/dev", "*", "engineering"];

    private static readonly string[] ShareNames = ["cpus", "mem", "disk", "gpus"];

    public static Arbitrary<AllocationScenario> Scenarios() => Arb.From(Scenario());

    private static Gen<AllocationScenario> Scenario() =>
        from agentCount in Gen.Choose(0, 5)
        from pools in Gen.ArrayOf(ResourceGenerators.Resources(allowAllocation: false, maxItems: 6), agentCount)
        let agents = pools.Select((pool, i) => new AllocatorAgent($"agent-{i}", pool)).ToArray()
        from frameworkCount in Gen.Choose(0, 4)
        from frameworks in Gen.ArrayOf(Framework(agents), frameworkCount)
        select new AllocationScenario(new AllocationInput(
            agents,
            [.. frameworks.Select((f, i) => f with { FrameworkId = $"fw-{i}" })],
            Totals(agents, frameworks),
            Now));

    private static Gen<AllocatorFramework> Framework(AllocatorAgent[] agents) =>
        from role in Gen.Elements(FrameworkRoles)
        from allocated in ResourceGenerators.Resources(allowAllocation: false, maxItems: 3)
        from suppressed in Gen.Frequency((4, Gen.Constant(false)), (1, Gen.Constant(true)))
        from filterCount in agents.Length == 0 ? Gen.Constant(0) : Gen.Choose(0, 3)
        from filters in Gen.ArrayOf(Filter(agents, role), filterCount)
        select new AllocatorFramework("", role, allocated.AllocateTo(role), suppressed, filters);

    /// <summary>Filters refusing exactly what the agent offers the role (as after a DECLINE), part of it, or anything.</summary>
    private static Gen<OfferFilter> Filter(AllocatorAgent[] agents, string role) =>
        from agent in Gen.Elements(agents)
        from kind in Gen.Choose(0, 2)
        from random in ResourceGenerators.Resources(allowAllocation: false, maxItems: 4)
        from expiresIn in Gen.Choose(-30, 30)
        let offerable = agent.Available.Filter(r => !r.IsReserved || r.Role == role || role.StartsWith(r.Role + "/", StringComparison.Ordinal))
        let refused = kind switch
        {
            0 => offerable.AllocateTo(role),
            1 => new Resources(offerable.Where((_, i) => i % 2 == 0)),
            _ => random,
        }
        select new OfferFilter(agent.AgentId, refused, Now.AddSeconds(expiresIn));

    private static Dictionary<string, double> Totals(AllocatorAgent[] agents, AllocatorFramework[] frameworks) =>
        ShareNames.ToDictionary(
            name => name,
            name => agents.Sum(a => a.Available.Scalar(name)) + frameworks.Sum(f => f.Allocated.Scalar(name)));
}
