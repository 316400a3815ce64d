using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

// Jobs end to end: N one-shot Chronos jobs (R1//PT1H, `true`) posted to the jobs API of a real `mezzo dev` process,
// timed from the first POST to the last recorded success (every run persisted, launched through the scheduler API,
// its status acknowledged and counted). With --slurm, the same commands then go through a single-node Slurm on this
// machine (`sbatch --wrap true`, submitted as many at a time), timed the same way, and both rates and their ratio are
// reported (needs root and the slurm-wlm package; see bench/slurm/single-node-slurm.sh).
//   dotnet run -c Release --project bench/Mezzo.JobsBench -- --jobs 1000 [--work-root DIR] [--parallel 8] [--slurm]
var count = ArgValue("--jobs", 1000);
var parallel = ArgValue("--parallel", 8);
var root = Arg("--work-root") ?? (Directory.Exists("/dev/shm") ? "/dev/shm" : Path.GetTempPath());
var workDir = Path.Combine(root, "mezzo-jobsbench-" + Guid.NewGuid().ToString("N"));
var cli = Path.Combine(AppContext.BaseDirectory, "mezzo.dll");
using var dev = Process.Start(new ProcessStartInfo("dotnet", [cli, "dev", "--master-port", "0", "--agent-port", "0", "--services-port", "0", "--jobs-port", "0", "--work-dir", workDir, "--resources", "cpus:64;mem:262144;disk:1000000"])
{
    RedirectStandardOutput = true,
    RedirectStandardError = true,
})!;
// --dev-log FILE keeps the cluster's log (one line per event).
var devLog = Arg("--dev-log") is { } logPath ? new StreamWriter(logPath) { AutoFlush = true } : null;
dev.ErrorDataReceived += (_, e) =>
{
    if (e.Data is { } text && devLog is not null)
    {
        lock (devLog)
        {
            devLog.WriteLine(text);
        }
    }
};
dev.BeginErrorReadLine();
Uri? jobs = null;
while (jobs is null && dev.StandardOutput.ReadLine() is { } line)
{
    if (Regex.Match(line, @"^\s*jobs\s+(http://\S+)") is { Success: true } match)
    {
        jobs = new Uri(match.Groups[1].Value);
    }
}

_ = dev.StandardOutput.ReadToEndAsync();
double mezzoTotal = 0;
long mezzoDone = 0;
try
{
    using var http = new HttpClient { BaseAddress = jobs ?? throw new InvalidOperationException("mezzo dev did not print the jobs URL"), Timeout = TimeSpan.FromMinutes(5) };
    var start = Stopwatch.StartNew();
    await Parallel.ForAsync(0, count, new ParallelOptions { MaxDegreeOfParallelism = parallel }, async (i, token) =>
    {
        using var content = new StringContent($$"""{"name": "bench{{i}}", "command": "true", "schedule": "R1//PT1H", "cpus": 0.01, "mem": 16}""", Encoding.UTF8, "application/json");
        using var response = await http.PostAsync("v1/scheduler/iso8601", content, token);
        response.EnsureSuccessStatusCode();
    });
    var posted = start.Elapsed.TotalSeconds;
    long done = 0;
    while (done < count && start.Elapsed < TimeSpan.FromMinutes(10))
    {
        await Task.Delay(100);
        var all = JsonNode.Parse(await http.GetStringAsync("v1/scheduler/jobs"))!.AsArray();
        done = all.Sum(j => j!["successCount"]!.GetValue<long>());
        var errors = all.Sum(j => j!["errorCount"]!.GetValue<long>());
        if (args.Contains("--verbose"))
        {
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{start.Elapsed.TotalSeconds:0.0}s succeeded {done}"));
        }

        if (errors > 0)
        {
            throw new InvalidOperationException($"{errors} jobs failed");
        }
    }

    var total = start.Elapsed.TotalSeconds;
    (mezzoTotal, mezzoDone) = (total, done);
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $$"""{"jobs":{{count}},"succeeded":{{done}},"post_s":{{posted:0.##}},"total_s":{{total:0.##}},"jobs_per_s":{{done / total:0.#}}}"""));
}
finally
{
    // SIGTERM: mezzo dev stops cleanly, kills what is left and removes its agent's cgroups (a SIGKILL left them).
    using (var term = Process.Start("kill", ["-TERM", dev.Id.ToString(CultureInfo.InvariantCulture)]))
    {
        await term.WaitForExitAsync();
    }

    await dev.WaitForExitAsync();
    Directory.Delete(workDir, recursive: true);
}

if (args.Contains("--slurm"))
{
    var script = Arg("--slurm-script") ?? FindScript();
    var (completed, submit, slurmTotal) = await Mezzo.JobsBench.SlurmRun.RunAsync(script, count, parallel, cpus: 64, root: Path.GetTempPath());
    var mezzoRate = mezzoDone / mezzoTotal;
    var slurmRate = completed / slurmTotal;
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $$"""{"slurm":{"jobs":{{count}},"completed":{{completed}},"submit_s":{{submit:0.##}},"total_s":{{slurmTotal:0.##}},"jobs_per_s":{{slurmRate:0.#}}},"mezzo_jobs_per_s":{{mezzoRate:0.#}},"mezzo_over_slurm":{{mezzoRate / slurmRate:0.##}}}"""));
}

string? Arg(string name) => args.SkipWhile(a => a != name).Skip(1).FirstOrDefault();

int ArgValue(string name, int fallback) => Arg(name) is { } text ? int.Parse(text, CultureInfo.InvariantCulture) : fallback;

// bench/slurm/single-node-slurm.sh from the repository this bench was built in (the working directory or above it).
static string FindScript()
{
    for (var dir = new DirectoryInfo(Environment.CurrentDirectory); dir is not null; dir = dir.Parent)
    {
        var candidate = Path.Combine(dir.FullName, "bench", "slurm", "single-node-slurm.sh");
        if (File.Exists(candidate))
        {
            return candidate;
        }
    }

    throw new FileNotFoundException("bench/slurm/single-node-slurm.sh not found above the working directory; pass --slurm-script PATH");
}
