using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Mezzo.Hosting.Tls;

/// <summary>The files <see cref="DevCertificates.Create"/> wrote: a CA, and a server and a client certificate it signed.</summary>
public sealed record DevTlsFiles(string CaPath, string ServerCertificatePath, string ServerKeyPath, string ClientCertificatePath, string ClientKeyPath)
{
    /// <summary>Flags for a server process (master, services, jobs): the server certificate, trusting the CA.</summary>
    public TlsOptions Server() => new() { CertificatePath = ServerCertificatePath, KeyPath = ServerKeyPath, CaPath = CaPath };

    /// <summary>Flags for the agent: the client certificate (it serves HTTPS with it too), trusting the CA.</summary>
    public TlsOptions Client() => new() { CertificatePath = ClientCertificatePath, KeyPath = ClientKeyPath, CaPath = CaPath };
}

/// <summary>
/// <c>mezzo dev --tls</c>'s throwaway PKI: a local CA and two certificates it signs (ECDSA P-256, valid 30 days, for
/// 127.0.0.1, ::1, localhost and this host's name), written as PEM with the keys readable by the owner only. Nothing
/// here is for production: the CA's key is thrown away once the certificates are signed.
/// </summary>
public static class DevCertificates
{
    public static readonly TimeSpan Validity = TimeSpan.FromDays(30);

    public static DevTlsFiles Create(string directory, TimeProvider? time = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        var now = (time ?? TimeProvider.System).GetUtcNow();
        Directory.CreateDirectory(directory);
        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caRequest = new CertificateRequest("CN=Mezzo dev CA", caKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        caRequest.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(caRequest.PublicKey, false));
        // A minute back: a clock a little behind this one still accepts what was just made.
        using var ca = caRequest.CreateSelfSigned(now.AddMinutes(-1), now + Validity);
        var caPath = Path.Combine(directory, "ca.pem");
        File.WriteAllText(caPath, ca.ExportCertificatePem());
        var (serverCert, serverKey) = Issue(ca, "mezzo-dev-server", directory, "server", now);
        var (clientCert, clientKey) = Issue(ca, "mezzo-dev-agent", directory, "agent", now);
        return new DevTlsFiles(caPath, serverCert, serverKey, clientCert, clientKey);
    }

    private static (string Certificate, string Key) Issue(X509Certificate2 ca, string commonName, string directory, string name, DateTimeOffset now)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={commonName}", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        names.AddIpAddress(IPAddress.IPv6Loopback);
        names.AddDnsName("localhost");
        var host = Dns.GetHostName();
        if (!string.IsNullOrEmpty(host) && host != "localhost")
        {
            names.AddDnsName(host);
        }

        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        // Both purposes: every Mezzo process is a server and, towards the master or the agents, a client.
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
            [new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], false));
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7f;
        using var certificate = request.Create(ca, now.AddMinutes(-1), now + Validity, serial);
        var certificatePath = Path.Combine(directory, name + ".pem");
        var keyPath = Path.Combine(directory, name + "-key.pem");
        File.WriteAllText(certificatePath, certificate.ExportCertificatePem());
        WriteOwnerOnly(keyPath, key.ExportPkcs8PrivateKeyPem());
        return (certificatePath, keyPath);
    }

    private static void WriteOwnerOnly(string path, string text)
    {
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using (var stream = new FileStream(path, options))
        using (var writer = new StreamWriter(stream))
        {
            writer.Write(text);
        }

        if (!OperatingSystem.IsWindows())
        {
            // An existing file keeps its mode through FileMode.Create: set it again.
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
    }
}
