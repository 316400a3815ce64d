using System.Text.Json;
using Mezzo.Protocol.Marathon;
using Mezzo.Services.Model;
using Mezzo.Storage.Sqlite;
using Microsoft.Data.Sqlite;

namespace Mezzo.Services.State;

/// <summary>
/// The services framework's state in SQLite (WAL, synchronous=FULL) under its work dir: app definitions and all their versions,
/// deployments, task records and the framework id. Written only by the services actor, each change in one transaction,
/// so a crash leaves either the whole change or none of it.
/// </summary>
public sealed class ServicesStore : IServicesStore
{
    private readonly SqliteConnection _connection;
    private readonly string _connectionString;

    public ServicesStore(string path)
    {
        _connectionString = SqliteDatabase.ConnectionString(path);
        _connection = SqliteDatabase.OpenDurable(path);
        Execute("""
            CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS apps (id TEXT PRIMARY KEY, json TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS app_versions (id TEXT NOT NULL, version TEXT NOT NULL, json TEXT NOT NULL, PRIMARY KEY (id, version));
            CREATE TABLE IF NOT EXISTS deployments (id TEXT PRIMARY KEY, json TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS instances (task_id TEXT PRIMARY KEY, json TEXT NOT NULL);
            """);
    }

    public static ServicesStore InWorkDir(string workDir) => new(Path.Combine(workDir, "services.db"));

    public string? FrameworkId => Scalar("SELECT value FROM meta WHERE key = 'framework_id'");

    /// <summary>Callback URLs of the HTTP event subscribers (/v2/eventSubscriptions), in the order they subscribed.</summary>
    public List<string> LoadEventSubscriptions() =>
        Scalar("SELECT value FROM meta WHERE key = 'event_subscriptions'") is { } json ? JsonSerializer.Deserialize(json, StateJsonContext.Default.ListString) ?? [] : [];

    public List<AppDefinition> LoadApps() => [.. Rows("SELECT json FROM apps ORDER BY id").Select(AppJson.Parse)];

    public List<Deployment> LoadDeployments() =>
        [.. Rows("SELECT json FROM deployments").Select(json => JsonSerializer.Deserialize(json, StateJsonContext.Default.Deployment)!)];

    public List<Instance> LoadInstances() =>
        [.. Rows("SELECT json FROM instances").Select(json => JsonSerializer.Deserialize(json, StateJsonContext.Default.Instance)!)];

    /// <summary>Versions of an app, newest first; read on a connection of its own, so HTTP readers never touch the actor's.</summary>
    public List<string> Versions(string appId)
    {
        using var connection = new SqliteConnection(_connectionString);
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT version FROM app_versions WHERE id = $id ORDER BY version DESC";
        command.Parameters.AddWithValue("$id", appId);
        using var reader = command.ExecuteReader();
        var versions = new List<string>();
        while (reader.Read())
        {
            versions.Add(reader.GetString(0));
        }

        return versions;
    }

    public AppDefinition? Version(string appId, string version)
    {
        using var connection = new SqliteConnection(_connectionString);
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT json FROM app_versions WHERE id = $id AND version = $version";
        command.Parameters.AddWithValue("$id", appId);
        command.Parameters.AddWithValue("$version", version);
        return command.ExecuteScalar() is string json ? AppJson.Parse(json) : null;
    }

    /// <summary>Applies every write <paramref name="changes"/> makes in one transaction.</summary>
    public void Write(Action<IServicesBatch> changes)
    {
        using var transaction = _connection.BeginTransaction();
        changes(new Batch(this, transaction));
        transaction.Commit();
    }

    public sealed class Batch : IServicesBatch
    {
        private readonly ServicesStore _store;
        private readonly SqliteTransaction _transaction;

        internal Batch(ServicesStore store, SqliteTransaction transaction)
        {
            _store = store;
            _transaction = transaction;
        }

        public void PutApp(AppDefinition app)
        {
            var json = AppJson.Serialize(app);
            Run("INSERT OR REPLACE INTO apps (id, json) VALUES ($a, $b)", app.Id!, json);
            Run("INSERT OR REPLACE INTO app_versions (id, version, json) VALUES ($a, $b, $c)", app.Id!, app.Version!, json);
        }

        public void DeleteApp(string id)
        {
            Run("DELETE FROM apps WHERE id = $a", id);
            Run("DELETE FROM app_versions WHERE id = $a", id);
        }

        public void PutDeployment(Deployment deployment) =>
            Run("INSERT OR REPLACE INTO deployments (id, json) VALUES ($a, $b)", deployment.Id, JsonSerializer.Serialize(deployment, StateJsonContext.Default.Deployment));

        public void DeleteDeployment(string id) => Run("DELETE FROM deployments WHERE id = $a", id);

        public void PutInstance(Instance instance) =>
            Run("INSERT OR REPLACE INTO instances (task_id, json) VALUES ($a, $b)", instance.TaskId, JsonSerializer.Serialize(instance, StateJsonContext.Default.Instance));

        public void DeleteInstance(string taskId) => Run("DELETE FROM instances WHERE task_id = $a", taskId);

        public void PutEventSubscriptions(IReadOnlyList<string> callbackUrls) =>
            Run("INSERT OR REPLACE INTO meta (key, value) VALUES ('event_subscriptions', $a)", JsonSerializer.Serialize([.. callbackUrls], StateJsonContext.Default.ListString));

        public void PutFrameworkId(string id) => Run("INSERT OR REPLACE INTO meta (key, value) VALUES ('framework_id', $a)", id);

        private void Run(string sql, params string[] values)
        {
            using var command = _store._connection.CreateCommand();
            command.Transaction = _transaction;
            command.CommandText = sql;
            for (var i = 0; i < values.Length; i++)
            {
                command.Parameters.AddWithValue("$" + (char)('a' + i), values[i]);
            }

            command.ExecuteNonQuery();
        }
    }

    private void Execute(string sql) => _connection.Execute(sql);

    private string? Scalar(string sql)
    {
        using var command = _connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteScalar() as string;
    }

    private List<string> Rows(string sql)
    {
        using var command = _connection.CreateCommand();
        command.CommandText = sql;
        using var reader = command.ExecuteReader();
        var rows = new List<string>();
        while (reader.Read())
        {
            rows.Add(reader.GetString(0));
        }

        return rows;
    }

    public void Dispose() => _connection.Dispose();
}
