namespace Mezzo.Storage.Registry;

/// <summary>Lifecycle of an agent as the registry remembers it (Mesos registry: admitted / unreachable / gone).</summary>
public enum AgentRegistryState
{
    Admitted,
    Unreachable,
    Gone,
}

public sealed record AgentRecord(string AgentId, string Hostname, int Port, string InfoJson, AgentRegistryState State, DateTimeOffset ChangedAt);

public sealed record FrameworkRecord(string FrameworkId, string InfoJson, bool Removed, DateTimeOffset ChangedAt);

/// <summary>
/// The master's durable registry. Every mutation is persisted before the master acts on it, so the contract is
/// synchronous-durable: when a method returns, the change survives a crash.
/// </summary>
public interface IRegistryStore : IDisposable
{
    IReadOnlyList<AgentRecord> LoadAgents();

    IReadOnlyList<FrameworkRecord> LoadFrameworks();

    void UpsertAgent(AgentRecord agent);

    /// <summary>Changes only an agent's lifecycle state, keeping what it registered with.</summary>
    void SetAgentState(string agentId, AgentRegistryState state, DateTimeOffset changedAt);

    void UpsertFramework(FrameworkRecord framework);

    /// <summary>Forgets agents entirely (registry GC of long-unreachable agents); unknown ids are ignored.</summary>
    void RemoveAgents(IReadOnlyCollection<string> agentIds);

    /// <summary>Small key/value area for singletons such as the master's own id.</summary>
    string? GetValue(string key);

    void SetValue(string key, string value);
}
