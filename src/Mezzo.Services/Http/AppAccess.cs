using System.Text.Json;
using System.Text.Json.Nodes;
using Mezzo.Core.Security;
using Mezzo.Hosting.Security;
using Mezzo.Services.Engine;
using Mezzo.Services.Model;
using Microsoft.AspNetCore.Http;

namespace Mezzo.Services.Http;

/// <summary>
/// Per-principal access to apps and groups (Mezzo's <c>view_app_groups</c> / <c>update_app_groups</c> ACLs, objects
/// are app and group paths, matched as prefixes on '/' boundaries), checked by the handlers once the endpoint itself
/// has let the principal in. A refusal is Marathon's: 403 with <c>{"message": "Not Authorized to perform this action!"}</c>,
/// and nothing is changed.
/// </summary>
internal static class AppAccess
{
    /// <summary>Marathon's body for a request its authorizer refused (AuthResource), word for word.</summary>
    public const string NotAuthorized = "Not Authorized to perform this action!";

    public static bool CanView(HttpContext context, ServicesActor actor, string path) =>
        actor.Options.Security.Acls.IsAllowed(AclAction.ViewAppGroups, HttpSecurity.Principal(context), path);

    public static bool CanUpdate(HttpContext context, ServicesActor actor, string path) =>
        actor.Options.Security.Acls.IsAllowed(AclAction.UpdateAppGroups, HttpSecurity.Principal(context), path);

    /// <summary>Whether every principal may see everything (no ACLs about apps): lists and streams need no filtering.</summary>
    public static bool SeesEverything(ServicesActor actor)
    {
        var acls = actor.Options.Security.Acls;
        return acls.Permissive && acls.Rules(AclAction.ViewAppGroups).Count == 0;
    }

    public static Task ForbiddenAsync(HttpContext context) => HttpJson.MessageAsync(context, StatusCodes.Status403Forbidden, NotAuthorized);

    /// <summary>
    /// The app paths a group definition (POST/PUT /v2/groups) names, with relative ids resolved against their parent
    /// group, so a body cannot reach outside the group it is sent to with an absolute id.
    /// </summary>
    public static IReadOnlyList<string> PathsIn(JsonObject group, string parent)
    {
        var paths = new List<string>();
        Collect(group, parent, paths);
        return paths;
    }

    private static void Collect(JsonObject group, string parent, List<string> paths)
    {
        var id = Resolve(group["id"], parent) ?? parent;
        paths.Add(id);
        foreach (var key in new[] { "apps", "groups" })
        {
            if (group[key] is not JsonArray children)
            {
                continue;
            }

            foreach (var child in children.OfType<JsonObject>())
            {
                if (key == "groups")
                {
                    Collect(child, id, paths);
                }
                else if (Resolve(child["id"], id) is { } app)
                {
                    paths.Add(app);
                }
            }
        }
    }

    private static string? Resolve(JsonNode? id, string parent)
    {
        if (id is not JsonValue value || !value.TryGetValue<string>(out var text) || text.Length == 0)
        {
            return null;
        }

        return PathId.Canonical(text, parent);
    }

    /// <summary>
    /// The apps an event is about (status, health and instance events name one; deployment events every app of the
    /// plan; an API post its app definition). An event about no app is shown only to principals who may see "/".
    /// </summary>
    public static bool EventVisible(HttpContext context, ServicesActor actor, ServicesEvent ev)
    {
        var apps = new HashSet<string>(StringComparer.Ordinal);
        try
        {
            if (JsonNode.Parse(ev.Json) is JsonObject root)
            {
                AddApp(apps, root["appId"]);
                AddApp(apps, root["runSpecId"]);
                AddApp(apps, (root["appDefinition"] as JsonObject)?["id"]);
                if (root["plan"] is JsonObject plan)
                {
                    foreach (var side in new[] { "original", "target" })
                    {
                        foreach (var app in (plan[side] as JsonObject)?["apps"] as JsonArray ?? [])
                        {
                            AddApp(apps, (app as JsonObject)?["id"]);
                        }
                    }

                    foreach (var step in plan["steps"] as JsonArray ?? [])
                    {
                        foreach (var action in (step as JsonObject)?["actions"] as JsonArray ?? [])
                        {
                            AddApp(apps, (action as JsonObject)?["app"]);
                        }
                    }
                }
            }
        }
        catch (JsonException)
        {
            return CanView(context, actor, "/");
        }

        return apps.Count == 0 ? CanView(context, actor, "/") : apps.All(app => CanView(context, actor, app));
    }

    private static void AddApp(HashSet<string> apps, JsonNode? id)
    {
        if (id is JsonValue value && value.TryGetValue<string>(out var text) && text.Length > 0)
        {
            apps.Add(PathId.Canonical(text));
        }
    }
}
