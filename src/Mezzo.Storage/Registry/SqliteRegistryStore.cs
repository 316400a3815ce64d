using Mezzo.Storage.Sqlite;
using Microsoft.Data.Sqlite;

namespace Mezzo.Storage.Registry;

/// <summary>
/// Registry in an embedded SQLite file (WAL). One connection, used only by the master actor, so no locking is needed
/// above SQLite's own.
/// </summary>
public sealed class SqliteRegistryStore : IRegistryStore
{
    private readonly SqliteConnection _connection;

    public SqliteRegistryStore(string path)
    {
        _connection = SqliteDatabase.OpenDurable(path);
        Execute("""
            CREATE TABLE IF NOT EXISTS agents (
                agent_id TEXT PRIMARY KEY,
                hostname TEXT NOT NULL,
                port INTEGER NOT NULL,
                info_json TEXT NOT NULL,
                state TEXT NOT NULL,
                changed_at INTEGER NOT NULL);
            CREATE TABLE IF NOT EXISTS frameworks (
                framework_id TEXT PRIMARY KEY,
                info_json TEXT NOT NULL,
                removed INTEGER NOT NULL,
                changed_at INTEGER NOT NULL);
            CREATE TABLE IF NOT EXISTS kv (
                key TEXT PRIMARY KEY,
                value TEXT NOT NULL);
            """);
    }

    public static SqliteRegistryStore InWorkDir(string workDir) => new(Path.Combine(workDir, "master", "registry.db"));

    public IReadOnlyList<AgentRecord> LoadAgents()
    {
        using var command = _connection.CreateCommand();
        command.CommandText = "SELECT agent_id, hostname, port, info_json, state, changed_at FROM agents ORDER BY agent_id";
        using var reader = command.ExecuteReader();
        var result = new List<AgentRecord>();
        while (reader.Read())
        {
            result.Add(new AgentRecord(
                reader.GetString(0),
                reader.GetString(1),
                reader.GetInt32(2),
                reader.GetString(3),
                Enum.Parse<AgentRegistryState>(reader.GetString(4)),
                DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(5))));
        }

        return result;
    }

    public IReadOnlyList<FrameworkRecord> LoadFrameworks()
    {
        using var command = _connection.CreateCommand();
        command.CommandText = "SELECT framework_id, info_json, removed, changed_at FROM frameworks ORDER BY framework_id";
        using var reader = command.ExecuteReader();
        var result = new List<FrameworkRecord>();
        while (reader.Read())
        {
            result.Add(new FrameworkRecord(
                reader.GetString(0),
                reader.GetString(1),
                reader.GetInt64(2) != 0,
                DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(3))));
        }

        return result;
    }

    public void UpsertAgent(AgentRecord agent)
    {
        using var command = _connection.CreateCommand();
        command.CommandText = """
            INSERT INTO agents (agent_id, hostname, port, info_json, state, changed_at)
            VALUES ($id, $hostname, $port, $info, $state, $at)
            ON CONFLICT(agent_id) DO UPDATE SET hostname = $hostname, port = $port, info_json = $info,
                state = $state, changed_at = $at
            """;
        command.Parameters.AddWithValue("$id", agent.AgentId);
        command.Parameters.AddWithValue("$hostname", agent.Hostname);
        command.Parameters.AddWithValue("$port", agent.Port);
        command.Parameters.AddWithValue("$info", agent.InfoJson);
        command.Parameters.AddWithValue("$state", agent.State.ToString());
        command.Parameters.AddWithValue("$at", agent.ChangedAt.ToUnixTimeMilliseconds());
        command.ExecuteNonQuery();
    }

    public void SetAgentState(string agentId, AgentRegistryState state, DateTimeOffset changedAt)
    {
        using var command = _connection.CreateCommand();
        command.CommandText = "UPDATE agents SET state = $state, changed_at = $at WHERE agent_id = $id";
        command.Parameters.AddWithValue("$id", agentId);
        command.Parameters.AddWithValue("$state", state.ToString());
        command.Parameters.AddWithValue("$at", changedAt.ToUnixTimeMilliseconds());
        command.ExecuteNonQuery();
    }

    public void UpsertFramework(FrameworkRecord framework)
    {
        using var command = _connection.CreateCommand();
        command.CommandText = """
            INSERT INTO frameworks (framework_id, info_json, removed, changed_at)
            VALUES ($id, $info, $removed, $at)
            ON CONFLICT(framework_id) DO UPDATE SET info_json = $info, removed = $removed, changed_at = $at
            """;
        command.Parameters.AddWithValue("$id", framework.FrameworkId);
        command.Parameters.AddWithValue("$info", framework.InfoJson);
        command.Parameters.AddWithValue("$removed", framework.Removed ? 1 : 0);
        command.Parameters.AddWithValue("$at", framework.ChangedAt.ToUnixTimeMilliseconds());
        command.ExecuteNonQuery();
    }

    public void RemoveAgents(IReadOnlyCollection<string> agentIds)
    {
        using var transaction = _connection.BeginTransaction();
        foreach (var agentId in agentIds)
        {
            using var command = _connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = "DELETE FROM agents WHERE agent_id = $id";
            command.Parameters.AddWithValue("$id", agentId);
            command.ExecuteNonQuery();
        }

        transaction.Commit();
    }

    public string? GetValue(string key)
    {
        using var command = _connection.CreateCommand();
        command.CommandText = "SELECT value FROM kv WHERE key = $key";
        command.Parameters.AddWithValue("$key", key);
        return command.ExecuteScalar() as string;
    }

    public void SetValue(string key, string value)
    {
        using var command = _connection.CreateCommand();
        command.CommandText = "INSERT INTO kv (key, value) VALUES ($key, $value) ON CONFLICT(key) DO UPDATE SET value = $value";
        command.Parameters.AddWithValue("$key", key);
        command.Parameters.AddWithValue("$value", value);
        command.ExecuteNonQuery();
    }

    public void Dispose() => _connection.Dispose();

    private void Execute(string sql) => _connection.Execute(sql);
}
