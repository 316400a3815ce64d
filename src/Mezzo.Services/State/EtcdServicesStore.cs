using System.Text.Json;
using Etcdserverpb;
using Mezzo.Protocol.Marathon;
using Mezzo.Storage.Etcd;

namespace Mezzo.Services.State;

/// <summary>
/// The services framework's state in etcd, for several <c>mezzo services</c> electing one leader: under
/// <c>{prefix}/state/</c> one key per app, app version, deployment and task record, and the framework id. Every
/// write is fenced by the leader's term (<see cref="EtcdFence"/>): a deposed leader's write is refused, ends its term
/// and throws before the actor acts on it, so two instances never both launch.
/// </summary>
public sealed class EtcdServicesStore : IServicesStore
{
    // '|' cannot appear in a Marathon app id, so one app's versions never share a key prefix with another app's.
    private const char VersionSeparator = '|';
    private readonly EtcdFence _fence;
    private readonly string _root;

    public EtcdServicesStore(EtcdFence fence)
    {
        _fence = fence;
        _root = fence.Etcd.Target.Prefix + "/state/";
    }

    private string Apps => _root + "apps/";

    private string AppVersions => _root + "versions/";

    private string Deployments => _root + "deployments/";

    private string Instances => _root + "instances/";

    private string FrameworkIdKey => _root + "meta/framework_id";

    private string EventSubscriptionsKey => _root + "meta/event_subscriptions";

    public string? FrameworkId => _fence.Get(FrameworkIdKey) is { } bytes ? System.Text.Encoding.UTF8.GetString(bytes) : null;

    public List<string> LoadEventSubscriptions() =>
        _fence.Get(EventSubscriptionsKey) is { } bytes ? JsonSerializer.Deserialize(bytes, StateJsonContext.Default.ListString) ?? [] : [];

    public List<AppDefinition> LoadApps() => [.. _fence.Range(Apps).Select(kv => Decode(kv, AppJson.Parse))];

    public List<Deployment> LoadDeployments() =>
        [.. _fence.Range(Deployments).Select(kv => Decode(kv, json => JsonSerializer.Deserialize(json, StateJsonContext.Default.Deployment)!))];

    public List<Instance> LoadInstances() =>
        [.. _fence.Range(Instances).Select(kv => Decode(kv, json => JsonSerializer.Deserialize(json, StateJsonContext.Default.Instance)!))];

    public List<string> Versions(string appId)
    {
        var prefix = AppVersions + appId + VersionSeparator;
        return [.. _fence.Range(prefix, keysOnly: true).Select(kv => kv.Key.ToStringUtf8()[prefix.Length..]).OrderDescending(StringComparer.Ordinal)];
    }

    public AppDefinition? Version(string appId, string version) =>
        _fence.Get(AppVersions + appId + VersionSeparator + version) is { } bytes ? AppJson.Parse(System.Text.Encoding.UTF8.GetString(bytes)) : null;

    public void Write(Action<IServicesBatch> changes)
    {
        var batch = new Batch(this);
        changes(batch);
        if (batch.Operations.Count > 0)
        {
            _fence.Commit("services state (" + string.Join(", ", batch.Operations.Keys.Take(3).Select(k => k[_root.Length..])) + (batch.Operations.Count > 3 ? ", ...)" : ")"),
                [.. batch.Operations.Values]);
        }
    }

    public void Dispose()
    {
        // The connection and the term belong to the candidate that elected this instance.
    }

    private static T Decode<T>(Mvccpb.KeyValue kv, Func<string, T> parse)
    {
        try
        {
            return parse(kv.Value.ToStringUtf8());
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"Services state entry {kv.Key.ToStringUtf8()} in etcd is not valid: {ex.Message}", ex);
        }
    }

    /// <summary>One operation per key, the last one made winning (etcd refuses a transaction naming a key twice).</summary>
    private sealed class Batch(EtcdServicesStore store) : IServicesBatch
    {
        public Dictionary<string, RequestOp> Operations { get; } = new(StringComparer.Ordinal);

        public void PutApp(AppDefinition app)
        {
            var json = System.Text.Encoding.UTF8.GetBytes(AppJson.Serialize(app));
            Put(store.Apps + app.Id, json);
            Put(store.AppVersions + app.Id + VersionSeparator + app.Version, json);
        }

        public void DeleteApp(string id)
        {
            Delete(store.Apps + id);
            // Read now, under the leader's fence: only this term writes, so nothing adds versions in between.
            foreach (var version in store.Versions(id))
            {
                Delete(store.AppVersions + id + VersionSeparator + version);
            }
        }

        public void PutDeployment(Deployment deployment) =>
            Put(store.Deployments + deployment.Id, JsonSerializer.SerializeToUtf8Bytes(deployment, StateJsonContext.Default.Deployment));

        public void DeleteDeployment(string id) => Delete(store.Deployments + id);

        public void PutInstance(Instance instance) =>
            Put(store.Instances + instance.TaskId, JsonSerializer.SerializeToUtf8Bytes(instance, StateJsonContext.Default.Instance));

        public void DeleteInstance(string taskId) => Delete(store.Instances + taskId);

        public void PutFrameworkId(string id) => Put(store.FrameworkIdKey, System.Text.Encoding.UTF8.GetBytes(id));

        public void PutEventSubscriptions(IReadOnlyList<string> callbackUrls) =>
            Put(store.EventSubscriptionsKey, JsonSerializer.SerializeToUtf8Bytes([.. callbackUrls], StateJsonContext.Default.ListString));

        private void Put(string key, byte[] value)
        {
            Operations.Remove(key);
            Operations[key] = EtcdFence.Put(key, value);
        }

        private void Delete(string key)
        {
            Operations.Remove(key);
            Operations[key] = EtcdFence.Delete(key);
        }
    }
}
