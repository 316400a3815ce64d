namespace Mezzo.Jobs.Engine;

public enum RunState
{
    /// <summary>Persisted, waiting for an offer (and for <see cref="Run.NotBefore"/>).</summary>
    Queued,

    /// <summary>Persisted as launching before the ACCEPT is sent: after a restart it is reconciled, never relaunched.</summary>
    Launching,
    Running,
    Succeeded,
    Failed,
    Killed,

    /// <summary>Never started: it could not start within epsilon of its time (the message says why).</summary>
    Skipped,
}

/// <summary>
/// One run of a job at one scheduled time and attempt. Its task id is Chronos's <c>ct:DUE:ATTEMPT:NAME:ARGS</c>, made
/// from the scheduled time, so the same scheduled run always has the same id.
/// </summary>
public sealed record Run(
    string TaskId,
    string JobName,
    long DueMs,
    int Attempt,
    RunState State,
    long NotBeforeMs,
    string Arguments = "",
    string? AgentId = null,
    long? StartedMs = null,
    long? EndedMs = null,
    string Message = "",
    string? AgentUrl = null)
{
    public bool IsActive => State is RunState.Queued or RunState.Launching or RunState.Running;

    public bool IsInFlight => State is RunState.Launching or RunState.Running;

    /// <summary>Chronos's task id; Mesos forbids whitespace in ids, so it becomes '_' (the run table keeps the real job name).</summary>
    public static string MakeTaskId(string jobName, long dueMs, int attempt, string arguments)
    {
        var id = $"ct:{dueMs}:{attempt}:{jobName}:{arguments}";
        var chars = id.ToCharArray();
        for (var i = 0; i < chars.Length; i++)
        {
            if (char.IsWhiteSpace(chars[i]) || chars[i] == '/')
            {
                chars[i] = '_';
            }
        }

        return new string(chars, 0, Math.Min(chars.Length, 255));
    }
}
