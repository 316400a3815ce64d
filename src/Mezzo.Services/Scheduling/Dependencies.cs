using Mezzo.Protocol.Marathon;

namespace Mezzo.Services.Scheduling;

/// <summary>
/// Marathon's app dependencies: an app starts only once the apps it depends on (an app id, or a group id standing for
/// every app under it) have arrived at their targets. Pure.
/// </summary>
public static class Dependencies
{
    /// <summary>The app ids <paramref name="app"/> depends on, among <paramref name="appIds"/>.</summary>
    public static IEnumerable<string> Of(AppDefinition app, IEnumerable<string> appIds)
    {
        var ids = appIds.ToList();
        return (app.Dependencies ?? [])
            .SelectMany(dependency => ids.Where(id => id == dependency || id.StartsWith(dependency.TrimEnd('/') + "/", StringComparison.Ordinal)))
            .Where(id => id != app.Id)
            .Distinct();
    }

    /// <summary>Depth of each app in the dependency graph (0 = depends on nothing); null when there is a cycle.</summary>
    public static Dictionary<string, int>? Levels(IReadOnlyDictionary<string, AppDefinition> apps)
    {
        var levels = new Dictionary<string, int>();
        var visiting = new HashSet<string>();
        int? Visit(string id)
        {
            if (levels.TryGetValue(id, out var known))
            {
                return known;
            }

            if (!visiting.Add(id))
            {
                return null;
            }

            var level = 0;
            foreach (var dependency in Of(apps[id], apps.Keys))
            {
                if (Visit(dependency) is not { } depth)
                {
                    return null;
                }

                level = Math.Max(level, depth + 1);
            }

            visiting.Remove(id);
            levels[id] = level;
            return level;
        }

        foreach (var id in apps.Keys)
        {
            if (Visit(id) is null)
            {
                return null;
            }
        }

        return levels;
    }
}
