using System.Collections.Immutable;
using System.Text.Json.Nodes;
using Mezzo.Core.Tasks;
using Mezzo.Framework;
using Mezzo.Protocol.V1;
using Mezzo.Protocol.Marathon;
using Mezzo.Services.Model;
using Mezzo.Services.Scheduling;
using Mezzo.Services.State;
using Microsoft.Extensions.Logging;

namespace Mezzo.Services.Engine;

/// <summary>The scheduler side: subscription, offers, launches, status updates, kills, reconciliation, suppress/revive.</summary>
public sealed partial class ServicesActor
{
    private SchedulerClient? _client;
    private SchedulerOptions? _schedulerOptions;
    private string? _frameworkId;
    private DateTimeOffset _lastReconcile = DateTimeOffset.MinValue;
    private bool _suppressed;
    private bool _evaluatePending;
    private DateTimeOffset _lastOffers = DateTimeOffset.MinValue;
    private Task _offerControl = Task.CompletedTask;
    private ImmutableHashSet<string> _roles = ["*"];

    private FrameworkInfo FrameworkInfo() => new()
    {
        User = _options.User,
        Name = _options.FrameworkName,
        Principal = _options.MesosCredential?.Principal,
        Id = _frameworkId is null ? null : new FrameworkID { Value = _frameworkId },
        FailoverTimeout = _options.FailoverTimeout.TotalSeconds,
        Checkpoint = true,
        Roles = [.. _roles.Order(StringComparer.Ordinal)],
        Hostname = _options.Hostname,
        WebuiUrl = $"{_tls.Scheme}://{_options.Hostname}:{_options.Port}",
        Capabilities =
        [
            new FrameworkInfoCapability { Type = FrameworkInfoCapabilityType.MULTI_ROLE },
            new FrameworkInfoCapability { Type = FrameworkInfoCapabilityType.PARTITION_AWARE },
            new FrameworkInfoCapability { Type = FrameworkInfoCapabilityType.TASK_KILLING_STATE },
        ],
    };

    private async Task RunSchedulerAsync()
    {
        _roles = _roles.Union(_apps.Values.Select(a => a.Role ?? "*"));
        _schedulerOptions = new SchedulerOptions
        {
            Master = _options.Master,
            FrameworkInfo = FrameworkInfo(),
            Credential = _options.MesosCredential,
            DefaultScheme = _tls.Scheme,
            ConfigureHttpHandler = handler => _tls.ConfigureClient(handler),
        };
        _client = new SchedulerClient(_schedulerOptions, _loggers.CreateLogger<SchedulerClient>());
        _ = _client.SubscribeAsync(_stopping.Token).ContinueWith(
            t => Log.SubscribeFailed(_log, t.Exception!.GetBaseException().Message),
            CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
        try
        {
            await foreach (var ev in _client.Events.ReadAllAsync(_stopping.Token).ConfigureAwait(false))
            {
                Post(() => OnEventAsync(ev));
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
        }
        catch (SchedulerCallException ex)
        {
            Log.SubscribeFailed(_log, ex.Message);
        }
    }

    private Task OnEventAsync(Event ev)
    {
        switch (ev.Type)
        {
            case EventType.SUBSCRIBED:
                OnSubscribed(ev.Subscribed!.FrameworkId!.Value!);
                break;
            case EventType.OFFERS:
                OnOffers(ev.Offers?.Offers ?? []);
                break;
            case EventType.UPDATE when ev.Update?.Status is { } status:
                OnStatus(status);
                break;
            case EventType.ERROR:
                Log.FrameworkError(_log, ev.Error?.Message ?? "");
                break;
            default:
                break;
        }

        return Task.CompletedTask;
    }

    private void OnSubscribed(string frameworkId)
    {
        if (frameworkId != _frameworkId)
        {
            // Stored before anything else happens under it: a restart must come back as the same framework or its
            // tasks would be orphaned.
            _store.Write(batch => batch.PutFrameworkId(frameworkId));
            _frameworkId = frameworkId;
        }

        Log.Subscribed(_log, frameworkId, _instances.Count);
        // The SDK resubscribes with the roles it was told to suppress; re-learn where every task stands.
        _suppressed = _schedulerOptions!.SuppressedRoles.Count > 0;
        ReconcileKnownTasks(olderThan: null);
        Fire(client => client.ReconcileAsync(null, _stopping.Token), "implicit reconciliation");
        RetryKills();
        Evaluate();
    }

    private void ReconcileKnownTasks(TimeSpan? olderThan)
    {
        _lastReconcile = _time.GetUtcNow();
        var now = _time.GetUtcNow();
        var tasks = _instances.Values
            .Where(i => olderThan is null || now - i.StagedAt >= olderThan)
            .Select(i => (i.TaskId, (string?)i.AgentId)).ToList();
        if (tasks.Count > 0)
        {
            Fire(client => client.ReconcileAsync(tasks, _stopping.Token), "explicit reconciliation");
        }
    }

    private void RetryKills()
    {
        foreach (var instance in _instances.Values.Where(i => i.Killing))
        {
            var (taskId, agentId) = (instance.TaskId, instance.AgentId);
            Fire(client => client.KillAsync(taskId, agentId, null, _stopping.Token), "kill " + taskId);
        }
    }

    /// <summary>Runs a call to the master off the actor; a failure is logged (the next tick or reconciliation repairs it).</summary>
    private void Fire(Func<SchedulerClient, Task> call, string what, Action? onFailure = null)
    {
        var client = _client;
        if (client is null || !client.IsSubscribed)
        {
            onFailure?.Invoke();
            return;
        }

        _ = Task.Run(async () =>
        {
            try
            {
                await call(client).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is SchedulerCallException or HttpRequestException or OperationCanceledException or ObjectDisposedException)
            {
                Log.CallFailed(_log, what, ex.Message);
                if (onFailure is not null)
                {
                    Post(() =>
                    {
                        onFailure();
                        Evaluate();
                        return Task.CompletedTask;
                    });
                }
            }
        });
    }

    private void OnOffers(List<Offer> offers)
    {
        var now = _time.GetUtcNow();
        _lastOffers = now;
        foreach (var offer in offers)
        {
            if (_options.MaintenanceMode && !MaintenanceAvailability.OfferAvailable(offer, now, _options.DrainingTime))
            {
                var declined = offer.Id!;
                Fire(client => client.DeclineAsync([declined], new Filters { RefuseSeconds = _options.DeclineOfferDuration.TotalSeconds }, _stopping.Token), "decline (maintenance)");
                continue;
            }

            var demands = _queue.Values
                .Where(q => q.Count > 0 && _apps.ContainsKey(q.AppId) && (_delays.GetValueOrDefault(q.AppId) ?? LaunchDelay.None).IsOverdue(now))
                .OrderBy(q => q.AppId, StringComparer.Ordinal)
                .Select(q => new Demand(_apps[q.AppId], q.Count, [.. _instances.Values.Where(i => i.AppId == q.AppId && i.IsActive).Select(i => new Placement(i.Host, i.Attributes))]))
                .ToList();
            // At most so many per offer: the agent reports a batch once it is launched, and smaller batches keep
            // tasks flowing (the rest of the offer comes straight back, unfiltered).
            var matches = demands.Count == 0 ? [] : OfferMatcher.Match(offer, demands).Take(_options.MaxTasksPerOffer).ToList();
            if (matches.Count == 0)
            {
                var refuse = demands.Count > 0 ? _options.ShortDeclineDuration : _options.DeclineOfferDuration;
                var offerId = offer.Id!;
                Fire(client => client.DeclineAsync([offerId], new Filters { RefuseSeconds = refuse.TotalSeconds }, _stopping.Token), "decline");
                _counters = _counters with { OffersDeclined = _counters.OffersDeclined + 1 };
                continue;
            }

            var placement = OfferMatcher.PlacementOf(offer);
            var tasks = new List<TaskInfo>();
            var launched = new List<Instance>();
            foreach (var match in matches)
            {
                var app = match.App;
                var taskId = TaskBuilder.NewTaskId(app.Id!);
                tasks.Add(TaskBuilder.Build(app, offer, match, taskId));
                launched.Add(new Instance
                {
                    TaskId = taskId,
                    AppId = app.Id!,
                    Version = app.Version!,
                    ConfigVersion = app.ConfigVersion,
                    AgentId = offer.AgentId!.Value!,
                    Host = offer.Hostname ?? "",
                    Ports = match.HostPorts,
                    ServicePorts = app.ServicePorts,
                    Attributes = placement.Attributes,
                    State = TaskState.TASK_STAGING,
                    StagedAt = now,
                    Role = app.Role,
                    Cpus = app.Cpus ?? 0,
                    Mem = app.Mem ?? 0,
                    Disk = app.Disk ?? 0,
                });
            }

            // Recorded before the launch is sent: after a crash the task is known (and reconciled), never launched twice.
            _store.Write(batch => launched.ForEach(batch.PutInstance));
            foreach (var instance in launched)
            {
                _instances = _instances.SetItem(instance.TaskId, instance);
                Emit("instance_changed_event", InstanceChanged(instance));
            }

            Log.Launching(_log, tasks.Count, offer.Hostname ?? "", string.Join(",", launched.Select(l => l.AppId).Distinct()));
            var ids = launched.Select(l => l.TaskId).ToList();
            // No filter on what is left of the offer: more tasks may be waiting for it right now.
            Fire(client => client.LaunchAsync(offer, tasks, new Filters { RefuseSeconds = 0 }, _stopping.Token), "launch", () => LaunchFailed(ids));
            _counters = _counters with { OffersUsed = _counters.OffersUsed + 1, TasksLaunched = _counters.TasksLaunched + tasks.Count };
            // The launched tasks now count: what still waits for the next offer in this batch is less.
            Evaluate();
        }
    }

    /// <summary>The ACCEPT did not reach the master: the tasks never started, so they are forgotten (and launched again).</summary>
    private void LaunchFailed(List<string> taskIds)
    {
        _store.Write(batch => taskIds.ForEach(batch.DeleteInstance));
        foreach (var id in taskIds)
        {
            _instances = _instances.Remove(id);
        }
    }

    private void OnStatus(TaskStatus status)
    {
        var taskId = status.TaskId?.Value ?? "";
        var state = status.State ?? TaskState.TASK_UNKNOWN;
        var now = _time.GetUtcNow();
        if (!_instances.TryGetValue(taskId, out var instance))
        {
            if (!TaskStates.IsTerminal(state) && state is not (TaskState.TASK_UNKNOWN or TaskState.TASK_GONE_BY_OPERATOR or TaskState.TASK_UNREACHABLE))
            {
                // Not ours (any more): a task of a removed app, or one that came back after it was written off.
                Log.KillingUnknown(_log, taskId, state.ToString());
                var agent = status.AgentId?.Value;
                Fire(client => client.KillAsync(taskId, agent, null, _stopping.Token), "kill unknown " + taskId);
                _counters = _counters with { UnknownTasksKilled = _counters.UnknownTasksKilled + 1 };
            }

            return;
        }

        var updated = instance with { State = state };
        if (state == TaskState.TASK_RUNNING && instance.StartedAt is null)
        {
            updated = updated with { StartedAt = now };
        }

        updated = updated with { UnreachableSince = state == TaskState.TASK_UNREACHABLE ? instance.UnreachableSince ?? now : null };
        var ended = !updated.IsActive;
        if (ended)
        {
            _store.Write(batch => batch.DeleteInstance(taskId));
            _instances = _instances.Remove(taskId);
            if (!instance.Killing && _apps.TryGetValue(instance.AppId, out var app))
            {
                _failures = _failures.SetItem(instance.AppId, new TaskFailure(instance.AppId, taskId, state.ToString(), status.Message ?? "", instance.Host, instance.AgentId, instance.Version, now));
                var delay = (_delays.GetValueOrDefault(instance.AppId) ?? LaunchDelay.None).AfterFailure(app, now);
                _delays = _delays.SetItem(instance.AppId, delay);
                Log.TaskFailed(_log, taskId, state.ToString(), status.Message ?? "", delay.Delay.TotalSeconds);
            }
        }
        else if (updated != instance)
        {
            _store.Write(batch => batch.PutInstance(updated));
            _instances = _instances.SetItem(taskId, updated);
        }

        if (!ended && status.Healthy is { } healthy && updated.IsRunning)
        {
            OnAgentHealth(updated, healthy, now);
            updated = ApplyHealth(updated, now);
        }

        Emit("status_update_event", new JsonObject
        {
            ["slaveId"] = instance.AgentId,
            ["taskId"] = taskId,
            ["taskStatus"] = state.ToString(),
            ["message"] = status.Message ?? "",
            ["appId"] = instance.AppId,
            ["host"] = instance.Host,
            ["ipAddresses"] = new JsonArray(),
            ["ports"] = new JsonArray([.. instance.Ports.Select(p => (JsonNode)p)]),
            ["version"] = instance.Version,
        });
        if (instance.State != state)
        {
            Emit("instance_changed_event", InstanceChanged(updated));
        }

        if (status.Healthy == false && _health.TryGetValue(taskId, out var health) && health.Checks.FirstOrDefault(c => !Health.HealthRules.IsMarathonSide(c)) is { } agentCheck)
        {
            Emit("failed_health_check_event", new JsonObject
            {
                ["appId"] = instance.AppId,
                ["taskId"] = taskId,
                ["instanceId"] = taskId,
                ["healthCheck"] = System.Text.Json.JsonSerializer.SerializeToNode(agentCheck, Protocol.Marathon.AppJsonContext.Default.AppHealthCheck),
            });
        }

        RequestEvaluate();
    }

    /// <summary>
    /// Evaluates once the updates already in the inbox are in: a burst of status updates (hundreds of tasks starting)
    /// costs one pass over all tasks, not one per update.
    /// </summary>
    private void RequestEvaluate()
    {
        if (_evaluatePending)
        {
            return;
        }

        _evaluatePending = true;
        Post(() =>
        {
            _evaluatePending = false;
            Evaluate();
            return Task.CompletedTask;
        });
    }

    private static JsonObject InstanceChanged(Instance instance) => new()
    {
        ["instanceId"] = instance.TaskId,
        ["condition"] = MarathonRender.Condition(instance.State),
        ["runSpecId"] = instance.AppId,
        ["agentId"] = instance.AgentId,
        ["host"] = instance.Host,
        ["runSpecVersion"] = instance.Version,
        ["goal"] = instance.Killing ? "Decommissioned" : "Running",
    };

    /// <summary>
    /// Runs the planner over every app and every app being removed: sends kills, sets what waits for offers, finishes
    /// deployments that arrived, and suppresses or revives offers to match the demand.
    /// </summary>
    private void Evaluate()
    {
        var byApp = _instances.Values.GroupBy(i => i.AppId).ToDictionary(g => g.Key, g => (IReadOnlyList<Instance>)[.. g]);
        var appIds = _apps.Keys.Union(byApp.Keys).ToList();
        var plans = new Dictionary<string, AppPlan>();
        var killed = new List<Instance>();
        foreach (var appId in appIds)
        {
            var plan = DeploymentPlanner.Plan(_apps.GetValueOrDefault(appId), byApp.GetValueOrDefault(appId) ?? [], _time.GetUtcNow());
            plans[appId] = plan;
            foreach (var taskId in plan.Kill)
            {
                killed.Add(_instances[taskId] with { Killing = true });
            }
        }

        if (killed.Count > 0)
        {
            _store.Write(batch => killed.ForEach(batch.PutInstance));
            _counters = _counters with { TasksKilledByPlan = _counters.TasksKilledByPlan + killed.Count };
            foreach (var instance in killed)
            {
                _instances = _instances.SetItem(instance.TaskId, instance);
                var (taskId, agentId) = (instance.TaskId, instance.AgentId);
                var grace = _apps.GetValueOrDefault(instance.AppId)?.TaskKillGracePeriodSeconds;
                var policy = grace is { } seconds ? new KillPolicy { GracePeriod = new DurationInfo { Nanoseconds = seconds * 1_000_000_000L } } : null;
                Fire(client => client.KillAsync(taskId, agentId, policy, _stopping.Token), "kill " + taskId);
            }
        }

        // An app waits to launch until the apps it depends on have arrived (kills still go ahead).
        foreach (var (appId, app) in _apps)
        {
            if (plans[appId].Launch > 0 && Dependencies.Of(app, _apps.Keys).Any(d => plans.TryGetValue(d, out var dependency) && !dependency.Complete))
            {
                plans[appId] = plans[appId] with { Launch = 0, Complete = false };
            }
        }

        var now = _time.GetUtcNow();
        var queue = ImmutableDictionary<string, QueueEntry>.Empty;
        foreach (var (appId, plan) in plans)
        {
            if (plan.Launch > 0 && _apps.ContainsKey(appId))
            {
                queue = queue.SetItem(appId, new QueueEntry(appId, plan.Launch, _queue.TryGetValue(appId, out var was) ? was.Since : now));
            }
        }

        _queue = queue;
        foreach (var deployment in _deployments.Values.ToList())
        {
            if (deployment.AffectedApps.All(app => plans.TryGetValue(app, out var plan) ? plan.Complete : !_apps.ContainsKey(app)))
            {
                _store.Write(batch => batch.DeleteDeployment(deployment.Id));
                _deployments = _deployments.Remove(deployment.Id);
                Log.DeploymentFinished(_log, deployment.Id, string.Join(",", deployment.AffectedApps));
                Emit("deployment_success", new JsonObject { ["id"] = deployment.Id, ["plan"] = PlanJson(deployment) });
            }
        }

        EnsureReadinessProbes();
        EnsureHealthChecks();
        AdjustOffers(now);
    }

    private void AdjustOffers(DateTimeOffset now)
    {
        if (_client?.IsSubscribed != true)
        {
            return;
        }

        var wanted = _queue.Values.Any(q => (_delays.GetValueOrDefault(q.AppId) ?? LaunchDelay.None).IsOverdue(now));
        if (wanted && (_suppressed || now - _lastOffers >= _options.ReviveInterval))
        {
            // Also again while demand waits without offers: a revive is idempotent, and one lost or overtaken by an
            // earlier suppress must not leave apps waiting forever.
            _suppressed = false;
            _lastOffers = now;
            OfferControl(client => client.ReviveAsync(_stopping.Token), "revive");
        }
        else if (!wanted && !_suppressed)
        {
            _suppressed = true;
            OfferControl(client => client.SuppressAsync(_stopping.Token), "suppress");
        }
    }

    /// <summary>SUPPRESS and REVIVE go out one after the other, in the order decided: overtaking would invert them.</summary>
    private void OfferControl(Func<SchedulerClient, Task> call, string what)
    {
        var client = _client!;
        var previous = _offerControl;
        _offerControl = Task.Run(async () =>
        {
            await previous.ConfigureAwait(false);
            try
            {
                await call(client).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is SchedulerCallException or HttpRequestException or OperationCanceledException or ObjectDisposedException)
            {
                Log.CallFailed(_log, what, ex.Message);
                // Unknown outcome: the next evaluation decides afresh.
                Post(() =>
                {
                    _suppressed = what == "revive";
                    return Task.CompletedTask;
                });
            }
        });
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "Subscribed as framework {FrameworkId}; reconciling {Tasks} known tasks")]
        public static partial void Subscribed(ILogger logger, string frameworkId, int tasks);

        [LoggerMessage(Level = LogLevel.Error, Message = "The master refused the services framework: {Reason}")]
        public static partial void SubscribeFailed(ILogger logger, string reason);

        [LoggerMessage(Level = LogLevel.Error, Message = "Framework error from the master: {Message}")]
        public static partial void FrameworkError(ILogger logger, string message);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Call to the master failed ({What}): {Reason}")]
        public static partial void CallFailed(ILogger logger, string what, string reason);

        [LoggerMessage(Level = LogLevel.Information, Message = "Launching {Count} tasks on {Host} for {Apps}")]
        public static partial void Launching(ILogger logger, int count, string host, string apps);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Killing unknown task {TaskId} ({State})")]
        public static partial void KillingUnknown(ILogger logger, string taskId, string state);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Task {TaskId} ended {State}: {Message}; next launch of its app in {DelaySeconds}s")]
        public static partial void TaskFailed(ILogger logger, string taskId, string state, string message, double delaySeconds);

        [LoggerMessage(Level = LogLevel.Information, Message = "Deployment {DeploymentId} finished ({Apps})")]
        public static partial void DeploymentFinished(ILogger logger, string deploymentId, string apps);
    }
}
