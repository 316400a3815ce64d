using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Mezzo.Agent.Launcher;
using Mezzo.Core.Resources;
using Mezzo.Core.Tasks;
using Mezzo.Framework;
using Mezzo.Protocol.V1;

// Launch benchmark: N `true` command tasks through the real scheduler API of a real `mezzo dev` process, against a
// bare posix_spawn loop of the same command measured in the same run.
//   dotnet run -c Release --project bench/Mezzo.LaunchBench -- --tasks 1000 [--warmup 1000] [--per-offer 50] [--probes 200] [--work-root DIR] [--dev-log FILE]
//   dotnet run -c Release --project bench/Mezzo.LaunchBench -- --agent-memory 1000 [--warmup 200]: agent memory per running task
if (Array.IndexOf(args, "--agent-memory") >= 0)
{
    var root = args.SkipWhile(a => a != "--work-root").Skip(1).FirstOrDefault() ?? (Directory.Exists("/dev/shm") ? "/dev/shm" : Path.GetTempPath());
    Console.WriteLine((await Mezzo.LaunchBench.AgentMemory.RunAsync(ArgValue(args, "--agent-memory", 1000), ArgValue(args, "--warmup", 200), root)).ToJsonString());
    return;
}

var tasks = ArgValue(args, "--tasks", 1000);
var perOffer = ArgValue(args, "--per-offer", 50);
var probes = ArgValue(args, "--probes", 200);
var warmup = ArgValue(args, "--warmup", 1000);

var baseline = PosixProcessLauncher.SpawnLoopPerSecond("/bin/true", tasks);

// Sandboxes go to tmpfs by default: on this VM's ext4, inode allocation slows down badly after many recent deletions
// (ext4 recently_deleted() scans), which would measure the file system rather than Mezzo. `--work-root /tmp` to compare.
var workRoot = args.SkipWhile(a => a != "--work-root").Skip(1).FirstOrDefault()
    ?? (Directory.Exists("/dev/shm") ? "/dev/shm" : Path.GetTempPath());
var workDir = Path.Combine(workRoot, "mezzo-bench-" + Guid.NewGuid().ToString("N")[..8]);
var cli = Path.Combine(AppContext.BaseDirectory, "mezzo.dll");
var dev = Process.Start(new ProcessStartInfo("dotnet", [cli, "dev", "--master-port", "0", "--agent-port", "0", "--services-port", "0", "--jobs-port", "0", "--work-dir", workDir, "--resources", "cpus:64;mem:65536;disk:1000"])
{
    RedirectStandardOutput = true,
    RedirectStandardError = true,
})!;
// --dev-log FILE keeps the cluster's log (one line per event) for a look at where the time went.
var devLogPath = args.SkipWhile(a => a != "--dev-log").Skip(1).FirstOrDefault();
var devLog = devLogPath is null ? null : new StreamWriter(devLogPath) { AutoFlush = true };
dev.ErrorDataReceived += (_, e) =>
{
    if (e.Data is { } line)
    {
        lock (dev)
        {
            devLog?.WriteLine(line);
        }
    }
};
dev.BeginErrorReadLine();
string? master = null;
while (master is null && dev.StandardOutput.ReadLine() is { } line)
{
    if (Regex.Match(line, @"master\s+http://([^/\s]+)") is { Success: true } m)
    {
        master = m.Groups[1].Value;
    }
}

_ = dev.StandardOutput.ReadToEndAsync();
try
{
    await using var client = new SchedulerClient(new SchedulerOptions
    {
        Master = master ?? throw new InvalidOperationException("mezzo dev did not start"),
        FrameworkInfo = new FrameworkInfo { User = "root", Name = "launch-bench" },
    });
    await client.SubscribeAsync();
    var taskResources = Resources.Parse("cpus:0.01;mem:1");
    var acceptedAt = new Dictionary<string, long>();
    var saturatedLatencies = new List<double>();
    var idleLatencies = new List<double>();

    // Three phases, each waiting for the previous one's tasks to end:
    //   w: `--warmup` tasks, unmeasured, so the JIT and the connection pools are warm (a cold process is another story);
    //   t: `--tasks` tasks launched as fast as offers allow: throughput (accept->RUNNING here is mostly queueing);
    //   p: `--probes` tasks one at a time on an otherwise idle cluster: the latency a single user sees.
    (string Prefix, int Count, bool Saturate)[] phases = [("w", warmup, true), ("t", tasks, true), ("p", probes, false)];
    var phase = 0;
    int launched = 0, finished = 0;
    long firstAccept = 0, lastFinish = 0;
    while (phase < phases.Length && phases[phase].Count == 0)
    {
        phase++;
    }

    await foreach (var ev in client.Events.ReadAllAsync())
    {
        if (phase == phases.Length)
        {
            break;
        }

        var (prefix, count, saturate) = phases[phase];
        if (ev.Type == EventType.OFFERS)
        {
            foreach (var offer in ev.Offers!.Offers!)
            {
                var available = ResourceConversion.ToCore(offer.Resources!).Unallocate();
                var batch = new List<TaskInfo>();
                var limit = saturate ? Math.Min(perOffer, count - launched) : launched == finished && launched < count ? 1 : 0;
                while (batch.Count < limit && available.Contains(taskResources))
                {
                    var id = prefix + launched++.ToString(CultureInfo.InvariantCulture);
                    available -= taskResources;
                    batch.Add(new TaskInfo
                    {
                        Name = id,
                        TaskId = new TaskID { Value = id },
                        AgentId = offer.AgentId,
                        Resources = ResourceConversion.ToWire(taskResources),
                        Command = new CommandInfo { Shell = false, Value = "/bin/true", Arguments = ["true"] },
                    });
                }

                var now = Stopwatch.GetTimestamp();
                if (prefix == "t" && firstAccept == 0 && batch.Count > 0)
                {
                    firstAccept = now;
                }

                foreach (var task in batch)
                {
                    acceptedAt[task.TaskId!.Value!] = now;
                }

                if (batch.Count > 0)
                {
                    await client.LaunchAsync(offer, batch, new Filters { RefuseSeconds = 0 });
                }
                else
                {
                    await client.DeclineAsync([offer.Id!], new Filters { RefuseSeconds = 0 });
                }
            }
        }
        else if (ev.Type == EventType.UPDATE && ev.Update?.Status is { } status && status.TaskId!.Value!.StartsWith(prefix, StringComparison.Ordinal))
        {
            var id = status.TaskId.Value;
            if (status.State == TaskState.TASK_RUNNING)
            {
                var latency = Stopwatch.GetElapsedTime(acceptedAt[id]).TotalMilliseconds;
                (prefix == "p" ? idleLatencies : prefix == "t" ? saturatedLatencies : null)?.Add(latency);
            }
            else if (status.State is { } state && TaskStates.IsTerminal(state))
            {
                if (state != TaskState.TASK_FINISHED)
                {
                    Console.Error.WriteLine($"{id}: {state} {status.Message}");
                }

                finished++;
                lastFinish = prefix == "t" ? Stopwatch.GetTimestamp() : lastFinish;
                if (finished == count)
                {
                    (launched, finished) = (0, 0);
                    do
                    {
                        phase++;
                    }
                    while (phase < phases.Length && phases[phase].Count == 0);
                    if (phase == phases.Length)
                    {
                        break;
                    }
                }
            }
        }
    }

    saturatedLatencies.Sort();
    idleLatencies.Sort();
    var seconds = Stopwatch.GetElapsedTime(firstAccept, lastFinish).TotalSeconds;
    var tasksPerSecond = tasks / seconds;
    var result = new JsonObject
    {
        ["tasks"] = tasks,
        ["work_root"] = workRoot,
        ["tasks_per_s"] = Math.Round(tasksPerSecond, 1),
        ["bare_spawn_per_s"] = Math.Round(baseline, 1),
        ["ratio_vs_bare_spawn"] = Math.Round(tasksPerSecond / baseline, 3),
        ["saturated_accept_to_running_p50_ms"] = Percentile(saturatedLatencies, 0.50),
        ["saturated_accept_to_running_p99_ms"] = Percentile(saturatedLatencies, 0.99),
        ["probes"] = probes,
        ["idle_accept_to_running_p50_ms"] = Percentile(idleLatencies, 0.50),
        ["idle_accept_to_running_p99_ms"] = Percentile(idleLatencies, 0.99),
    };
    Console.WriteLine(result.ToJsonString());
    await client.TeardownAsync();
}
finally
{
    dev.Kill(entireProcessTree: true);
    await dev.WaitForExitAsync();
    // A killed agent leaves its (empty) cgroups behind.
    await Mezzo.Agent.Isolation.CgroupIsolator.RemoveAgentCgroupsAsync(new Mezzo.Agent.AgentOptions { WorkDir = Path.Combine(workDir, "agent") });
    Directory.Delete(workDir, recursive: true);
}

// Nearest-rank percentile in ms; null (JSON null) when the phase did not run.
static double? Percentile(List<double> sorted, double p) =>
    sorted.Count == 0 ? null : Math.Round(sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p * sorted.Count) - 1)], 2);

static int ArgValue(string[] args, string name, int fallback)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
}
