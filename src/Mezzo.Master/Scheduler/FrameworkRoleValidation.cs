using System.Text.RegularExpressions;
using Mezzo.Core.Allocation;
using Mezzo.Core.Resources;
using Mezzo.Protocol.V1;
using CoreConstraint = Mezzo.Core.Allocation.AttributeConstraint;
using WireConstraint = Mezzo.Protocol.V1.AttributeConstraint;

namespace Mezzo.Master.Scheduler;

/// <summary>
/// The role-related parts of SUBSCRIBE and UPDATE_FRAMEWORK: roles, suppressed roles, offer constraints and offer
/// filters, validated and turned into what the allocator takes. Messages follow Mesos's master validation.
/// </summary>
public static class FrameworkRoleValidation
{
    /// <summary>Longest regex accepted in an offer constraint (Mesos bounds RE2 program size the same way).</summary>
    public const int MaxRegexLength = 4096;

    public static IReadOnlyList<string> RolesOf(FrameworkInfo info) =>
        info.Capabilities?.Any(c => c.Type == FrameworkInfoCapabilityType.MULTI_ROLE) == true
            ? [.. info.Roles ?? []]
            : [info.Role ?? "*"];

    public static string? ValidateRoles(FrameworkInfo info)
    {
        var multiRole = info.Capabilities?.Any(c => c.Type == FrameworkInfoCapabilityType.MULTI_ROLE) == true;
        if (multiRole && info.Role is not null)
        {
            return "'FrameworkInfo.role' must not be set when the framework is MULTI_ROLE capable";
        }

        if (!multiRole && info.Roles is { Count: > 0 })
        {
            return "'FrameworkInfo.roles' must not be set when the framework is not MULTI_ROLE capable";
        }

        foreach (var role in (info.Roles ?? []).Append(info.Role).OfType<string>())
        {
            if (ResourceValidation.ValidateRole(role) is { } roleError)
            {
                return $"Invalid role '{role}': {roleError}";
            }
        }

        if (info.Roles is { } roles && roles.GroupBy(r => r, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1) is { } duplicate)
        {
            return $"'FrameworkInfo.roles' contains duplicate role '{duplicate.Key}'";
        }

        return ValidateOfferFilters(info, RolesOf(info), out _);
    }

    public static string? ValidateSuppressedRoles(IReadOnlyList<string>? suppressed, IReadOnlyList<string> roles)
    {
        foreach (var role in suppressed ?? [])
        {
            if (!roles.Contains(role))
            {
                return $"Suppressed role '{role}' is not contained in the framework's roles [{string.Join(", ", roles)}]";
            }
        }

        return null;
    }

    /// <summary><c>offer_filters</c>: each role one of the framework's roles, each quantity a finite non-negative scalar.</summary>
    public static string? ValidateOfferFilters(FrameworkInfo info, IReadOnlyList<string> roles, out Dictionary<string, IReadOnlyList<ResourceQuantities>> compiled)
    {
        compiled = new Dictionary<string, IReadOnlyList<ResourceQuantities>>(StringComparer.Ordinal);
        foreach (var (role, filters) in info.OfferFilters ?? [])
        {
            if (!roles.Contains(role))
            {
                return $"'FrameworkInfo.offer_filters' has role '{role}', which is not one of the framework's roles";
            }

            if (filters?.MinAllocatableResources is not { } min)
            {
                continue;
            }

            var alternatives = new List<ResourceQuantities>();
            foreach (var quantities in min.Quantities ?? [])
            {
                var amounts = new List<KeyValuePair<string, long>>();
                foreach (var (name, scalar) in quantities?.Quantities ?? [])
                {
                    if (ResourceValidation.ValidateName(name) is { } nameError)
                    {
                        return $"'FrameworkInfo.offer_filters' for role '{role}': {nameError}";
                    }

                    if (scalar?.Value is not { } value || !double.IsFinite(value) || value < 0 || value > long.MaxValue / 1000.0)
                    {
                        return $"'FrameworkInfo.offer_filters' for role '{role}': '{name}' must be a finite non-negative number";
                    }

                    amounts.Add(KeyValuePair.Create(name, Core.Resources.Resource.ToMilli(value)));
                }

                alternatives.Add(ResourceQuantities.Of(amounts));
            }

            compiled[role] = alternatives;
        }

        return null;
    }

    /// <summary>Validates and compiles Mesos 1.11 offer constraints; regexes run without backtracking (linear, as RE2).</summary>
    public static string? CompileConstraints(OfferConstraints? wire, IReadOnlyList<string> roles, out Dictionary<string, RoleOfferConstraints> compiled)
    {
        compiled = new Dictionary<string, RoleOfferConstraints>(StringComparer.Ordinal);
        foreach (var (role, constraints) in wire?.RoleConstraints ?? [])
        {
            if (!roles.Contains(role))
            {
                return $"Offer constraints specify role '{role}', which the framework is not subscribed to";
            }

            if (constraints?.Groups is not { Count: > 0 } groups)
            {
                return $"Offer constraints for role '{role}' must contain at least one group";
            }

            var compiledGroups = new List<IReadOnlyList<CoreConstraint>>();
            foreach (var group in groups)
            {
                if (group?.AttributeConstraints is not { Count: > 0 } list)
                {
                    return $"Offer constraints for role '{role}': each group must contain at least one constraint";
                }

                var compiledGroup = new List<CoreConstraint>();
                foreach (var constraint in list)
                {
                    if (Compile(constraint, out var core) is { } error)
                    {
                        return $"Offer constraints for role '{role}': {error}";
                    }

                    compiledGroup.Add(core!);
                }

                compiledGroups.Add(compiledGroup);
            }

            compiled[role] = new RoleOfferConstraints(compiledGroups);
        }

        return null;
    }

    private static string? Compile(WireConstraint? constraint, out CoreConstraint? compiled)
    {
        compiled = null;
        if (constraint?.Selector is not { } selector)
        {
            return "'selector' is required";
        }

        if ((selector.PseudoattributeType is null) == (selector.AttributeName is null))
        {
            return "'selector' must have exactly one of 'pseudoattribute_type' and 'attribute_name'";
        }

        if (selector.AttributeName is { Length: 0 })
        {
            return "'selector.attribute_name' must not be empty";
        }

        ConstraintSelectorKind? selected = selector.AttributeName is not null
            ? ConstraintSelectorKind.AttributeName
            : selector.PseudoattributeType switch
            {
                PseudoattributeType.HOSTNAME => ConstraintSelectorKind.Hostname,
                PseudoattributeType.REGION => ConstraintSelectorKind.Region,
                PseudoattributeType.ZONE => ConstraintSelectorKind.Zone,
                _ => null,
            };
        if (selected is not { } kind)
        {
            return "'selector.pseudoattribute_type' must be HOSTNAME, REGION or ZONE";
        }

        if (constraint.Predicate is not { } predicate)
        {
            return "'predicate' is required";
        }

        var present = new (ConstraintPredicateKind Kind, bool Set, string? Text)[]
        {
            (ConstraintPredicateKind.Exists, predicate.Exists is not null, null),
            (ConstraintPredicateKind.NotExists, predicate.NotExists is not null, null),
            (ConstraintPredicateKind.TextEquals, predicate.TextEquals is not null, predicate.TextEquals?.Value),
            (ConstraintPredicateKind.TextNotEquals, predicate.TextNotEquals is not null, predicate.TextNotEquals?.Value),
            (ConstraintPredicateKind.TextMatches, predicate.TextMatches is not null, predicate.TextMatches?.Regex),
            (ConstraintPredicateKind.TextNotMatches, predicate.TextNotMatches is not null, predicate.TextNotMatches?.Regex),
        }.Where(p => p.Set).ToList();
        if (present.Count != 1)
        {
            return "'predicate' must have exactly one of 'exists', 'not_exists', 'text_equals', 'text_not_equals', 'text_matches', 'text_not_matches'";
        }

        var (predicateKind, _, text) = present[0];
        Regex? regex = null;
        switch (predicateKind)
        {
            case ConstraintPredicateKind.TextEquals or ConstraintPredicateKind.TextNotEquals when text is null:
                return "'predicate' text comparison is missing 'value'";
            case ConstraintPredicateKind.TextMatches or ConstraintPredicateKind.TextNotMatches:
                if (text is null)
                {
                    return "'predicate' regex match is missing 'regex'";
                }

                if (text.Length > MaxRegexLength)
                {
                    return $"regex is longer than {MaxRegexLength} characters";
                }

                try
                {
                    // RE2 (Mesos) matches the whole string; NonBacktracking keeps matching linear-time as RE2 does and,
                    // like RE2, has no backreferences or lookarounds.
                    regex = new Regex($"^(?:{text})$", RegexOptions.NonBacktracking | RegexOptions.CultureInvariant);
                }
                catch (Exception ex) when (ex is ArgumentException or NotSupportedException)
                {
                    return $"invalid regex '{text}': {ex.Message}";
                }

                break;
        }

        compiled = new CoreConstraint(kind, selector.AttributeName, predicateKind, text) { Regex = regex };
        return null;
    }
}
