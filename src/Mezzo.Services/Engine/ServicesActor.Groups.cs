using System.Text.Json.Nodes;
using Mezzo.Protocol.Marathon;
using Mezzo.Services.Model;

namespace Mezzo.Services.Engine;

/// <summary>
/// Groups (/v2/groups): a group is the apps under its path. A group definition deploys all its apps (and nested
/// groups') in one deployment, with the group's dependencies added to each of its apps.
/// </summary>
public sealed partial class ServicesActor
{
    /// <summary>POST (create) or PUT (replace: apps under the group that the body leaves out are removed) a group.</summary>
    public Task<ChangeResult> DeployGroupAsync(string? pathId, JsonObject body, bool create, bool force) => AskAsync(() =>
    {
        var rawId = pathId ?? (body["id"] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null);
        if (rawId is null)
        {
            return new ChangeResult.Invalid([new ValidationError("/id", "error.path.missing")]);
        }

        var groupId = PathId.Canonical(rawId);
        if (pathId is null && groupId != "/" && PathId.Errors(rawId).FirstOrDefault() is { } idError)
        {
            return new ChangeResult.Invalid([new ValidationError("/id", idError)]);
        }

        var existing = AppsUnder(groupId).ToList();
        if (create && existing.Count > 0)
        {
            return new ChangeResult.Conflict($"Group {groupId} is already created. Use PUT to change this group.");
        }

        if (body["scaleBy"] is { } scaleBy)
        {
            return scaleBy.GetValueKind() == System.Text.Json.JsonValueKind.Number && scaleBy.GetValue<double>() >= 0
                ? Scale(groupId, scaleBy.GetValue<double>(), force)
                : new ChangeResult.Invalid([new ValidationError("/scaleBy", "must be a number, 0 or more")]);
        }

        var apps = new List<(string Path, JsonObject App)>();
        if (Collect(body, groupId, [], "", apps) is { } invalid)
        {
            return invalid;
        }

        var targets = new Dictionary<string, AppDefinition?>();
        foreach (var (path, json) in apps)
        {
            var appId = json["id"]!.GetValue<string>();
            if (Prepare(json, _apps.GetValueOrDefault(PathId.Canonical(appId)), out var app) is { } failure)
            {
                return failure is ChangeResult.Invalid errors
                    ? new ChangeResult.Invalid([.. errors.Errors.Select(e => e with { Path = path + (e.Path == "/" ? "" : e.Path) })])
                    : failure;
            }

            if (!targets.TryAdd(app!.Id!, app))
            {
                return new ChangeResult.Invalid([new ValidationError(path + "/id", $"The app id {app.Id} is used more than once")]);
            }
        }

        foreach (var id in existing.Where(id => !targets.ContainsKey(id)))
        {
            targets[id] = null;
        }

        return targets.Count == 0 ? new ChangeResult.Invalid([new ValidationError("/apps", "A group definition needs at least one app")]) : Deploy(targets, force, null);
    });

    /// <summary>DELETE /v2/groups/{id}: removes every app under the group.</summary>
    public Task<ChangeResult> DeleteGroupAsync(string groupId, bool force) => AskAsync(() =>
    {
        var ids = AppsUnder(groupId).ToList();
        if (ids.Count == 0 && groupId != "/")
        {
            return new ChangeResult.NotFound($"Group '{groupId}' does not exist");
        }

        return Deploy(ids.ToDictionary(id => id, _ => (AppDefinition?)null), force, null);
    });

    private IEnumerable<string> AppsUnder(string groupId) =>
        _apps.Keys.Where(id => groupId == "/" || id.StartsWith(groupId + "/", StringComparison.Ordinal));

    private ChangeResult Scale(string groupId, double factor, bool force)
    {
        var targets = new Dictionary<string, AppDefinition?>();
        foreach (var id in AppsUnder(groupId))
        {
            var app = _apps[id].Clone();
            var version = NextVersion();
            app.Instances = (int)Math.Ceiling((app.Instances ?? 0) * factor);
            app.Version = version;
            app.VersionInfo = new VersionInfo { LastScalingAt = version, LastConfigChangeAt = _apps[id].ConfigVersion };
            targets[id] = app;
        }

        return targets.Count == 0 ? new ChangeResult.NotFound($"Group '{groupId}' does not exist") : Deploy(targets, force, null);
    }

    /// <summary>Flattens a group body into its apps with absolute ids and the enclosing groups' dependencies.</summary>
    private static ChangeResult? Collect(JsonObject group, string groupId, IReadOnlyList<string> inherited, string path, List<(string Path, JsonObject App)> apps)
    {
        var dependencies = inherited.ToList();
        if (group["dependencies"] is JsonArray deps)
        {
            foreach (var dependency in deps)
            {
                if (dependency is not JsonValue value || !value.TryGetValue<string>(out var text))
                {
                    return new ChangeResult.InvalidJson(new JsonObject { ["message"] = "Invalid JSON", ["details"] = new JsonArray(new JsonObject { ["path"] = path + "/dependencies", ["errors"] = new JsonArray("error.expected.jsstring") }) });
                }

                dependencies.Add(PathId.Canonical(text, groupId));
            }
        }

        if (group["apps"] is JsonArray appList)
        {
            for (var i = 0; i < appList.Count; i++)
            {
                if (appList[i] is not JsonObject app || app["id"] is not JsonValue idValue || !idValue.TryGetValue<string>(out var appId))
                {
                    return new ChangeResult.Invalid([new ValidationError($"{path}/apps({i})/id", "error.path.missing")]);
                }

                var copy = (JsonObject)app.DeepClone();
                copy["id"] = PathId.Canonical(appId, groupId);
                var own = copy["dependencies"] is JsonArray ownDeps ? ownDeps.Select(d => d?.ToString() ?? "").Select(d => PathId.Canonical(d, groupId)).ToList() : [];
                copy["dependencies"] = new JsonArray([.. own.Concat(dependencies).Distinct().Select(d => (JsonNode)d)]);
                apps.Add(($"{path}/apps({i})", copy));
            }
        }

        if (group["groups"] is JsonArray groups)
        {
            for (var i = 0; i < groups.Count; i++)
            {
                if (groups[i] is not JsonObject child || child["id"] is not JsonValue idValue || !idValue.TryGetValue<string>(out var childId))
                {
                    return new ChangeResult.Invalid([new ValidationError($"{path}/groups({i})/id", "error.path.missing")]);
                }

                if (Collect(child, PathId.Canonical(childId, groupId), dependencies, $"{path}/groups({i})", apps) is { } failure)
                {
                    return failure;
                }
            }
        }

        return null;
    }
}
