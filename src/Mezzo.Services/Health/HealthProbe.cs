using System.Globalization;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Text;

namespace Mezzo.Services.Health;

/// <summary>Where and how to probe one task for one Marathon-side check.</summary>
public sealed record ProbeTarget(string Protocol, string Host, int Port, string Path, bool IgnoreHttp1xx, TimeSpan Timeout)
{
    public override string ToString() => Protocol == "TCP"
        ? $"tcp://{Host}:{Port.ToString(CultureInfo.InvariantCulture)}"
        : $"{Protocol.ToLowerInvariant()}://{Host}:{Port.ToString(CultureInfo.InvariantCulture)}{Path}";
}

/// <summary>
/// One Marathon-side probe. HTTP(S) is spoken by hand (one GET, the status line read) rather than through HttpClient:
/// HttpClient swallows 1xx answers while it waits for a final one, and Marathon's ignoreHttp1xx is about exactly those.
/// HTTPS does not verify the certificate (Marathon does not either: tasks serve self-signed ones).
/// </summary>
public static class HealthProbe
{
    private const int MaxStatusLine = 8 * 1024;

    public static async Task<ProbeOutcome> RunAsync(ProbeTarget target, TimeProvider time, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(target);
        using var deadline = new CancellationTokenSource(target.Timeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        try
        {
            using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            await socket.ConnectAsync(target.Host, target.Port, linked.Token).ConfigureAwait(false);
            if (target.Protocol == "TCP")
            {
                return new ProbeOutcome.Healthy();
            }

            Stream stream = new NetworkStream(socket, ownsSocket: false);
            await using (stream.ConfigureAwait(false))
            {
                if (target.Protocol == "HTTPS")
                {
                    var tls = new SslStream(stream, leaveInnerStreamOpen: false);
                    stream = tls;
                    await tls.AuthenticateAsClientAsync(
                        new SslClientAuthenticationOptions { TargetHost = target.Host, RemoteCertificateValidationCallback = static (_, _, _, _) => true },
                        linked.Token).ConfigureAwait(false);
                }

                var request = $"GET {target.Path} HTTP/1.1\r\nHost: {target.Host}:{target.Port.ToString(CultureInfo.InvariantCulture)}\r\nUser-Agent: mezzo-health-check\r\nAccept: */*\r\nConnection: close\r\n\r\n";
                await stream.WriteAsync(Encoding.ASCII.GetBytes(request), linked.Token).ConfigureAwait(false);
                var line = await ReadStatusLineAsync(stream, linked.Token).ConfigureAwait(false);
                return Classify(line, target);
            }
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            return new ProbeOutcome.Unhealthy($"{target} did not answer within {target.Timeout.TotalSeconds.ToString(CultureInfo.InvariantCulture)}s");
        }
        catch (Exception ex) when (ex is SocketException or IOException or AuthenticationException or ArgumentException)
        {
            return new ProbeOutcome.Unhealthy($"{target}: {ex.Message}");
        }
    }

    /// <summary>Marathon's rule: 200–399 passes; 1xx is discarded with ignoreHttp1xx; anything else fails.</summary>
    public static ProbeOutcome Classify(string? statusLine, ProbeTarget target)
    {
        ArgumentNullException.ThrowIfNull(target);
        var parts = statusLine?.Split(' ', 3);
        if (parts is not { Length: >= 2 } || !parts[0].StartsWith("HTTP/", StringComparison.Ordinal)
            || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var status))
        {
            return new ProbeOutcome.Unhealthy($"{target} answered no HTTP status line ('{Truncate(statusLine)}')");
        }

        if (status is >= 200 and <= 399)
        {
            return new ProbeOutcome.Healthy();
        }

        if (status is >= 100 and <= 199 && target.IgnoreHttp1xx)
        {
            return new ProbeOutcome.Ignored($"{target} answered {status.ToString(CultureInfo.InvariantCulture)}");
        }

        return new ProbeOutcome.Unhealthy($"{target} answered HTTP {status.ToString(CultureInfo.InvariantCulture)}");
    }

    private static async Task<string?> ReadStatusLineAsync(Stream stream, CancellationToken cancellationToken)
    {
        var buffer = new byte[1024];
        var line = new StringBuilder();
        while (line.Length < MaxStatusLine)
        {
            var read = await stream.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                return line.Length == 0 ? null : line.ToString();
            }

            var text = Encoding.ASCII.GetString(buffer, 0, read);
            var end = text.IndexOf('\n', StringComparison.Ordinal);
            if (end >= 0)
            {
                return line.Append(text, 0, end).ToString().TrimEnd('\r');
            }

            line.Append(text);
        }

        return line.ToString();
    }

    private static string Truncate(string? text) => text is null ? "connection closed" : text.Length > 80 ? text[..80] : text;
}
