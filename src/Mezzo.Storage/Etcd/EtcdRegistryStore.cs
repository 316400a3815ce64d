using System.Text.Json;
using System.Text.Json.Serialization;
using Etcdserverpb;
using Google.Protobuf;
using Grpc.Core;
using Mezzo.Storage.Registry;

namespace Mezzo.Storage.Etcd;

/// <summary>
/// The registry in etcd under <c>{prefix}/registry/</c>, written only by the leader of one term. Every write is a
/// transaction that commits only while the leader key still has the create revision this term was elected with, so
/// a deposed leader (lease expired, revoked, or taken over) can never overwrite what its successor wrote. A refused
/// or failed write ends the term (<see cref="Leadership.Abdicate"/>) before the exception reaches the master, which
/// persisted nothing and so acted on nothing.
/// </summary>
public sealed class EtcdRegistryStore : IRegistryStore
{
    private const string AgentsDir = "agents/";
    private const string FrameworksDir = "frameworks/";
    private const string ValuesDir = "kv/";
    private readonly EtcdConnection _etcd;
    private readonly Leadership _term;
    private readonly string _prefix;

    public EtcdRegistryStore(Leadership term)
    {
        _term = term;
        _etcd = term.Etcd;
        _prefix = _etcd.Target.RegistryPrefix;
    }

    public IReadOnlyList<AgentRecord> LoadAgents() =>
        [.. ReadDirectory(AgentsDir).Select(entry => Decode(entry.Key, entry.Value, RegistryJson.Default.AgentRecord))];

    public IReadOnlyList<FrameworkRecord> LoadFrameworks() =>
        [.. ReadDirectory(FrameworksDir).Select(entry => Decode(entry.Key, entry.Value, RegistryJson.Default.FrameworkRecord))];

    public void UpsertAgent(AgentRecord agent) =>
        Write(AgentsDir + agent.AgentId, JsonSerializer.SerializeToUtf8Bytes(agent, RegistryJson.Default.AgentRecord));

    public void SetAgentState(string agentId, AgentRegistryState state, DateTimeOffset changedAt)
    {
        // Only this term's leader writes, so reading and then writing under the fence cannot lose an update.
        if (Read(AgentsDir + agentId) is not { } json)
        {
            return;
        }

        var agent = Decode(_prefix + AgentsDir + agentId, json, RegistryJson.Default.AgentRecord);
        UpsertAgent(agent with { State = state, ChangedAt = changedAt });
    }

    public void UpsertFramework(FrameworkRecord framework) =>
        Write(FrameworksDir + framework.FrameworkId, JsonSerializer.SerializeToUtf8Bytes(framework, RegistryJson.Default.FrameworkRecord));

    public string? GetValue(string key) => Read(ValuesDir + key) is { } bytes ? System.Text.Encoding.UTF8.GetString(bytes) : null;

    public void SetValue(string key, string value) => Write(ValuesDir + key, System.Text.Encoding.UTF8.GetBytes(value));

    public void Dispose()
    {
        // The connection and the term belong to whoever elected this master.
    }

    public void RemoveAgents(IReadOnlyCollection<string> agentIds)
    {
        if (agentIds.Count > 0)
        {
            // One fenced transaction: the registry forgets all of them or none.
            Commit($"removal of {agentIds.Count} agents",
                agentIds.Select(id => new RequestOp { RequestDeleteRange = new DeleteRangeRequest { Key = ByteString.CopyFromUtf8(_prefix + AgentsDir + id) } }));
        }
    }

    private void Write(string relativeKey, byte[] value) =>
        Commit(relativeKey, [new RequestOp { RequestPut = new PutRequest { Key = ByteString.CopyFromUtf8(_prefix + relativeKey), Value = ByteString.CopyFrom(value) } }]);

    /// <summary>Applies <paramref name="operations"/> only while this term still holds the leader key.</summary>
    private void Commit(string relativeKey, IEnumerable<RequestOp> operations) =>
        EtcdFence.CommitFenced(_term, "registry write of " + relativeKey, operations, (message, inner) => new RegistryFencedException(message, inner));

    private byte[]? Read(string relativeKey)
    {
        var range = Call(() => _etcd.Kv.Range(new RangeRequest { Key = ByteString.CopyFromUtf8(_prefix + relativeKey) }, deadline: _etcd.Deadline), relativeKey);
        return range.Kvs.Count == 0 ? null : range.Kvs[0].Value.ToByteArray();
    }

    private static T Decode<T>(string key, byte[] json, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type)
    {
        try
        {
            return JsonSerializer.Deserialize(json, type) ?? throw new JsonException("null");
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"Registry entry {key} in etcd is not a valid {typeof(T).Name}: {ex.Message}", ex);
        }
    }

    private IEnumerable<(string Key, byte[] Value)> ReadDirectory(string directory)
    {
        var start = _prefix + directory;
        var range = Call(() => _etcd.Kv.Range(new RangeRequest
        {
            Key = ByteString.CopyFromUtf8(start),
            RangeEnd = ByteString.CopyFromUtf8(PrefixEnd(start)),
            SortOrder = RangeRequest.Types.SortOrder.Ascend,
            SortTarget = RangeRequest.Types.SortTarget.Key,
        }, deadline: _etcd.Deadline), directory);
        return range.Kvs.Select(kv => (kv.Key.ToStringUtf8(), kv.Value.ToByteArray()));
    }

    private T Call<T>(Func<T> read, string what)
    {
        try
        {
            return read();
        }
        catch (RpcException ex)
        {
            var reason = $"registry read of {what} from etcd failed: {EtcdConnection.Describe(ex)}";
            _term.Abdicate(reason);
            throw new RegistryFencedException(reason, ex);
        }
    }

    // etcd's prefix range: the prefix with its last byte incremented (all our prefixes end in '/', never 0xff).
    private static string PrefixEnd(string prefix) => prefix[..^1] + (char)(prefix[^1] + 1);
}

/// <summary>A registry write (or read) this master may not rely on: it has lost, or given up, its leadership.</summary>
public sealed class RegistryFencedException(string message, Exception? inner = null) : IOException(message, inner);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, UseStringEnumConverter = true)]
[JsonSerializable(typeof(AgentRecord))]
[JsonSerializable(typeof(FrameworkRecord))]
internal sealed partial class RegistryJson : JsonSerializerContext;
