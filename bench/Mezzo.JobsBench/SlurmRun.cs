using System.Diagnostics;
using System.Globalization;

namespace Mezzo.JobsBench;

/// <summary>
/// The same one-shot commands through Slurm (<c>sbatch --wrap</c>) on a throwaway single-node Slurm that
/// <c>bench/slurm/single-node-slurm.sh</c> starts (munged, slurmctld, slurmd as root) and tears down afterwards.
/// Timed like the Mezzo run: from the first submission to the last job seen COMPLETED.
/// </summary>
internal static class SlurmRun
{
    public static async Task<(long Completed, double SubmitSeconds, double TotalSeconds)> RunAsync(string script, int count, int parallel, int cpus, string root)
    {
        var dir = Path.Combine(root, "mezzo-slurmbench-" + Guid.NewGuid().ToString("N"));
        var (upCode, upOutput) = await ExecAsync("bash", [script, "up", dir, cpus.ToString(CultureInfo.InvariantCulture)], null);
        try
        {
            if (upCode != 0)
            {
                throw new InvalidOperationException($"single-node Slurm did not start ({script} up {dir}): {upOutput}");
            }

            var conf = Path.Combine(dir, "slurm.conf");
            var output = Path.Combine(dir, "out", "%j.out");
            var start = Stopwatch.StartNew();
            await Parallel.ForAsync(0, count, new ParallelOptions { MaxDegreeOfParallelism = parallel }, async (i, _) =>
            {
                var (code, text) = await ExecAsync("sbatch", ["--quiet", "--job-name", "bench" + i.ToString(CultureInfo.InvariantCulture), "--output", output, "--wrap", "true"], conf);
                if (code != 0)
                {
                    throw new InvalidOperationException($"sbatch failed ({code}): {text}");
                }
            });
            var submitted = start.Elapsed.TotalSeconds;
            long completed = 0;
            while (completed < count && start.Elapsed < TimeSpan.FromMinutes(10))
            {
                await Task.Delay(100);
                var (code, states) = await ExecAsync("squeue", ["--noheader", "--states", "all", "--format", "%T"], conf);
                if (code != 0)
                {
                    throw new InvalidOperationException($"squeue failed ({code}): {states}");
                }

                var lines = states.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                completed = lines.Count(s => s == "COMPLETED");
                var failed = lines.Count(s => s is "FAILED" or "NODE_FAIL" or "BOOT_FAIL" or "CANCELLED" or "TIMEOUT" or "OUT_OF_MEMORY");
                if (failed > 0)
                {
                    throw new InvalidOperationException($"{failed} Slurm jobs failed; logs in {dir}/log");
                }
            }

            return (completed, submitted, start.Elapsed.TotalSeconds);
        }
        finally
        {
            var (downCode, downOutput) = await ExecAsync("bash", [script, "down", dir], null);
            if (downCode != 0)
            {
                Console.Error.WriteLine($"tearing down Slurm in {dir} failed: {downOutput}");
            }
        }
    }

    private static async Task<(int Code, string Output)> ExecAsync(string file, string[] arguments, string? slurmConf)
    {
        var info = new ProcessStartInfo(file, arguments) { RedirectStandardOutput = true, RedirectStandardError = true };
        if (slurmConf is not null)
        {
            info.Environment["SLURM_CONF"] = slurmConf;
        }

        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await stdout + await stderr);
    }
}
