using System.Globalization;

namespace Mezzo.Agent.Fetching;

/// <summary>Fetcher lines in the sandbox's stderr, in glog's layout as Mesos's fetcher writes them, so a user
/// reading the task's stderr sees what was fetched (or why not) before the task's own output.</summary>
internal sealed class FetchLog(string path, TimeProvider time)
{
    public void Info(string message) => Write('I', message);

    public void Error(string message) => Write('E', message);

    private void Write(char level, string message)
    {
        var now = time.GetUtcNow();
        var line = string.Create(CultureInfo.InvariantCulture, $"{level}{now:MMdd HH:mm:ss.ffffff} {Environment.ProcessId} fetcher] {message}\n");
        try
        {
            // Opened per line: a shared cache download may outlive the fetch whose log it writes to.
            File.AppendAllText(path, line);
        }
        catch (IOException)
        {
            // The log is a courtesy; a full disk shows up as the fetch's own error.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
