using System.Net;
using System.Net.Sockets;

namespace Mezzo.Master.Http;

/// <summary>
/// Where the framework proxy may connect. A framework chooses its own <c>webui_url</c>, so without limits the master's
/// proxy would fetch any URL for it from inside the cluster (SSRF): only http(s), and never a link-local address (the
/// cloud metadata services live there: 169.254.169.254, fd00:ec2::254), checked on the URL and again on the address
/// a host name resolves to when connecting.
/// </summary>
public static class ProxyTargets
{
    private static readonly IPAddress AwsMetadataV6 = IPAddress.Parse("fd00:ec2::254");

    /// <summary>Why <paramref name="webUiUrl"/> may not be proxied to, or null with the parsed URL when it may.</summary>
    public static string? Problem(string? webUiUrl, out Uri? url)
    {
        url = null;
        if (string.IsNullOrWhiteSpace(webUiUrl))
        {
            return "The framework registered no webui_url";
        }

        if (!Uri.TryCreate(webUiUrl, UriKind.Absolute, out var parsed) || (parsed.Scheme != Uri.UriSchemeHttp && parsed.Scheme != Uri.UriSchemeHttps))
        {
            return $"The framework's webui_url '{webUiUrl}' is not an absolute http(s) URL";
        }

        if (IPAddress.TryParse(parsed.DnsSafeHost, out var address) && IsForbidden(address))
        {
            return $"The framework's webui_url '{webUiUrl}' points at a link-local or metadata address, which the proxy does not reach";
        }

        url = parsed;
        return null;
    }

    /// <summary>Link-local IPv4 (169.254.0.0/16) and IPv6 (fe80::/10), also IPv4-mapped, and AWS's IPv6 metadata address.</summary>
    public static bool IsForbidden(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            var bytes = address.GetAddressBytes();
            return bytes[0] == 169 && bytes[1] == 254;
        }

        return address.IsIPv6LinkLocal || address.Equals(AwsMetadataV6);
    }

    /// <summary>
    /// A connect callback that resolves the host itself and refuses forbidden addresses, so a host name that resolves
    /// (or is re-pointed) to the metadata service is refused too.
    /// </summary>
    public static async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var host = context.DnsEndPoint.Host;
        var addresses = IPAddress.TryParse(host, out var literal)
            ? [literal]
            : await Dns.GetHostAddressesAsync(host, cancellationToken);
        var allowed = addresses.Where(a => !IsForbidden(a)).ToArray();
        if (allowed.Length == 0)
        {
            throw new HttpRequestException($"'{host}' resolves only to link-local or metadata addresses, which the framework proxy does not reach");
        }

        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(allowed, context.DnsEndPoint.Port, cancellationToken);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
