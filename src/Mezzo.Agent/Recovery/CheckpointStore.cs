using System.Globalization;
using System.Text;
using Mezzo.Supervisor;

namespace Mezzo.Agent.Recovery;

/// <summary>
/// The agent's checkpoint directory, <c>&lt;work_dir&gt;/meta</c>:
/// <list type="bullet">
/// <item><c>agent_id</c>, <c>boot_id</c>: who this agent is, and on which boot of the host it last ran.</item>
/// <item><c>agent.pid</c>: "pid start-time" of the running agent; supervisors watch it (--recovery-timeout).</item>
/// <item><c>runs/&lt;container id&gt;/task</c>: a <see cref="TaskCheckpoint"/> (tasks of checkpointing frameworks only);
/// <c>runs/&lt;container id&gt;/exit</c>: the supervisor's record of how the task ended.</item>
/// <item><c>runs/&lt;executor container id&gt;/executor</c>: an <see cref="ExecutorCheckpoint"/> (custom executors of
/// checkpointing frameworks, with their tasks), beside its supervisor's <c>exit</c>.</item>
/// </list>
/// </summary>
public sealed class CheckpointStore(string workDir)
{
    public const string TaskFile = "task";

    public const string ExecutorFile = "executor";

    public string MetaDir { get; } = Path.Combine(workDir, "meta");

    public string RunsDir => Path.Combine(MetaDir, "runs");

    public string AgentIdFile => Path.Combine(MetaDir, "agent_id");

    public string BootIdFile => Path.Combine(MetaDir, "boot_id");

    public string AgentPidFile => Path.Combine(MetaDir, "agent.pid");

    public string RunDir(string containerId) => Path.Combine(RunsDir, containerId);

    public static string CurrentBootId() => File.ReadAllText("/proc/sys/kernel/random/boot_id").Trim();

    /// <exception cref="CheckpointCorruptException">The agent id file exists but cannot be trusted.</exception>
    public string? ReadAgentId()
    {
        try
        {
            return ReadText(AgentIdFile);
        }
        catch (CheckpointCorruptException) when (LegacyAgentId() is { } legacy)
        {
            // Agents before checkpointing wrote the bare id; it is taken as it is and rewritten on registration.
            return legacy;
        }
    }

    private string? LegacyAgentId()
    {
        var text = File.ReadAllText(AgentIdFile).Trim();
        return text.Length is > 0 and <= 256 && text.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.') ? text : null;
    }

    public void WriteAgentId(string agentId) => CheckpointFile.Write(AgentIdFile, Encoding.UTF8.GetBytes(agentId), durable: true);

    public string? ReadBootId() => ReadText(BootIdFile);

    public void WriteBootId(string bootId) => CheckpointFile.Write(BootIdFile, Encoding.UTF8.GetBytes(bootId), durable: true);

    /// <summary>Marks this process as the live agent for the supervisors (pid plus start time, so a recycled pid is no agent).</summary>
    public void WriteAgentPid()
    {
        var pid = Environment.ProcessId;
        var start = ProcStat.StartTime("/proc", pid) ?? throw new IOException("cannot read this process's start time from /proc");
        var temporary = AgentPidFile + ".tmp";
        File.WriteAllText(temporary, string.Create(CultureInfo.InvariantCulture, $"{pid} {start}\n"));
        File.Move(temporary, AgentPidFile, overwrite: true);
    }

    public string CreateRunDir(string containerId)
    {
        var dir = RunDir(containerId);
        Directory.CreateDirectory(dir);
        return dir;
    }

    /// <exception cref="CheckpointWriteException">Not written; the previous checkpoint is intact.</exception>
    public void SaveTask(string containerId, TaskCheckpoint checkpoint) =>
        CheckpointFile.Write(Path.Combine(RunDir(containerId), TaskFile), checkpoint.ToJson());

    /// <exception cref="CheckpointWriteException">Not written; the previous checkpoint is intact.</exception>
    public void SaveExecutor(string containerId, ExecutorCheckpoint checkpoint) =>
        CheckpointFile.Write(Path.Combine(RunDir(containerId), ExecutorFile), checkpoint.ToJson());

    /// <summary>Every run directory that holds an executor checkpoint, with it.</summary>
    /// <exception cref="CheckpointCorruptException">Only from the first bad checkpoint, and only when <paramref name="problems"/> is null (strict).</exception>
    public IReadOnlyList<(string ContainerId, ExecutorCheckpoint Checkpoint)> LoadExecutors(List<CheckpointCorruptException>? problems)
    {
        var executors = new List<(string, ExecutorCheckpoint)>();
        if (!Directory.Exists(RunsDir))
        {
            return executors;
        }

        foreach (var dir in Directory.EnumerateDirectories(RunsDir).Order(StringComparer.Ordinal))
        {
            var containerId = Path.GetFileName(dir);
            var file = Path.Combine(dir, ExecutorFile);
            try
            {
                if (CheckpointFile.Read(file) is not { } body)
                {
                    continue;
                }

                ExecutorCheckpoint checkpoint;
                try
                {
                    checkpoint = ExecutorCheckpoint.FromJson(body);
                }
                catch (FormatException ex)
                {
                    throw new CheckpointCorruptException(file, ex.Message);
                }

                if (checkpoint.ContainerId != containerId)
                {
                    throw new CheckpointCorruptException(file, $"it names container '{checkpoint.ContainerId}' but lies in '{containerId}'");
                }

                executors.Add((containerId, checkpoint));
            }
            catch (CheckpointCorruptException ex) when (problems is not null)
            {
                problems.Add(ex);
            }
        }

        return executors;
    }

    public void DeleteRun(string containerId)
    {
        try
        {
            Directory.Delete(RunDir(containerId), recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }

    /// <summary>Every run directory with its task checkpoint (null for a task that was not checkpointed).</summary>
    /// <exception cref="CheckpointCorruptException">Only from the first bad checkpoint, and only when <paramref name="problems"/> is null (strict).</exception>
    public IReadOnlyList<(string ContainerId, TaskCheckpoint? Checkpoint)> LoadRuns(List<CheckpointCorruptException>? problems)
    {
        var runs = new List<(string, TaskCheckpoint?)>();
        if (!Directory.Exists(RunsDir))
        {
            return runs;
        }

        foreach (var dir in Directory.EnumerateDirectories(RunsDir).Order(StringComparer.Ordinal))
        {
            var containerId = Path.GetFileName(dir);
            var file = Path.Combine(dir, TaskFile);
            if (File.Exists(Path.Combine(dir, ExecutorFile)))
            {
                continue; // an executor's run: LoadExecutors
            }

            try
            {
                var body = CheckpointFile.Read(file);
                TaskCheckpoint? checkpoint = null;
                if (body is not null)
                {
                    try
                    {
                        checkpoint = TaskCheckpoint.FromJson(body);
                    }
                    catch (FormatException ex)
                    {
                        throw new CheckpointCorruptException(file, ex.Message);
                    }

                    if (checkpoint.ContainerId != containerId)
                    {
                        throw new CheckpointCorruptException(file, $"it names container '{checkpoint.ContainerId}' but lies in '{containerId}'");
                    }
                }

                runs.Add((containerId, checkpoint));
            }
            catch (CheckpointCorruptException ex) when (problems is not null)
            {
                problems.Add(ex);
            }
        }

        return runs;
    }

    /// <summary>Moves a bad checkpoint aside (kept for a post-mortem, never read again).</summary>
    public static void QuarantineFile(string path)
    {
        try
        {
            File.Move(path, path + ".corrupt", overwrite: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Reported already; a file that cannot even be moved is read (and reported) again next time.
        }
    }

    private static string? ReadText(string path)
    {
        var body = CheckpointFile.Read(path);
        return body is null ? null : Encoding.UTF8.GetString(body).Trim();
    }
}
