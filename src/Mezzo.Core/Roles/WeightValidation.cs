using System.Globalization;

namespace Mezzo.Core.Roles;

/// <summary>
/// Mesos's rules for role weights (docs/weights.md and the master's weights handler): a weight belongs to a valid role
/// other than "*" and is a positive finite number. A request is taken whole or not at all, so one bad entry, or one
/// role named twice, rejects it.
/// </summary>
public static class WeightValidation
{
    /// <summary>The weight of a role nobody set one for.</summary>
    public const double DefaultWeight = 1.0;

    /// <summary>Null when <paramref name="role"/> may carry a weight, else why not.</summary>
    public static string? ValidateRole(string? role)
    {
        if (RoleNames.Validate(role) is { } error)
        {
            return $"Invalid role '{role}': {error}";
        }

        return role == RoleNames.Any ? "Invalid role '*': the default role '*' cannot be given a weight" : null;
    }

    public static string? ValidateWeight(string role, double? weight)
    {
        if (weight is not { } value)
        {
            return $"Missing 'weight' for role '{role}'";
        }

        return double.IsFinite(value) && value > 0
            ? null
            : $"Invalid weight '{Format(value)}' for role '{role}': weights must be positive finite numbers";
    }

    /// <summary>
    /// Validates a whole update. Role names are trimmed first, as Mesos does. Returns the weights by role, or the
    /// first problem found.
    /// </summary>
    public static (IReadOnlyDictionary<string, double>? Weights, string? Error) Validate(IEnumerable<(string? Role, double? Weight)> entries)
    {
        var weights = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var (rawRole, weight) in entries)
        {
            var role = rawRole?.Trim();
            if (ValidateRole(role) is { } roleError)
            {
                return (null, roleError);
            }

            if (ValidateWeight(role!, weight) is { } weightError)
            {
                return (null, weightError);
            }

            if (!weights.TryAdd(role!, weight!.Value))
            {
                return (null, $"Role '{role}' appears more than once in the request");
            }
        }

        return (weights, null);
    }

    /// <summary>Parses Mesos's <c>--weights</c> flag, <c>role1=weight1,role2=weight2</c>.</summary>
    public static (IReadOnlyDictionary<string, double>? Weights, string? Error) ParseFlag(string text)
    {
        var entries = new List<(string? Role, double? Weight)>();
        foreach (var token in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var pair = token.Split('=');
            if (pair.Length != 2 || pair[0].Trim().Length == 0)
            {
                return (null, $"Invalid weight '{token}': --weights should be in the form 'role1=weight1,role2=weight2'");
            }

            if (!double.TryParse(pair[1].Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var weight))
            {
                return (null, $"Invalid weight '{token}': '{pair[1].Trim()}' is not a number");
            }

            entries.Add((pair[0], weight));
        }

        return Validate(entries);
    }

    /// <summary>Null when <paramref name="text"/> is a valid <c>--weights</c> value (or empty), else why not.</summary>
    public static string? CheckFlag(string? text) => string.IsNullOrWhiteSpace(text) ? null : ParseFlag(text).Error;

    private static string Format(double value) => value.ToString("R", CultureInfo.InvariantCulture);
}
