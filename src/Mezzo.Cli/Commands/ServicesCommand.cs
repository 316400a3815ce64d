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
        var command = new Command("services", "Run the services framework: Marathon's /v2 REST API for long-running apps") { master, port, ip, hostname, workDir };
        var logFlags = LogFlags.Create();
        logFlags.AddTo(command);
        command.SetAction(async (parsed, cancellationToken) =>
        {
            var options = new ServicesOptions
            {
                Master = parsed.GetValue(master)!,
                Port = parsed.GetValue(port),
                Ip = parsed.GetValue(ip)!,
                Hostname = parsed.GetValue(hostname)!,
                WorkDir = Path.GetFullPath(parsed.GetValue(workDir)!),
            };
            using var shutdown = new Shutdown(cancellationToken);
            await using var services = ServicesServer.Create(options, logFlags.Configure(parsed));
            await services.StartAsync(shutdown.Token);
            Console.WriteLine($"Mezzo services (Marathon API) listening on {services.Url} for master {options.Master} (work dir {options.WorkDir})");
            await shutdown.WaitAsync();
            return 0;
        });
        return command;
    }
}
