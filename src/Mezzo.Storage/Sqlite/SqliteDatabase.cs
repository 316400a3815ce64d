using Microsoft.Data.Sqlite;

namespace Mezzo.Storage.Sqlite;

/// <summary>
/// How every Mezzo process keeps state in an embedded SQLite file: the master's registry, the services and jobs
/// frameworks' stores. One place for the settings their guarantees rest on.
/// </summary>
public static class SqliteDatabase
{
    /// <summary>
    /// The connection string for <paramref name="path"/>: created if missing, no pooling (each store owns its
    /// connection), and Microsoft.Data.Sqlite's own retry of a locked file bounded to 5 s (its default of 30 s would
    /// hold an actor that long on a file another process has).
    /// </summary>
    public static string ConnectionString(string path) => new SqliteConnectionStringBuilder
    {
        DataSource = path,
        Mode = SqliteOpenMode.ReadWriteCreate,
        Pooling = false,
        DefaultTimeout = 5,
    }.ToString();

    /// <summary>
    /// Opens (creating its directory and file) a database whose committed transactions survive power loss: WAL with
    /// synchronous=FULL, since each store acts on a write (launches a task, answers a client) only once it is committed.
    /// </summary>
    public static SqliteConnection OpenDurable(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var connection = new SqliteConnection(ConnectionString(path));
        try
        {
            connection.Open();
            connection.Execute("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA busy_timeout=5000;");
            return connection;
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    public static void Execute(this SqliteConnection connection, string sql)
    {
        ArgumentNullException.ThrowIfNull(connection);
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
