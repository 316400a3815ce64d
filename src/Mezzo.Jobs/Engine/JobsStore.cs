using System.Text.Json;
using Mezzo.Protocol.Chronos;
using Mezzo.Storage.Sqlite;
using Microsoft.Data.Sqlite;

namespace Mezzo.Jobs.Engine;

/// <summary>A job as stored: the definition, the index of its next scheduled occurrence, and the parents that have
/// succeeded since it last ran (for a dependent job).</summary>
public sealed record StoredJob(Job Job, long NextIndex, IReadOnlyList<string> SatisfiedParents);

/// <summary>
/// The jobs framework's state in SQLite (WAL, synchronous FULL) under --work-dir: jobs with their schedule position,
/// runs (active and history) and the framework id. Used by the engine only (one owner); each engine step is written in
/// one transaction before any of its effects (a launch) happens.
/// </summary>
public sealed class JobsStore : IJobsStore
{
    private readonly SqliteConnection _connection;
    private readonly int _historyKept;

    /// <param name="historyKept">Finished runs kept per job.</param>
    public JobsStore(string path, int historyKept = 1000)
    {
        _historyKept = Math.Max(1, historyKept);
        _connection = SqliteDatabase.OpenDurable(path);
        Execute("""
            CREATE TABLE IF NOT EXISTS jobs (
                name TEXT PRIMARY KEY,
                json TEXT NOT NULL,
                next_index INTEGER NOT NULL,
                satisfied TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS runs (
                task_id TEXT PRIMARY KEY,
                job TEXT NOT NULL,
                due_ms INTEGER NOT NULL,
                attempt INTEGER NOT NULL,
                state TEXT NOT NULL,
                not_before_ms INTEGER NOT NULL,
                arguments TEXT NOT NULL,
                agent_id TEXT,
                started_ms INTEGER,
                ended_ms INTEGER,
                message TEXT NOT NULL,
                agent_url TEXT,
                seq INTEGER NOT NULL);
            CREATE INDEX IF NOT EXISTS runs_by_job ON runs (job, seq);
            CREATE INDEX IF NOT EXISTS runs_by_seq ON runs (seq);
            CREATE TABLE IF NOT EXISTS meta (
                key TEXT PRIMARY KEY,
                value TEXT NOT NULL);
            """);
    }

    public static JobsStore InWorkDir(string workDir, int historyKept = 1000) => new(Path.Combine(workDir, "jobs.db"), historyKept);

    private void Execute(string sql) => _connection.Execute(sql);

    public IReadOnlyList<StoredJob> LoadJobs(JobDefaults defaults)
    {
        using var command = _connection.CreateCommand();
        command.CommandText = "SELECT json, next_index, satisfied FROM jobs ORDER BY name";
        using var reader = command.ExecuteReader();
        var jobs = new List<StoredJob>();
        while (reader.Read())
        {
            var job = JobJson.Parse(System.Text.Encoding.UTF8.GetBytes(reader.GetString(0)), defaults);
            jobs.Add(new StoredJob(job, reader.GetInt64(1), JsonSerializer.Deserialize(reader.GetString(2), JobsJsonContext.Default.StringArray) ?? []));
        }

        return jobs;
    }

    /// <summary>Runs still queued, launching or running; plus the last <paramref name="history"/> finished ones per job.</summary>
    public IReadOnlyList<Run> LoadRuns(int history)
    {
        using var command = _connection.CreateCommand();
        command.CommandText = """
            SELECT task_id, job, due_ms, attempt, state, not_before_ms, arguments, agent_id, started_ms, ended_ms, message, agent_url FROM (
                SELECT *, ROW_NUMBER() OVER (PARTITION BY job ORDER BY seq DESC) AS recent FROM runs)
            WHERE state IN ('Queued', 'Launching', 'Running') OR recent <= $history
            ORDER BY seq
            """;
        command.Parameters.AddWithValue("$history", history);
        using var reader = command.ExecuteReader();
        var runs = new List<Run>();
        while (reader.Read())
        {
            runs.Add(new Run(
                reader.GetString(0),
                reader.GetString(1),
                reader.GetInt64(2),
                reader.GetInt32(3),
                Enum.Parse<RunState>(reader.GetString(4)),
                reader.GetInt64(5),
                reader.GetString(6),
                reader.IsDBNull(7) ? null : reader.GetString(7),
                reader.IsDBNull(8) ? null : reader.GetInt64(8),
                reader.IsDBNull(9) ? null : reader.GetInt64(9),
                reader.GetString(10),
                reader.IsDBNull(11) ? null : reader.GetString(11)));
        }

        return runs;
    }

    public string? GetMeta(string key)
    {
        using var command = _connection.CreateCommand();
        command.CommandText = "SELECT value FROM meta WHERE key = $key";
        command.Parameters.AddWithValue("$key", key);
        return command.ExecuteScalar() as string;
    }

    /// <summary>Writes one engine step atomically.</summary>
    public void Commit(IReadOnlyCollection<StoredJob> upserts, IReadOnlyCollection<string> deletes, IReadOnlyCollection<Run> runs, IReadOnlyDictionary<string, string> meta)
    {
        if (upserts.Count == 0 && deletes.Count == 0 && runs.Count == 0 && meta.Count == 0)
        {
            return;
        }

        using var transaction = _connection.BeginTransaction();
        foreach (var name in deletes)
        {
            using var command = _connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = "DELETE FROM jobs WHERE name = $name; DELETE FROM runs WHERE job = $name;";
            command.Parameters.AddWithValue("$name", name);
            command.ExecuteNonQuery();
        }

        foreach (var stored in upserts)
        {
            using var command = _connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = """
                INSERT INTO jobs (name, json, next_index, satisfied) VALUES ($name, $json, $next, $satisfied)
                ON CONFLICT(name) DO UPDATE SET json = excluded.json, next_index = excluded.next_index, satisfied = excluded.satisfied
                """;
            command.Parameters.AddWithValue("$name", stored.Job.Name);
            command.Parameters.AddWithValue("$json", System.Text.Encoding.UTF8.GetString(JobJson.ToUtf8(stored.Job)));
            command.Parameters.AddWithValue("$next", stored.NextIndex);
            command.Parameters.AddWithValue("$satisfied", JsonSerializer.Serialize([.. stored.SatisfiedParents], JobsJsonContext.Default.StringArray));
            command.ExecuteNonQuery();
        }

        foreach (var run in runs)
        {
            using var command = _connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = """
                INSERT INTO runs (task_id, job, due_ms, attempt, state, not_before_ms, arguments, agent_id, started_ms, ended_ms, message, agent_url, seq)
                VALUES ($id, $job, $due, $attempt, $state, $notBefore, $arguments, $agent, $started, $ended, $message, $agentUrl, (SELECT COALESCE(MAX(seq), 0) + 1 FROM runs))
                ON CONFLICT(task_id) DO UPDATE SET state = excluded.state, agent_id = excluded.agent_id, started_ms = excluded.started_ms,
                    ended_ms = excluded.ended_ms, message = excluded.message, agent_url = excluded.agent_url
                """;
            command.Parameters.AddWithValue("$id", run.TaskId);
            command.Parameters.AddWithValue("$job", run.JobName);
            command.Parameters.AddWithValue("$due", run.DueMs);
            command.Parameters.AddWithValue("$attempt", run.Attempt);
            command.Parameters.AddWithValue("$state", run.State.ToString());
            command.Parameters.AddWithValue("$notBefore", run.NotBeforeMs);
            command.Parameters.AddWithValue("$arguments", run.Arguments);
            command.Parameters.AddWithValue("$agent", (object?)run.AgentId ?? DBNull.Value);
            command.Parameters.AddWithValue("$started", (object?)run.StartedMs ?? DBNull.Value);
            command.Parameters.AddWithValue("$ended", (object?)run.EndedMs ?? DBNull.Value);
            command.Parameters.AddWithValue("$message", run.Message);
            command.Parameters.AddWithValue("$agentUrl", (object?)run.AgentUrl ?? DBNull.Value);
            command.ExecuteNonQuery();
        }

        // Finished runs are history: keep the newest of each job, not every run since the beginning.
        foreach (var job in runs.Where(r => !r.IsActive).Select(r => r.JobName).Distinct())
        {
            using var command = _connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = """
                DELETE FROM runs WHERE job = $job AND state NOT IN ('Queued', 'Launching', 'Running') AND seq <
                    (SELECT seq FROM runs WHERE job = $job AND state NOT IN ('Queued', 'Launching', 'Running') ORDER BY seq DESC LIMIT 1 OFFSET $keep)
                """;
            command.Parameters.AddWithValue("$job", job);
            command.Parameters.AddWithValue("$keep", _historyKept - 1);
            command.ExecuteNonQuery();
        }

        foreach (var (key, value) in meta)
        {
            using var command = _connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = "INSERT INTO meta (key, value) VALUES ($key, $value) ON CONFLICT(key) DO UPDATE SET value = excluded.value";
            command.Parameters.AddWithValue("$key", key);
            command.Parameters.AddWithValue("$value", value);
            command.ExecuteNonQuery();
        }

        transaction.Commit();
    }

    public void Dispose() => _connection.Dispose();
}

[System.Text.Json.Serialization.JsonSerializable(typeof(string[]))]
internal sealed partial class JobsJsonContext : System.Text.Json.Serialization.JsonSerializerContext;
