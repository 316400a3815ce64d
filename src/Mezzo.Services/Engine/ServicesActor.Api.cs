using System.Collections.Immutable;
using System.Text.Json;
using System.Text.Json.Nodes;
using Mezzo.Protocol.Marathon;
using Mezzo.Services.Model;
using Mezzo.Services.Scheduling;
using Mezzo.Services.State;
using Microsoft.Extensions.Logging;

namespace Mezzo.Services.Engine;

/// <summary>The changes the REST API asks for. Each validates first and then either applies whole or not at all.</summary>
public sealed partial class ServicesActor
{
    /// <summary>POST /v2/apps: a new app; 409 when the id is taken.</summary>
    public Task<ChangeResult> CreateAppAsync(JsonObject body, bool force) => AskAsync(() =>
    {
        if (Prepare(body, null, out var app) is { } failure)
        {
            return failure;
        }

        if (_apps.ContainsKey(app!.Id!))
        {
            return new ChangeResult.Conflict($"An app with id [{app.Id}] already exists.");
        }

        return Deploy(new Dictionary<string, AppDefinition?> { [app.Id!] = app }, force, app);
    });

    /// <summary>
    /// PUT/PATCH /v2/apps/{id} (and each entry of PUT/PATCH /v2/apps): <paramref name="body"/> laid over the current
    /// definition when <paramref name="partial"/>, else replacing it; creates the app when allowed and absent.
    /// </summary>
    public Task<ChangeResult> UpdateAppAsync(string? pathId, JsonObject body, bool partial, bool allowCreation, bool force) =>
        AskAsync(() => UpdateApps([(pathId, body)], partial, allowCreation, force));

    public Task<ChangeResult> UpdateAppsAsync(IReadOnlyList<JsonObject> bodies, bool partial, bool allowCreation, bool force) =>
        AskAsync(() => UpdateApps([.. bodies.Select(b => ((string?)null, b))], partial, allowCreation, force));

    private ChangeResult UpdateApps(IReadOnlyList<(string? PathId, JsonObject Body)> updates, bool partial, bool allowCreation, bool force)
    {
        var targets = new Dictionary<string, AppDefinition?>();
        AppDefinition? single = null;
        foreach (var (pathId, body) in updates)
        {
            var rawId = pathId ?? (body["id"] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null);
            if (rawId is null)
            {
                return new ChangeResult.Invalid([new ValidationError("/id", "error.path.missing")]);
            }

            var id = PathId.Canonical(rawId);
            var existing = _apps.GetValueOrDefault(id);
            if (existing is null && !allowCreation)
            {
                return new ChangeResult.NotFound($"App '{id}' does not exist");
            }

            JsonObject merged;
            if (existing is not null && partial)
            {
                merged = AppJson.ToNode(existing);
                foreach (var (key, value) in body)
                {
                    merged[key] = value?.DeepClone();
                }

                // The stored versions say nothing about the new one.
                merged.Remove("version");
                merged.Remove("versionInfo");
            }
            else
            {
                merged = (JsonObject)body.DeepClone();
            }

            merged["id"] = rawId;
            if (Prepare(merged, existing, out var app) is { } failure)
            {
                return failure;
            }

            targets[app!.Id!] = app;
            single = app;
        }

        return Deploy(targets, force, targets.Count == 1 ? single : null);
    }

    /// <summary>DELETE /v2/apps/{id}.</summary>
    public Task<ChangeResult> DeleteAppAsync(string id, bool force) => AskAsync(() =>
        _apps.ContainsKey(id)
            ? Deploy(new Dictionary<string, AppDefinition?> { [id] = null }, force, null)
            : new ChangeResult.NotFound($"App '{id}' does not exist"));

    /// <summary>POST /v2/apps/{id}/restart: the same definition under a new config version, so every task is replaced.</summary>
    public Task<ChangeResult> RestartAppAsync(string id, bool force) => AskAsync(() =>
    {
        if (!_apps.TryGetValue(id, out var current))
        {
            return new ChangeResult.NotFound($"App '{id}' does not exist");
        }

        var app = current.Clone();
        var version = NextVersion();
        app.Version = version;
        app.VersionInfo = new VersionInfo { LastConfigChangeAt = version, LastScalingAt = current.VersionInfo?.LastScalingAt ?? version };
        return Deploy(new Dictionary<string, AppDefinition?> { [id] = app }, force, app);
    });

    /// <summary>
    /// DELETE /v2/apps/{id}/tasks[/{taskId}] and POST /v2/tasks/delete: kills the tasks; with <paramref name="scale"/>
    /// the apps are scaled down by as many (a deployment), else they are replaced.
    /// </summary>
    public Task<ChangeResult> KillTasksAsync(IReadOnlyList<string> taskIds, bool scale, bool force) => AskAsync<ChangeResult>(() =>
    {
        var tasks = taskIds.Distinct().Where(_instances.ContainsKey).Select(id => _instances[id]).ToList();
        if (scale)
        {
            var targets = new Dictionary<string, AppDefinition?>();
            foreach (var group in tasks.GroupBy(t => t.AppId))
            {
                if (!_apps.TryGetValue(group.Key, out var current))
                {
                    continue;
                }

                var app = current.Clone();
                app.Instances = Math.Max(0, (current.Instances ?? 0) - group.Count());
                targets[group.Key] = app;
            }

            var locked = LockedBy(targets.Keys);
            if (locked.Count > 0 && !force)
            {
                return new ChangeResult.Locked(locked);
            }

            MarkKilling(tasks);
            return Deploy(targets, force, null);
        }

        MarkKilling(tasks);
        return new ChangeResult.Killed(tasks);
    });

    private void MarkKilling(List<Instance> tasks)
    {
        var killing = tasks.Where(t => !t.Killing).Select(t => t with { Killing = true }).ToList();
        if (killing.Count == 0)
        {
            return;
        }

        _store.Write(batch => killing.ForEach(batch.PutInstance));
        _counters = _counters with { TasksKilledByRequest = _counters.TasksKilledByRequest + killing.Count };
        foreach (var instance in killing)
        {
            _instances = _instances.SetItem(instance.TaskId, instance);
            var (taskId, agentId) = (instance.TaskId, instance.AgentId);
            Fire(client => client.KillAsync(taskId, agentId, null, _stopping.Token), "kill " + taskId);
        }
    }

    /// <summary>DELETE /v2/deployments/{id}: rolls the deployment's apps back (a new deployment), or with force just stops it.</summary>
    public Task<ChangeResult> CancelDeploymentAsync(string id, bool force) => AskAsync<ChangeResult>(() =>
    {
        if (!_deployments.TryGetValue(id, out var deployment))
        {
            return new ChangeResult.NotFound($"DeploymentPlan {id} does not exist");
        }

        RemoveDeployment(deployment, "canceled");
        return force ? new ChangeResult.Done() : RollBack(deployment);
    });

    /// <summary>
    /// A deployment back to the definitions <paramref name="deployment"/> started from (apps it created are removed).
    /// Each keeps its old config version, so tasks still running the old config stay and only the abandoned one's go.
    /// </summary>
    private ChangeResult RollBack(Deployment deployment)
    {
        var rollback = new Dictionary<string, AppDefinition?>();
        foreach (var (appId, original) in deployment.Original)
        {
            if (original is null)
            {
                rollback[appId] = null;
                continue;
            }

            var app = original.Clone();
            var version = NextVersion();
            app.Version = version;
            app.VersionInfo = new VersionInfo { LastScalingAt = version, LastConfigChangeAt = original.ConfigVersion };
            rollback[appId] = app;
        }

        return Deploy(rollback, force: true, null, isRollback: true);
    }

    /// <summary>
    /// Beyond Marathon: an app labelled MEZZO_DEPLOYMENT_DEADLINE_SECONDS=N whose deployment has not arrived N seconds
    /// after it started is rolled back to its previous definition, and the deployment reported failed.
    /// </summary>
    private void RollBackOverdueDeployments(DateTimeOffset now)
    {
        foreach (var deployment in _deployments.Values.Where(d => !d.IsRollback).ToList())
        {
            var deadlines = deployment.Target.Values
                .Select(app => app?.Labels?.GetValueOrDefault(DeadlineLabel))
                .Select(text => double.TryParse(text, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var seconds) && seconds > 0 ? seconds : (double?)null)
                .Where(seconds => seconds is not null)
                .ToList();
            if (deadlines.Count == 0 || !DateTimeOffset.TryParse(deployment.Version, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out var started)
                || now - started < TimeSpan.FromSeconds(deadlines.Min()!.Value))
            {
                continue;
            }

            RemoveDeployment(deployment, $"its deadline of {deadlines.Min()}s passed; rolling back");
            RollBack(deployment);
        }
    }

    public const string DeadlineLabel = "MEZZO_DEPLOYMENT_DEADLINE_SECONDS";

    /// <summary>DELETE /v2/queue/{id}/delay: the app's next launch may happen now.</summary>
    public Task<bool> ResetDelayAsync(string appId) => AskAsync(() =>
    {
        if (!_queue.ContainsKey(appId) && !_delays.ContainsKey(appId))
        {
            return false;
        }

        _delays = _delays.Remove(appId);
        Evaluate();
        return true;
    });

    /// <summary>An API change seen by event subscribers (Marathon's api_post_event).</summary>
    public void ApiPosted(string clientIp, string uri, AppDefinition? app) => Post(() =>
    {
        if (app is not null)
        {
            Emit("api_post_event", new JsonObject { ["clientIp"] = clientIp, ["uri"] = uri, ["appDefinition"] = AppJson.ToNode(app) });
        }

        return Task.CompletedTask;
    });

    /// <summary>Parses, normalizes and validates <paramref name="body"/>; the change's versions and service ports are filled in.</summary>
    private ChangeResult? Prepare(JsonObject body, AppDefinition? existing, out AppDefinition? app)
    {
        app = null;
        var rawId = body["id"] is JsonValue idValue && idValue.TryGetValue<string>(out var text) ? text : "";
        AppDefinition parsed;
        try
        {
            parsed = AppJson.Parse(body);
        }
        catch (JsonException ex)
        {
            return new ChangeResult.InvalidJson(AppJson.InvalidJson(ex));
        }

        AppNormalizer.Normalize(parsed);
        var errors = AppNormalizer.Validate(parsed, rawId);
        if (errors.Count > 0)
        {
            return new ChangeResult.Invalid(errors);
        }

        var version = NextVersion();
        var scaledOnly = existing is not null && !ConfigChanged(existing, parsed);
        parsed.Version = version;
        parsed.VersionInfo = new VersionInfo
        {
            LastScalingAt = version,
            LastConfigChangeAt = scaledOnly ? existing!.VersionInfo?.LastConfigChangeAt ?? version : version,
        };
        AssignServicePorts(parsed, existing);
        app = parsed;
        return null;
    }

    /// <summary>True when <paramref name="next"/> differs from <paramref name="current"/> in more than the instance count.</summary>
    private static bool ConfigChanged(AppDefinition current, AppDefinition next)
    {
        static string Config(AppDefinition app)
        {
            var node = AppJson.ToNode(app);
            node.Remove("instances");
            node.Remove("version");
            node.Remove("versionInfo");
            // Assigned service ports are Marathon's, not the user's: "port": 0 sent again keeps them.
            if (node["portDefinitions"] is JsonArray ports)
            {
                foreach (var port in ports.OfType<JsonObject>())
                {
                    port.Remove("port");
                }
            }

            return node.ToJsonString();
        }

        return Config(current) != Config(next);
    }

    /// <summary>Port definitions with port 0 get a service port unused by other apps (kept from the current version).</summary>
    private void AssignServicePorts(AppDefinition app, AppDefinition? existing)
    {
        var used = _apps.Values.Where(a => a.Id != app.Id).SelectMany(a => a.ServicePorts).ToHashSet();
        var next = _options.LocalPortMin;
        for (var i = 0; i < app.PortDefinitions!.Count; i++)
        {
            var definition = app.PortDefinitions[i];
            if (definition.Port != 0)
            {
                used.Add(definition.Port!.Value);
                continue;
            }

            if (existing?.PortDefinitions?.ElementAtOrDefault(i)?.Port is { } kept && kept != 0 && !used.Contains(kept))
            {
                definition.Port = kept;
                used.Add(kept);
                continue;
            }

            while (used.Contains(next) && next < _options.LocalPortMax)
            {
                next++;
            }

            definition.Port = next;
            used.Add(next);
        }
    }

    private List<string> LockedBy(IEnumerable<string> appIds)
    {
        var ids = appIds.ToHashSet();
        return [.. _deployments.Values.Where(d => d.AffectedApps.Any(ids.Contains)).Select(d => d.Id).Order(StringComparer.Ordinal)];
    }

    private void RemoveDeployment(Deployment deployment, string why)
    {
        _store.Write(batch => batch.DeleteDeployment(deployment.Id));
        _deployments = _deployments.Remove(deployment.Id);
        Log.DeploymentStopped(_log, deployment.Id, why);
        Emit("deployment_failed", new JsonObject { ["id"] = deployment.Id, ["reason"] = why, ["plan"] = PlanJson(deployment) });
    }

    /// <summary>
    /// Starts one deployment taking <paramref name="targets"/> (app id → new definition, or null to remove) from their
    /// current definitions; persisted with the apps in one transaction before anyone is told.
    /// </summary>
    private ChangeResult Deploy(Dictionary<string, AppDefinition?> targets, bool force, AppDefinition? single, bool isRollback = false)
    {
        var locked = LockedBy(targets.Keys);
        if (locked.Count > 0 && !force)
        {
            return new ChangeResult.Locked(locked);
        }

        foreach (var id in locked)
        {
            RemoveDeployment(_deployments[id], "overridden by a forced change");
        }

        var after = _apps.ToDictionary(kv => kv.Key, kv => kv.Value);
        foreach (var (id, target) in targets)
        {
            if (target is null)
            {
                after.Remove(id);
            }
            else
            {
                after[id] = target;
            }
        }

        if (Dependencies.Levels(after) is not { } levels)
        {
            return new ChangeResult.Invalid([new ValidationError("/", "Dependency graph has cyclic dependencies.")]);
        }

        var original = targets.Keys.ToDictionary(id => id, id => _apps.GetValueOrDefault(id));
        var steps = new List<IReadOnlyList<DeploymentAction>>();
        var starts = targets.Where(t => original[t.Key] is null && t.Value is not null).OrderBy(t => t.Key, StringComparer.Ordinal).Select(t => new DeploymentAction("StartApplication", t.Key)).ToList();
        if (starts.Count > 0)
        {
            steps.Add(starts);
        }

        // One step per dependency level: an app's step comes after those of the apps it depends on.
        var actions = new List<(int Level, DeploymentAction Action)>();
        foreach (var (id, target) in targets.OrderBy(t => t.Key, StringComparer.Ordinal))
        {
            var level = target is null ? 0 : levels[id];
            var before = original[id];
            if (target is null)
            {
                actions.Add((level, new DeploymentAction("StopApplication", id)));
            }
            else if (before is null)
            {
                actions.Add((level, new DeploymentAction("ScaleApplication", id)));
            }
            else if (before.ConfigVersion != target.ConfigVersion)
            {
                actions.Add((level, new DeploymentAction("RestartApplication", id)));
            }
            else if (before.Instances != target.Instances)
            {
                actions.Add((level, new DeploymentAction("ScaleApplication", id)));
            }
        }

        steps.AddRange(actions.GroupBy(a => a.Level).OrderBy(g => g.Key).Select(g => (IReadOnlyList<DeploymentAction>)[.. g.Select(a => a.Action)]));

        var deployment = new Deployment
        {
            Id = Guid.NewGuid().ToString(),
            Version = targets.Values.FirstOrDefault(t => t is not null)?.Version ?? NextVersion(),
            Original = original,
            Target = targets,
            Steps = steps,
            IsRollback = isRollback,
        };
        _store.Write(batch =>
        {
            foreach (var (id, target) in targets)
            {
                if (target is null)
                {
                    batch.DeleteApp(id);
                }
                else
                {
                    batch.PutApp(target);
                }
            }

            batch.PutDeployment(deployment);
        });
        foreach (var (id, target) in targets)
        {
            if (target is null)
            {
                _apps = _apps.Remove(id);
                _delays = _delays.Remove(id);
                _failures = _failures.Remove(id);
            }
            else
            {
                _apps = _apps.SetItem(id, target);
                if (original[id] is not { } before || before.ConfigVersion != target.ConfigVersion)
                {
                    // A new config gets a fresh start: an old failure streak says nothing about it.
                    _delays = _delays.Remove(id);
                }

                if (!_roles.Contains(target.Role ?? "*"))
                {
                    _roles = _roles.Add(target.Role ?? "*");
                    var info = FrameworkInfo();
                    Fire(client => client.UpdateFrameworkAsync(info, null, null, _stopping.Token), "add role " + target.Role);
                }
            }
        }

        _deployments = _deployments.SetItem(deployment.Id, deployment);
        Log.DeploymentStarted(_log, deployment.Id, string.Join(",", targets.Keys), string.Join(" ", steps.SelectMany(s => s).Select(a => a.Action)));
        Emit("deployment_info", new JsonObject { ["plan"] = PlanJson(deployment), ["currentStep"] = steps.Count > 0 ? StepJson(steps[0]) : new JsonObject { ["actions"] = new JsonArray() } });
        Evaluate();
        Publish();
        return new ChangeResult.Deployed(deployment, targets.Count == 1 && original.Values.Single() is null, single);
    }

    private JsonObject PlanJson(Deployment deployment) => new()
    {
        ["id"] = deployment.Id,
        ["version"] = deployment.Version,
        ["original"] = GroupJson(deployment.Original),
        ["target"] = GroupJson(deployment.Target),
        ["steps"] = MarathonRender.Steps(deployment),
    };

    private static JsonObject GroupJson(IReadOnlyDictionary<string, AppDefinition?> apps) => new()
    {
        ["id"] = "/",
        ["apps"] = new JsonArray([.. apps.Values.Where(a => a is not null).Select(a => (JsonNode)AppJson.ToNode(a!))]),
        ["groups"] = new JsonArray(),
        ["dependencies"] = new JsonArray(),
    };

    private static JsonObject StepJson(IReadOnlyList<DeploymentAction> step) => new()
    {
        ["actions"] = new JsonArray([.. step.Select(a => (JsonNode)new JsonObject { ["action"] = a.Action, ["app"] = a.App })]),
    };

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "Deployment {DeploymentId} started for {Apps}: {Actions}")]
        public static partial void DeploymentStarted(ILogger logger, string deploymentId, string apps, string actions);

        [LoggerMessage(Level = LogLevel.Information, Message = "Deployment {DeploymentId} stopped: {Why}")]
        public static partial void DeploymentStopped(ILogger logger, string deploymentId, string why);
    }
}
