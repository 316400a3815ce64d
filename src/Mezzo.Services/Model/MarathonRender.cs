using System.Globalization;
using System.Text.Json.Nodes;
using Mezzo.Core.Tasks;
using Mezzo.Services.Engine;
using Mezzo.Services.State;

using Mezzo.Protocol.Marathon;

namespace Mezzo.Services.Model;

/// <summary>Marathon's JSON shapes for apps (with counts, tasks, deployments), tasks, deployments and the queue.</summary>
public static class MarathonRender
{
    public static string Timestamp(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    /// <summary>An app as GET /v2/apps shows it; <paramref name="tasks"/> and <paramref name="lastFailure"/> only when embedded.</summary>
    public static JsonObject App(AppDefinition app, ServicesSnapshot snapshot, bool counts = true, bool tasks = false, bool deployments = true, bool lastFailure = false)
    {
        var json = AppJson.ToNode(app);
        // Marathon shows these even when unset.
        json["container"] ??= null;
        json["user"] ??= null;
        var instances = snapshot.InstancesOf(app.Id!).ToList();
        var hasHealth = app.HealthChecks is { Count: > 0 };
        if (counts)
        {
            json["tasksStaged"] = instances.Count(i => i.State is TaskState.TASK_STAGING or TaskState.TASK_STARTING);
            json["tasksRunning"] = instances.Count(i => i.IsRunning);
            json["tasksHealthy"] = hasHealth ? instances.Count(i => i.IsRunning && i.Healthy == true) : 0;
            json["tasksUnhealthy"] = hasHealth ? instances.Count(i => i.IsRunning && i.Healthy == false) : 0;
        }

        if (deployments)
        {
            json["deployments"] = new JsonArray([.. snapshot.DeploymentsOf(app.Id!).Select(d => (JsonNode)new JsonObject { ["id"] = d.Id })]);
        }

        if (tasks)
        {
            json["tasks"] = new JsonArray([.. instances.Select(i => (JsonNode)Task(i, app, snapshot.Health.GetValueOrDefault(i.TaskId)))]);
        }

        if (lastFailure && snapshot.LastFailures.TryGetValue(app.Id!, out var failure))
        {
            json["lastTaskFailure"] = new JsonObject
            {
                ["appId"] = failure.AppId,
                ["host"] = failure.Host,
                ["message"] = failure.Message,
                ["state"] = failure.State,
                ["taskId"] = failure.TaskId,
                ["timestamp"] = Timestamp(failure.Timestamp),
                ["version"] = failure.Version,
                ["slaveId"] = failure.AgentId,
            };
        }

        return json;
    }

    public static JsonObject Task(Instance instance, AppDefinition? app, TaskHealth? health = null)
    {
        var json = new JsonObject
        {
            ["id"] = instance.TaskId,
            ["appId"] = instance.AppId,
            ["host"] = instance.Host,
            ["ipAddresses"] = new JsonArray(),
            ["ports"] = new JsonArray([.. instance.Ports.Select(p => (JsonNode)p)]),
            ["servicePorts"] = new JsonArray([.. instance.ServicePorts.Select(p => (JsonNode)p)]),
            ["slaveId"] = instance.AgentId,
            ["state"] = instance.State.ToString(),
            ["stagedAt"] = Timestamp(instance.StagedAt),
            ["startedAt"] = instance.StartedAt is { } started ? Timestamp(started) : null,
            ["version"] = instance.Version,
            ["localVolumes"] = new JsonArray(),
            ["role"] = instance.Role ?? "*",
            ["cpus"] = instance.Cpus,
            ["mem"] = instance.Mem,
            ["disk"] = instance.Disk,
        };
        if (health is not null && instance.IsRunning)
        {
            // One result per check, also before its first probe (marathon#1045: missing results looked like "deploying").
            json["healthCheckResults"] = new JsonArray([.. health.Results.Select(result => (JsonNode)new JsonObject
            {
                ["alive"] = result?.Alive == true,
                ["consecutiveFailures"] = result?.ConsecutiveFailures ?? 0,
                ["firstSuccess"] = result?.FirstSuccess is { } first ? Timestamp(first) : null,
                ["lastFailure"] = result?.LastFailure is { } failure ? Timestamp(failure) : null,
                ["lastSuccess"] = result?.LastSuccess is { } success ? Timestamp(success) : null,
                ["lastFailureCause"] = result?.LastFailureCause,
                ["instanceId"] = instance.TaskId,
            })]);
        }
        else if (app?.HealthChecks is { Count: > 0 } && instance.IsRunning)
        {
            json["healthCheckResults"] = new JsonArray(new JsonObject
            {
                ["alive"] = instance.Healthy == true,
                ["consecutiveFailures"] = instance.ConsecutiveFailures,
                ["firstSuccess"] = instance.FirstHealthy is { } first ? Timestamp(first) : null,
                ["lastFailure"] = instance.LastUnhealthy is { } failure ? Timestamp(failure) : null,
                ["lastSuccess"] = instance.LastHealthy is { } success ? Timestamp(success) : null,
                ["lastFailureCause"] = instance.Healthy == false ? "health check failed" : null,
                ["instanceId"] = instance.TaskId,
            });
        }

        return json;
    }

    public static JsonObject Deployment(Deployment deployment, ServicesSnapshot snapshot)
    {
        // Steps run in order; the current one is the first whose apps have not arrived yet (Marathon counts from 1).
        var current = CurrentStep(deployment, snapshot);
        return new JsonObject
        {
            ["id"] = deployment.Id,
            ["version"] = deployment.Version,
            ["affectedApps"] = new JsonArray([.. deployment.AffectedApps.Order(StringComparer.Ordinal).Select(a => (JsonNode)a)]),
            ["affectedPods"] = new JsonArray(),
            ["steps"] = Steps(deployment),
            ["currentActions"] = new JsonArray([.. (current <= deployment.Steps.Count && current > 0 ? deployment.Steps[current - 1] : [])
                .Select(a => (JsonNode)new JsonObject { ["action"] = a.Action, ["app"] = a.App, ["readinessCheckResults"] = Readiness(a.App, snapshot) })]),
            ["currentStep"] = current,
            ["totalSteps"] = deployment.Steps.Count,
        };
    }

    /// <summary>The readiness of the app's running tasks of its current config: {name, taskId, ready, lastResponse}.</summary>
    private static JsonArray Readiness(string appId, ServicesSnapshot snapshot)
    {
        if (!snapshot.Apps.TryGetValue(appId, out var app) || app.ReadinessChecks is not { Count: > 0 } checks)
        {
            return [];
        }

        return new JsonArray([.. snapshot.InstancesOf(appId).Where(i => i.IsRunning && i.ConfigVersion == app.ConfigVersion).Select(i => (JsonNode)new JsonObject
        {
            ["name"] = checks[0].Name,
            ["taskId"] = i.TaskId,
            ["ready"] = i.Ready == true,
            ["lastResponse"] = null,
        })]);
    }

    public static JsonArray Steps(Deployment deployment) => new([.. deployment.Steps.Select(step => (JsonNode)new JsonObject
    {
        ["actions"] = new JsonArray([.. step.Select(a => (JsonNode)new JsonObject { ["action"] = a.Action, ["app"] = a.App })]),
    })]);

    private static int CurrentStep(Deployment deployment, ServicesSnapshot snapshot)
    {
        // The first step with an action that has not arrived yet (Marathon counts steps from 1).
        for (var i = 0; i < deployment.Steps.Count; i++)
        {
            if (!deployment.Steps[i].All(action => Arrived(action, snapshot)))
            {
                return i + 1;
            }
        }

        return deployment.Steps.Count;
    }

    private static bool Arrived(DeploymentAction action, ServicesSnapshot snapshot)
    {
        var instances = snapshot.InstancesOf(action.App).Where(i => i.IsActive).ToList();
        if (!snapshot.Apps.TryGetValue(action.App, out var app))
        {
            return action.Action != "StartApplication" && instances.Count == 0;
        }

        return action.Action == "StartApplication"
            || (instances.Count == app.Instances && instances.All(i => i.ConfigVersion == app.ConfigVersion && i.IsHealthy(app.HealthChecks is { Count: > 0 })
                && (app.ReadinessChecks is not { Count: > 0 } || i.Ready == true)));
    }

    public static JsonObject DeploymentResult(Deployment deployment) => new() { ["version"] = deployment.Version, ["deploymentId"] = deployment.Id };

    public static JsonObject QueueItem(QueueEntry entry, AppDefinition app, ServicesSnapshot snapshot, DateTimeOffset now)
    {
        var delay = snapshot.Delays.GetValueOrDefault(entry.AppId) ?? Scheduling.LaunchDelay.None;
        var left = delay.Until > now ? (delay.Until - now).TotalSeconds : 0;
        return new JsonObject
        {
            ["count"] = entry.Count,
            ["delay"] = new JsonObject { ["timeLeftSeconds"] = (int)Math.Ceiling(left), ["overdue"] = delay.IsOverdue(now) },
            ["since"] = Timestamp(entry.Since),
            ["processedOffersSummary"] = new JsonObject
            {
                ["processedOffersCount"] = 0,
                ["unusedOffersCount"] = 0,
                ["rejectSummaryLastOffers"] = new JsonArray(),
                ["rejectSummaryLaunchAttempt"] = new JsonArray(),
            },
            ["lastUnusedOffers"] = new JsonArray(),
            ["app"] = App(app, snapshot, counts: false, deployments: false),
        };
    }

    /// <summary>Marathon's instance condition for a Mesos task state: TASK_RUNNING → "Running".</summary>
    public static string Condition(TaskState state) => state switch
    {
        TaskState.TASK_GONE_BY_OPERATOR => "Gone",
        _ => CultureInfo.InvariantCulture.TextInfo.ToTitleCase(state.ToString()["TASK_".Length..].ToLowerInvariant()),
    };
}
