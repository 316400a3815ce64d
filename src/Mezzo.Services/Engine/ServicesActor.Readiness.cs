using System.Globalization;
using Mezzo.Protocol.Marathon;
using Mezzo.Services.State;
using Microsoft.Extensions.Logging;

namespace Mezzo.Services.Engine;

/// <summary>
/// Readiness checks: Marathon itself (not the agent) asks each running task of an app's current config over HTTP until
/// the answer is one of httpStatusCodesForReady; until then the task does not count for its deployment.
/// </summary>
public sealed partial class ServicesActor
{
    private static readonly HttpClient ReadinessHttp = new(new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(5) }) { Timeout = Timeout.InfiniteTimeSpan };
    private readonly Dictionary<string, CancellationTokenSource> _probes = [];

    /// <summary>Starts a probe for every running task that still has to become ready; stops those of ended tasks.</summary>
    private void EnsureReadinessProbes()
    {
        foreach (var taskId in _probes.Keys.Where(id => !_instances.TryGetValue(id, out var i) || !i.IsRunning || i.Ready == true).ToList())
        {
            _probes[taskId].Cancel();
            _probes[taskId].Dispose();
            _probes.Remove(taskId);
        }

        foreach (var instance in _instances.Values)
        {
            if (instance is { IsRunning: true, Killing: false, Ready: not true } && !_probes.ContainsKey(instance.TaskId)
                && _apps.TryGetValue(instance.AppId, out var app) && app.ReadinessChecks is { Count: > 0 } checks && instance.ConfigVersion == app.ConfigVersion)
            {
                var port = PortNamed(app, instance, checks[0].PortName);
                var url = new Uri($"{checks[0].Protocol!.ToLowerInvariant()}://{instance.Host}:{port.ToString(CultureInfo.InvariantCulture)}{checks[0].Path}");
                var stop = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
                _probes[instance.TaskId] = stop;
                var taskId = instance.TaskId;
                _ = Task.Run(() => ProbeAsync(taskId, url, checks[0], stop.Token));
            }
        }
    }

    private static int PortNamed(AppDefinition app, Instance instance, string? name)
    {
        var names = app.Container?.PortMappings is { Count: > 0 } mappings ? mappings.Select(m => m.Name).ToList() : (app.PortDefinitions ?? []).Select(p => p.Name).ToList();
        var index = names.IndexOf(name);
        return index >= 0 && index < instance.Ports.Count ? instance.Ports[index] : 0;
    }

    private async Task ProbeAsync(string taskId, Uri url, ReadinessCheck check, CancellationToken cancellationToken)
    {
        var ready = check.HttpStatusCodesForReady ?? [200];
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timeout.CancelAfter(TimeSpan.FromSeconds(Math.Max(1, check.TimeoutSeconds ?? 10)));
                using var response = await ReadinessHttp.GetAsync(url, timeout.Token).ConfigureAwait(false);
                if (ready.Contains((int)response.StatusCode))
                {
                    Post(() =>
                    {
                        MarkReady(taskId);
                        return Task.CompletedTask;
                    });
                    return;
                }

                Log.NotReady(_log, taskId, url.ToString(), ((int)response.StatusCode).ToString(CultureInfo.InvariantCulture));
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (ObjectDisposedException)
            {
                return;
            }
            catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException)
            {
                Log.NotReady(_log, taskId, url.ToString(), ex.Message);
            }

            try
            {
                await Task.Delay(TimeSpan.FromSeconds(Math.Max(0.1, check.IntervalSeconds ?? 30)), _time, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
        }
    }

    private void MarkReady(string taskId)
    {
        if (!_instances.TryGetValue(taskId, out var instance) || instance.Ready == true)
        {
            return;
        }

        var ready = instance with { Ready = true };
        _store.Write(batch => batch.PutInstance(ready));
        _instances = _instances.SetItem(taskId, ready);
        Evaluate();
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Debug, Message = "Task {TaskId} not ready yet at {Url}: {Answer}")]
        public static partial void NotReady(ILogger logger, string taskId, string url, string answer);
    }
}
