using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Mezzo.Agent;
using Mezzo.Agent.Containers;
using Mezzo.Core.Resources;
using Mezzo.Core.Tasks;
using Mezzo.Framework;
using Mezzo.Master;
using Mezzo.Protocol.V1;

// Image start benchmark: `/bin/true` in a busybox image (made here from Debian's busybox-static) as Mezzo image tasks
// through the scheduler API of an in-process master and agent, one at a time, beside `runc run` of the same kind of
// bundle (same config generator, same overlay root file system) done by hand in the same run. Needs root and runc.
//   dotnet run -c Release --project bench/Mezzo.ImageBench -- [--tasks 50] [--work-root DIR]
// cold = the first image task of a freshly started agent; warm = the following ones.
var tasks = ArgValue(args, "--tasks", 50);
var workRoot = args.SkipWhile(a => a != "--work-root").Skip(1).FirstOrDefault() ?? Path.GetTempPath();
var root = Path.Combine(workRoot, "mezzo-imagebench-" + Guid.NewGuid().ToString("N")[..8]);
var images = Path.Combine(root, "images");
MakeBusybox(Path.Combine(images, LocalImageResolver.Key("busybox")));
MasterServer? master = null;
AgentServer? agent = null;
try
{
    master = MasterServer.Create(new MasterOptions { Port = 0, Ip = "127.0.0.1", Hostname = "127.0.0.1", WorkDir = Path.Combine(root, "master"), AllocationInterval = TimeSpan.FromMilliseconds(20) });
    await master.StartAsync();
    agent = AgentServer.Create(new AgentOptions
    {
        Master = $"127.0.0.1:{master.Url.Port}",
        Port = 0,
        WorkDir = Path.Combine(root, "agent"),
        Resources = "cpus:4;mem:4096;disk:1000;ports:[31000-31100]",
        ImageRootfsDir = images,
        AllowRootTasks = true,
    });
    await agent.StartAsync();

    await using var client = new SchedulerClient(new SchedulerOptions
    {
        Master = $"127.0.0.1:{master.Url.Port}",
        FrameworkInfo = new FrameworkInfo { User = "root", Name = "image-bench" },
    });
    await client.SubscribeAsync();
    var taskResources = Resources.Parse("cpus:0.1;mem:32");
    var toRunning = new List<double>();
    var toFinished = new List<double>();
    long acceptedAt = 0;
    var launched = 0;
    var waiting = false;
    await foreach (var ev in client.Events.ReadAllAsync())
    {
        if (ev.Type == EventType.OFFERS)
        {
            foreach (var offer in ev.Offers!.Offers!)
            {
                if (waiting || launched == tasks)
                {
                    await client.DeclineAsync([offer.Id!], new Filters { RefuseSeconds = 0 });
                    continue;
                }

                var id = "i" + launched++.ToString(CultureInfo.InvariantCulture);
                waiting = true;
                acceptedAt = Stopwatch.GetTimestamp();
                await client.LaunchAsync(offer, [new TaskInfo
                {
                    Name = id,
                    TaskId = new TaskID { Value = id },
                    AgentId = offer.AgentId,
                    Resources = ResourceConversion.ToWire(taskResources),
                    Container = new ContainerInfo { Type = ContainerInfoType.DOCKER, Docker = new ContainerInfoDockerInfo { Image = "busybox" } },
                    Command = new CommandInfo { Shell = false, Value = "/bin/true" },
                }], new Filters { RefuseSeconds = 0 });
            }
        }
        else if (ev.Type == EventType.UPDATE && ev.Update?.Status is { } status)
        {
            if (status.State == TaskState.TASK_RUNNING)
            {
                toRunning.Add(Stopwatch.GetElapsedTime(acceptedAt).TotalMilliseconds);
            }
            else if (status.State is { } state && TaskStates.IsTerminal(state))
            {
                if (state != TaskState.TASK_FINISHED)
                {
                    throw new InvalidOperationException($"{status.TaskId?.Value}: {state} {status.Message}");
                }

                toFinished.Add(Stopwatch.GetElapsedTime(acceptedAt).TotalMilliseconds);
                waiting = false;
                if (toFinished.Count == tasks)
                {
                    break;
                }
            }
        }
    }

    await client.TeardownAsync();

    // By hand: the same config generator and overlay root file system, then `runc run` of the bundle (create, start,
    // wait, and runc's own clean-up), timed alone and with the bundle and overlay set-up around it.
    var hand = Path.Combine(root, "hand");
    var resolver = new LocalImageResolver(images, hand);
    var runcRun = new List<double>();
    var handTotal = new List<double>();
    for (var i = 0; i < tasks; i++)
    {
        var id = "hand-" + i.ToString(CultureInfo.InvariantCulture);
        var started = Stopwatch.GetTimestamp();
        var image = await resolver.ResolveAsync(new ImageRequest("busybox"), id, CancellationToken.None);
        var sandbox = Directory.CreateDirectory(Path.Combine(hand, "sandboxes", id)).FullName;
        var bundle = Directory.CreateDirectory(Path.Combine(hand, "bundles", id)).FullName;
        var config = OciConfig.Build(new ContainerSpec
        {
            ContainerId = id,
            Image = image,
            Command = new CommandInfo { Shell = false, Value = "/bin/true" },
            Container = new ContainerInfo { Type = ContainerInfoType.DOCKER, Docker = new ContainerInfoDockerInfo { Image = "busybox" } },
            Environment = new Dictionary<string, string> { ["PATH"] = "/bin" },
            Sandbox = sandbox,
            CgroupsPath = "/mezzo-imagebench/" + id,
        }, new ContainerUser(0, 0, []));
        await File.WriteAllTextAsync(Path.Combine(bundle, "config.json"), config.ToJsonString());
        var run = Stopwatch.GetTimestamp();
        using (var runc = Process.Start("runc", ["--root", Path.Combine(hand, "state"), "run", "--bundle", bundle, id]))
        {
            await runc.WaitForExitAsync();
            if (runc.ExitCode != 0)
            {
                throw new InvalidOperationException($"runc run exited with {runc.ExitCode}");
            }
        }

        runcRun.Add(Stopwatch.GetElapsedTime(run).TotalMilliseconds);
        await resolver.ReleaseAsync(id);
        Directory.Delete(bundle, recursive: true);
        handTotal.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
    }

    foreach (var hierarchy in Directory.GetDirectories("/sys/fs/cgroup"))
    {
        _ = Directory.Exists(Path.Combine(hierarchy, "mezzo-imagebench")) && TryRmdir(Path.Combine(hierarchy, "mezzo-imagebench"));
    }

    Console.WriteLine(new JsonObject
    {
        ["tasks"] = tasks,
        ["cold_accept_to_running_ms"] = Math.Round(toRunning[0], 2),
        ["cold_accept_to_finished_ms"] = Math.Round(toFinished[0], 2),
        ["warm_accept_to_running_p50_ms"] = Percentile(toRunning.Skip(1), 0.50),
        ["warm_accept_to_running_p99_ms"] = Percentile(toRunning.Skip(1), 0.99),
        ["warm_accept_to_finished_p50_ms"] = Percentile(toFinished.Skip(1), 0.50),
        ["warm_accept_to_finished_p99_ms"] = Percentile(toFinished.Skip(1), 0.99),
        ["hand_runc_run_first_ms"] = Math.Round(runcRun[0], 2),
        ["hand_runc_run_p50_ms"] = Percentile(runcRun.Skip(1), 0.50),
        ["hand_runc_run_p99_ms"] = Percentile(runcRun.Skip(1), 0.99),
        ["hand_overlay_bundle_runc_run_p50_ms"] = Percentile(handTotal.Skip(1), 0.50),
    }.ToJsonString());
}
finally
{
    if (agent is not null)
    {
        await agent.DisposeAsync();
    }

    if (master is not null)
    {
        await master.DisposeAsync();
    }

    Directory.Delete(root, recursive: true);
}

static bool TryRmdir(string path)
{
    try
    {
        Directory.Delete(path);
        return true;
    }
    catch (IOException)
    {
        return false;
    }
}

static void MakeBusybox(string rootfs)
{
    var bin = Directory.CreateDirectory(Path.Combine(rootfs, "bin")).FullName;
    File.Copy("/bin/busybox", Path.Combine(bin, "busybox"));
    foreach (var applet in (string[])["sh", "true", "echo", "sleep"])
    {
        File.CreateSymbolicLink(Path.Combine(bin, applet), "busybox");
    }

    Directory.CreateDirectory(Path.Combine(rootfs, "etc"));
    File.WriteAllText(Path.Combine(rootfs, "etc", "passwd"), "root:x:0:0:root:/root:/bin/sh\n");
}

// Nearest-rank percentile in ms; null (JSON null) when there is nothing to rank.
static double? Percentile(IEnumerable<double> values, double p)
{
    var sorted = values.Order().ToList();
    return sorted.Count == 0 ? null : Math.Round(sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p * sorted.Count) - 1)], 2);
}

static int ArgValue(string[] args, string name, int fallback)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
}
