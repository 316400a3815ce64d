using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using Mezzo.Core.Resources;
using Mezzo.Framework;
using Mezzo.Protocol.V1;

// Master failover benchmark: a real etcd, N real `mezzo master` processes on it, one agent that finds the leader
// through etcd and one SDK framework (given the list of masters) with a running task. Each run kill -9s the leader and
// measures, from the kill: a new leader serving (/metrics/snapshot master/elected = 1 and its /master/state answers),
// the framework resubscribed (a new SUBSCRIBED event), and the agent re-registered (active in the new leader's state).
// The killed master is then restarted on its port as a standby before the next run.
//   dotnet run -c Release --project bench/Mezzo.FailoverBench -- [--runs 10] [--masters 3] [--ttl 4]
var runs = ArgValue("--runs", 10);
var masterCount = ArgValue("--masters", 3);
var ttl = ArgValue("--ttl", 4);
var root = Path.Combine(Path.GetTempPath(), "mezzo-failover-" + Guid.NewGuid().ToString("N")[..8]);
Directory.CreateDirectory(root);
var cli = Path.Combine(AppContext.BaseDirectory, "mezzo.dll");
var processes = new List<Process>();
using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { Timeout = TimeSpan.FromSeconds(5) };

Process Start(string file, IEnumerable<string> arguments, string log)
{
    var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
    foreach (var a in arguments)
    {
        info.ArgumentList.Add(a);
    }

    var process = Process.Start(info)!;
    var writer = new StreamWriter(Path.Combine(root, log), append: true) { AutoFlush = true };
    process.OutputDataReceived += (_, e) => { lock (writer) { writer.WriteLine(e.Data); } };
    process.ErrorDataReceived += (_, e) => { lock (writer) { writer.WriteLine(e.Data); } };
    process.BeginOutputReadLine();
    process.BeginErrorReadLine();
    processes.Add(process);
    return process;
}

var etcdPort = FreePort();
var peerPort = FreePort();
Start("etcd", ["--name", "bench", "--data-dir", Path.Combine(root, "etcd"), "--listen-client-urls", $"http://127.0.0.1:{etcdPort}",
    "--advertise-client-urls", $"http://127.0.0.1:{etcdPort}", "--listen-peer-urls", $"http://127.0.0.1:{peerPort}",
    "--initial-advertise-peer-urls", $"http://127.0.0.1:{peerPort}", "--initial-cluster", $"bench=http://127.0.0.1:{peerPort}",
    "--logger", "zap", "--log-level", "warn"], "etcd.log");
var store = $"etcd://127.0.0.1:{etcdPort}";
await Until(async () => (await http.GetStringAsync($"http://127.0.0.1:{etcdPort}/health")).Contains("true", StringComparison.Ordinal), TimeSpan.FromSeconds(20));

var ports = Enumerable.Range(0, masterCount).Select(_ => FreePort()).ToArray();
var masters = new Process[masterCount];
Process StartMaster(int i) => masters[i] = Start("dotnet", [cli, "master", "--port", ports[i].ToString(CultureInfo.InvariantCulture), "--ip", "127.0.0.1",
    "--hostname", "127.0.0.1", "--work-dir", Path.Combine(root, $"m{i}"), "--store", store, "--leader-lease-ttl", $"{ttl}secs"], $"master{i}.log");
for (var i = 0; i < masterCount; i++)
{
    StartMaster(i);
}

async Task<int?> Leader()
{
    for (var i = 0; i < masterCount; i++)
    {
        try
        {
            var metrics = JsonNode.Parse(await http.GetStringAsync($"http://127.0.0.1:{ports[i]}/metrics/snapshot"))!;
            if ((double)metrics["master/elected"]! == 1)
            {
                await http.GetStringAsync($"http://127.0.0.1:{ports[i]}/master/state");
                return i;
            }
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
        }
    }

    return null;
}

async Task<string?> ActiveAgent(int master)
{
    try
    {
        var state = JsonNode.Parse(await http.GetStringAsync($"http://127.0.0.1:{ports[master]}/master/state"))!;
        return state["slaves"]!.AsArray().Where(s => (bool?)s!["active"] == true).Select(s => (string?)s!["id"]).FirstOrDefault();
    }
    catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
    {
        return null;
    }
}

var results = new List<(double Serving, double Framework, double Agent)>();
var agentDir = Path.Combine(root, "agent");
var agent = Start("dotnet", [cli, "agent", "--master", store, "--port", "0", "--ip", "127.0.0.1", "--hostname", "127.0.0.1", "--work-dir", agentDir,
    "--resources", "cpus:2;mem:1024", "--isolation", "posix/cpu,posix/mem", "--allow-root-tasks"], "agent.log");
try
{
    await Until(async () => await Leader() is { } l && await ActiveAgent(l) is not null, TimeSpan.FromSeconds(60));
    var subscribed = 0;
    await using var client = new SchedulerClient(new SchedulerOptions
    {
        Master = string.Join(',', ports.Select(p => $"127.0.0.1:{p}")),
        FrameworkInfo = new FrameworkInfo { User = "root", Name = "failover-bench", FailoverTimeout = 600 },
    });
    var running = new TaskCompletionSource();
    var pump = Task.Run(async () =>
    {
        var launched = false;
        await foreach (var ev in client.Events.ReadAllAsync())
        {
            switch (ev.Type)
            {
                case EventType.SUBSCRIBED:
                    Interlocked.Increment(ref subscribed);
                    break;
                case EventType.OFFERS when !launched:
                    launched = true;
                    var offer = ev.Offers!.Offers![0];
                    await client.LaunchAsync(offer, [new TaskInfo
                    {
                        Name = "survivor",
                        TaskId = new TaskID { Value = "survivor" },
                        AgentId = offer.AgentId,
                        Resources = ResourceConversion.ToWire(Resources.Parse("cpus:0.1;mem:32")),
                        Command = new CommandInfo { Shell = true, Value = "sleep 100000" },
                    }]);
                    break;
                case EventType.UPDATE when ev.Update!.Status!.State == Mezzo.Core.Tasks.TaskState.TASK_RUNNING:
                    running.TrySetResult();
                    break;
                default:
                    break;
            }
        }
    });
    await client.SubscribeAsync();
    await running.Task.WaitAsync(TimeSpan.FromSeconds(60));
    await client.SuppressAsync();

    for (var run = 1; run <= runs; run++)
    {
        var leader = (await Until(Leader, TimeSpan.FromSeconds(60))).GetValueOrDefault();
        await Until(async () => await ActiveAgent(leader) is not null && client.IsSubscribed, TimeSpan.FromSeconds(60));
        var before = Volatile.Read(ref subscribed);
        var clock = Stopwatch.StartNew();
        masters[leader].Kill();
        double? serving = null, framework = null, agentBack = null;
        int? next = null;
        while ((serving is null || framework is null || agentBack is null) && clock.Elapsed < TimeSpan.FromSeconds(60))
        {
            if (next is null && await Leader() is { } l && l != leader)
            {
                next = l;
                serving = clock.Elapsed.TotalSeconds;
            }

            if (framework is null && Volatile.Read(ref subscribed) > before)
            {
                framework = clock.Elapsed.TotalSeconds;
            }

            if (agentBack is null && next is { } n && await ActiveAgent(n) is not null)
            {
                agentBack = clock.Elapsed.TotalSeconds;
            }

            await Task.Delay(10);
        }

        results.Add((serving ?? double.NaN, framework ?? double.NaN, agentBack ?? double.NaN));
        Console.WriteLine(FormattableString.Invariant($"run {run}: new leader serving {serving:F2}s, framework resubscribed {framework:F2}s, agent re-registered {agentBack:F2}s"));
        await masters[leader].WaitForExitAsync();
        StartMaster(leader);
        // Let the restarted master settle as a standby before the next kill.
        await Until(async () =>
        {
            try
            {
                var metrics = JsonNode.Parse(await http.GetStringAsync($"http://127.0.0.1:{ports[leader]}/metrics/snapshot"))!;
                return (double)metrics["master/elected"]! == 0;
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                return false;
            }
        }, TimeSpan.FromSeconds(60));
    }

    await client.KillAsync("survivor");
    await client.TeardownAsync();
    await client.DisposeAsync();
    await pump;
}
finally
{
    // SIGTERM for the agent so it removes its cgroups; everything else is simply killed.
    using (var term = Process.Start("kill", ["-TERM", agent.Id.ToString(CultureInfo.InvariantCulture)]))
    {
        await term.WaitForExitAsync();
    }

    await agent.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
    foreach (var process in processes.Where(p => !p.HasExited))
    {
        process.Kill(entireProcessTree: true);
        await process.WaitForExitAsync();
    }

    Directory.Delete(root, recursive: true);
}

static string Stats(IEnumerable<double> values)
{
    var sorted = values.Order().ToArray();
    return FormattableString.Invariant($"{sorted[0]:F2} / {sorted[sorted.Length / 2]:F2} / {sorted[^1]:F2}");
}

Console.WriteLine(FormattableString.Invariant($"{runs} runs, {masterCount} masters, lease TTL {ttl}s; min / median / max seconds after kill -9:"));
Console.WriteLine($"  new leader serving:     {Stats(results.Select(r => r.Serving))}");
Console.WriteLine($"  framework resubscribed: {Stats(results.Select(r => r.Framework))}");
Console.WriteLine($"  agent re-registered:    {Stats(results.Select(r => r.Agent))}");

int ArgValue(string name, int fallback)
{
    var index = Array.IndexOf(args, name);
    return index >= 0 && index + 1 < args.Length ? int.Parse(args[index + 1], CultureInfo.InvariantCulture) : fallback;
}

static int FreePort()
{
    using var listener = new TcpListener(IPAddress.Loopback, 0);
    listener.Start();
    return ((IPEndPoint)listener.LocalEndpoint).Port;
}

static async Task<T> Until<T>(Func<Task<T>> probe, TimeSpan timeout)
{
    var deadline = DateTime.UtcNow + timeout;
    while (true)
    {
        try
        {
            var value = await probe();
            if (value is not null && (value is not bool b || b))
            {
                return value;
            }
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
        }

        if (DateTime.UtcNow > deadline)
        {
            throw new TimeoutException("The cluster did not get there in time");
        }

        await Task.Delay(20);
    }
}
