using System.Globalization;
using System.Text.RegularExpressions;

namespace Mezzo.Services.Scheduling;

/// <summary>Where a task runs or would run: the agent's hostname and text attributes.</summary>
public sealed record Placement(string Hostname, IReadOnlyDictionary<string, string> Attributes);

/// <summary>Marathon's placement constraints (UNIQUE, CLUSTER, GROUP_BY, LIKE, UNLIKE, MAX_PER, IS) on hostname or an attribute.</summary>
public static class Constraints
{
    /// <summary>True when a new task of the app may go to <paramref name="offer"/>, given where its other tasks run.</summary>
    public static bool Accept(IReadOnlyList<List<string>>? constraints, Placement offer, IReadOnlyList<Placement> running)
    {
        foreach (var constraint in constraints ?? [])
        {
            if (!Meets(constraint, offer, running))
            {
                return false;
            }
        }

        return true;
    }

    private static string? Value(string field, Placement placement) =>
        field is "hostname" or "@hostname" ? placement.Hostname : placement.Attributes.TryGetValue(field, out var value) ? value : null;

    private static bool Meets(List<string> constraint, Placement offer, IReadOnlyList<Placement> running)
    {
        var field = constraint[0];
        var op = constraint[1];
        var argument = constraint.Count > 2 ? constraint[2] : null;
        var value = Value(field, offer);
        if (value is null)
        {
            // An agent without the attribute can only satisfy "not like".
            return op == "UNLIKE";
        }

        var others = running.Select(p => Value(field, p)).Where(v => v is not null).Select(v => v!).ToList();
        switch (op)
        {
            case "UNIQUE":
                return !others.Contains(value);
            case "CLUSTER":
                return string.IsNullOrEmpty(argument) ? others.All(o => o == value) : value == argument;
            case "IS":
                return value == argument;
            case "LIKE":
                return Regex.IsMatch(value, $"^(?:{argument})$", RegexOptions.None, TimeSpan.FromSeconds(1));
            case "UNLIKE":
                return !Regex.IsMatch(value, $"^(?:{argument})$", RegexOptions.None, TimeSpan.FromSeconds(1));
            case "MAX_PER":
                return others.Count(o => o == value) < int.Parse(argument!, CultureInfo.InvariantCulture);
            case "GROUP_BY":
                var groups = argument is null ? 0 : int.Parse(argument, CultureInfo.InvariantCulture);
                var counts = others.GroupBy(o => o).ToDictionary(g => g.Key, g => g.Count());
                var mine = counts.GetValueOrDefault(value);
                // Spread evenly: this value must be among the least used; while fewer groups than asked are in use, an
                // unused one counts as least used.
                var least = counts.Count == 0 || counts.Count < groups ? 0 : counts.Values.Min();
                return mine <= least;
            default:
                return false;
        }
    }
}
