using System.CommandLine;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Mezzo.Cli.Client;

namespace Mezzo.Cli.Commands;

/// <summary><c>mezzo job list|show|add|run|delete|history|graph</c>: a client of the jobs (Chronos) REST API.</summary>
public static class JobCommand
{
    private const string DefaultJobs = "http://127.0.0.1:4400";

    public static Command Create()
    {
        var jobs = new Option<string?>("--jobs")
        {
            Description = $"The jobs service (mezzo jobs / mezzo dev) [env: MEZZO_JOBS; config file key: jobs; default: {DefaultJobs}]",
            HelpName = "url",
            Recursive = true,
        };
        var name = new Argument<string>("name") { Description = "The job's name" };
        var file = new Argument<string>("file") { Description = "A Chronos job JSON file (with 'schedule' or 'parents')" };
        var login = new ClientCredentials.RecursiveOptions();
        var arguments = new Option<string?>("--arguments") { Description = "Arguments appended to a shell: false job's command for this run" };

        var list = new Command("list", "List jobs: schedule or parents, last result and counters");
        list.SetAction((parsed, token) => RunAsync(parsed, jobs, login, async http =>
        {
            var all = await GetJsonAsync(http, "v1/scheduler/jobs", token);
            var rows = all!.AsArray().Select(j => new[]
            {
                Text(j, "name"),
                j!["parents"] is JsonArray parents ? "after " + string.Join(",", parents.Select(p => p!.GetValue<string>())) : Text(j, "schedule") + (Text(j, "scheduleTimeZone") is { Length: > 0 } tz ? " " + tz : ""),
                LastResult(j),
                j["successCount"]!.ToJsonString(),
                j["errorCount"]!.ToJsonString(),
                j["disabled"]!.GetValue<bool>() ? "disabled" : "",
            }).ToList();
            Console.Write(Table(["NAME", "SCHEDULE", "LAST", "OK", "ERRORS", ""], rows));
            return 0;
        }));

        var show = new Command("show", "Show a job's JSON") { name };
        show.SetAction((parsed, token) => RunAsync(parsed, jobs, login, async http =>
        {
            var job = (await GetJsonAsync(http, "v1/scheduler/jobs", token))!.AsArray().FirstOrDefault(j => Text(j, "name") == parsed.GetValue(name));
            if (job is null)
            {
                await Console.Error.WriteLineAsync($"Job '{parsed.GetValue(name)}' not found");
                return 1;
            }

            Console.WriteLine(job.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            return 0;
        }));

        var add = new Command("add", "Add or replace a job from a Chronos JSON file") { file };
        add.SetAction((parsed, token) => RunAsync(parsed, jobs, login, async http =>
        {
            var path = parsed.GetValue(file)!;
            if (!File.Exists(path))
            {
                await Console.Error.WriteLineAsync($"'{path}' does not exist");
                return 1;
            }

            var text = await File.ReadAllTextAsync(path, token);
            var dependent = JsonNode.Parse(text, documentOptions: new JsonDocumentOptions { AllowTrailingCommas = true }) is JsonObject o && o.ContainsKey("parents");
            using var content = new StringContent(text, Encoding.UTF8, "application/json");
            using var response = await http.PostAsync(dependent ? "v1/scheduler/dependency" : "v1/scheduler/iso8601", content, token);
            return await ReportAsync(response, $"Job from {path} saved", token);
        }));

        var run = new Command("run", "Run a job now") { name, arguments };
        run.SetAction((parsed, token) => RunAsync(parsed, jobs, login, async http =>
        {
            var query = parsed.GetValue(arguments) is { } args ? "?arguments=" + Uri.EscapeDataString(args) : "";
            using var response = await http.PutAsync($"v1/scheduler/job/{Uri.EscapeDataString(parsed.GetValue(name)!)}{query}", null, token);
            return await ReportAsync(response, $"Job '{parsed.GetValue(name)}' queued", token);
        }));

        var delete = new Command("delete", "Delete a job (its children are re-parented as Chronos does)") { name };
        delete.SetAction((parsed, token) => RunAsync(parsed, jobs, login, async http =>
        {
            using var response = await http.DeleteAsync($"v1/scheduler/job/{Uri.EscapeDataString(parsed.GetValue(name)!)}", token);
            return await ReportAsync(response, $"Job '{parsed.GetValue(name)}' deleted", token);
        }));

        var history = new Command("history", "A job's recent runs: scheduled time, attempt, state, duration, why") { name };
        history.SetAction((parsed, token) => RunAsync(parsed, jobs, login, async http =>
        {
            using var response = await http.GetAsync($"v1/scheduler/job/stat/{Uri.EscapeDataString(parsed.GetValue(name)!)}", token);
            if (response.StatusCode != HttpStatusCode.OK)
            {
                return await ReportAsync(response, "", token);
            }

            var stat = JsonNode.Parse(await response.Content.ReadAsStringAsync(token))!;
            var rows = stat["taskStatHistory"]!.AsArray().Select(r => new[]
            {
                Text(r, "scheduledTime"), r!["attempt"]!.ToJsonString(), Text(r, "state"), Text(r, "duration"), Text(r, "slaveId"), Text(r, "message"),
            }).ToList();
            Console.Write(Table(["SCHEDULED", "ATTEMPT", "STATE", "DURATION", "AGENT", "MESSAGE"], rows));
            return 0;
        }));

        var graph = new Command("graph", "The dependency graph as a dot file (pipe to `dot -Tsvg`)");
        graph.SetAction((parsed, token) => RunAsync(parsed, jobs, login, async http =>
        {
            Console.Write(await http.GetStringAsync("v1/scheduler/graph/dot", token));
            return 0;
        }));

        var command = new Command("job", "Manage jobs on the jobs service (Chronos API): list, show, add, run, delete, history, graph")
        {
            jobs, list, show, add, run, delete, history, graph,
        };
        login.AddTo(command);
        return command;
    }

    private static async Task<int> RunAsync(ParseResult parsed, Option<string?> jobs, ClientCredentials.RecursiveOptions login, Func<HttpClient, Task<int>> action)
    {
        Uri baseUri;
        ClientCredentials.Resolved? credential;
        Hosting.Tls.TlsContext tls;
        try
        {
            baseUri = ClientConfig.BaseUris(ClientConfig.Resolve(parsed.GetValue(jobs), "jobs", DefaultJobs))[0];
            credential = login.Resolve(parsed);
            tls = ClientTls.Resolve();
        }
        catch (CliException ex)
        {
            await Console.Error.WriteLineAsync(ex.Message);
            return ex.ExitCode;
        }

        using var http = new HttpClient(tls.CreateHandler(presentCertificate: false)) { BaseAddress = baseUri, Timeout = TimeSpan.FromSeconds(30) };
        ClientCredentials.LogIn(http, credential);
        try
        {
            return await action(http);
        }
        catch (HttpRequestException ex) when (ex.StatusCode == System.Net.HttpStatusCode.Unauthorized)
        {
            await Console.Error.WriteLineAsync(ClientCredentials.Failure($"jobs service at {http.BaseAddress}", credential, ""));
            return ExitCodes.Refused;
        }
        catch (HttpRequestException ex) when (ex.StatusCode is { } status)
        {
            await Console.Error.WriteLineAsync($"The jobs service at {http.BaseAddress} answered {(int)status}: {ex.Message}");
            return ExitCodes.Refused;
        }
        catch (HttpRequestException ex)
        {
            await Console.Error.WriteLineAsync($"Cannot reach the jobs service at {http.BaseAddress}: {ex.Message}");
            return ExitCodes.Unreachable;
        }
        catch (JsonException ex)
        {
            await Console.Error.WriteLineAsync($"Not JSON: {ex.Message}");
            return ExitCodes.Refused;
        }
    }

    private static async Task<JsonNode?> GetJsonAsync(HttpClient http, string path, CancellationToken token) =>
        JsonNode.Parse(await http.GetStringAsync(path, token));

    private static async Task<int> ReportAsync(HttpResponseMessage response, string success, CancellationToken token)
    {
        if (response.IsSuccessStatusCode)
        {
            Console.WriteLine(success);
            return 0;
        }

        var body = await response.Content.ReadAsStringAsync(token);
        if (response.StatusCode == System.Net.HttpStatusCode.Unauthorized)
        {
            var sent = response.RequestMessage?.Headers.Authorization is not null ? "the login sent" : null;
            await Console.Error.WriteLineAsync(ClientCredentials.Failure("jobs service", sent, body.Trim()));
            return 1;
        }

        // The iso8601 endpoint answers Chronos's {"message": ..., "status": ...}; the others plain text.
        var message = body.StartsWith('{') && JsonNode.Parse(body)?["message"] is JsonValue m ? m.GetValue<string>() : body;
        await Console.Error.WriteLineAsync($"{(int)response.StatusCode} {response.ReasonPhrase}: {message}");
        return 1;
    }

    private static string Text(JsonNode? node, string field) => node?[field] is JsonValue v && v.TryGetValue<string>(out var s) ? s : "";

    private static string LastResult(JsonNode? job)
    {
        var success = Text(job, "lastSuccess");
        var error = Text(job, "lastError");
        if (success.Length == 0 && error.Length == 0)
        {
            return "-";
        }

        return string.CompareOrdinal(success, error) >= 0 ? $"ok {success}" : $"failed {error}";
    }

    private static string Table(string[] headers, List<string[]> rows)
    {
        var widths = headers.Select((h, i) => Math.Max(h.Length, rows.Count == 0 ? 0 : rows.Max(r => r[i].Length))).ToArray();
        var text = new StringBuilder();
        void Line(string[] cells) => text.AppendLine(string.Join("  ", cells.Select((c, i) => i == cells.Length - 1 ? c : c.PadRight(widths[i]))).TrimEnd());
        Line(headers);
        rows.ForEach(Line);
        return text.ToString();
    }
}
