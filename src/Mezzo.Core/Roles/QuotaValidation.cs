using System.Globalization;
using Mezzo.Core.Resources;

namespace Mezzo.Core.Roles;

/// <summary>Why a quota change was refused; the master maps the kind to the status code of the API used.</summary>
public enum QuotaViolationKind
{
    /// <summary>The configs themselves, or the tree they form, are invalid.</summary>
    Invalid,

    /// <summary>The guarantees add up to more than the cluster has; <c>force</c> skips this check.</summary>
    ExceedsCapacity,

    /// <summary>A role already consumes more than its new limit; <c>force</c> skips this check.</summary>
    BelowConsumption,
}

public sealed record QuotaViolation(QuotaViolationKind Kind, string Message);

/// <summary>
/// Mesos's quota rules (docs/quota.md, the master's quota handler), checked over the whole set of configs a change
/// would leave behind so that a change is taken whole or not at all:
/// <list type="bullet">
/// <item>a config names a valid role other than "*"; amounts are finite, non-negative and below Mesos's maxima;
/// names are scalar resources;</item>
/// <item>each guarantee is at most its limit (a name without a limit is unlimited);</item>
/// <item>hierarchy: a role's guarantees cover the sum of its children's (a role without quota guarantees nothing),
/// and a limit a child sets is at most the one each ancestor sets for that name;</item>
/// <item>unless forced: the top-level guarantees fit the cluster's capacity, and a changed role's limits are not
/// below what it consumes already.</item>
/// </list>
/// </summary>
public static class QuotaValidation
{
    // Mesos's caps (src/master/quota.cpp): its fixed-point scalars overflow near 9.2e15, so mem and disk stop at one
    // exabyte in megabytes and everything else at a trillion.
    private const double MaxMegabytes = 1024d * 1024 * 1024 * 1024;
    private const double MaxOther = 1e12;

    /// <summary>Resource names that are never scalar, so can never carry quota.</summary>
    public static IReadOnlySet<string> KnownNonScalar { get; } = new HashSet<string>(StringComparer.Ordinal) { "ports" };

    /// <summary>
    /// Builds a config from raw amounts (null = the amount was missing on the wire). <paramref name="nonScalar"/>
    /// are the names known to be ranges or sets (default <see cref="KnownNonScalar"/>).
    /// </summary>
    public static (QuotaConfig? Config, string? Error) Create(
        string? role,
        IEnumerable<KeyValuePair<string, double?>>? guarantees,
        IEnumerable<KeyValuePair<string, double?>>? limits,
        IReadOnlySet<string>? nonScalar = null)
    {
        if (RoleNames.Validate(role) is { } roleError)
        {
            return (null, $"Invalid 'QuotaConfig.role' '{role}': {roleError}");
        }

        if (role == RoleNames.Any)
        {
            return (null, "Invalid 'QuotaConfig.role': setting quota for the default '*' role is not supported");
        }

        var (guaranteed, guaranteeError) = Amounts(role!, "guarantee", guarantees, nonScalar ?? KnownNonScalar);
        if (guaranteeError is not null)
        {
            return (null, guaranteeError);
        }

        var (limited, limitError) = Amounts(role!, "limit", limits, nonScalar ?? KnownNonScalar);
        if (limitError is not null)
        {
            return (null, limitError);
        }

        var config = new QuotaConfig(role!, guaranteed!, limited!);
        return ValidateGuaranteesWithinLimits(config) is { } error ? (null, error) : (config, null);
    }

    /// <summary>A config with no guarantees and no limits is Mesos's default quota: setting it removes the quota.</summary>
    public static bool IsDefault(QuotaConfig config) => config.Guarantees.IsEmpty && config.Limits.IsEmpty;

    public static string? ValidateGuaranteesWithinLimits(QuotaConfig config)
    {
        foreach (var (name, guarantee) in config.Guarantees)
        {
            if (config.Limits.TryGetValue(name, out var limit) && guarantee > limit)
            {
                return $"Role '{config.Role}': guarantee {name}:{Resource.FormatMilli(guarantee)} is above its limit {name}:{Resource.FormatMilli(limit)}";
            }
        }

        return null;
    }

    /// <summary>
    /// The quotas after <paramref name="updates"/> replace the current ones of their roles (a default config removes
    /// the role's quota), or the first rule the result breaks. <paramref name="consumed"/> holds what each updated role
    /// (with its subtree) consumes now: its reservations plus its unreserved allocations.
    /// </summary>
    public static (IReadOnlyDictionary<string, QuotaConfig>? Quotas, QuotaViolation? Violation) ValidateUpdate(
        IReadOnlyDictionary<string, QuotaConfig> current,
        IReadOnlyList<QuotaConfig> updates,
        ResourceQuantities capacity,
        IReadOnlyDictionary<string, ResourceQuantities> consumed,
        bool force)
    {
        var result = new Dictionary<string, QuotaConfig>(current, StringComparer.Ordinal);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var config in updates)
        {
            if (!seen.Add(config.Role))
            {
                return (null, Invalid($"Role '{config.Role}' appears more than once in the request"));
            }

            if (ValidateGuaranteesWithinLimits(config) is { } error)
            {
                return (null, Invalid(error));
            }

            if (IsDefault(config))
            {
                result.Remove(config.Role);
            }
            else
            {
                result[config.Role] = config;
            }
        }

        if (ValidateHierarchy(result) is { } hierarchyError)
        {
            return (null, Invalid(hierarchyError));
        }

        if (!force)
        {
            foreach (var config in updates)
            {
                var used = consumed.GetValueOrDefault(config.Role) ?? ResourceQuantities.Empty;
                if (FirstAboveLimit(config.Limits, used) is { } name)
                {
                    return (null, new QuotaViolation(QuotaViolationKind.BelowConsumption,
                        $"Role '{config.Role}' is already consuming {name}:{Resource.FormatMilli(used[name])}, more than the requested limit "
                        + $"{name}:{Resource.FormatMilli(config.Limits[name])} (use 'force' to bypass this check)"));
                }
            }

            if (ValidateCapacity(result, capacity) is { } capacityError)
            {
                return (null, new QuotaViolation(QuotaViolationKind.ExceedsCapacity, capacityError));
            }
        }

        return (result, null);
    }

    /// <summary>
    /// The tree rules over a whole set of quotas. Roles without a config (including ancestors nobody configured)
    /// guarantee nothing and limit nothing.
    /// </summary>
    public static string? ValidateHierarchy(IReadOnlyDictionary<string, QuotaConfig> quotas)
    {
        var childGuarantees = new Dictionary<string, ResourceQuantities>(StringComparer.Ordinal);
        foreach (var config in quotas.Values)
        {
            if (RoleNames.Parent(config.Role) is { } parent)
            {
                childGuarantees[parent] = (childGuarantees.GetValueOrDefault(parent) ?? ResourceQuantities.Empty).Add(config.Guarantees);
            }
        }

        // An unconfigured parent with guaranteed children is itself a child with zero guarantees of its own parent;
        // checking every parent that has children, configured or not, covers it.
        foreach (var (parent, sum) in childGuarantees.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            var own = quotas.TryGetValue(parent, out var parentConfig) ? parentConfig.Guarantees : ResourceQuantities.Empty;
            if (!own.Contains(sum))
            {
                return $"Invalid quota configuration: parent role '{parent}' with guarantees ({Describe(own)}) does not contain "
                    + $"the sum of its children's guarantees ({Describe(sum)})";
            }
        }

        foreach (var config in quotas.Values.OrderBy(c => c.Role, StringComparer.Ordinal))
        {
            foreach (var ancestor in RoleNames.Ancestors(config.Role))
            {
                if (!quotas.TryGetValue(ancestor, out var ancestorConfig))
                {
                    continue;
                }

                foreach (var (name, limit) in config.Limits)
                {
                    if (ancestorConfig.Limits.TryGetValue(name, out var ancestorLimit) && limit > ancestorLimit)
                    {
                        return $"Invalid quota configuration: role '{config.Role}' has limit {name}:{Resource.FormatMilli(limit)} "
                            + $"above the limit {name}:{Resource.FormatMilli(ancestorLimit)} of its ancestor '{ancestor}'";
                    }
                }
            }
        }

        return null;
    }

    /// <summary>
    /// What all quotas guarantee together: the top-level roles' guarantees, since each parent's already cover its
    /// children's.
    /// </summary>
    public static ResourceQuantities TotalGuarantees(IReadOnlyDictionary<string, QuotaConfig> quotas) =>
        quotas.Values.Where(c => RoleNames.Parent(c.Role) is null)
            .Aggregate(ResourceQuantities.Empty, (sum, c) => sum.Add(c.Guarantees));

    /// <summary>Mesos's capacity heuristic: the guarantees must fit the resources of the registered agents.</summary>
    public static string? ValidateCapacity(IReadOnlyDictionary<string, QuotaConfig> quotas, ResourceQuantities capacity)
    {
        var total = TotalGuarantees(quotas);
        return capacity.Contains(total)
            ? null
            : $"Total quota guarantees ({Describe(total)}) exceed the cluster capacity ({Describe(capacity)}) (use 'force' to bypass this check)";
    }

    /// <summary>Mesos's <c>ResourceLimits::contains</c>: every amount is within its limit; names without one are unlimited.</summary>
    public static bool LimitsContain(ResourceQuantities limits, ResourceQuantities amounts) => FirstAboveLimit(limits, amounts) is null;

    private static string? FirstAboveLimit(ResourceQuantities limits, ResourceQuantities amounts) =>
        amounts.Where(kv => limits.TryGetValue(kv.Key, out var limit) && kv.Value > limit).Select(kv => kv.Key).FirstOrDefault();

    private static (ResourceQuantities? Amounts, string? Error) Amounts(
        string role, string kind, IEnumerable<KeyValuePair<string, double?>>? raw, IReadOnlySet<string> nonScalar)
    {
        var milli = new List<KeyValuePair<string, long>>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (name, amount) in raw ?? [])
        {
            var where = $"Invalid {kind} configuration {{'{name}'}} for role '{role}'";
            if (ResourceValidation.ValidateName(name) is { } nameError)
            {
                return (null, $"{where}: {nameError}");
            }

            if (nonScalar.Contains(name))
            {
                return (null, $"{where}: only scalar resources can have quota");
            }

            if (!names.Add(name))
            {
                return (null, $"{where}: '{name}' appears more than once");
            }

            if (amount is not { } value)
            {
                return (null, $"{where}: missing 'value'");
            }

            where = $"Invalid {kind} configuration {{'{name}': {Format(value)}}} for role '{role}'";
            if (!double.IsFinite(value) || value < 0)
            {
                return (null, $"{where}: values must be finite and non-negative");
            }

            var max = name is "mem" or "disk" ? MaxMegabytes : MaxOther;
            if (value > max)
            {
                return (null, $"{where}: values greater than {Format(max)} are not supported");
            }

            milli.Add(KeyValuePair.Create(name, Resource.ToMilli(value)));
        }

        // A zero limit is a real limit (the role gets none of it); a zero guarantee is no guarantee.
        return (kind == "limit" ? ResourceQuantities.OfLimits(milli) : ResourceQuantities.Of(milli), null);
    }

    private static QuotaViolation Invalid(string message) => new(QuotaViolationKind.Invalid, message);

    private static string Describe(ResourceQuantities quantities) => quantities.IsEmpty ? "none" : quantities.ToString();

    private static string Format(double value) => value.ToString("R", CultureInfo.InvariantCulture);
}
