using System.CommandLine;
using Mezzo.Agent;
using Mezzo.Cli.Flags;
using Mezzo.Master;

namespace Mezzo.Cli.Commands;

/// <summary>
/// A whole cluster in one process for a laptop or CI: master + one agent, embedded SQLite, loopback only. The agent
/// still talks to the master over HTTP, exactly as a remote one would.
/// </summary>
public static class DevCommand
{
    public static Command Create()
    {
        var masterPort = FlagOption.Create("master-port", "Master port (0 = pick a free one)", () => 5050).Check(FlagOption.ValidPort("--master-port"));
        var agentPort = FlagOption.Create("agent-port", "Agent port (0 = pick a free one)", () => 5051).Check(FlagOption.ValidPort("--agent-port"));
        var servicesPort = FlagOption.Create("services-port", "Services (Marathon API) port (0 = pick a free one)", () => 8080).Check(FlagOption.ValidPort("--services-port"));
        var jobsPort = FlagOption.Create("jobs-port", "Jobs (Chronos API) port (0 = pick a free one)", () => 4400).Check(FlagOption.ValidPort("--jobs-port"));
        var workDir = FlagOption.Create("work-dir", "Where the cluster keeps its state", () => Path.Combine(Environment.CurrentDirectory, ".mezzo"));
        var resources = FlagOption.Create<string?>("resources", "The agent's resources; what is left out is detected", () => null)
            .Check(AgentFlagValidation.Resources);
        var attributes = FlagOption.Create<string?>("attributes", "The agent's attributes, e.g. \"rack:r1\"", () => null)
            .Check(AgentFlagValidation.Attributes);
        var isolation = IsolationFlags.Create();
        var fetcher = FetcherFlags.Create();
        var images = ImageFlags.Create();
        var containers = ContainerFlags.Create();
        var secure = new Option<bool>("--secure")
        {
            Description = "Turn on authentication everywhere (every --authenticate-* switch) with ACLs (permissive false): "
                + "credentials with random secrets and an ACL file are made under <work-dir>/security, and the operator's login is printed",
        };
        var command = new Command("dev", "Run a whole cluster on this machine: master + agent + services (Marathon API) + jobs (Chronos API), embedded storage. A single-user dev cluster: its tasks may run as root (as 'mezzo agent --allow-root-tasks')")
        {
            masterPort, agentPort, servicesPort, jobsPort, workDir, resources, attributes,
            isolation.Isolation, isolation.Hierarchy, isolation.Root, isolation.EnableCfs, isolation.MaxPids,
            isolation.DiskWatchInterval, isolation.EnforceDiskQuota,
            fetcher.CacheDir, fetcher.CacheSize, fetcher.StallTimeout,
            containers.ImageRootfsDir, containers.Runc, secure,
        };
        images.AddTo(command);
        var logFlags = LogFlags.Create();
        logFlags.AddTo(command);
        var containerLogger = ContainerLoggerFlags.Create();
        containerLogger.AddTo(command);
        var tlsFlag = FlagOption.Create("tls",
            "Serve everything over HTTPS with a throwaway CA and certificates made in <work-dir>/tls (mutual TLS between agent and master)",
            () => false, bool.Parse);
        command.Options.Add(tlsFlag);
        command.SetAction(async (parsed, cancellationToken) =>
        {
            var root = Path.GetFullPath(parsed.GetValue(workDir)!);
            using var shutdown = new Shutdown(cancellationToken);
            DevSecurity? security = null;
            if (parsed.GetValue(secure))
            {
                try
                {
                    security = DevSecurity.Prepare(root, Environment.UserName);
                }
                catch (Exception ex) when (ex is Hosting.Security.InvalidSecretFileException or IOException or UnauthorizedAccessException)
                {
                    await Console.Error.WriteLineAsync($"--secure: {ex.Message}");
                    return 1;
                }
            }

            var pki = parsed.GetValue(tlsFlag) ? Hosting.Tls.DevCertificates.Create(Path.Combine(root, "tls")) : null;
            await using var master = MasterServer.Create(
                new MasterOptions
                {
                    Port = parsed.GetValue(masterPort), Ip = "127.0.0.1", Hostname = "127.0.0.1", WorkDir = Path.Combine(root, "master"),
                    Security = security?.Server(frameworks: true, agents: true) ?? new(),
                    Tls = pki?.Server() ?? new(),
                },
                logFlags.Configure(parsed));
            await master.StartAsync(shutdown.Token);
            var agentOptions = new AgentOptions
            {
                Master = $"127.0.0.1:{master.Url.Port}",
                Port = parsed.GetValue(agentPort),
                Ip = "127.0.0.1",
                Hostname = "127.0.0.1",
                WorkDir = Path.Combine(root, "agent"),
                Resources = parsed.GetValue(resources),
                Attributes = parsed.GetValue(attributes),
                // A single-user cluster on one's own machine: tasks run as whoever runs it, root included.
                AllowRootTasks = true,
                Security = security?.Server(executors: true) ?? new(),
                Credential = security?.Of(DevSecurity.AgentPrincipal),
                Tls = pki?.Client() ?? new(),
            };
            isolation.Apply(parsed, agentOptions);
            fetcher.Apply(parsed, agentOptions);
            images.Apply(parsed, agentOptions);
            containers.Apply(parsed, agentOptions);
            containerLogger.Apply(parsed, agentOptions);
            await using var agent = AgentServer.Create(agentOptions, logFlags.Configure(parsed));
            await agent.StartAsync(shutdown.Token);
            await using var services = Services.ServicesServer.Create(
                new Services.ServicesOptions
                {
                    Master = agentOptions.Master, Port = parsed.GetValue(servicesPort), Ip = "127.0.0.1", Hostname = "127.0.0.1", WorkDir = Path.Combine(root, "services"),
                    Security = security?.Server() ?? new(), MesosCredential = security?.Of(DevSecurity.ServicesPrincipal),
                    Tls = pki?.Server() ?? new(),
                },
                logFlags.Configure(parsed));
            await services.StartAsync(shutdown.Token);
            await using var jobs = Mezzo.Jobs.JobsServer.Create(
                new Mezzo.Jobs.JobsOptions
                {
                    Master = $"127.0.0.1:{master.Url.Port}", Port = parsed.GetValue(jobsPort), Ip = "127.0.0.1", Hostname = "127.0.0.1", WorkDir = Path.Combine(root, "jobs"),
                    // Jobs run as whoever runs the laptop cluster (Chronos's "root" default would fail without root).
                    Defaults = new Mezzo.Protocol.Chronos.JobDefaults(User: Environment.UserName),
                    Security = security?.Server() ?? new(), MesosCredential = security?.Of(DevSecurity.JobsPrincipal),
                    Tls = pki?.Server() ?? new(),
                },
                logFlags.Configure(parsed));
            try
            {
                await jobs.StartAsync(shutdown.Token);
            }
            catch (IOException ex)
            {
                await Console.Error.WriteLineAsync($"Cannot start the jobs service: {ex.Message} (--jobs-port 0 picks a free port)");
                return 1;
            }

            Console.WriteLine($"""
                Mezzo dev cluster is up (work dir {root})
                  master    {master.Url}  scheduler API: POST {master.Url}api/v1/scheduler  state: {master.Url}master/state
                  agent     {agent.Url}  resources: {agent.Service.Total}
                  services  {services.Url}  Marathon API: {services.Url}v2/apps
                  jobs      {jobs.Url}  Chronos API: {jobs.Url}v1/scheduler/jobs
                  web UI    {master.Url}  (open it in a browser)
                Try:  mezzo execute --master {(pki is null ? $"127.0.0.1:{master.Url.Port}" : $"{master.Url} --tls-ca {pki.CaPath}")} --name hello --command "echo hi"
                Press Ctrl-C to stop (tasks started here are killed).
                """);
            if (security is not null)
            {
                Console.WriteLine(security.Instructions(master.Url));
            }

            if (pki is not null)
            {
                Console.WriteLine($"""
                    TLS: every URL above is HTTPS, signed by the throwaway CA {pki.CaPath} (valid {Hosting.Tls.DevCertificates.Validity.TotalDays} days)
                      curl --cacert {pki.CaPath} {master.Url}state
                      export MEZZO_TLS_CA={pki.CaPath}   (trusted by every mezzo client verb)
                    """);
            }

            await shutdown.WaitAsync();
            Console.WriteLine("Stopping: killing tasks, then agent and master.");
            return 0;
        });
        return command;
    }
}
