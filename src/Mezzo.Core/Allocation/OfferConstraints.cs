using Mezzo.Core.Resources;

namespace Mezzo.Core.Allocation;

/// <summary>What an attribute constraint looks at: a named agent attribute, or a pseudo-attribute (Mesos 1.11).</summary>
public enum ConstraintSelectorKind
{
    AttributeName,
    Hostname,
    Region,
    Zone,
}

public enum ConstraintPredicateKind
{
    Exists,
    NotExists,
    TextEquals,
    TextNotEquals,
    TextMatches,
    TextNotMatches,
}

/// <summary>
/// One of Mesos's <c>AttributeConstraint</c>s, already validated (a regex is compiled once, when the framework
/// subscribes). <see cref="Matches"/> is pure.
/// </summary>
public sealed record AttributeConstraint(ConstraintSelectorKind Selector, string? AttributeName, ConstraintPredicateKind Predicate, string? Value)
{
    public System.Text.RegularExpressions.Regex? Regex { get; init; }

    /// <summary>Evaluated against one agent; implemented by the allocator's owner (see <see cref="OfferConstraintMatcher"/>).</summary>
    public bool Matches(AllocatorAgent agent) => OfferConstraintMatcher.Matches(this, agent);
}

/// <summary>A group is satisfied when all its constraints are; a role's constraints when any group is (OR of ANDs).</summary>
public sealed record RoleOfferConstraints(IReadOnlyList<IReadOnlyList<AttributeConstraint>> Groups)
{
    public bool Matches(AllocatorAgent agent)
    {
        // The allocator asks this for every (framework, role, agent) it considers: loops, not LINQ, to allocate nothing.
        if (Groups.Count == 0)
        {
            return true;
        }

        for (var g = 0; g < Groups.Count; g++)
        {
            var group = Groups[g];
            var all = true;
            for (var c = 0; c < group.Count && all; c++)
            {
                all = group[c].Matches(agent);
            }

            if (all)
            {
                return true;
            }
        }

        return false;
    }
}

/// <summary>
/// Mesos 1.11's evaluation of attribute constraints against an agent. A pseudo-attribute HOSTNAME is the agent's
/// hostname as TEXT; REGION and ZONE come from the agent's fault domain, which Mezzo agents do not report, so they never
/// exist. As in Mesos, the four text predicates only look at TEXT values: an attribute of another type (scalar, ranges,
/// set) satisfies them, so that later versions can give those types their own meaning without breaking frameworks.
/// </summary>
public static class OfferConstraintMatcher
{
    public static bool Matches(AttributeConstraint constraint, AllocatorAgent agent)
    {
        var (exists, text) = Select(constraint, agent);
        return constraint.Predicate switch
        {
            ConstraintPredicateKind.Exists => exists,
            ConstraintPredicateKind.NotExists => !exists,
            ConstraintPredicateKind.TextEquals => exists && (text is null || text == constraint.Value),
            ConstraintPredicateKind.TextNotEquals => !exists || text is null || text != constraint.Value,
            ConstraintPredicateKind.TextMatches => exists && (text is null || (constraint.Regex?.IsMatch(text) ?? false)),
            ConstraintPredicateKind.TextNotMatches => !exists || text is null || !(constraint.Regex?.IsMatch(text) ?? false),
            _ => false,
        };
    }

    /// <summary>Whether the selected attribute exists and, when it is TEXT, its text (null for other types).</summary>
    private static (bool Exists, string? Text) Select(AttributeConstraint constraint, AllocatorAgent agent)
    {
        switch (constraint.Selector)
        {
            case ConstraintSelectorKind.Hostname:
                return (true, agent.Hostname);
            case ConstraintSelectorKind.Region:
            case ConstraintSelectorKind.Zone:
                return (false, null);
            default:
                foreach (var attribute in agent.Attributes)
                {
                    if (attribute.Name == constraint.AttributeName)
                    {
                        return (true, attribute.Type == AttributeType.Text ? attribute.Text ?? "" : null);
                    }
                }

                return (false, null);
        }
    }
}
