using System.CommandLine;

namespace Mezzo.Cli.Flags;

/// <summary>
/// <c>--store</c> and <c>--leader-lease-ttl</c> of the master and of the services and jobs frameworks, one syntax
/// (<c>sqlite</c> or <c>etcd://host:2379[,host:2379...][/prefix]</c>); each framework keeps a key space and a leader
/// key of its own under the prefix.
/// </summary>
public static class StoreFlag
{
    public static Option<string> Create(string what, string subPrefix) =>
        FlagOption.Create("store",
                $"Where the {what} state lives: 'sqlite' (a file in --work-dir, one instance) or etcd://host:2379[,host:2379...][/prefix] "
                + $"for high availability: every instance given the same etcd elects one leader (keys under <prefix>/{subPrefix}, "
                + "prefix /mezzo by default), which is the framework; the others proxy the API to it", () => "sqlite")
            .Check(Check);

    public static Option<TimeSpan> LeaseTtl() =>
        FlagOption.Duration("leader-lease-ttl",
                "With an etcd store: TTL of the lease that holds leadership; a dead leader is replaced after about this long", TimeSpan.FromSeconds(4))
            .Check(value => value < TimeSpan.FromSeconds(1) ? "--leader-lease-ttl must be at least 1secs (etcd leases count whole seconds)" : null);

    public static string? Check(string value)
    {
        try
        {
            Storage.Etcd.EtcdTarget.ParseStore(value);
            return null;
        }
        catch (FormatException ex)
        {
            return $"--store: {ex.Message}";
        }
    }
}
