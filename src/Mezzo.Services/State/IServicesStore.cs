using Mezzo.Protocol.Marathon;

namespace Mezzo.Services.State;

/// <summary>
/// Where the services framework keeps its state: SQLite in the work dir (<see cref="ServicesStore"/>) or etcd for
/// several instances electing a leader (<see cref="EtcdServicesStore"/>). Written only by the services actor; each
/// <see cref="Write"/> lands whole or not at all, and throws when it did not (the actor then acts on nothing of it).
/// </summary>
public interface IServicesStore : IDisposable
{
    string? FrameworkId { get; }

    /// <summary>Callback URLs of the HTTP event subscribers (/v2/eventSubscriptions), in the order they subscribed.</summary>
    List<string> LoadEventSubscriptions();

    List<AppDefinition> LoadApps();

    List<Deployment> LoadDeployments();

    List<Instance> LoadInstances();

    /// <summary>Versions of an app, newest first; safe to call from HTTP readers beside the actor.</summary>
    List<string> Versions(string appId);

    AppDefinition? Version(string appId, string version);

    /// <summary>Applies every write <paramref name="changes"/> makes together.</summary>
    void Write(Action<IServicesBatch> changes);
}

/// <summary>The writes of one <see cref="IServicesStore.Write"/>.</summary>
public interface IServicesBatch
{
    void PutApp(AppDefinition app);

    /// <summary>Removes the app and, as Marathon does, its versions.</summary>
    void DeleteApp(string id);

    void PutDeployment(Deployment deployment);

    void DeleteDeployment(string id);

    void PutInstance(Instance instance);

    void DeleteInstance(string taskId);

    void PutFrameworkId(string id);

    void PutEventSubscriptions(IReadOnlyList<string> callbackUrls);
}
