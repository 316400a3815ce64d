using System.CommandLine;
using Mezzo.Cli.Flags;
using Mezzo.Jobs;
using Mezzo.Protocol.Chronos;

namespace Mezzo.Cli.Commands;

/// <summary><c>mezzo jobs</c>: the Chronos-compatible job scheduler framework (REST API on port 4400).</summary>
public static class JobsCommand
{
    public static Command Create()
    {
        var master = FlagOption.Create<string?>("master", "Master(s): host:port, host1:port,host2:port, or etcd://host:2379 to follow the elected leader", () => null)
            .Check(MasterFlag.Check);
        var port = FlagOption.Create("port", "Port for the Chronos REST API (0 = pick a free one and print it)", () => 4400).Check(FlagOption.ValidPort("--port"));
        var ip = FlagOption.Create("ip", "IP address to listen on", () => "0.0.0.0");
        var hostname = FlagOption.Create("hostname", "Hostname the framework advertises (leader, web UI URL)", () => System.Net.Dns.GetHostName());
        var workDir = FlagOption.Create("work-dir", "Directory for the jobs store (SQLite)", () => Path.Combine(Environment.CurrentDirectory, ".mezzo", "jobs"));
        var frameworkName = FlagOption.Create("mesos-framework-name", "Framework name registered with the master", () => "chronos");
        var role = FlagOption.Create("mesos-role", "Role the jobs run under", () => "*");
        var user = FlagOption.Create("user", "User jobs run as unless they set runAsUser", () => "root");
        var cpus = FlagOption.Create("mesos-task-cpu", "CPUs for a job that does not set cpus", () => 0.1).Check(v => v is > 0 and < 1e6 ? null : "--mesos-task-cpu must be positive");
        var mem = FlagOption.Create("mesos-task-mem", "Memory (MB) for a job that does not set mem", () => 128.0).Check(v => v is > 0 and < 1e12 ? null : "--mesos-task-mem must be positive");
        var disk = FlagOption.Create("mesos-task-disk", "Disk (MB) for a job that does not set disk", () => 256.0).Check(v => v is > 0 and < 1e12 ? null : "--mesos-task-disk must be positive");
        var epsilon = FlagOption.Create("task-epsilon", "Seconds a run may start late for a job that does not set epsilon", () => 60).Check(v => v < 0 ? "--task-epsilon must be 0 or more" : null);
        var failureRetry = FlagOption.Duration("failure-retry", "Delay between a failed run and its retry", TimeSpan.FromSeconds(60))
            .Check(v => v < TimeSpan.Zero ? "--failure-retry must be 0 or more" : null);
        var failoverTimeout = FlagOption.Duration("failover-timeout", "How long the master keeps the jobs' tasks while the framework is away", TimeSpan.FromSeconds(604800))
            .Check(v => v <= TimeSpan.Zero ? "--failover-timeout must be positive" : null);
        var store = StoreFlag.Create("jobs", "jobs");
        var leaseTtl = StoreFlag.LeaseTtl();
        var command = new Command("jobs", "Run the Chronos-compatible job scheduler (ISO 8601 schedules, dependencies, retries) as a framework")
        {
            master, port, ip, hostname, workDir, frameworkName, role, user, cpus, mem, disk, epsilon, failureRetry, failoverTimeout, store, leaseTtl,
        };
        var logFlags = LogFlags.Create();
        logFlags.AddTo(command);
        var securityFlags = FrameworkSecurityFlags.Create("jobs API");
        securityFlags.AddTo(command);
        var tlsFlags = TlsFlags.Create();
        tlsFlags.AddTo(command);
        command.SetAction(async (parsed, cancellationToken) =>
        {
            if (tlsFlags.Check(parsed) is not { } tls)
            {
                return 1;
            }

            if (securityFlags.Read(parsed, "mezzo jobs") is not { } security)
            {
                return 1;
            }

            var options = new JobsOptions
            {
                Tls = tls,
                Master = parsed.GetValue(master)!,
                Port = parsed.GetValue(port),
                Ip = parsed.GetValue(ip)!,
                Hostname = parsed.GetValue(hostname)!,
                WorkDir = Path.GetFullPath(parsed.GetValue(workDir)!),
                FrameworkName = parsed.GetValue(frameworkName)!,
                Role = parsed.GetValue(role)!,
                Defaults = new JobDefaults(parsed.GetValue(cpus), parsed.GetValue(mem), parsed.GetValue(disk), parsed.GetValue(user)!, parsed.GetValue(epsilon)),
                FailureRetryDelay = parsed.GetValue(failureRetry),
                FailoverTimeout = parsed.GetValue(failoverTimeout),
                Store = parsed.GetValue(store)!,
                LeaderLeaseTtl = parsed.GetValue(leaseTtl),
                Security = security.Security,
                MesosCredential = security.MesosCredential,
                RateLimit = securityFlags.RateLimit(parsed),
            };
            using var shutdown = new Shutdown(cancellationToken);
            JobsServer jobs;
            try
            {
                jobs = JobsServer.Create(options, logFlags.Configure(parsed));
            }
            catch (JobsWorkDirInUseException ex)
            {
                await Console.Error.WriteLineAsync($"Cannot start mezzo jobs: {ex.Message}");
                return 1;
            }

            await using var owned = jobs;
            try
            {
                await jobs.StartAsync(shutdown.Token);
            }
            catch (Storage.Etcd.EtcdUnavailableException ex)
            {
                await Console.Error.WriteLineAsync($"Cannot start mezzo jobs: {ex.Message}");
                return 1;
            }
            catch (IOException ex)
            {
                await Console.Error.WriteLineAsync($"Cannot start mezzo jobs: {ex.Message} (--port 0 picks a free port)");
                return 1;
            }

            Console.WriteLine(jobs.Candidate is { } candidate
                ? $"Mezzo jobs (Chronos API) listening on {jobs.Url} (master {options.Master}, state in {candidate.Target}, leader lease {options.LeaderLeaseTtl.TotalSeconds}s)"
                : $"Mezzo jobs (Chronos API) listening on {jobs.Url} (master {options.Master}, work dir {options.WorkDir})");
            await shutdown.WaitAsync();
            return 0;
        });
        return command;
    }
}
