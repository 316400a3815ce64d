using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Mezzo.Core.Security;

namespace Mezzo.Cli.Commands;

/// <summary>Follows a task's stdout and stderr through the agent's /files/read API until told to stop, then drains.</summary>
public static class SandboxTail
{
    /// <summary>
    /// A client for the agent's files API, logged in as <paramref name="login"/> (an agent that authenticates reads
    /// needs it); an https:// agent is trusted through the caller's --tls-ca, else MEZZO_TLS_CA, as the master is.
    /// </summary>
    private static HttpClient Open(Uri agent, Credential? login, Hosting.Tls.TlsContext? tls = null)
    {
        var http = new HttpClient((tls ?? Client.ClientTls.Resolve()).CreateHandler(presentCertificate: false)) { BaseAddress = agent, Timeout = TimeSpan.FromSeconds(10) };
        if (login is not null)
        {
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", login.BasicParameter());
        }

        return http;
    }

    /// <summary>
    /// The sandbox directory of the executor that runs (or ran) <paramref name="taskId"/> on the agent, from its
    /// <c>/state</c>; null when the agent has none (yet).
    /// </summary>
    public static async Task<string?> FindTaskSandboxAsync(Uri agent, string frameworkId, string taskId, Credential? login, CancellationToken token)
    {
        using var http = Open(agent, login);
        var state = JsonNode.Parse(await http.GetStringAsync("state", token));
        foreach (var framework in (state?["frameworks"]?.AsArray() ?? []).Concat(state?["completed_frameworks"]?.AsArray() ?? []))
        {
            if (framework?["id"]?.GetValue<string>() != frameworkId)
            {
                continue;
            }

            foreach (var list in (string[])["executors", "completed_executors"])
            {
                foreach (var executor in framework[list]?.AsArray() ?? [])
                {
                    var tasks = (string[])["tasks", "queued_tasks", "completed_tasks"];
                    if (tasks.Any(t => executor?[t]?.AsArray().Any(task => task?["id"]?.GetValue<string>() == taskId) == true))
                    {
                        return executor!["directory"]?.GetValue<string>();
                    }
                }
            }
        }

        return null;
    }

    /// <summary>Writes what the file holds from <paramref name="offset"/> on; answers the offset after it.</summary>
    public static async Task<long> CopyFileAsync(Uri agent, string path, long offset, TextWriter output, Credential? login, CancellationToken token)
    {
        using var http = Open(agent, login);
        return await CopyAsync(http, path, offset, output, token);
    }

    /// <summary>Prints one sandbox file as it grows until <paramref name="stop"/>, then what was written meanwhile.</summary>
    public static async Task FollowFileAsync(Uri agent, string path, TextWriter output, Credential? login, CancellationToken stop)
    {
        using var http = Open(agent, login);
        long offset = 0;
        while (true)
        {
            var draining = stop.IsCancellationRequested;
            try
            {
                offset = await CopyAsync(http, path, offset, output, CancellationToken.None);
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

    public static async Task FollowAsync(Uri agent, string frameworkId, string executorId, TextWriter stdout, TextWriter stderr, Credential? login, CancellationToken stop, Hosting.Tls.TlsContext? tls = null)
    {
        using var http = Open(agent, login, tls);
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
                    outOffset = await CopyAsync(http, directory + "/stdout", outOffset, stdout, CancellationToken.None);
                    errOffset = await CopyAsync(http, directory + "/stderr", errOffset, stderr, CancellationToken.None);
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

    private static async Task<long> CopyAsync(HttpClient http, string path, long offset, TextWriter output, CancellationToken token)
    {
        while (true)
        {
            var json = JsonNode.Parse(await http.GetStringAsync($"files/read?path={Uri.EscapeDataString(path)}&offset={offset}&length=65536", token));
            var data = json?["data"]?.GetValue<string>() ?? "";
            if (data.Length == 0)
            {
                // Under --container-logger=logrotate the file is renamed away and starts over: a size below what was
                // read means a new file, read from its start.
                var size = JsonNode.Parse(await http.GetStringAsync($"files/read?path={Uri.EscapeDataString(path)}&offset=-1", token))?["offset"]?.GetValue<long>() ?? offset;
                return size < offset ? 0 : offset;
            }

            await output.WriteAsync(data);
            await output.FlushAsync(token);
            offset += System.Text.Encoding.UTF8.GetByteCount(data);
        }
    }
}
