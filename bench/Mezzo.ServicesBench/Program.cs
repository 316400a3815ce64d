// Deploys through the Marathon API of a real `mezzo dev` and times what a user waits for:
//   1. POST an app of N instances → all N running (the deployment gone from /v2/deployments);
//   2. POST /v2/apps/{id}/restart of an app of R instances (default upgradeStrategy) → all R replaced.
//
//   dotnet run -c Release --project bench/Mezzo.ServicesBench -- [--instances 1000] [--restart 100] [--work-root DIR]
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

var instances = int.Parse(Arg("--instances") ?? "1000", CultureInfo.InvariantCulture);
var restart = int.Parse(Arg("--restart") ?? "100", CultureInfo.InvariantCulture);
var workRoot = Arg("--work-root") ?? (Directory.Exists("/dev/shm") ? "/dev/shm" : Path.GetTempPath());
var workDir = Path.Combine(workRoot, "mezzo-services-bench-" + Guid.NewGuid().ToString("N")[..8]);
var cli = Path.Combine(AppContext.BaseDirectory, "mezzo.dll");
var dev = Process.Start(new ProcessStartInfo("dotnet",
    [cli, "dev", "--master-port", "0", "--agent-port", "0", "--services-port", "0", "--jobs-port", "0", "--work-dir", workDir, "--resources", "cpus:64;mem:65536;disk:1000;ports:[20000-29999]"])
{
    RedirectStandardOutput = true,
    RedirectStandardError = true,
})!;
dev.ErrorDataReceived += (_, _) => { };
dev.BeginErrorReadLine();
string? services = null;
while (services is null && dev.StandardOutput.ReadLine() is { } line)
{
    if (Regex.Match(line, @"services\s+(http://\S+)") is { Success: true } m)
    {
        services = m.Groups[1].Value;
    }
}

_ = dev.StandardOutput.ReadToEndAsync();
using var http = new HttpClient { BaseAddress = new Uri(services ?? throw new InvalidOperationException("mezzo dev did not start")), Timeout = TimeSpan.FromSeconds(60) };
try
{
    // Timed from a subscribed framework: registration is not what a deployment costs.
    await WaitAsync(async () => (await GetAsync("/v2/info"))["frameworkId"] is not null);
    var deploy = await TimeAsync("/big", $$"""{"id":"/big","cmd":"sleep 3600","cpus":0.01,"mem":1,"instances":{{instances}},"portDefinitions":[]}""", null);
    Console.WriteLine($"deploy {instances} instances: {deploy.TotalSeconds:F2} s ({instances / deploy.TotalSeconds:F0} instances/s)");
    await SendAsync(HttpMethod.Delete, "/v2/apps/big", null);
    await WaitAsync(async () => (await GetAsync("/v2/deployments")).AsArray().Count == 0 && (await GetAsync("/v2/tasks"))["tasks"]!.AsArray().Count == 0);

    await TimeAsync("/roll", $$"""{"id":"/roll","cmd":"sleep 3600","cpus":0.01,"mem":1,"instances":{{restart}}}""", null);
    var rolled = await TimeAsync("/roll", null, "/v2/apps/roll/restart");
    Console.WriteLine($"rolling restart of {restart} instances: {rolled.TotalSeconds:F2} s");
    await SendAsync(HttpMethod.Delete, "/v2/apps/roll", null);
    await WaitAsync(async () => (await GetAsync("/v2/tasks"))["tasks"]!.AsArray().Count == 0);
}
finally
{
    // SIGTERM: mezzo dev stops cleanly and kills whatever tasks are left.
    using (var term = Process.Start("kill", ["-TERM", dev.Id.ToString(CultureInfo.InvariantCulture)]))
    {
        await term.WaitForExitAsync();
    }

    await dev.WaitForExitAsync();
    Directory.Delete(workDir, recursive: true);
}

async Task<TimeSpan> TimeAsync(string appId, string? create, string? restartPath)
{
    var clock = Stopwatch.StartNew();
    var result = create is not null ? await SendAsync(HttpMethod.Post, "/v2/apps", create) : await SendAsync(HttpMethod.Post, restartPath!, "");
    var deploymentId = result["deployments"]?[0]?["id"]?.GetValue<string>() ?? result["deploymentId"]!.GetValue<string>();
    await WaitAsync(async () => !(await GetAsync("/v2/deployments")).AsArray().Any(d => d!["id"]!.GetValue<string>() == deploymentId));
    var elapsed = clock.Elapsed;
    var app = (await GetAsync("/v2/apps" + appId))["app"]!;
    if (app["tasksRunning"]!.GetValue<int>() != app["instances"]!.GetValue<int>())
    {
        throw new InvalidOperationException($"{appId}: {app["tasksRunning"]} of {app["instances"]} running after its deployment");
    }

    return elapsed;
}

async Task WaitAsync(Func<Task<bool>> condition)
{
    var deadline = Stopwatch.StartNew();
    while (!await condition())
    {
        if (deadline.Elapsed > TimeSpan.FromMinutes(10))
        {
            throw new TimeoutException("Gave up after 10 minutes");
        }

        await Task.Delay(20);
    }
}

async Task<JsonNode> GetAsync(string path) => JsonNode.Parse(await http.GetStringAsync(new Uri(path, UriKind.Relative)))!;

async Task<JsonNode> SendAsync(HttpMethod method, string path, string? json)
{
    using var request = new HttpRequestMessage(method, new Uri(path, UriKind.Relative));
    if (json is not null)
    {
        request.Content = new StringContent(json, Encoding.UTF8, "application/json");
    }

    using var response = await http.SendAsync(request);
    var text = await response.Content.ReadAsStringAsync();
    return response.IsSuccessStatusCode ? JsonNode.Parse(text)! : throw new InvalidOperationException($"{method} {path}: {(int)response.StatusCode} {text}");
}

string? Arg(string name) => args.SkipWhile(a => a != name).Skip(1).FirstOrDefault();
