using System.Text.Json.Nodes;

namespace Mezzo.Cli.Commands;

/// <summary>Follows a task's stdout and stderr through the agent's /files/read API until told to stop, then drains.</summary>
public static class SandboxTail
{
    public static async Task FollowAsync(Uri agent, string frameworkId, string executorId, TextWriter stdout, TextWriter stderr, CancellationToken stop)
    {
        using var http = new HttpClient { BaseAddress = agent, Timeout = TimeSpan.FromSeconds(10) };
        string? directory = null;
        long outOffset = 0, errOffset = 0;
        var draining = false;
        while (true)
        {
            draining = stop.IsCancellationRequested;
            try
            {
                directory ??= await FindSandboxAsync(http, frameworkId, executorId);
                if (directory is not null)
                {
                    outOffset = await CopyAsync(http, directory + "/stdout", outOffset, stdout);
                    errOffset = await CopyAsync(http, directory + "/stderr", errOffset, stderr);
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or System.Text.Json.JsonException)
            {
                // The agent may be briefly unreachable; output is read again from the same offset.
            }

            if (draining)
            {
                return;
            }

            try
            {
                await Task.Delay(TimeSpan.FromMilliseconds(200), stop);
            }
            catch (OperationCanceledException)
            {
            }
        }
    }

    private static async Task<string?> FindSandboxAsync(HttpClient http, string frameworkId, string executorId)
    {
        var state = JsonNode.Parse(await http.GetStringAsync("state"));
        foreach (var framework in state?["frameworks"]?.AsArray() ?? [])
        {
            if (framework?["id"]?.GetValue<string>() != frameworkId)
            {
                continue;
            }

            foreach (var list in (string[])["executors", "completed_executors"])
            {
                foreach (var executor in framework[list]?.AsArray() ?? [])
                {
                    if (executor?["id"]?.GetValue<string>() == executorId)
                    {
                        return executor["directory"]?.GetValue<string>();
                    }
                }
            }
        }

        return null;
    }

    private static async Task<long> CopyAsync(HttpClient http, string path, long offset, TextWriter output)
    {
        while (true)
        {
            var json = JsonNode.Parse(await http.GetStringAsync($"files/read?path={Uri.EscapeDataString(path)}&offset={offset}&length=65536"));
            var data = json?["data"]?.GetValue<string>() ?? "";
            if (data.Length == 0)
            {
                // Under --container-logger=logrotate the file is renamed away and starts over: a size below what was
                // read means a new file, read from its start.
                var size = JsonNode.Parse(await http.GetStringAsync($"files/read?path={Uri.EscapeDataString(path)}&offset=-1"))?["offset"]?.GetValue<long>() ?? offset;
                return size < offset ? 0 : offset;
            }

            await output.WriteAsync(data);
            await output.FlushAsync();
            offset += System.Text.Encoding.UTF8.GetByteCount(data);
        }
    }
}
