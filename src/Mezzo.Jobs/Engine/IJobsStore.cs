using Mezzo.Protocol.Chronos;

namespace Mezzo.Jobs.Engine;

/// <summary>
/// Where the jobs framework keeps jobs, their schedule position, runs and the framework id: SQLite in the work dir
/// (<see cref="JobsStore"/>) or etcd for several instances electing a leader (<see cref="EtcdJobsStore"/>). Used by
/// the engine only; <see cref="Commit"/> stores one engine step before any of its effects happens, and throws when
/// it did not (the step's effects are then never sent).
/// </summary>
public interface IJobsStore : IDisposable
{
    IReadOnlyList<StoredJob> LoadJobs(JobDefaults defaults);

    /// <summary>Runs still queued, launching or running; plus the last <paramref name="history"/> finished ones per job, oldest first.</summary>
    IReadOnlyList<Run> LoadRuns(int history);

    string? GetMeta(string key);

    /// <summary>Writes one engine step.</summary>
    void Commit(IReadOnlyCollection<StoredJob> upserts, IReadOnlyCollection<string> deletes, IReadOnlyCollection<Run> runs, IReadOnlyDictionary<string, string> meta);
}
