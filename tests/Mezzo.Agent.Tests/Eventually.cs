using System.Diagnostics;

namespace Mezzo.Agent.Tests;

internal static class Eventually
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);

    /// <summary>Polls <paramref name="condition"/> until it holds or the deadline passes.</summary>
    public static async Task<bool> TrueAsync(Func<bool> condition, TimeSpan? timeout = null)
    {
        var deadline = Stopwatch.StartNew();
        var limit = timeout ?? DefaultTimeout;
        while (!condition())
        {
            if (deadline.Elapsed > limit)
            {
                return condition();
            }

            await Task.Delay(10);
        }

        return true;
    }
}

internal static class Proc
{
    /// <summary>True when the process no longer runs. A killed grandchild is reparented to pid 1,
    /// which in a container may never reap it, so a zombie counts as gone.</summary>
    public static bool IsGone(int pid)
    {
        try
        {
            return State(pid) is null or 'Z' or 'X';
        }
        catch (IOException)
        {
            return true;
        }
    }

    public static char? State(int pid) => Stat(pid) is { } fields ? fields[0][0] : null;

    /// <summary>Fields of /proc/pid/stat after the command name: [0] = state, [1] = ppid, [2] = pgrp, [3] = session.</summary>
    public static string[]? Stat(int pid)
    {
        string text;
        try
        {
            text = File.ReadAllText($"/proc/{pid}/stat");
        }
        catch (FileNotFoundException)
        {
            return null;
        }
        catch (DirectoryNotFoundException)
        {
            return null;
        }

        // The command name is in parentheses and may itself contain spaces or parentheses.
        return text[(text.LastIndexOf(')') + 2)..].Split(' ');
    }
}
