using System.CommandLine;
using Mezzo.Cli.Flags;
using Mezzo.Services;

namespace Mezzo.Cli.Commands;

/// <summary>`mezzo services`: the Marathon-compatible framework for long-running apps.</summary>
public static class ServicesCommand
{
    public static Command Create()
    {
        var master = FlagOption.Create<string?>("master", "Master: host:port, a comma list of masters, or etcd://host:2379[,...][/prefix]", () => null)
            .Check(MasterFlag.Check);
        var port = FlagOption.Create("port", "Port of the Marathon REST API (0 = pick a free one and print it)", () => 8080).Check(FlagOption.ValidPort("--port"));
        var ip = FlagOption.Create("ip", "IP address to listen on", () => "0.0.0.0");
        var hostname = FlagOption.Create("hostname", "Hostname advertised in /v2/info, /v2/leader and the framework's web UI URL", () => System.Net.Dns.GetHostName());
        var workDir = FlagOption.Create("work-dir", "Directory for the services state (SQLite)", () => Path.Combine(Environment.CurrentDirectory, ".mezzo", "services"));
        var eventSubscriber = FlagOption.Create("event-subscriber", "HTTP callback event subscriptions (/v2/eventSubscriptions): http_callback (on) or none", () => "http_callback")
            .Check(value => value is "http_callback" or "none" ? null : $"--event-subscriber must be http_callback or none, not '{value}'");
        var store = StoreFlag.Create("services", "services");
        var leaseTtl = StoreFlag.LeaseTtl();
        var command = new Command("services", "Run the services framework: Marathon's /v2 REST API for long-running apps")
        {
            master, port, ip, hostname, workDir, eventSubscriber, store, leaseTtl,
        };
        var logFlags = LogFlags.Create();
        logFlags.AddTo(command);
        var securityFlags = FrameworkSecurityFlags.Create("services API");
        securityFlags.AddTo(command);
        var tlsFlags = TlsFlags.Create();
        tlsFlags.AddTo(command);
        command.SetAction(async (parsed, cancellationToken) =>
        {
            if (tlsFlags.Check(parsed) is not { } tls)
            {
                return 1;
            }

            if (securityFlags.Read(parsed, "mezzo services") is not { } security)
            {
                return 1;
            }

            var options = new ServicesOptions
            {
                Tls = tls,
                Master = parsed.GetValue(master)!,
                Port = parsed.GetValue(port),
                Ip = parsed.GetValue(ip)!,
                Hostname = parsed.GetValue(hostname)!,
                WorkDir = Path.GetFullPath(parsed.GetValue(workDir)!),
                HttpCallbacks = parsed.GetValue(eventSubscriber) == "http_callback",
                Store = parsed.GetValue(store)!,
                LeaderLeaseTtl = parsed.GetValue(leaseTtl),
                Security = security.Security,
                MesosCredential = security.MesosCredential,
                RateLimit = securityFlags.RateLimit(parsed),
            };
            using var shutdown = new Shutdown(cancellationToken);
            await using var services = ServicesServer.Create(options, logFlags.Configure(parsed));
            try
            {
                await services.StartAsync(shutdown.Token);
            }
            catch (Storage.Etcd.EtcdUnavailableException ex)
            {
                await Console.Error.WriteLineAsync($"Cannot start mezzo services: {ex.Message}");
                return 1;
            }

            Console.WriteLine(services.Candidate is { } candidate
                ? $"Mezzo services (Marathon API) listening on {services.Url} for master {options.Master} (state in {candidate.Target}, leader lease {options.LeaderLeaseTtl.TotalSeconds}s)"
                : $"Mezzo services (Marathon API) listening on {services.Url} for master {options.Master} (work dir {options.WorkDir})");
            var stopped = shutdown.WaitAsync();
            if (await Task.WhenAny(stopped, services.LeadershipLost) != stopped)
            {
                // As Marathon: a leader that lost its term ends, and its supervisor starts it again as a standby.
                await Console.Error.WriteLineAsync($"Terminating after loss of leadership: {await services.LeadershipLost}");
                return 3;
            }

            return 0;
        });
        return command;
    }
}
