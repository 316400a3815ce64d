namespace Mezzo.Core.Maintenance;

/// <summary>One framework on one agent: the unit an inverse offer, its filter and its status are kept by.</summary>
public readonly record struct InverseOfferKey(string FrameworkId, string AgentId);

/// <summary>An agent on a machine in DRAINING mode, with the frameworks that hold resources there (tasks, executors or offers).</summary>
public sealed record DrainingAgent(string AgentId, IReadOnlyCollection<string> FrameworksWithResources);

/// <summary>What the planner looks at: a snapshot the master takes once per round.</summary>
/// <param name="Agents">Active agents of DRAINING machines (not deactivated, not disconnected).</param>
/// <param name="ActiveFrameworks">Frameworks connected to the master: others are never sent inverse offers.</param>
/// <param name="Outstanding">Inverse offers sent and not yet answered, rescinded or timed out.</param>
/// <param name="Filters">When each framework's refusal of inverse offers for an agent ends (refuse_seconds).</param>
/// <param name="Now">The master's clock.</param>
public sealed record InverseOfferInput(
    IReadOnlyList<DrainingAgent> Agents,
    IReadOnlySet<string> ActiveFrameworks,
    IReadOnlySet<InverseOfferKey> Outstanding,
    IReadOnlyDictionary<InverseOfferKey, DateTimeOffset> Filters,
    DateTimeOffset Now);

/// <summary>
/// Mesos's hierarchical allocator <c>generateInverseOffers</c> as a pure function: every active framework holding
/// resources on an agent of a DRAINING machine gets one inverse offer for that agent, unless one is still outstanding or
/// the framework filtered inverse offers for the agent (ACCEPT/DECLINE_INVERSE_OFFERS with refuse_seconds). An answered,
/// rescinded or timed-out inverse offer is therefore sent again once its filter ends, for as long as the framework keeps
/// resources there: the framework keeps being asked until it has moved off.
/// </summary>
public static class InverseOfferPlanner
{
    /// <summary>Mesos's <c>Filters.refuse_seconds</c> default.</summary>
    public static readonly TimeSpan DefaultRefuse = TimeSpan.FromSeconds(5);

    // stout's Duration holds int64 nanoseconds; Duration::create fails beyond that.
    private const double MaxRefuseSeconds = long.MaxValue / 1e9;

    /// <summary>The inverse offers to send now, in agent order then framework order (deterministic).</summary>
    public static IReadOnlyList<InverseOfferKey> Plan(InverseOfferInput input)
    {
        var plan = new List<InverseOfferKey>();
        foreach (var agent in input.Agents)
        {
            foreach (var frameworkId in agent.FrameworksWithResources.Distinct().Order(StringComparer.Ordinal))
            {
                var key = new InverseOfferKey(frameworkId, agent.AgentId);
                if (input.ActiveFrameworks.Contains(frameworkId)
                    && !input.Outstanding.Contains(key)
                    && !IsFiltered(input.Filters, key, input.Now))
                {
                    plan.Add(key);
                }
            }
        }

        return plan;
    }

    public static bool IsFiltered(IReadOnlyDictionary<InverseOfferKey, DateTimeOffset> filters, InverseOfferKey key, DateTimeOffset now) =>
        filters.TryGetValue(key, out var expires) && expires > now;

    /// <summary>
    /// How long an answered inverse offer is not sent again, as Mesos's <c>updateInverseOffer</c> reads
    /// <c>filters.refuse_seconds</c>: absent means 5 s; negative, not a number or beyond what a Duration holds also falls
    /// back to 5 s; zero means no filter (null).
    /// </summary>
    public static TimeSpan? RefuseDuration(double? refuseSeconds)
    {
        if (refuseSeconds is not { } seconds)
        {
            return DefaultRefuse;
        }

        if (!double.IsFinite(seconds) || seconds < 0 || seconds > MaxRefuseSeconds)
        {
            return DefaultRefuse;
        }

        // Less than a tick is no filter at all.
        var ticks = (long)Math.Min(seconds * TimeSpan.TicksPerSecond, TimeSpan.MaxValue.Ticks);
        return ticks == 0 ? null : TimeSpan.FromTicks(ticks);
    }

    /// <summary>A new filter for a key that may have one already: the later end wins (Mesos keeps both; either filters).</summary>
    public static DateTimeOffset Extend(DateTimeOffset? existing, DateTimeOffset now, TimeSpan refuse)
    {
        var until = refuse.Ticks >= DateTimeOffset.MaxValue.UtcTicks - now.UtcTicks ? DateTimeOffset.MaxValue : now + refuse;
        return existing is { } current && current > until ? current : until;
    }
}
