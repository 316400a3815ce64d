using System.Diagnostics;
using System.Globalization;

namespace Mezzo.IntegrationTests.Infrastructure;

/// <summary>
/// A network namespace joined to the host by its own veth pair: a process started in it (<see cref="Command"/>) reaches
/// the host only over that link, at <see cref="HostIp"/>. <see cref="CutAsync"/> takes the host's end down, a real
/// partition (packets are dropped, connections hang, nothing is closed); <see cref="HealAsync"/> brings it back.
/// Disposing deletes both (the link first, so nothing stays cut off).
/// </summary>
public sealed class NetworkPartition : IAsyncDisposable
{
    private readonly string _namespace;
    private readonly string _hostLink;
    private bool _created;

    private NetworkPartition(int id)
    {
        _namespace = $"mezzo-{id}";
        _hostLink = $"mzh{id}";
        // A /30 of 10.200.0.0/16 per partition, so parallel tests never share addresses.
        var block = id % 16384 * 4;
        HostIp = string.Create(CultureInfo.InvariantCulture, $"10.200.{block / 256}.{(block % 256) + 1}");
        InnerIp = string.Create(CultureInfo.InvariantCulture, $"10.200.{block / 256}.{(block % 256) + 2}");
    }

    /// <summary>The host's address on the link: where a process inside reaches the host (bind the master to it or to 0.0.0.0).</summary>
    public string HostIp { get; }

    /// <summary>The address of the inside end.</summary>
    public string InnerIp { get; }

    public static async Task<NetworkPartition> CreateAsync()
    {
        Assert.SkipUnless(Environment.IsPrivilegedProcess && File.Exists("/usr/sbin/ip") && File.Exists("/usr/bin/nsenter"),
            "Needs root, ip (iproute2) and nsenter (util-linux) for a network namespace with a veth pair.");
        var partition = new NetworkPartition(Random.Shared.Next(1, 16384));
        try
        {
            var inner = $"mza{partition._hostLink[3..]}";
            await RunAsync("ip", "netns", "add", partition._namespace);
            partition._created = true;
            await RunAsync("ip", "link", "add", partition._hostLink, "type", "veth", "peer", "name", inner);
            await RunAsync("ip", "link", "set", inner, "netns", partition._namespace);
            await RunAsync("ip", "addr", "add", partition.HostIp + "/30", "dev", partition._hostLink);
            await RunAsync("ip", "link", "set", partition._hostLink, "up");
            await RunAsync("ip", "-n", partition._namespace, "addr", "add", partition.InnerIp + "/30", "dev", inner);
            await RunAsync("ip", "-n", partition._namespace, "link", "set", inner, "up");
            await RunAsync("ip", "-n", partition._namespace, "link", "set", "lo", "up");
            return partition;
        }
        catch
        {
            await partition.DisposeAsync();
            throw;
        }
    }

    /// <summary>The prefix that runs a program inside (nsenter switches the network namespace only, unlike
    /// <c>ip netns exec</c>, which also remounts /sys and would hide the cgroup file systems).</summary>
    public IReadOnlyList<string> Command => ["nsenter", $"--net=/run/netns/{_namespace}", "--"];

    public Task CutAsync() => RunAsync("ip", "link", "set", _hostLink, "down");

    public Task HealAsync() => RunAsync("ip", "link", "set", _hostLink, "up");

    public async ValueTask DisposeAsync()
    {
        if (!_created)
        {
            return;
        }

        _created = false;
        await RunAsync(true, "ip", "link", "del", _hostLink);
        await RunAsync(true, "ip", "netns", "del", _namespace);
    }

    private static Task RunAsync(string program, params string[] args) => RunAsync(false, program, args);

    private static async Task RunAsync(bool allowFailure, string program, params string[] args)
    {
        var info = new ProcessStartInfo(program) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info)!;
        var error = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0 && !allowFailure)
        {
            throw new InvalidOperationException($"{program} {string.Join(' ', args)} exited with {process.ExitCode}: {error.Trim()}");
        }
    }
}
