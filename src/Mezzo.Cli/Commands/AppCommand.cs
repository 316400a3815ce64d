using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Mezzo.Cli.Client;
using Mezzo.Cli.Flags;

namespace Mezzo.Cli.Commands;

/// <summary>
/// `mezzo app list|show|deploy|scale|restart|delete|tasks`: a client of the services framework's Marathon API, with
/// tables and, for changes, a wait on the deployment they start.
/// </summary>
public static class AppCommand
{
    private const string DefaultServices = "http://127.0.0.1:8080";

    public static Command Create()
    {
        var services = new Option<string?>("--services")
        {
            Description = $"URL of the services (Marathon) API [env: MEZZO_SERVICES; config file key: services; default: {DefaultServices}]",
            HelpName = "url",
        };
        var noWait = new Option<bool>("--no-wait") { Description = "Return once the change is accepted instead of waiting for its deployment" };
        var timeout = FlagOption.Duration("timeout", "How long to wait for a deployment", TimeSpan.FromMinutes(10));
        var id = new Argument<string>("id") { Description = "App id, e.g. /web" };
        var file = new Argument<string>("file") { Description = "App definition (Marathon JSON)" };
        var count = new Argument<int>("instances") { Description = "New instance count" };
        var force = new Option<bool>("--force") { Description = "Override a deployment in progress" };
        var login = new ClientCredentials.RecursiveOptions();

        var list = new Command("list", "List apps");
        list.SetAction((parsed, token) => RunAsync(parsed, services, login, async client =>
        {
            var apps = (await client.GetAsync("/v2/apps", token))!["apps"]!.AsArray();
            Table(["ID", "INSTANCES", "RUNNING", "HEALTHY", "CPUS", "MEM", "DEPLOYING", "CMD"], apps.Select(a => new[]
            {
                Text(a!["id"]), Text(a["instances"]), Text(a["tasksRunning"]), Text(a["tasksHealthy"]), Text(a["cpus"]), Text(a["mem"]),
                a["deployments"]!.AsArray().Count > 0 ? "yes" : "no", Text(a["cmd"]),
            }));
            return 0;
        }));

        var show = new Command("show", "Show an app's definition and status") { id };
        show.SetAction((parsed, token) => RunAsync(parsed, services, login, async client =>
        {
            var app = (await client.GetAsync("/v2/apps" + Id(parsed.GetValue(id)!), token))!["app"]!;
            Console.WriteLine(app.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
            return 0;
        }));

        var tasks = new Command("tasks", "List an app's tasks") { id };
        tasks.SetAction((parsed, token) => RunAsync(parsed, services, login, async client =>
        {
            var list = (await client.GetAsync($"/v2/apps{Id(parsed.GetValue(id)!)}/tasks", token))!["tasks"]!.AsArray();
            Table(["TASK", "STATE", "HEALTHY", "HOST", "PORTS", "VERSION"], list.Select(t => new[]
            {
                Text(t!["id"]), Text(t["state"]), t["healthCheckResults"] is JsonArray { Count: > 0 } h ? Text(h[0]!["alive"]) : "-",
                Text(t["host"]), string.Join(",", t["ports"]!.AsArray().Select(Text)), Text(t["version"]),
            }));
            return 0;
        }));

        var deploy = new Command("deploy", "Create or update an app from a Marathon JSON file") { file, force, noWait, timeout };
        deploy.SetAction((parsed, token) => RunAsync(parsed, services, login, async client =>
        {
            var path = parsed.GetValue(file)!;
            if (!File.Exists(path))
            {
                await Console.Error.WriteLineAsync($"No such file: {path}");
                return 1;
            }

            var json = await File.ReadAllTextAsync(path, token);
            var appId = JsonNode.Parse(json)?["id"]?.GetValue<string>() ?? "";
            // The file is the whole definition: fields it leaves out go back to their defaults.
            var query = parsed.GetValue(force) ? "?partialUpdate=false&force=true" : "?partialUpdate=false";
            var response = await client.SendAsync(HttpMethod.Put, $"/v2/apps{Id(appId)}{query}", json, token);
            return await FollowAsync(client, response, parsed.GetValue(noWait), parsed.GetValue(timeout), token);
        }));

        var scale = new Command("scale", "Change an app's instance count") { id, count, force, noWait, timeout };
        scale.SetAction((parsed, token) => RunAsync(parsed, services, login, async client =>
        {
            var query = parsed.GetValue(force) ? "?force=true" : "";
            var body = new JsonObject { ["instances"] = parsed.GetValue(count) }.ToJsonString();
            var response = await client.SendAsync(HttpMethod.Put, $"/v2/apps{Id(parsed.GetValue(id)!)}{query}", body, token);
            return await FollowAsync(client, response, parsed.GetValue(noWait), parsed.GetValue(timeout), token);
        }));

        var restart = new Command("restart", "Replace all of an app's tasks (rolling, per its upgradeStrategy)") { id, force, noWait, timeout };
        restart.SetAction((parsed, token) => RunAsync(parsed, services, login, async client =>
        {
            var query = parsed.GetValue(force) ? "?force=true" : "";
            var response = await client.SendAsync(HttpMethod.Post, $"/v2/apps{Id(parsed.GetValue(id)!)}/restart{query}", null, token);
            return await FollowAsync(client, response, parsed.GetValue(noWait), parsed.GetValue(timeout), token);
        }));

        var delete = new Command("delete", "Remove an app and kill its tasks") { id, force, noWait, timeout };
        delete.SetAction((parsed, token) => RunAsync(parsed, services, login, async client =>
        {
            var query = parsed.GetValue(force) ? "?force=true" : "";
            var response = await client.SendAsync(HttpMethod.Delete, $"/v2/apps{Id(parsed.GetValue(id)!)}{query}", null, token);
            return await FollowAsync(client, response, parsed.GetValue(noWait), parsed.GetValue(timeout), token);
        }));

        var command = new Command("app", "Manage long-running apps through the services (Marathon) API") { list, show, tasks, deploy, scale, restart, delete };
        command.Options.Add(services);
        services.Recursive = true;
        login.AddTo(command);
        return command;
    }

    private static string Id(string id) => "/" + id.Trim('/');

    private static string Text(JsonNode? node) => node switch
    {
        null => "",
        JsonValue value when value.TryGetValue<string>(out var text) => text,
        _ => node.ToJsonString(),
    };

    private static async Task<int> RunAsync(ParseResult parsed, Option<string?> services, ClientCredentials.RecursiveOptions login, Func<ApiClient, Task<int>> action)
    {
        Uri baseUri;
        ClientCredentials.Resolved? credential;
        Hosting.Tls.TlsContext tls;
        try
        {
            baseUri = ClientConfig.BaseUris(ClientConfig.Resolve(parsed.GetValue(services), "services", DefaultServices))[0];
            credential = login.Resolve(parsed);
            tls = ClientTls.Resolve();
        }
        catch (CliException ex)
        {
            await Console.Error.WriteLineAsync(ex.Message);
            return ex.ExitCode;
        }

        using var client = new ApiClient(baseUri, credential, tls);
        try
        {
            return await action(client);
        }
        catch (ApiException ex)
        {
            await Console.Error.WriteLineAsync(ex.Message);
            return ExitCodes.Refused;
        }
        catch (HttpRequestException ex)
        {
            await Console.Error.WriteLineAsync($"Cannot reach the services API at {client.BaseUri}: {ex.Message}");
            return ExitCodes.Unreachable;
        }
    }

    /// <summary>Prints the deployment a change started and, unless told not to, waits for it with a progress line per change.</summary>
    private static async Task<int> FollowAsync(ApiClient client, JsonNode? response, bool noWait, TimeSpan timeout, CancellationToken token)
    {
        var deploymentId = response?["deploymentId"]?.GetValue<string>() ?? response?["deployments"]?[0]?["id"]?.GetValue<string>();
        if (deploymentId is null)
        {
            Console.WriteLine(response?.ToJsonString());
            return 0;
        }

        Console.WriteLine($"Deployment {deploymentId} started");
        if (noWait)
        {
            return 0;
        }

        var deadline = DateTime.UtcNow + timeout;
        string? last = null;
        while (DateTime.UtcNow < deadline)
        {
            var deployments = (await client.GetAsync("/v2/deployments", token))!.AsArray();
            var deployment = deployments.FirstOrDefault(d => d!["id"]!.GetValue<string>() == deploymentId);
            if (deployment is null)
            {
                Console.WriteLine($"Deployment {deploymentId} finished");
                return 0;
            }

            var progress = new StringBuilder($"  step {deployment["currentStep"]}/{deployment["totalSteps"]}:");
            foreach (var action in deployment["currentActions"]!.AsArray())
            {
                var appId = action!["app"]!.GetValue<string>();
                var app = (await client.GetAsync("/v2/apps" + appId, token, allowMissing: true))?["app"];
                progress.Append(CultureInfo.InvariantCulture, $" {action["action"]} {appId}");
                if (app is not null)
                {
                    progress.Append(CultureInfo.InvariantCulture, $" ({app["tasksRunning"]}/{app["instances"]} running, {app["tasksHealthy"]} healthy)");
                }
            }

            if (progress.ToString() != last)
            {
                Console.WriteLine(progress);
                last = progress.ToString();
            }

            await Task.Delay(TimeSpan.FromMilliseconds(250), token);
        }

        await Console.Error.WriteLineAsync($"Deployment {deploymentId} did not finish within {timeout}; see {client.BaseUri}v2/deployments");
        return ExitCodes.TimedOut;
    }

    private static void Table(string[] headers, IEnumerable<string[]> rows)
    {
        var all = rows.ToList();
        var widths = headers.Select((h, i) => Math.Max(h.Length, all.Count == 0 ? 0 : all.Max(r => r[i].Length))).ToArray();
        Console.WriteLine(string.Join("  ", headers.Select((h, i) => h.PadRight(widths[i]))).TrimEnd());
        foreach (var row in all)
        {
            Console.WriteLine(string.Join("  ", row.Select((c, i) => c.PadRight(widths[i]))).TrimEnd());
        }
    }

    private sealed class ApiException(string message) : Exception(message);

    private sealed class ApiClient : IDisposable
    {
        private readonly HttpClient _http;
        private readonly ClientCredentials.Resolved? _credential;

        public ApiClient(Uri baseUri, ClientCredentials.Resolved? credential, Hosting.Tls.TlsContext tls)
        {
            _http = new(tls.CreateHandler(presentCertificate: false)) { Timeout = TimeSpan.FromSeconds(30) };
            BaseUri = baseUri;
            _credential = credential;
            ClientCredentials.LogIn(_http, credential);
        }

        public Uri BaseUri { get; }

        public async Task<JsonNode?> GetAsync(string path, CancellationToken token, bool allowMissing = false)
        {
            using var response = await _http.GetAsync(new Uri(BaseUri, path.TrimStart('/')), token);
            if (allowMissing && response.StatusCode == System.Net.HttpStatusCode.NotFound)
            {
                return null;
            }

            return await ReadAsync(response, token);
        }

        public async Task<JsonNode?> SendAsync(HttpMethod method, string path, string? json, CancellationToken token)
        {
            using var request = new HttpRequestMessage(method, new Uri(BaseUri, path.TrimStart('/')));
            if (json is not null)
            {
                request.Content = new StringContent(json, Encoding.UTF8, "application/json");
            }

            using var response = await _http.SendAsync(request, token);
            return await ReadAsync(response, token);
        }

        private async Task<JsonNode?> ReadAsync(HttpResponseMessage response, CancellationToken token)
        {
            var text = await response.Content.ReadAsStringAsync(token);
            JsonNode? body = null;
            try
            {
                body = text.Length == 0 ? null : JsonNode.Parse(text);
            }
            catch (System.Text.Json.JsonException)
            {
            }

            if (response.StatusCode == System.Net.HttpStatusCode.Unauthorized)
            {
                throw new ApiException(ClientCredentials.Failure("services API", _credential, text.Trim()));
            }

            if (!response.IsSuccessStatusCode)
            {
                var message = body?["message"]?.GetValue<string>() ?? text;
                var details = body?["details"] is JsonArray list
                    ? "\n" + string.Join("\n", list.Select(d => $"  {d!["path"]}: {string.Join("; ", d["errors"]!.AsArray().Select(e => e!.ToString()))}"))
                    : "";
                var deployments = body?["deployments"] is JsonArray ids ? " (deployments: " + string.Join(", ", ids.Select(d => d!["id"])) + ")" : "";
                throw new ApiException($"{(int)response.StatusCode} {message}{deployments}{details}");
            }

            return body;
        }

        public void Dispose() => _http.Dispose();
    }
}
