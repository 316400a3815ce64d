using System.Globalization;

namespace Mezzo.Supervisor;

/// <summary>
/// What the supervisor leaves behind in its run directory when the task is over: how it ended, and why if the
/// supervisor itself ended it. One line per field, so a half-written file can never parse as a valid one (the file is
/// renamed into place complete, and a missing <c>end</c> line marks anything else as truncated).
/// Shared with the agent (linked source), which reads it after the supervisor is gone.
/// </summary>
public sealed record ExitRecord(ExitRecord.Outcome How, int Value, string? Reason)
{
    public const string FileName = "exit";

    public enum Outcome
    {
        /// <summary>The task exited by itself; <see cref="Value"/> is its exit code.</summary>
        Exited,

        /// <summary>The task was ended by a signal; <see cref="Value"/> is the signal number.</summary>
        Killed,

        /// <summary>The task never started (bad executable, cgroup not joinable, ...); <see cref="Reason"/> says why.</summary>
        Failed,
    }

    public string Format()
    {
        var how = How switch
        {
            Outcome.Exited => "exited",
            Outcome.Killed => "killed",
            _ => "failed",
        };
        var text = string.Create(CultureInfo.InvariantCulture, $"mezzo-exit 1\n{how} {Value}\n");
        if (Reason is { } reason)
        {
            text += "reason " + reason.ReplaceLineEndings(" ") + "\n";
        }

        return text + "end\n";
    }

    /// <summary>Parses a record; null with <paramref name="error"/> set if it is not a complete, valid one.</summary>
    public static ExitRecord? Parse(string text, out string? error)
    {
        var lines = text.Split('\n');
        if (lines[0] != "mezzo-exit 1")
        {
            error = "not an exit record (bad header)";
            return null;
        }

        var end = Array.IndexOf(lines, "end");
        if (end < 2)
        {
            error = "truncated exit record (no end line)";
            return null;
        }

        var parts = lines[1].Split(' ');
        if (parts.Length != 2 || !int.TryParse(parts[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out var value))
        {
            error = $"bad status line '{lines[1]}'";
            return null;
        }

        Outcome? how = parts[0] switch
        {
            "exited" => Outcome.Exited,
            "killed" => Outcome.Killed,
            "failed" => Outcome.Failed,
            _ => null,
        };
        if (how is null)
        {
            error = $"bad status '{parts[0]}'";
            return null;
        }

        string? reason = null;
        for (var i = 2; i < end; i++)
        {
            if (lines[i].StartsWith("reason ", StringComparison.Ordinal))
            {
                reason = lines[i]["reason ".Length..];
            }
        }

        error = null;
        return new ExitRecord(how.Value, value, reason);
    }
}
