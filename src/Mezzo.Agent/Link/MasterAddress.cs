namespace Mezzo.Agent.Link;

public static class MasterAddress
{
    /// <summary>Accepts "host:port", "http://host:port" and Mesos's "master@host:port" pid form.</summary>
    public static Uri Parse(string master) => Parse(master, Uri.UriSchemeHttp);

    /// <summary>As <see cref="Parse(string)"/>; an address without a scheme gets <paramref name="defaultScheme"/>.</summary>
    public static Uri Parse(string master, string defaultScheme)
    {
        var text = master.Trim();
        if (text.StartsWith("zk://", StringComparison.OrdinalIgnoreCase))
        {
            throw new ArgumentException("ZooKeeper master detection is not supported; give host:port, a list host1:port,host2:port, or etcd://host:2379 (masters started with --store etcd://)");
        }

        var at = text.IndexOf('@', StringComparison.Ordinal);
        if (at >= 0 && !text.Contains("://", StringComparison.Ordinal))
        {
            text = text[(at + 1)..];
        }

        if (!text.Contains("://", StringComparison.Ordinal))
        {
            text = defaultScheme + "://" + text;
        }

        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || string.IsNullOrEmpty(uri.Host))
        {
            throw new ArgumentException($"Invalid master address '{master}': expected host:port");
        }

        return new UriBuilder(uri.Scheme, uri.Host, uri.IsDefaultPort && !text.Contains(":" + uri.Port, StringComparison.Ordinal) ? 5050 : uri.Port).Uri;
    }
}
