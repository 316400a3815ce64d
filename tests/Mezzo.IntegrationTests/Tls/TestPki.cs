using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Mezzo.Hosting.Tls;

namespace Mezzo.IntegrationTests.Tls;

/// <summary>
/// Certificates made in the test (CertificateRequest, ECDSA P-256) and written as PEM into a directory the test owns:
/// a CA, and leaves it signs for 127.0.0.1/localhost, valid or not as the test needs. Nothing is committed.
/// </summary>
public sealed class TestPki : IDisposable
{
    private readonly ECDsa _caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private readonly X509Certificate2 _ca;
    private readonly string _directory;
    private readonly string _name;

    public TestPki(string directory, string name = "ca")
    {
        _directory = directory;
        _name = name;
        Directory.CreateDirectory(directory);
        var request = new CertificateRequest($"CN=Mezzo test {name}", _caKey, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign, true));
        _ca = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-2), DateTimeOffset.UtcNow.AddDays(2));
        CaPath = Path.Combine(directory, name + ".pem");
        File.WriteAllText(CaPath, _ca.ExportCertificatePem());
    }

    public string CaPath { get; }

    /// <summary>A certificate for 127.0.0.1 and localhost signed by this CA, and its key (mode 0600).</summary>
    public TlsOptions Issue(string name, DateTimeOffset? notBefore = null, DateTimeOffset? notAfter = null, string? trust = null)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        names.AddDnsName("localhost");
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], false));
        using var certificate = request.Create(_ca, notBefore ?? DateTimeOffset.UtcNow.AddHours(-1), notAfter ?? DateTimeOffset.UtcNow.AddDays(1), RandomNumberGenerator.GetBytes(12));
        var certificatePath = Path.Combine(_directory, $"{_name}-{name}.pem");
        var keyPath = Path.Combine(_directory, $"{_name}-{name}-key.pem");
        File.WriteAllText(certificatePath, certificate.ExportCertificatePem());
        File.WriteAllText(keyPath, key.ExportPkcs8PrivateKeyPem());
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(keyPath, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
        return new TlsOptions { CertificatePath = certificatePath, KeyPath = keyPath, CaPath = trust ?? CaPath };
    }

    /// <summary>A client trusting only this CA and presenting <paramref name="client"/>'s certificate, when given.</summary>
    public HttpClient Client(TlsOptions? client = null) =>
        new(TlsContext.Load(client ?? new TlsOptions { CaPath = CaPath }).CreateHandler()) { Timeout = TimeSpan.FromSeconds(30) };

    public void Dispose()
    {
        _ca.Dispose();
        _caKey.Dispose();
    }
}
