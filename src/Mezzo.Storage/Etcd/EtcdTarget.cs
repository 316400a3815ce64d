namespace Mezzo.Storage.Etcd;

/// <summary>
/// Where an etcd cluster is and under which key prefix Mezzo keeps its data, from
/// <c>etcd://host1:2379,host2:2379[/prefix]</c> (the shape of Mesos's <c>zk://host1:2181,host2:2181/mesos</c>).
/// </summary>
public sealed record EtcdTarget(IReadOnlyList<Uri> Endpoints, string Prefix)
{
    public const string Scheme = "etcd://";

    public const string DefaultPrefix = "/mezzo";

    /// <summary>The key whose holder is the leading master; its value is the leader's MasterInfo as JSON.</summary>
    public string LeaderKey => Prefix + "/leader";

    public string RegistryPrefix => Prefix + "/registry/";

    /// <summary>
    /// A <c>--store</c> value: null for <c>sqlite</c>, else the etcd target with <paramref name="keySpace"/> appended to
    /// its prefix, so a framework beside a master (and other frameworks) on the same etcd and prefix keeps keys and a
    /// leader key of its own. An empty key space is the master's own.
    /// </summary>
    public static EtcdTarget? ParseStore(string store, string keySpace = "")
    {
        ArgumentNullException.ThrowIfNull(store);
        var text = store.Trim();
        if (text.Equals("sqlite", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        if (!IsEtcd(text))
        {
            throw new FormatException($"unknown store '{store}'; expected 'sqlite' or etcd://host:port[,host:port...][/prefix]");
        }

        var target = Parse(text);
        return keySpace.Length == 0 ? target : target with { Prefix = target.Prefix + "/" + keySpace };
    }

    public static bool IsEtcd(string? text) => text?.Trim().StartsWith(Scheme, StringComparison.OrdinalIgnoreCase) == true;

    /// <summary>Parses an etcd:// address; the message of the exception names the offending input.</summary>
    public static EtcdTarget Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var trimmed = text.Trim();
        if (!IsEtcd(trimmed))
        {
            throw new FormatException($"'{text}' is not an etcd address: expected etcd://host:port[,host:port...][/prefix]");
        }

        var rest = trimmed[Scheme.Length..];
        var slash = rest.IndexOf('/', StringComparison.Ordinal);
        var hosts = slash < 0 ? rest : rest[..slash];
        var prefix = slash < 0 ? DefaultPrefix : "/" + rest[(slash + 1)..].Trim('/');
        if (prefix == "/")
        {
            prefix = DefaultPrefix;
        }

        var endpoints = new List<Uri>();
        foreach (var part in hosts.Split(',', StringSplitOptions.TrimEntries))
        {
            if (part.Length == 0)
            {
                throw new FormatException($"'{text}': empty etcd endpoint; expected etcd://host:port[,host:port...]");
            }

            // 2379 is etcd's client port, as Mesos defaults ZooKeeper to 2181.
            var withPort = part.Contains(':', StringComparison.Ordinal) ? part : part + ":2379";
            if (!Uri.TryCreate("http://" + withPort, UriKind.Absolute, out var uri) || uri.Host.Length == 0
                || uri.AbsolutePath != "/" || uri.Port is <= 0 or > 65535)
            {
                throw new FormatException($"'{text}': bad etcd endpoint '{part}'; expected host:port");
            }

            endpoints.Add(new Uri($"http://{uri.Host}:{uri.Port}"));
        }

        if (prefix.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)))
        {
            throw new FormatException($"'{text}': the key prefix '{prefix}' has whitespace or control characters");
        }

        return new EtcdTarget(endpoints, prefix);
    }

    public override string ToString() =>
        Scheme + string.Join(',', Endpoints.Select(e => e.Authority)) + (Prefix == DefaultPrefix ? "" : Prefix);
}
