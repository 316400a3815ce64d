using System.CommandLine;
using Mezzo.Cli.Flags;
using Mezzo.Core.Roles;
using Mezzo.Master;

namespace Mezzo.Cli.Commands;

public static class MasterCommand
{
    public static Command Create()
    {
        var port = FlagOption.Create("port", "Port to listen on (0 = pick a free one and print it)", () => 5050).Check(FlagOption.ValidPort("--port"));
        var ip = FlagOption.Create("ip", "IP address to listen on", () => "0.0.0.0");
        var hostname = FlagOption.Create("hostname", "Hostname the master advertises", () => System.Net.Dns.GetHostName());
        var workDir = FlagOption.Create("work-dir", "Directory for the registry (SQLite)", () => Path.Combine(Environment.CurrentDirectory, ".mezzo", "master"));
        var cluster = FlagOption.Create<string?>("cluster", "Human readable cluster name shown in /state", () => null);
        var allocationInterval = FlagOption.Duration("allocation-interval", "How long allocation events are batched", TimeSpan.FromMilliseconds(50));
        var pingTimeout = FlagOption.Duration("agent-ping-timeout", "Time after which an agent ping is considered missed", TimeSpan.FromSeconds(15));
        var maxPings = FlagOption.Create("max-agent-ping-timeouts", "Missed pings after which an agent is marked unreachable", () => 5)
            .Check(value => value < 1 ? "--max-agent-ping-timeouts must be at least 1" : null);
        var registryMaxAgentAge = FlagOption.Duration("registry-max-agent-age",
                "Forget an agent unreachable for longer than this (reconciling its tasks then answers TASK_UNKNOWN)", TimeSpan.FromDays(14))
            .Check(value => value <= TimeSpan.Zero ? "--registry-max-agent-age must be positive" : null);
        var registryMaxAgentCount = FlagOption.Create("registry-max-agent-count",
                "Remember at most this many unreachable agents; the longest unreachable are forgotten first", () => 100 * 1024)
            .Check(value => value < 0 ? "--registry-max-agent-count must be 0 or more" : null);
        var registryGcInterval = FlagOption.Duration("registry-gc-interval",
                "How often unreachable agents are checked against --registry-max-agent-age and --registry-max-agent-count", TimeSpan.FromMinutes(15))
            .Check(value => value <= TimeSpan.Zero ? "--registry-gc-interval must be positive" : null);
        var removalLimit = FlagOption.Create("recovery-agent-removal-limit",
                "After a master restart, the largest share of known agents (\"N%\") that may fail to re-register and be marked "
                + "unreachable; beyond it the master marks none and waits for an operator", () => "100%")
            .Check(value => ParsePercent(value) is null ? $"--recovery-agent-removal-limit '{value}': expected a percentage from 0% to 100%" : null);
        var reregisterTimeout = FlagOption.Duration("agent-reregister-timeout",
                "After a master (re)start, how long agents the registry knows have to re-register before they are marked "
                + "unreachable (within --recovery-agent-removal-limit)", TimeSpan.FromMinutes(10))
            .Check(value => value <= TimeSpan.Zero ? "--agent-reregister-timeout must be positive" : null);
        var offerTimeout = FlagOption.Duration("offer-timeout", "Rescind offers outstanding this long (0 = never)", TimeSpan.Zero);
        var weights = FlagOption.Create<string?>("weights",
                "Role weights, e.g. \"dev=2,prod=3.5\": a role's share of the cluster relative to its siblings (default 1). "
                + "Deprecated, as in Mesos: the first start stores them in the registry, and from then on the registry wins "
                + "(change weights with UPDATE_WEIGHTS or PUT /weights)", () => null)
            .Check(WeightValidation.CheckFlag);
        var minAllocatable = FlagOption.Create("min-allocatable-resources",
                "Smallest offer worth making: alternatives separated by '|', each 'name:amount;...' (Mesos's default \"cpus:0.01|mem:32\")",
                () => "cpus:0.01|mem:32")
            .Check(value =>
            {
                try
                {
                    Core.Resources.ResourceQuantities.ParseAlternatives(value);
                    return null;
                }
                catch (Core.Resources.ResourceParseException ex)
                {
                    return $"--min-allocatable-resources: {ex.Message}";
                }
            });
        var store = FlagOption.Create("store",
                "Where the registry lives: 'sqlite' (a file in --work-dir, one master) or etcd://host:2379[,host:2379...][/prefix] "
                + "for high availability: every master given the same etcd elects one leader, the others redirect to it. "
                + "etcd replicates with its own quorum, so there is no --quorum flag", () => "sqlite")
            .Check(StoreFlag.Check);
        var leaseTtl = StoreFlag.LeaseTtl();
        var maxSubscribers = FlagOption.Create("max-operator-event-stream-subscribers",
                "Most operator API SUBSCRIBE streams open at once; a new one beyond it closes the oldest", () => 1000)
            .Check(value => value < 1 ? "--max-operator-event-stream-subscribers must be at least 1" : null);
        var maxFrameworks = FlagOption.Create("max-frameworks",
                "Most frameworks registered at once (connected or within their failover timeout); a new SUBSCRIBE beyond it is answered 503, a failover always gets in", () => 1000)
            .Check(value => value < 1 ? "--max-frameworks must be at least 1" : null);
        var maxTasks = FlagOption.Create("max-tasks-per-framework",
                "Most tasks per framework (active, or terminal and not yet acknowledged); a launch beyond it is answered TASK_ERROR", () => 100_000)
            .Check(value => value < 1 ? "--max-tasks-per-framework must be at least 1" : null);
        var maxOffers = FlagOption.Create("max-outstanding-offers-per-framework",
                "Most offers a framework may hold unanswered; beyond it it gets no more offers until it accepts or declines some", () => 1000)
            .Check(value => value < 1 ? "--max-outstanding-offers-per-framework must be at least 1" : null);
        var rateLimitQps = FlagOption.Create("rate-limit-qps",
                "Calls per second each client may make to the scheduler and operator APIs; over it a call is answered 429 "
                + "with Retry-After (clients are told apart by address; loopback is not limited; 0 = off)", () => 2000)
            .Check(value => value < 0 ? "--rate-limit-qps must be 0 (off) or more" : null);
        var rateLimitBurst = FlagOption.Create("rate-limit-burst",
                "Calls a client may make at once before --rate-limit-qps applies (0 = off)", () => 10_000)
            .Check(value => value < 0 ? "--rate-limit-burst must be 0 (off) or more" : null);
        var security = MasterSecurityFlags.Create();
        var command = new Command("master", "Run a Mezzo master: resource pool, offers, Mesos v1 scheduler API")
        {
            port, ip, hostname, workDir, cluster, allocationInterval, pingTimeout, maxPings, offerTimeout, weights, minAllocatable,
            store, leaseTtl,
            registryMaxAgentAge, registryMaxAgentCount, registryGcInterval, removalLimit, reregisterTimeout, maxSubscribers,
            maxFrameworks, maxTasks, maxOffers,
            rateLimitQps, rateLimitBurst,
        };
        security.AddTo(command);
        var logFlags = LogFlags.Create();
        logFlags.AddTo(command);
        var tlsFlags = TlsFlags.Create();
        tlsFlags.AddTo(command);
        command.SetAction(async (parsed, cancellationToken) =>
        {
            if (tlsFlags.Check(parsed) is not { } tls)
            {
                return 1;
            }

            Hosting.Security.SecurityOptions securityOptions;
            try
            {
                securityOptions = security.Read(parsed);
            }
            catch (Exception ex) when (ex is Hosting.Security.InvalidSecretFileException or ArgumentException)
            {
                await Console.Error.WriteLineAsync($"Cannot start the master: {ex.Message}");
                return 1;
            }

            var options = new MasterOptions
            {
                Tls = tls,
                Port = parsed.GetValue(port),
                Ip = parsed.GetValue(ip)!,
                Hostname = parsed.GetValue(hostname)!,
                WorkDir = Path.GetFullPath(parsed.GetValue(workDir)!),
                Cluster = parsed.GetValue(cluster),
                AllocationInterval = parsed.GetValue(allocationInterval),
                AgentPingTimeout = parsed.GetValue(pingTimeout),
                MaxAgentPingTimeouts = parsed.GetValue(maxPings),
                OfferTimeout = parsed.GetValue(offerTimeout) is { } t && t > TimeSpan.Zero ? t : null,
                Weights = parsed.GetValue(weights),
                MinAllocatableResources = parsed.GetValue(minAllocatable)!,
                Store = parsed.GetValue(store)!,
                LeaderLeaseTtl = parsed.GetValue(leaseTtl),
                RegistryMaxAgentAge = parsed.GetValue(registryMaxAgentAge),
                RegistryMaxAgentCount = parsed.GetValue(registryMaxAgentCount),
                RegistryGcInterval = parsed.GetValue(registryGcInterval),
                RecoveryAgentRemovalLimitPercent = ParsePercent(parsed.GetValue(removalLimit)!)!.Value,
                AgentReregisterTimeout = parsed.GetValue(reregisterTimeout),
                MaxOperatorEventStreamSubscribers = parsed.GetValue(maxSubscribers),
                MaxFrameworks = parsed.GetValue(maxFrameworks),
                MaxTasksPerFramework = parsed.GetValue(maxTasks),
                MaxOutstandingOffersPerFramework = parsed.GetValue(maxOffers),
                RateLimit = new Hosting.Limits.ClientRateLimitOptions
                {
                    PermitsPerSecond = parsed.GetValue(rateLimitQps),
                    Burst = parsed.GetValue(rateLimitBurst),
                },
                Security = securityOptions,
            };
            using var shutdown = new Shutdown(cancellationToken);
            await using var master = MasterServer.Create(options, logFlags.Configure(parsed));
            try
            {
                await master.StartAsync(shutdown.Token);
            }
            catch (Storage.Etcd.EtcdUnavailableException ex)
            {
                await Console.Error.WriteLineAsync($"Cannot start the master: {ex.Message}");
                return 1;
            }

            Console.WriteLine(master.Candidate is { } candidate
                ? $"Mezzo master {candidate.StandbyId} listening on {master.Url} (registry in {candidate.Target}, leader lease {options.LeaderLeaseTtl.TotalSeconds}s)"
                : $"Mezzo master {master.Actor.MasterId} listening on {master.Url} (work dir {options.WorkDir})");
            if (master.RedirectUrl is { } redirect)
            {
                Console.WriteLine($"Plain HTTP on {redirect} redirects to {master.Url}");
            }
            await shutdown.WaitAsync();
            return 0;
        });
        return command;
    }


    /// <summary>Mesos's percentage flags: "50%" (or "50"), 0 to 100.</summary>
    private static double? ParsePercent(string text) =>
        double.TryParse(text.Trim().TrimEnd('%'), System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var value)
        && value is >= 0 and <= 100
            ? value
            : null;
}
