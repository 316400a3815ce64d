using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Mezzo.Core.Resources;
using Mezzo.Core.Tasks;
using Mezzo.Framework;
using Mezzo.Protocol.V1;

namespace Mezzo.LaunchBench;

/// <summary>
/// Agent memory per running task: a real `mezzo master` and a separate real `mezzo agent` process, N long-running
/// `sleep` tasks launched through the scheduler API; the agent's resident memory before and after, divided by N.
/// The master is a separate process so that its own per-task bookkeeping does not count against the agent.
/// </summary>
internal static partial class AgentMemory
{
    public static async Task<JsonObject> RunAsync(int tasks, int warmup, string workRoot)
    {
        var workDir = Path.Combine(workRoot, "mezzo-agentmem-" + Guid.NewGuid().ToString("N")[..8]);
        var cli = Path.Combine(AppContext.BaseDirectory, "mezzo.dll");
        var master = Start(cli, ["master", "--port", "0", "--ip", "127.0.0.1", "--hostname", "127.0.0.1", "--work-dir", Path.Combine(workDir, "master")]);
        var agent = Start(cli, ["agent", "--master", master.Url.Authority, "--port", "0", "--work-dir", Path.Combine(workDir, "agent"),
            "--resources", "cpus:64;mem:262144;disk:1000", "--allow-root-tasks"]);
        try
        {
            await using var client = new SchedulerClient(new SchedulerOptions
            {
                Master = master.Url.Authority,
                FrameworkInfo = new FrameworkInfo { User = "root", Name = "agent-memory-bench" },
            });
            await client.SubscribeAsync();
            Console.Error.WriteLine($"master {master.Url}, agent {agent.Url}: warming up with {warmup} tasks");

            // Warm-up round of short tasks so the launch path is jitted and pools are filled before the baseline.
            await RunUntilAsync(client, "w", warmup, "/bin/true", TaskState.TASK_FINISHED);
            var before = RssKib(agent.Process.Id);
            var threadsBefore = Threads(agent.Process.Id);
            Console.Error.WriteLine($"agent RSS {before} KiB; launching {tasks} sleep tasks");
            await RunUntilAsync(client, "s", tasks, "/bin/sleep", TaskState.TASK_RUNNING);
            var after = RssKib(agent.Process.Id);
            var result = new JsonObject
            {
                ["running_tasks"] = tasks,
                ["agent_rss_before_mib"] = Math.Round(before / 1024.0, 1),
                ["agent_rss_running_mib"] = Math.Round(after / 1024.0, 1),
                ["agent_kib_per_running_task"] = Math.Round((after - before) / (double)tasks, 2),
                ["agent_threads_before"] = threadsBefore,
                ["agent_threads_running"] = Threads(agent.Process.Id),
            };
            await client.TeardownAsync();
            return result;
        }
        finally
        {
            agent.Dispose();
            master.Dispose();
            await Mezzo.Agent.Isolation.CgroupIsolator.RemoveAgentCgroupsAsync(new Mezzo.Agent.AgentOptions { WorkDir = Path.Combine(workDir, "agent") });
            Directory.Delete(workDir, recursive: true);
        }
    }

    /// <summary>Launches <paramref name="count"/> tasks (`sleep 3600` or `true`) and returns once all reached <paramref name="until"/>.</summary>
    private static async Task RunUntilAsync(SchedulerClient client, string prefix, int count, string executable, TaskState until)
    {
        var taskResources = Resources.Parse("cpus:0.01;mem:1");
        int launched = 0, reached = 0;
        if (count == 0)
        {
            return;
        }

        await client.ReviveAsync();
        await foreach (var ev in client.Events.ReadAllAsync())
        {
            if (ev.Type == EventType.OFFERS)
            {
                foreach (var offer in ev.Offers!.Offers!)
                {
                    var available = ResourceConversion.ToCore(offer.Resources!).Unallocate();
                    var batch = new List<TaskInfo>();
                    while (launched < count && batch.Count < 100 && available.Contains(taskResources))
                    {
                        var id = prefix + launched++.ToString(CultureInfo.InvariantCulture);
                        available -= taskResources;
                        batch.Add(new TaskInfo
                        {
                            Name = id,
                            TaskId = new TaskID { Value = id },
                            AgentId = offer.AgentId,
                            Resources = ResourceConversion.ToWire(taskResources),
                            Command = new CommandInfo { Shell = false, Value = executable, Arguments = executable.EndsWith("sleep", StringComparison.Ordinal) ? ["sleep", "3600"] : ["true"] },
                        });
                    }

                    if (batch.Count > 0)
                    {
                        await client.LaunchAsync(offer, batch, new Filters { RefuseSeconds = 0 });
                    }
                    else
                    {
                        await client.DeclineAsync([offer.Id!], new Filters { RefuseSeconds = 3600 });
                    }
                }
            }
            else if (ev.Type == EventType.UPDATE && ev.Update?.Status is { } status && status.TaskId!.Value!.StartsWith(prefix, StringComparison.Ordinal))
            {
                if (status.State == until)
                {
                    reached++;
                }
                else if (status.State is { } state && TaskStates.IsTerminal(state))
                {
                    throw new InvalidOperationException($"{status.TaskId.Value}: {state} {status.Message}");
                }

                if (reached == count)
                {
                    return;
                }
            }
        }
    }

    private static long RssKib(int pid) => StatusField(pid, "VmRSS:");

    private static long Threads(int pid) => StatusField(pid, "Threads:");

    private static long StatusField(int pid, string field)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith(field, StringComparison.Ordinal))
            {
                return long.Parse(line[field.Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
            }
        }

        throw new InvalidDataException($"no {field} in /proc/{pid}/status");
    }

    private static Child Start(string cli, string[] arguments)
    {
        var process = Process.Start(new ProcessStartInfo("dotnet", [cli, .. arguments]) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        process.ErrorDataReceived += (_, _) => { };
        process.BeginErrorReadLine();
        while (process.StandardOutput.ReadLine() is { } line)
        {
            if (ListeningOn().Match(line) is { Success: true } m)
            {
                _ = process.StandardOutput.ReadToEndAsync();
                return new Child(process, new Uri(m.Groups[1].Value));
            }
        }

        process.Kill(entireProcessTree: true);
        throw new InvalidOperationException($"mezzo {arguments[0]} exited before printing its URL");
    }

    private sealed record Child(Process Process, Uri Url) : IDisposable
    {
        public void Dispose()
        {
            if (!Process.HasExited)
            {
                Process.Kill(entireProcessTree: true);
                Process.WaitForExit(10_000);
            }

            Process.Dispose();
        }
    }

    [GeneratedRegex(@"listening on (http://\S+?)[,\s]")]
    private static partial Regex ListeningOn();
}
