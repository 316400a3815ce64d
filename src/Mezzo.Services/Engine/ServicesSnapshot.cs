using System.Collections.Immutable;
using Mezzo.Protocol.Marathon;
using Mezzo.Services.Model;
using Mezzo.Services.Scheduling;
using Mezzo.Services.State;

namespace Mezzo.Services.Engine;

/// <summary>The last task failure of an app (Marathon's lastTaskFailure).</summary>
public sealed record TaskFailure(string AppId, string TaskId, string State, string Message, string Host, string AgentId, string Version, DateTimeOffset Timestamp);

/// <summary>An app waiting for offers (Marathon's launch queue entry).</summary>
public sealed record QueueEntry(string AppId, int Count, DateTimeOffset Since);

/// <summary>Everything HTTP readers see, published by the services actor after each change; immutable.</summary>
public sealed record ServicesSnapshot
{
    public static readonly ServicesSnapshot Empty = new();

    public ImmutableSortedDictionary<string, AppDefinition> Apps { get; init; } = ImmutableSortedDictionary.Create<string, AppDefinition>(StringComparer.Ordinal);

    public ImmutableDictionary<string, Instance> Instances { get; init; } = ImmutableDictionary<string, Instance>.Empty;

    public ImmutableDictionary<string, Deployment> Deployments { get; init; } = ImmutableDictionary<string, Deployment>.Empty;

    public ImmutableDictionary<string, LaunchDelay> Delays { get; init; } = ImmutableDictionary<string, LaunchDelay>.Empty;

    public ImmutableDictionary<string, TaskFailure> LastFailures { get; init; } = ImmutableDictionary<string, TaskFailure>.Empty;

    public ImmutableDictionary<string, QueueEntry> Queue { get; init; } = ImmutableDictionary<string, QueueEntry>.Empty;

    /// <summary>Task id → its health checks' results (running tasks of apps with health checks).</summary>
    public ImmutableDictionary<string, TaskHealth> Health { get; init; } = ImmutableDictionary<string, TaskHealth>.Empty;

    /// <summary>The HTTP callback event subscribers' URLs.</summary>
    public ImmutableList<string> CallbackUrls { get; init; } = [];

    public string? FrameworkId { get; init; }

    public bool Subscribed { get; init; }

    /// <summary>What the actor has done since the process started (for /metrics).</summary>
    public ServicesCounters Counters { get; init; } = new();

    public IEnumerable<Instance> InstancesOf(string appId) => Instances.Values.Where(i => i.AppId == appId).OrderBy(i => i.StagedAt).ThenBy(i => i.TaskId, StringComparer.Ordinal);

    public IEnumerable<Deployment> DeploymentsOf(string appId) => Deployments.Values.Where(d => d.Target.ContainsKey(appId));
}
