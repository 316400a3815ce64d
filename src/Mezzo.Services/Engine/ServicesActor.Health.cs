using System.Collections.Immutable;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Mezzo.Protocol.Marathon;
using Mezzo.Services.Health;
using Mezzo.Services.State;
using Microsoft.Extensions.Logging;

namespace Mezzo.Services.Engine;

/// <summary>A task's health checks (those of the app version it runs) and each one's state, index for index.</summary>
public sealed record TaskHealth(IReadOnlyList<AppHealthCheck> Checks, ImmutableArray<CheckHealth?> Results);

/// <summary>
/// Marathon-side health checks (HTTP, HTTPS, TCP): the services process probes each running task itself, every
/// intervalSeconds per check, on a few worker tasks fed through a bounded channel, so the actor only ever decides and
/// never waits on a socket. Results come back to the actor as commands; together with the agent's verdict on the one
/// Mesos check (COMMAND, MESOS_*) they make the task's health: healthy when every check passes.
/// </summary>
public sealed partial class ServicesActor
{
    private readonly Dictionary<string, HealthWatch> _healthWatches = [];
    private readonly Dictionary<(string AppId, string Version), IReadOnlyList<AppHealthCheck>> _versionChecks = [];
    private readonly List<Task> _probeWorkers = [];
    private Channel<ProbeWork>? _probeWork;
    private ImmutableDictionary<string, TaskHealth> _health = ImmutableDictionary<string, TaskHealth>.Empty;
    private long _watchGeneration;

    private sealed class HealthWatch(long generation, IReadOnlyList<AppHealthCheck> checks, ITimer?[] timers)
    {
        public long Generation { get; } = generation;

        public IReadOnlyList<AppHealthCheck> Checks { get; } = checks;

        public ITimer?[] Timers { get; } = timers;

        public bool[] InFlight { get; } = new bool[checks.Count];

        public void Dispose()
        {
            foreach (var timer in Timers)
            {
                timer?.Dispose();
            }
        }
    }

    private sealed record ProbeWork(string TaskId, long Generation, int Index, ProbeTarget Target);

    private void StartHealthWorkers()
    {
        _probeWork = Channel.CreateBounded<ProbeWork>(new BoundedChannelOptions(_options.HealthCheckQueue) { FullMode = BoundedChannelFullMode.Wait });
        for (var i = 0; i < _options.HealthCheckConcurrency; i++)
        {
            _probeWorkers.Add(Task.Run(ProbeWorkerAsync));
        }
    }

    private async Task ProbeWorkerAsync()
    {
        try
        {
            await foreach (var work in _probeWork!.Reader.ReadAllAsync(_stopping.Token).ConfigureAwait(false))
            {
                ProbeOutcome outcome;
                try
                {
                    outcome = await HealthProbe.RunAsync(work.Target, _time, _stopping.Token).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    // E.g. a host name that is no name at all: the task's check fails, the worker lives on.
                    outcome = new ProbeOutcome.Unhealthy($"{work.Target}: {ex.Message}");
                }

                Post(() =>
                {
                    OnProbeOutcome(work, outcome);
                    return Task.CompletedTask;
                });
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
        }
    }

    /// <summary>The health checks of the app version <paramref name="instance"/> runs (a rolling upgrade may change them).</summary>
    private IReadOnlyList<AppHealthCheck> ChecksOf(Instance instance)
    {
        if (!_apps.TryGetValue(instance.AppId, out var app))
        {
            return [];
        }

        if (app.Version == instance.Version || app.ConfigVersion == instance.ConfigVersion)
        {
            return app.HealthChecks ?? [];
        }

        var key = (instance.AppId, instance.Version);
        if (!_versionChecks.TryGetValue(key, out var checks))
        {
            checks = _store.Version(instance.AppId, instance.Version)?.HealthChecks ?? app.HealthChecks ?? [];
            _versionChecks[key] = checks;
        }

        return checks;
    }

    /// <summary>Watches every running task with health checks; forgets tasks that stopped running.</summary>
    private void EnsureHealthChecks()
    {
        foreach (var taskId in _healthWatches.Keys.Where(id => !_instances.TryGetValue(id, out var i) || !i.IsRunning || i.Killing).ToList())
        {
            _healthWatches[taskId].Dispose();
            _healthWatches.Remove(taskId);
        }

        foreach (var taskId in _health.Keys.Where(id => !_instances.TryGetValue(id, out var i) || !i.IsRunning).ToList())
        {
            _health = _health.Remove(taskId);
        }

        foreach (var instance in _instances.Values.Where(i => i.IsRunning && !_health.ContainsKey(i.TaskId)))
        {
            TaskHealthOf(instance);
        }

        foreach (var (taskId, health) in _health)
        {
            if (_healthWatches.ContainsKey(taskId) || _instances[taskId].Killing || !health.Checks.Any(HealthRules.IsMarathonSide))
            {
                continue;
            }

            var generation = ++_watchGeneration;
            var timers = new ITimer?[health.Checks.Count];
            for (var i = 0; i < health.Checks.Count; i++)
            {
                if (HealthRules.IsMarathonSide(health.Checks[i]))
                {
                    // Probed at once and then every interval: checking starts with the task (marathon#5492).
                    var (id, index) = (taskId, i);
                    var interval = TimeSpan.FromSeconds(Math.Max(1, health.Checks[i].IntervalSeconds ?? 60));
                    timers[i] = _time.CreateTimer(_ => Post(() =>
                    {
                        ProbeDue(id, generation, index);
                        return Task.CompletedTask;
                    }), null, TimeSpan.Zero, interval);
                }
            }

            _healthWatches[taskId] = new HealthWatch(generation, health.Checks, timers);
        }
    }

    /// <summary>The task's health record, made on first need (null when its app version has no health checks).</summary>
    private TaskHealth? TaskHealthOf(Instance instance)
    {
        if (_health.TryGetValue(instance.TaskId, out var health))
        {
            return health;
        }

        var checks = ChecksOf(instance);
        if (checks.Count == 0)
        {
            return null;
        }

        health = new TaskHealth(checks, [.. checks.Select(_ => (CheckHealth?)null)]);
        _health = _health.SetItem(instance.TaskId, health);
        return health;
    }

    private void ProbeDue(string taskId, long generation, int index)
    {
        if (!_healthWatches.TryGetValue(taskId, out var watch) || watch.Generation != generation || watch.InFlight[index]
            || !_instances.TryGetValue(taskId, out var instance))
        {
            // A probe still running is not doubled: a server slower than the interval gets one probe at a time.
            return;
        }

        var check = watch.Checks[index];
        var port = check.Port ?? (check.PortIndex is { } portIndex && portIndex < instance.Ports.Count ? instance.Ports[portIndex] : 0);
        var target = new ProbeTarget(check.Protocol!, instance.Host, port, check.Path ?? "/", check.IgnoreHttp1xx == true, TimeSpan.FromSeconds(Math.Max(1, check.TimeoutSeconds ?? 20)));
        var work = new ProbeWork(taskId, generation, index, target);
        if (port == 0)
        {
            OnProbeOutcome(work, new ProbeOutcome.Unhealthy($"Task {taskId} has no host port for health check {index} (portIndex {check.PortIndex})"));
            return;
        }

        if (_probeWork!.Writer.TryWrite(work))
        {
            watch.InFlight[index] = true;
        }
        else
        {
            Log.ProbeQueueFull(_log, taskId, target.ToString());
        }
    }

    private void OnProbeOutcome(ProbeWork work, ProbeOutcome outcome)
    {
        if (!_healthWatches.TryGetValue(work.TaskId, out var watch) || watch.Generation != work.Generation
            || !_instances.TryGetValue(work.TaskId, out var instance) || !_health.TryGetValue(work.TaskId, out var health))
        {
            return;
        }

        watch.InFlight[work.Index] = false;
        var now = _time.GetUtcNow();
        var check = watch.Checks[work.Index];
        var step = HealthRules.Apply(health.Results[work.Index], outcome, check, instance.StartedAt ?? now, now);
        if (outcome is ProbeOutcome.Unhealthy failure)
        {
            Log.ProbeFailed(_log, work.TaskId, failure.Cause, step.Counted ? step.Health!.ConsecutiveFailures : 0);
        }

        if (!step.Counted)
        {
            return;
        }

        _health = _health.SetItem(work.TaskId, health with { Results = health.Results.SetItem(work.Index, step.Health) });
        if (outcome is ProbeOutcome.Unhealthy)
        {
            Emit("failed_health_check_event", new JsonObject
            {
                ["appId"] = instance.AppId,
                ["taskId"] = instance.TaskId,
                ["instanceId"] = instance.TaskId,
                ["healthCheck"] = System.Text.Json.JsonSerializer.SerializeToNode(check, AppJsonContext.Default.AppHealthCheck),
            });
        }

        ApplyHealth(instance, now);
        if (step.Kill)
        {
            KillUnhealthy(_instances[work.TaskId], step.Health!.LastFailureCause ?? "health check failed");
        }
    }

    /// <summary>The agent's verdict on the task's Mesos check (the one COMMAND or MESOS_* check), from a status update.</summary>
    private void OnAgentHealth(Instance instance, bool healthy, DateTimeOffset now)
    {
        if (TaskHealthOf(instance) is not { } health || health.Checks.ToList().FindIndex(c => !HealthRules.IsMarathonSide(c)) is not (>= 0 and var index))
        {
            return;
        }

        var taskId = instance.TaskId;

        var current = health.Results[index];
        var next = healthy
            ? (current ?? new CheckHealth()) with { Alive = true, ConsecutiveFailures = 0, FirstSuccess = current?.FirstSuccess ?? now, LastSuccess = now }
            : (current ?? new CheckHealth()) with { Alive = false, ConsecutiveFailures = (current?.ConsecutiveFailures ?? 0) + 1, LastFailure = now, LastFailureCause = "The agent's health check failed" };
        _health = _health.SetItem(taskId, health with { Results = health.Results.SetItem(index, next) });
    }

    /// <summary>
    /// Folds the task's check results into its health; a change is stored and told (health_status_changed_event), and
    /// deployments waiting for health look again.
    /// </summary>
    private Instance ApplyHealth(Instance instance, DateTimeOffset now)
    {
        if (!_health.TryGetValue(instance.TaskId, out var health))
        {
            return instance;
        }

        var healthy = HealthRules.Aggregate(health.Results, instance.Healthy);
        if (healthy == instance.Healthy || healthy is not { } alive)
        {
            return instance;
        }

        var updated = instance with
        {
            Healthy = alive,
            FirstHealthy = alive ? instance.FirstHealthy ?? now : instance.FirstHealthy,
            LastHealthy = alive ? now : instance.LastHealthy,
            LastUnhealthy = alive ? instance.LastUnhealthy : now,
            ConsecutiveFailures = health.Results.Max(r => r?.ConsecutiveFailures ?? 0),
        };
        _store.Write(batch => batch.PutInstance(updated));
        _instances = _instances.SetItem(instance.TaskId, updated);
        Emit("health_status_changed_event", new JsonObject
        {
            ["appId"] = instance.AppId,
            ["instanceId"] = instance.TaskId,
            ["version"] = instance.Version,
            ["alive"] = alive,
        });
        RequestEvaluate();
        return updated;
    }

    /// <summary>Marathon kills a task after maxConsecutiveFailures failed checks; the planner launches its replacement.</summary>
    private void KillUnhealthy(Instance instance, string cause)
    {
        if (instance.Killing)
        {
            return;
        }

        Log.KillingUnhealthy(_log, instance.TaskId, cause);
        Emit("unhealthy_instance_kill_event", new JsonObject
        {
            ["appId"] = instance.AppId,
            ["taskId"] = instance.TaskId,
            ["instanceId"] = instance.TaskId,
            ["version"] = instance.Version,
            ["reason"] = cause,
            ["host"] = instance.Host,
            ["slaveId"] = instance.AgentId,
        });
        MarkKilling([instance]);
        RequestEvaluate();
    }

    private void StopHealthChecks()
    {
        foreach (var watch in _healthWatches.Values)
        {
            watch.Dispose();
        }

        _healthWatches.Clear();
        _probeWork?.Writer.TryComplete();
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Debug, Message = "Health check of task {TaskId} failed ({Failures} in a row): {Cause}")]
        public static partial void ProbeFailed(ILogger logger, string taskId, string cause, int failures);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Killing task {TaskId}: it failed its health check too often ({Cause})")]
        public static partial void KillingUnhealthy(ILogger logger, string taskId, string cause);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Health check of task {TaskId} at {Target} skipped: too many probes waiting")]
        public static partial void ProbeQueueFull(ILogger logger, string taskId, string target);
    }
}
