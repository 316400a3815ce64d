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
//   dotnet run -c Release --project bench/Mezzo.LaunchBench -- --tasks 1000
var tasks = ArgValue(args, "--tasks", 1000);
var perOffer = ArgValue(args, "--per-offer", 50);

var baseline = PosixProcessLauncher.SpawnLoopPerSecond("/bin/true", tasks);

var workDir = Path.Combine(Path.GetTempPath(), "mezzo-bench-" + Guid.NewGuid().ToString("N")[..8]);
var cli = Path.Combine(AppContext.BaseDirectory, "mezzo.dll");
var dev = Process.Start(new ProcessStartInfo("dotnet", [cli, "dev", "--master-port", "0", "--agent-port", "0", "--work-dir", workDir, "--resources", "cpus:64;mem:65536;disk:1000"])
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
    var runningLatencies = new List<double>();
    var launched = 0;
    var finished = 0;
    long firstAccept = 0;
    long lastFinish = 0;
    await foreach (var ev in client.Events.ReadAllAsync())
    {
        if (ev.Type == EventType.OFFERS)
        {
            foreach (var offer in ev.Offers!.Offers!)
            {
                var available = ResourceConversion.ToCore(offer.Resources!).Unallocate();
                var batch = new List<TaskInfo>();
                while (launched < tasks && batch.Count < perOffer && available.Contains(taskResources))
                {
                    available -= taskResources;
                    var id = "t" + launched.ToString(CultureInfo.InvariantCulture);
                    launched++;
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
                firstAccept = firstAccept == 0 ? now : firstAccept;
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
        else if (ev.Type == EventType.UPDATE && ev.Update?.Status is { } status)
        {
            var id = status.TaskId!.Value!;
            if (status.State == TaskState.TASK_RUNNING)
            {
                runningLatencies.Add(Stopwatch.GetElapsedTime(acceptedAt[id]).TotalMilliseconds);
            }
            else if (status.State is { } state && TaskStates.IsTerminal(state))
            {
                if (state != TaskState.TASK_FINISHED)
                {
                    Console.Error.WriteLine($"{id}: {state} {status.Message}");
                }

                finished++;
                lastFinish = Stopwatch.GetTimestamp();
                if (finished == tasks)
                {
                    break;
                }
            }
        }
    }

    runningLatencies.Sort();
    var seconds = Stopwatch.GetElapsedTime(firstAccept, lastFinish).TotalSeconds;
    var tasksPerSecond = tasks / seconds;
    var result = new JsonObject
    {
        ["tasks"] = tasks,
        ["tasks_per_s"] = Math.Round(tasksPerSecond, 1),
        ["accept_to_running_p50_ms"] = Math.Round(Percentile(runningLatencies, 0.50), 2),
        ["accept_to_running_p99_ms"] = Math.Round(Percentile(runningLatencies, 0.99), 2),
        ["bare_spawn_per_s"] = Math.Round(baseline, 1),
        ["ratio_vs_bare_spawn"] = Math.Round(tasksPerSecond / baseline, 3),
    };
    Console.WriteLine(result.ToJsonString());
    await client.TeardownAsync();
}
finally
{
    dev.Kill(entireProcessTree: true);
    await dev.WaitForExitAsync();
    Directory.Delete(workDir, recursive: true);
}

static double Percentile(List<double> sorted, double p) =>
    sorted.Count == 0 ? double.NaN : sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p * sorted.Count) - 1)];

static int ArgValue(string[] args, string name, int fallback)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
}
