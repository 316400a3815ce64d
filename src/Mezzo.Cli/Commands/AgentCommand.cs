using System.CommandLine;
using Mezzo.Agent;
using Mezzo.Cli.Flags;
using Mezzo.Core.Resources;
using Mezzo.Hosting.Security;

namespace Mezzo.Cli.Commands;

public static class AgentCommand
{
    public static Command Create()
    {
        var master = FlagOption.Create<string?>("master", "Master to register with: host:port, several as host1:port,host2:port, or etcd://host:2379 to follow the elected leader", () => null)
            .Check(value => value is null ? null : MasterFlag.Check(value));
        var port = FlagOption.Create("port", "Port to listen on (0 = pick a free one and print it)", () => 5051).Check(FlagOption.ValidPort("--port"));
        var ip = FlagOption.Create("ip", "IP address to listen on and advertise", () => "127.0.0.1");
        var hostname = FlagOption.Create("hostname", "Hostname the agent advertises", () => System.Net.Dns.GetHostName());
        var workDir = FlagOption.Create("work-dir", "Directory for sandboxes and agent state", () => Path.Combine(Environment.CurrentDirectory, ".mezzo", "agent"));
        var resources = FlagOption.Create<string?>("resources", "Total resources, e.g. \"cpus:4;mem:8192;disk:10000;ports:[31000-32000]\"; what is left out is detected", () => null)
            .Check(AgentFlagValidation.Resources);
        var attributes = FlagOption.Create<string?>("attributes", "Attributes, e.g. \"rack:r1;zone:a\"", () => null)
            .Check(AgentFlagValidation.Attributes);
        var isolation = IsolationFlags.Create();
        var fetcher = FetcherFlags.Create();
        var images = ImageFlags.Create();
        var killGrace = FlagOption.Duration("default-kill-grace-period", "Time between SIGTERM and SIGKILL when neither the task's kill_policy nor the KILL call names one", TimeSpan.FromSeconds(3));
        var containers = ContainerFlags.Create();
        var secretsDir = FlagOption.Create<string?>("secrets-dir", "The agent's secret store: a REFERENCE secret of a task's environment names a file in it (relative path; with a key, a member of the JSON object the file holds); files must not be readable by other users", () => null)
            .Check(dir => dir is null || Directory.Exists(dir) ? null : $"--secrets-dir {dir}: no such directory");
        var executorRegistration = FlagOption.Duration("executor-registration-timeout", "How long a custom executor has to subscribe before it is destroyed", TimeSpan.FromMinutes(1));
        var executorReregistration = FlagOption.Duration("executor-reregistration-timeout", "After an agent restart, how long a recovered executor has to subscribe again before it is destroyed and its tasks fail", TimeSpan.FromSeconds(2))
            .Check(value => value <= TimeSpan.Zero ? "--executor-reregistration-timeout must be positive" : null);
        var executorShutdownGrace = FlagOption.Duration("executor-shutdown-grace-period", "From SHUTDOWN to an executor being killed, unless its ExecutorInfo says otherwise", TimeSpan.FromSeconds(5));
        var recover = FlagOption.Create("recover", "After a restart: 'reconnect' takes back the running tasks of checkpointing frameworks; 'cleanup' kills every task a previous run left and exits (before an incompatible upgrade)", () => "reconnect")
            .Check(value => value is "reconnect" or "cleanup" ? null : $"--recover must be 'reconnect' or 'cleanup', not '{value}'");
        var strict = FlagOption.Create("strict", "Refuse to start on a corrupt checkpoint (false: report it, move it aside as *.corrupt, and treat its task as lost)", () => true);
        var recoveryTimeout = FlagOption.Duration("recovery-timeout", "How long tasks wait for a dead agent to come back before their supervisors kill them", TimeSpan.FromMinutes(15))
            .Check(value => value <= TimeSpan.Zero ? "--recovery-timeout must be positive" : null);
        var command = new Command("agent", "Run a Mezzo agent: registers with the master and runs tasks. With a verb (list, show, drain), ask the master about agents instead")
        {
            recover, strict, recoveryTimeout,
            master, port, ip, hostname, workDir, resources, attributes,
            isolation.Isolation, isolation.Hierarchy, isolation.Root, isolation.EnableCfs, isolation.MaxPids, killGrace,
            fetcher.CacheDir, fetcher.CacheSize, fetcher.StallTimeout,
            isolation.DiskWatchInterval, isolation.EnforceDiskQuota,
            containers.ImageRootfsDir, containers.Runc, secretsDir,
            executorRegistration, executorShutdownGrace, executorReregistration,
        };
        images.AddTo(command);
        AgentVerbs.AddTo(command);
        var logFlags = LogFlags.Create();
        logFlags.AddTo(command);
        var tlsFlags = TlsFlags.Create();
        tlsFlags.AddTo(command);
        var containerLogger = ContainerLoggerFlags.Create();
        containerLogger.AddTo(command);
        var security = AgentSecurityFlags.Create();
        security.AddTo(command);
        command.Validators.Add(result =>
        {
            // Only --recover=cleanup runs without a master: it kills what a previous run left and exits.
            if (result.GetValue(master) is null && result.GetValue(recover) != "cleanup")
            {
                result.AddError(MasterFlag.Check(null)!);
            }
        });
        command.SetAction(async (parsed, cancellationToken) =>
        {
            if (tlsFlags.Check(parsed) is not { } tls)
            {
                return 1;
            }

            var options = new AgentOptions
            {
                Tls = tls,
                Master = parsed.GetValue(master) ?? "",
                Port = parsed.GetValue(port),
                Ip = parsed.GetValue(ip)!,
                Hostname = parsed.GetValue(hostname)!,
                WorkDir = Path.GetFullPath(parsed.GetValue(workDir)!),
                Resources = parsed.GetValue(resources),
                Attributes = parsed.GetValue(attributes),
                DefaultKillGracePeriod = parsed.GetValue(killGrace),
                ExecutorRegistrationTimeout = parsed.GetValue(executorRegistration),
                ExecutorShutdownGracePeriod = parsed.GetValue(executorShutdownGrace),
                ExecutorReregistrationTimeout = parsed.GetValue(executorReregistration),
                Recover = parsed.GetValue(recover) == "cleanup" ? RecoverMode.Cleanup : RecoverMode.Reconnect,
                Strict = parsed.GetValue(strict),
                RecoveryTimeout = parsed.GetValue(recoveryTimeout),
                SecretsDir = parsed.GetValue(secretsDir) is { } secrets ? Path.GetFullPath(secrets) : null,
            };
            isolation.Apply(parsed, options);
            fetcher.Apply(parsed, options);
            images.Apply(parsed, options);
            containers.Apply(parsed, options);
            containerLogger.Apply(parsed, options);
            try
            {
                security.Apply(parsed, options);
            }
            catch (Exception ex) when (ex is InvalidSecretFileException or ArgumentException)
            {
                await Console.Error.WriteLineAsync($"mezzo agent: {ex.Message}");
                return 1;
            }

            if (options.Recover == RecoverMode.Cleanup)
            {
                var (killed, containers) = await AgentService.CleanupPreviousRunAsync(options);
                Console.WriteLine($"--recover=cleanup: killed {killed} task processes and removed {containers} containers a previous run left in {options.WorkDir}; exiting");
                return 0;
            }

            using var shutdown = new Shutdown(cancellationToken);
            await using var agent = AgentServer.Create(options, logFlags.Configure(parsed));
            try
            {
                await agent.StartAsync(shutdown.Token);
            }
            catch (IOException ex)
            {
                // A corrupt checkpoint (with --strict), a full or unwritable work dir: nothing was started or changed.
                await Console.Error.WriteLineAsync($"mezzo agent: cannot start: {ex.Message}");
                return 1;
            }

            Console.WriteLine($"Mezzo agent listening on {agent.Url}, registering with {options.Master} (resources {agent.Service.Total})");
            await Task.WhenAny(shutdown.WaitAsync(), agent.Service.ShutdownByMaster);
            return agent.Service.ShutdownByMaster.IsCompleted ? 1 : 0;
        });
        return command;
    }
}

/// <summary>The isolation flags, shared by <c>agent</c> and <c>dev</c>.</summary>
public sealed record IsolationFlags(Option<string> Isolation, Option<string> Hierarchy, Option<string> Root, Option<bool> EnableCfs, Option<int> MaxPids)
{
    public Option<TimeSpan> DiskWatchInterval { get; } = FlagOption.Duration("container-disk-watch-interval", "How often disk/du measures each task's sandbox", TimeSpan.FromSeconds(15))
        .Check(value => value <= TimeSpan.Zero ? "--container-disk-watch-interval must be positive" : null);

    public Option<bool> EnforceDiskQuota { get; } = FlagOption.Create("enforce-container-disk-quota", "With disk/du: kill a task whose sandbox outgrows its disk resource (TASK_FAILED, REASON_CONTAINER_LIMITATION_DISK)", () => true);

    public static IsolationFlags Create() => new(
        FlagOption.Create("isolation", "Isolators: cgroups/cpu, cgroups/mem, cgroups/pids, namespaces/pid, filesystem/linux (private /tmp), disk/du (posix/cpu, posix/mem: process groups only); those the host cannot give are left out with a warning", () => Mezzo.Agent.Isolation.IsolationFlag.Default)
            .Check(Mezzo.Agent.Isolation.IsolationFlag.Check),
        FlagOption.Create("cgroups-hierarchy", "Where the cgroup file systems are mounted", () => "/sys/fs/cgroup"),
        FlagOption.Create("cgroups-root", "Name of the cgroup all containers live under", () => "mezzo")
            .Check(value => string.IsNullOrWhiteSpace(value) || value.Split('/').Any(p => p is "." or "..") ? "--cgroups-root must be a relative cgroup name without . or .." : null),
        FlagOption.Create("cgroups-enable-cfs", "Also cap each task's CPU time at its cpus with a CFS quota", () => false),
        FlagOption.Create("cgroups-max-pids", "pids.max of each task's cgroup", () => 4096)
            .Check(value => value < 1 ? "--cgroups-max-pids must be at least 1" : null));

    public void Apply(ParseResult parsed, AgentOptions options)
    {
        options.Isolation = parsed.GetValue(Isolation)!;
        options.CgroupsHierarchy = parsed.GetValue(Hierarchy)!;
        options.CgroupsRoot = parsed.GetValue(Root)!;
        options.CgroupsEnableCfs = parsed.GetValue(EnableCfs);
        options.CgroupsMaxPids = parsed.GetValue(MaxPids);
        options.ContainerDiskWatchInterval = parsed.GetValue(DiskWatchInterval);
        options.EnforceContainerDiskQuota = parsed.GetValue(EnforceDiskQuota);
    }
}

/// <summary>The container image flags, shared by <c>agent</c> and <c>dev</c>.</summary>
public sealed record ContainerFlags(Option<string?> ImageRootfsDir, Option<string?> Runc)
{
    public static ContainerFlags Create() => new(
        FlagOption.Create<string?>("image-rootfs-dir", "Unpacked container images: <dir>/<name_tag> is the root file system of image name:tag, <dir>/<name_tag>.json its optional Docker image config", () => null),
        FlagOption.Create<string?>("runc", "The runc binary that runs container images (default: runc on PATH)", () => null));

    public void Apply(ParseResult parsed, AgentOptions options)
    {
        options.ImageRootfsDir = parsed.GetValue(ImageRootfsDir) is { } images ? Path.GetFullPath(images) : null;
        options.RuncPath = parsed.GetValue(Runc);
    }
}

/// <summary>--resources and --attributes are parsed at the command line so a typo fails before anything starts.</summary>
public static class AgentFlagValidation
{
    public static string? Resources(string? text) =>
        text is { Length: > 0 } && !ResourceParser.TryParse(text, out _, out var error) ? $"--resources: {error}" : null;

    public static string? Attributes(string? text)
    {
        if (text is not { Length: > 0 })
        {
            return null;
        }

        try
        {
            AttributeParser.Parse(text);
            return null;
        }
        catch (FormatException ex)
        {
            return $"--attributes: {ex.Message}";
        }
    }
}
