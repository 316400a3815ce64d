using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json.Nodes;
using Mezzo.Core.Resources;
using Mezzo.Core.Tasks;
using Mezzo.Framework;
using Mezzo.LoadSim;
using Mezzo.Protocol.Protobuf;
using Mezzo.Protocol.V1;

// Load simulator: the whole master end to end. A real `mezzo master` process, N simulated agents speaking the real
// agent protocol from this process, M frameworks on the Mezzo.Framework SDK launching T tasks as fast as offers allow.
//   dotnet run -c Release --project bench/Mezzo.LoadSim -- --agents 1000 --frameworks 10 --tasks 100000
//   options: --per-offer 50 --probes 200 --timeout 600 (s) --work-root DIR (default /dev/shm) --master-log FILE
//            --master-arg ARG (repeatable, passed to `mezzo master`, e.g. --master-arg --allocation-interval=10ms)
//            --master-env KEY=VALUE (repeatable, the master's environment only, e.g. --master-env DOTNET_gcServer=1)
//            --content-type json|protobuf (the frameworks' encoding of calls and events; default json)
//            --hold S (after the agents registered, print the master's pid and wait S seconds: for heap snapshots)
var agentCount = ArgValue(args, "--agents", 1000);
var frameworkCount = ArgValue(args, "--frameworks", 10);
var taskCount = ArgValue(args, "--tasks", 100_000);
var perOffer = ArgValue(args, "--per-offer", 50);
var probeCount = ArgValue(args, "--probes", 200);
var taskSeconds = ArgValue(args, "--task-seconds", 0);
if (taskSeconds > 0 && probeCount > 0)
{
    // A probe waits for its task to finish before the next: with tasks that run S seconds that is probes × S.
    Console.Error.WriteLine("--task-seconds: probes skipped (each would take the whole task time)");
    probeCount = 0;
}
var timeout = TimeSpan.FromSeconds(ArgValue(args, "--timeout", 600));
var wireFormat = (ArgString(args, "--content-type") ?? "json") switch
{
    "json" or "application/json" => WireFormat.Json,
    "protobuf" or "application/x-protobuf" => WireFormat.Protobuf,
    var other => throw new ArgumentException($"--content-type '{other}': expected json or protobuf"),
};
var workRoot = ArgString(args, "--work-root") ?? (Directory.Exists("/dev/shm") ? "/dev/shm" : Path.GetTempPath());
var masterArgs = ArgList(args, "--master-arg");
var masterEnv = ArgList(args, "--master-env").Select(e => e.Split('=', 2)).ToDictionary(kv => kv[0], kv => kv.Length > 1 ? kv[1] : "");

using var master = MasterProcess.Start(workRoot, ArgString(args, "--master-log"), masterArgs, masterEnv);
using var stop = new CancellationTokenSource();
// The master and its work dir go with this process however it ends: an exception or the end of the run (the finally
// below), SIGINT/SIGTERM/SIGQUIT (cancel the run, which then goes through the same finally), or any other exit.
AppDomain.CurrentDomain.ProcessExit += (_, _) => master.Dispose();
PosixSignalRegistration[] signals = [.. new[] { PosixSignal.SIGINT, PosixSignal.SIGTERM, PosixSignal.SIGQUIT }.Select(signal =>
    PosixSignalRegistration.Create(signal, context =>
    {
        context.Cancel = true;
        Console.Error.WriteLine($"{context.Signal}: stopping");
        stop.Cancel();
    }))];
var agents = new List<SimAgent>();
var agentLoops = new List<Task>();
try
{
    await Task.Delay(500, stop.Token); // let the master settle before its empty-RSS reading
    var rssEmpty = master.RssMb();

    // Agents.
    var agentResources = ResourceConversion.ToWire(Resources.Parse("cpus:32;mem:65536;disk:100000;ports:[31000-32000]"));
    var registerWatch = Stopwatch.StartNew();
    for (var i = 0; i < agentCount; i++)
    {
        var agent = new SimAgent(master.Url, i, agentResources, stop.Token, TimeSpan.FromSeconds(taskSeconds));
        agents.Add(agent);
        agentLoops.Add(Task.Run(agent.RunAsync));
    }

    await Task.WhenAll(agents.Select(a => a.Registered)).WaitAsync(timeout, stop.Token);
    var registerSeconds = registerWatch.Elapsed.TotalSeconds;
    await Task.Delay(1000, stop.Token); // a few allocation cycles with nobody to offer to, then the reading
    var rssAgents = master.RssMb();
    if (ArgValue(args, "--hold", 0) is > 0 and var hold)
    {
        // For heap snapshots of a master with N agents and no task: print its pid, keep the agents connected.
        Console.Error.WriteLine($"master pid {master.Pid} at {master.Url}: {agentCount} agents registered, RSS {rssAgents:F1} MB (empty {rssEmpty:F1} MB); holding {hold} s");
        await Task.Delay(TimeSpan.FromSeconds(hold), stop.Token);
    }

    var cpuBefore = master.CpuSeconds();
    var simCpuBefore = Process.GetCurrentProcess().TotalProcessorTime;

    // Frameworks.
    var taskResources = Resources.Parse("cpus:0.01;mem:1");
    var wireTaskResources = ResourceConversion.ToWire(taskResources);
    long firstLaunch = 0, lastFinish = 0, notFinished = 0, running = 0;
    double rssRunning = double.NaN;
    var latencies = new List<double>[frameworkCount];
    using var deadline = CancellationTokenSource.CreateLinkedTokenSource(stop.Token);
    deadline.CancelAfter(timeout);

    async Task RunFrameworkAsync(int f, int quota)
    {
        var mine = latencies[f] = new List<double>(quota);
        await using var client = new SchedulerClient(new SchedulerOptions
        {
            Master = master.Url.ToString(),
            FrameworkInfo = new FrameworkInfo { User = "root", Name = $"loadsim-{f}" },
            AutoAcknowledge = true,
            WireFormat = wireFormat,
        });
        await client.SubscribeAsync(deadline.Token);
        var offeredAt = new Dictionary<string, long>(quota);
        int launched = 0, finished = 0;
        var suppressed = false;
        await foreach (var ev in client.Events.ReadAllAsync(deadline.Token))
        {
            if (ev.Type == EventType.OFFERS)
            {
                var now = Stopwatch.GetTimestamp();
                var calls = new List<Task>();
                var declined = new List<OfferID>();
                foreach (var offer in ev.Offers!.Offers!)
                {
                    var available = ResourceConversion.ToCore(offer.Resources!).Unallocate();
                    var batch = new List<TaskInfo>();
                    while (batch.Count < perOffer && launched < quota && available.Contains(taskResources))
                    {
                        var id = $"f{f}-t{launched++}";
                        available -= taskResources;
                        offeredAt[id] = now;
                        batch.Add(new TaskInfo
                        {
                            Name = id,
                            TaskId = new TaskID { Value = id },
                            AgentId = offer.AgentId,
                            Resources = wireTaskResources,
                            Command = new CommandInfo { Shell = false, Value = "/bin/true", Arguments = ["true"] },
                        });
                    }

                    if (batch.Count > 0)
                    {
                        Interlocked.CompareExchange(ref firstLaunch, Stopwatch.GetTimestamp(), 0);
                        calls.Add(client.LaunchAsync(offer, batch, new Filters { RefuseSeconds = 0 }, deadline.Token));
                    }
                    else
                    {
                        declined.Add(offer.Id!);
                    }
                }

                if (declined.Count > 0)
                {
                    calls.Add(client.DeclineAsync(declined, new Filters { RefuseSeconds = launched < quota ? 0 : 3600 }, deadline.Token));
                }

                if (launched == quota && !suppressed)
                {
                    suppressed = true;
                    calls.Add(client.SuppressAsync(deadline.Token));
                }

                await Task.WhenAll(calls);
            }
            else if (ev.Type == EventType.UPDATE && ev.Update?.Status is { } status)
            {
                var id = status.TaskId!.Value!;
                if (status.State == TaskState.TASK_RUNNING && offeredAt.Remove(id, out var at))
                {
                    mine.Add(Stopwatch.GetElapsedTime(at).TotalMilliseconds);

                    // With --task-seconds, every task is RUNNING at once for a while: the master's memory per live task.
                    if (Interlocked.Increment(ref running) == taskCount && taskSeconds > 0)
                    {
                        rssRunning = master.RssMb();
                    }
                }
                else if (status.State is { } state && TaskStates.IsTerminal(state))
                {
                    if (state != TaskState.TASK_FINISHED)
                    {
                        Interlocked.Increment(ref notFinished);
                        Console.Error.WriteLine($"{id}: {state} {status.Message}");
                    }

                    if (++finished == quota)
                    {
                        var t = Stopwatch.GetTimestamp();
                        long seen;
                        while ((seen = Interlocked.Read(ref lastFinish)) < t && Interlocked.CompareExchange(ref lastFinish, t, seen) != seen)
                        {
                        }

                        break;
                    }
                }
            }
        }

        await client.TeardownAsync(CancellationToken.None);
    }

    var frameworks = Enumerable.Range(0, frameworkCount)
        .Select(f => Task.Run(() => RunFrameworkAsync(f, taskCount / frameworkCount + (f < taskCount % frameworkCount ? 1 : 0))))
        .ToList();
    await Task.WhenAll(frameworks);

    var cpuAfter = master.CpuSeconds();
    var simCpu = (Process.GetCurrentProcess().TotalProcessorTime - simCpuBefore).TotalSeconds;
    var rssEnd = master.RssMb();

    // Probes: one more framework, one task at a time on the now idle cluster (all agents registered): the
    // offer-received -> TASK_RUNNING a single user sees, without the queue of a saturating burst in front of it.
    var probeLatencies = new List<double>(probeCount);
    if (probeCount > 0)
    {
        await using var client = new SchedulerClient(new SchedulerOptions
        {
            Master = master.Url.ToString(),
            FrameworkInfo = new FrameworkInfo { User = "root", Name = "loadsim-probe" },
            WireFormat = wireFormat,
        });
        await client.SubscribeAsync(deadline.Token);
        int launched = 0, finished = 0;
        long offeredAt = 0;
        await foreach (var ev in client.Events.ReadAllAsync(deadline.Token))
        {
            if (ev.Type == EventType.OFFERS)
            {
                var now = Stopwatch.GetTimestamp();
                var offers = ev.Offers!.Offers!;
                var skip = 0;
                if (launched == finished && launched < probeCount)
                {
                    var id = $"p{launched++}";
                    offeredAt = now;
                    skip = 1;
                    await client.LaunchAsync(offers[0], [new TaskInfo
                    {
                        Name = id,
                        TaskId = new TaskID { Value = id },
                        AgentId = offers[0].AgentId,
                        Resources = wireTaskResources,
                        Command = new CommandInfo { Shell = false, Value = "/bin/true", Arguments = ["true"] },
                    }], new Filters { RefuseSeconds = 0 }, deadline.Token);
                }

                if (offers.Count > skip)
                {
                    await client.DeclineAsync(offers.Skip(skip).Select(o => o.Id!), new Filters { RefuseSeconds = 0 }, deadline.Token);
                }
            }
            else if (ev.Type == EventType.UPDATE && ev.Update?.Status is { } status)
            {
                if (status.State == TaskState.TASK_RUNNING)
                {
                    probeLatencies.Add(Stopwatch.GetElapsedTime(offeredAt).TotalMilliseconds);
                }
                else if (status.State is { } state && TaskStates.IsTerminal(state) && ++finished == probeCount)
                {
                    break;
                }
            }
        }

        await client.TeardownAsync(CancellationToken.None);
        probeLatencies.Sort();
    }
    var all = latencies.SelectMany(l => l).ToList();
    all.Sort();
    var seconds = Stopwatch.GetElapsedTime(firstLaunch, lastFinish).TotalSeconds;
    var result = new JsonObject
    {
        ["content_type"] = ContentNegotiation.MediaType(wireFormat),
        ["agents"] = agentCount,
        ["frameworks"] = frameworkCount,
        ["tasks"] = taskCount,
        ["tasks_per_s"] = Math.Round(taskCount / seconds, 1),
        ["p50_ms"] = Percentile(all, 0.50),
        ["p99_ms"] = Percentile(all, 0.99),
        ["master_rss_mb"] = Math.Round(rssEnd, 1),
        ["master_cpu_s"] = Math.Round(cpuAfter, 2),
        ["master_rss_empty_mb"] = Math.Round(rssEmpty, 1),
        ["master_rss_agents_mb"] = Math.Round(rssAgents, 1),
        ["master_kib_per_agent"] = Math.Round((rssAgents - rssEmpty) * 1024 / agentCount, 1),
        ["master_rss_running_mb"] = double.IsNaN(rssRunning) ? null : Math.Round(rssRunning, 1),
        ["master_kib_per_task"] = double.IsNaN(rssRunning) ? null : Math.Round((rssRunning - rssAgents) * 1024 / taskCount, 2),
        ["idle_p50_ms"] = Percentile(probeLatencies, 0.50),
        ["idle_p99_ms"] = Percentile(probeLatencies, 0.99),
        ["run_s"] = Math.Round(seconds, 2),
        ["master_cpu_run_s"] = Math.Round(cpuAfter - cpuBefore, 2),
        ["sim_cpu_run_s"] = Math.Round(simCpu, 2),
        ["register_s"] = Math.Round(registerSeconds, 2),
        ["not_finished"] = notFinished,
        ["agent_update_calls"] = SimAgent.UpdateCalls,
        ["agent_updates_per_call"] = Math.Round((double)SimAgent.UpdatesSent / Math.Max(1, SimAgent.UpdateCalls), 2),
        ["agent_failed_calls"] = SimAgent.FailedCalls,
        ["agent_disconnects"] = SimAgent.Disconnects,
        ["master_log_lines"] = master.LogLines,
    };
    Console.WriteLine(result.ToJsonString());
}
catch (OperationCanceledException)
{
    Console.Error.WriteLine(stop.IsCancellationRequested ? "stopped by a signal" : $"timed out after {timeout.TotalSeconds} s (--timeout)");
    Environment.ExitCode = 2;
}
finally
{
    await stop.CancelAsync();
    master.Dispose();
    await Task.WhenAll(agentLoops).WaitAsync(TimeSpan.FromSeconds(10)).ContinueWith(_ => { }, TaskScheduler.Default);
    foreach (var agent in agents)
    {
        agent.Dispose();
    }

    foreach (var signal in signals)
    {
        signal.Dispose();
    }
}

// Nearest-rank percentile in ms; null (JSON null) when nothing was measured.
static double? Percentile(List<double> sorted, double p) =>
    sorted.Count == 0 ? null : Math.Round(sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p * sorted.Count) - 1)], 2);

static int ArgValue(string[] args, string name, int fallback)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
}

static List<string> ArgList(string[] args, string name) =>
    [.. args.Select((a, i) => (a, i)).Where(p => p.a == name && p.i + 1 < args.Length).Select(p => args[p.i + 1])];

static string? ArgString(string[] args, string name)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
}
