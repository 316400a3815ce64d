using System.Text.Json;
using System.Text.Json.Serialization;
using Etcdserverpb;
using Mezzo.Protocol.Chronos;
using Mezzo.Storage.Etcd;

namespace Mezzo.Jobs.Engine;

/// <summary>
/// The jobs framework's state in etcd, for several <c>mezzo jobs</c> electing one leader: under <c>{prefix}/state/</c>
/// one key per job (definition, next occurrence, satisfied parents), one per run (<c>runs/{job}/{task id}</c>, in the
/// order of their keys' create revision, as SQLite orders them by insertion) and the framework id. Every commit is
/// fenced by the leader's term (<see cref="EtcdFence"/>): a deposed leader's step is refused, ends its term and its
/// effects (a launch) never happen, so no scheduled occurrence runs twice across a leader change.
/// </summary>
public sealed class EtcdJobsStore : IJobsStore
{
    private readonly EtcdFence _fence;
    private readonly string _root;
    private readonly int _historyKept;

    /// <param name="historyKept">Finished runs kept per job.</param>
    public EtcdJobsStore(EtcdFence fence, int historyKept = 1000)
    {
        _fence = fence;
        _root = fence.Etcd.Target.Prefix + "/state/";
        _historyKept = Math.Max(1, historyKept);
    }

    private string Jobs => _root + "jobs/";

    private string Runs => _root + "runs/";

    private string Meta => _root + "meta/";

    public IReadOnlyList<StoredJob> LoadJobs(JobDefaults defaults) =>
        [.. _fence.Range(Jobs).Select(kv =>
        {
            var stored = Decode(kv, EtcdJobsJson.Default.StoredJobEntry);
            return new StoredJob(JobJson.Parse(System.Text.Encoding.UTF8.GetBytes(stored.Job), defaults), stored.NextIndex, stored.Satisfied);
        })];

    public IReadOnlyList<Run> LoadRuns(int history)
    {
        var runs = _fence.Range(Runs).Select(kv => (kv.CreateRevision, Run: Decode(kv, EtcdJobsJson.Default.Run))).ToList();
        var kept = new List<(long Seq, Run Run)>();
        foreach (var job in runs.GroupBy(r => r.Run.JobName, StringComparer.Ordinal))
        {
            kept.AddRange(job.Where(r => r.Run.IsActive));
            kept.AddRange(job.Where(r => !r.Run.IsActive).OrderByDescending(r => r.CreateRevision).ThenByDescending(r => r.Run.DueMs).ThenByDescending(r => r.Run.Attempt).Take(history));
        }

        // Runs written in one step share a revision: within it, by scheduled time and attempt.
        return [.. kept.OrderBy(r => r.Seq).ThenBy(r => r.Run.DueMs).ThenBy(r => r.Run.Attempt).Select(r => r.Run)];
    }

    public string? GetMeta(string key) => _fence.Get(Meta + key) is { } bytes ? System.Text.Encoding.UTF8.GetString(bytes) : null;

    public void Commit(IReadOnlyCollection<StoredJob> upserts, IReadOnlyCollection<string> deletes, IReadOnlyCollection<Run> runs, IReadOnlyDictionary<string, string> meta)
    {
        if (upserts.Count == 0 && deletes.Count == 0 && runs.Count == 0 && meta.Count == 0)
        {
            return;
        }

        // One operation per key (etcd refuses a transaction naming a key twice), in the order SQLite applies them.
        var operations = new Dictionary<string, RequestOp>(StringComparer.Ordinal);
        void Set(string key, RequestOp op)
        {
            operations.Remove(key);
            operations[key] = op;
        }

        foreach (var name in deletes)
        {
            Set(Jobs + name, EtcdFence.Delete(Jobs + name));
            // Read under the leader's fence: only this term writes, so no run of the job appears in between.
            foreach (var kv in _fence.Range(RunsOf(name), keysOnly: true))
            {
                var key = kv.Key.ToStringUtf8();
                Set(key, EtcdFence.Delete(key));
            }
        }

        foreach (var stored in upserts)
        {
            var entry = new StoredJobEntry(System.Text.Encoding.UTF8.GetString(JobJson.ToUtf8(stored.Job)), stored.NextIndex, [.. stored.SatisfiedParents]);
            Set(Jobs + stored.Job.Name, EtcdFence.Put(Jobs + stored.Job.Name, JsonSerializer.SerializeToUtf8Bytes(entry, EtcdJobsJson.Default.StoredJobEntry)));
        }

        foreach (var run in runs)
        {
            var key = RunsOf(run.JobName) + run.TaskId;
            Set(key, EtcdFence.Put(key, JsonSerializer.SerializeToUtf8Bytes(run, EtcdJobsJson.Default.Run)));
        }

        // Finished runs are history: keep the newest of each job, not every run since the beginning.
        foreach (var job in runs.Where(r => !r.IsActive).Select(r => r.JobName).Distinct(StringComparer.Ordinal))
        {
            var inCommit = runs.Where(r => r.JobName == job).ToDictionary(r => r.TaskId, StringComparer.Ordinal);
            var stored = _fence.Range(RunsOf(job))
                .Select(kv => (Seq: kv.CreateRevision, Run: Decode(kv, EtcdJobsJson.Default.Run)))
                .Select(r => (r.Seq, Run: inCommit.GetValueOrDefault(r.Run.TaskId) ?? r.Run))
                .ToList();
            // Runs new in this commit are the newest, in commit order.
            var next = long.MaxValue - inCommit.Count;
            stored.AddRange(inCommit.Values.Where(r => stored.All(s => s.Run.TaskId != r.TaskId)).Select(r => (next++, r)));
            foreach (var (_, old) in stored.Where(r => !r.Run.IsActive).OrderByDescending(r => r.Seq).ThenByDescending(r => r.Run.DueMs).ThenByDescending(r => r.Run.Attempt).Skip(_historyKept))
            {
                var key = RunsOf(job) + old.TaskId;
                Set(key, EtcdFence.Delete(key));
            }
        }

        foreach (var (key, value) in meta)
        {
            Set(Meta + key, EtcdFence.Put(Meta + key, System.Text.Encoding.UTF8.GetBytes(value)));
        }

        _fence.Commit($"jobs step ({upserts.Count} jobs, {deletes.Count} deletions, {runs.Count} runs)", [.. operations.Values]);
    }

    private string RunsOf(string job) => Runs + job + "/";

    private static T Decode<T>(Mvccpb.KeyValue kv, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type)
    {
        try
        {
            return JsonSerializer.Deserialize(kv.Value.Span, type) ?? throw new JsonException("null");
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"Jobs state entry {kv.Key.ToStringUtf8()} in etcd is not a valid {typeof(T).Name}: {ex.Message}", ex);
        }
    }

    public void Dispose()
    {
        // The connection and the term belong to the candidate that elected this instance.
    }
}

/// <summary>A job's etcd value: its Chronos JSON, the index of its next occurrence and the parents satisfied since it last ran.</summary>
internal sealed record StoredJobEntry(string Job, long NextIndex, string[] Satisfied);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, UseStringEnumConverter = true)]
[JsonSerializable(typeof(StoredJobEntry))]
[JsonSerializable(typeof(Run))]
internal sealed partial class EtcdJobsJson : JsonSerializerContext;
