namespace Mezzo.Protocol.V1;

/// <summary>scheduler.proto (Mesos 1.11) <c>AttributeConstraint.Selector.PseudoattributeType</c>.</summary>
public enum PseudoattributeType
{
    UNKNOWN = 0,
    HOSTNAME = 1,
    REGION = 2,
    ZONE = 3,
}

public sealed class AttributeConstraintSelector
{
    public PseudoattributeType? PseudoattributeType { get; set; }

    public string? AttributeName { get; set; }
}

/// <summary>An empty protobuf message (<c>Exists {}</c>, <c>NotExists {}</c>): present or not.</summary>
public sealed class EmptyMessage;

public sealed class TextPredicateValue
{
    public string? Value { get; set; }
}

public sealed class TextPredicateRegex
{
    public string? Regex { get; set; }
}

public sealed class AttributeConstraintPredicate
{
    public EmptyMessage? Exists { get; set; }

    public EmptyMessage? NotExists { get; set; }

    public TextPredicateValue? TextEquals { get; set; }

    public TextPredicateValue? TextNotEquals { get; set; }

    public TextPredicateRegex? TextMatches { get; set; }

    public TextPredicateRegex? TextNotMatches { get; set; }
}

public sealed class AttributeConstraint
{
    public AttributeConstraintSelector? Selector { get; set; }

    public AttributeConstraintPredicate? Predicate { get; set; }
}

public sealed class OfferConstraintsGroup
{
    public List<AttributeConstraint>? AttributeConstraints { get; set; }
}

public sealed class OfferConstraintsRoleConstraints
{
    public List<OfferConstraintsGroup>? Groups { get; set; }
}

/// <summary>scheduler.proto <c>OfferConstraints</c>: per role, an OR of groups, each an AND of attribute constraints.</summary>
public sealed class OfferConstraints
{
    public Dictionary<string, OfferConstraintsRoleConstraints>? RoleConstraints { get; set; }
}

/// <summary>mesos.proto <c>OfferFilters.ResourceQuantities</c>.</summary>
public sealed class OfferFiltersResourceQuantities
{
    public Dictionary<string, ValueScalar>? Quantities { get; set; }
}

public sealed class OfferFiltersMinAllocatableResources
{
    public List<OfferFiltersResourceQuantities>? Quantities { get; set; }
}

/// <summary>mesos.proto <c>OfferFilters</c>, per role in <c>FrameworkInfo.offer_filters</c>.</summary>
public sealed class OfferFilters
{
    public OfferFiltersMinAllocatableResources? MinAllocatableResources { get; set; }
}
