using System.Net;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Mezzo.Hosting.Security;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;

namespace Mezzo.Hosting.Tls;

/// <summary>
/// The loaded, checked TLS material of one process and the one place that turns it into a Kestrel listener and into
/// HTTP client handlers. Trust is never the machine's: with <c>--tls-ca</c> a peer (server or client) is trusted only
/// when its certificate chains to that authority (<see cref="X509ChainTrustMode.CustomRootTrust"/>), so a certificate
/// from any public CA, or from another cluster's CA, is refused.
/// </summary>
public sealed class TlsContext
{
    private readonly X509Certificate2Collection _chain;
    private readonly TimeProvider _time;
    private readonly SslStreamCertificateContext? _clientContext;

    private TlsContext(X509Certificate2? certificate, X509Certificate2Collection chain, X509Certificate2Collection authorities, int? redirectHttpPort, TimeProvider time)
    {
        Certificate = certificate;
        _chain = chain;
        Authorities = authorities;
        RedirectHttpPort = certificate is null ? null : redirectHttpPort;
        _time = time;
        _clientContext = certificate is null ? null : SslStreamCertificateContext.Create(certificate, chain, offline: true);
    }

    /// <summary>No TLS: plain HTTP listeners, and clients that use the machine's trust for any https:// URL.</summary>
    public static TlsContext None { get; } = new(null, [], [], null, TimeProvider.System);

    /// <summary>The certificate (with its private key) this process serves and presents as a client; null when plain.</summary>
    public X509Certificate2? Certificate { get; }

    /// <summary>The roots of <c>--tls-ca</c>; empty when none was given.</summary>
    public X509Certificate2Collection Authorities { get; }

    public int? RedirectHttpPort { get; }

    public bool ServesHttps => Certificate is not null;

    /// <summary>Client certificates are asked for and checked against <see cref="Authorities"/> (agents and master).</summary>
    public bool IsMutual => Certificate is not null && Authorities.Count > 0;

    /// <summary>The scheme this process's own URLs have.</summary>
    public string Scheme => ServesHttps ? Uri.UriSchemeHttps : Uri.UriSchemeHttp;

    /// <summary>
    /// Reads and checks the files of <paramref name="options"/>; <see cref="None"/> when it names none. Throws
    /// <see cref="InvalidTlsFileException"/> naming the flag and the file: missing or unreadable, not PEM, a key other
    /// users may read, a key that is not the certificate's, a certificate expired or not yet valid.
    /// </summary>
    public static TlsContext Load(TlsOptions? options, TimeProvider? time = null)
    {
        time ??= TimeProvider.System;
        if (options is null || (!options.ServesHttps && options.CaPath is null))
        {
            return None;
        }

        if (options.ServesHttps && (options.CertificatePath is null || options.KeyPath is null))
        {
            throw new InvalidTlsFileException(options.CertificatePath is null
                ? $"--tls-key {options.KeyPath} was given without --tls-cert: both are needed to serve HTTPS"
                : $"--tls-cert {options.CertificatePath} was given without --tls-key: both are needed to serve HTTPS");
        }

        if (options.RedirectHttpPort is < 0 or > 65535)
        {
            throw new InvalidTlsFileException($"--tls-redirect-http-port {options.RedirectHttpPort}: expected a port from 0 to 65535");
        }

        X509Certificate2? certificate = null;
        var chain = new X509Certificate2Collection();
        if (options is { CertificatePath: { } certificatePath, KeyPath: { } keyPath })
        {
            (certificate, chain) = LoadCertificate(certificatePath, keyPath, time);
        }

        var authorities = options.CaPath is null ? [] : LoadAuthorities(options.CaPath);
        return new TlsContext(certificate, chain, authorities, options.RedirectHttpPort, time);
    }

    /// <summary>A client that serves nothing (the CLI): trusts only <paramref name="caPath"/>'s roots when given.</summary>
    public static TlsContext ForClient(string? caPath, TimeProvider? time = null) =>
        string.IsNullOrWhiteSpace(caPath) ? None : new TlsContext(null, [], LoadAuthorities(caPath), null, time ?? TimeProvider.System);

    /// <summary>The listener of a Mezzo process: HTTPS when a certificate is set, plus the optional redirect port.</summary>
    public void Listen(KestrelServerOptions kestrel, IPAddress address, int port)
    {
        ArgumentNullException.ThrowIfNull(kestrel);
        kestrel.Listen(address, port, listen =>
        {
            if (Certificate is null)
            {
                return;
            }

            listen.UseHttps(new HttpsConnectionAdapterOptions
            {
                ServerCertificate = Certificate,
                ServerCertificateChain = _chain,
                // Asked for, not required: CLI and scheduler clients without one are served (they use passwords);
                // the routes that need one (agent registration) refuse a connection that has none.
                ClientCertificateMode = Authorities.Count > 0 ? ClientCertificateMode.AllowCertificate : ClientCertificateMode.NoCertificate,
                ClientCertificateValidation = (presented, presentedChain, _) => ChainsToAuthority(presented, presentedChain),
                CheckCertificateRevocation = false,
            });
        });
        if (RedirectHttpPort is { } redirect)
        {
            kestrel.Listen(address, redirect);
        }
    }

    /// <summary>
    /// With a redirect port: a request that came in unencrypted gets a 308 to the same path and query over HTTPS.
    /// Place it first, so nothing is served in the clear.
    /// </summary>
    public void UseRedirect(IApplicationBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        if (RedirectHttpPort is null)
        {
            return;
        }

        app.Use(async (context, next) =>
        {
            if (context.Request.IsHttps)
            {
                await next(context);
                return;
            }

            var https = BoundUrls(context.RequestServices).Primary;
            var target = new UriBuilder(Uri.UriSchemeHttps, context.Request.Host.Host, https.Port)
            {
                Path = (context.Request.PathBase + context.Request.Path).ToUriComponent(),
                Query = context.Request.QueryString.ToUriComponent(),
            };
            context.Response.StatusCode = StatusCodes.Status308PermanentRedirect;
            context.Response.Headers.Location = target.Uri.AbsoluteUri;
        });
    }

    /// <summary>
    /// With mutual TLS, the requests whose path <paramref name="requires"/> picks must come with a client certificate
    /// (Kestrel has already checked it chains to the authority); the rest are served with or without one.
    /// </summary>
    public void RequireClientCertificate(IApplicationBuilder app, Func<PathString, bool> requires)
    {
        ArgumentNullException.ThrowIfNull(app);
        ArgumentNullException.ThrowIfNull(requires);
        if (!IsMutual)
        {
            return;
        }

        app.Use(async (context, next) =>
        {
            if (requires(context.Request.Path) && context.Connection.ClientCertificate is null)
            {
                context.Response.StatusCode = StatusCodes.Status403Forbidden;
                await context.Response.WriteAsync(
                    $"{context.Request.Path} requires a client certificate signed by the cluster's --tls-ca authority (mutual TLS); none was presented");
                return;
            }

            await next(context);
        });
    }

    /// <summary>
    /// Sets up a client handler: with <c>--tls-ca</c> a server is trusted only when its certificate chains to it and
    /// names the host called; with <paramref name="presentCertificate"/> this process's own certificate goes along
    /// as the client certificate (agent to master, master to agent).
    /// </summary>
    public SocketsHttpHandler ConfigureClient(SocketsHttpHandler handler, bool presentCertificate = true)
    {
        ArgumentNullException.ThrowIfNull(handler);
        if (Authorities.Count > 0)
        {
            handler.SslOptions.RemoteCertificateValidationCallback = ValidateServer;
        }

        if (presentCertificate && _clientContext is not null)
        {
            handler.SslOptions.ClientCertificateContext = _clientContext;
        }

        return handler;
    }

    /// <summary>A new handler with <see cref="ConfigureClient"/> applied.</summary>
    public SocketsHttpHandler CreateHandler(bool presentCertificate = true) => ConfigureClient(new SocketsHttpHandler(), presentCertificate);

    /// <summary>
    /// A base URL of this process's scheme for <paramref name="hostPort"/>; a value with its own scheme is kept.
    /// </summary>
    public string WithScheme(string hostPort)
    {
        ArgumentNullException.ThrowIfNull(hostPort);
        return hostPort.Contains("://", StringComparison.Ordinal) ? hostPort : $"{Scheme}://{hostPort}";
    }

    /// <summary>The URLs a started server is bound to: HTTPS first when it serves it, and the redirect listener's.</summary>
    public static (Uri Primary, Uri? Redirect) BoundUrls(IServiceProvider services)
    {
        ArgumentNullException.ThrowIfNull(services);
        var addresses = services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses
            .Select(a => new Uri(a.Replace("[::]", "127.0.0.1", StringComparison.Ordinal)))
            .ToList();
        var https = addresses.FirstOrDefault(a => a.Scheme == Uri.UriSchemeHttps);
        return https is null ? (addresses[0], null) : (https, addresses.FirstOrDefault(a => a.Scheme == Uri.UriSchemeHttp));
    }

    private bool ValidateServer(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        // A name mismatch or no certificate at all is never forgiven; chain errors are expected (the machine does not
        // trust the cluster's CA) and decided by the custom chain below.
        if (certificate is null || (errors & ~SslPolicyErrors.RemoteCertificateChainErrors) != SslPolicyErrors.None)
        {
            return false;
        }

        return ChainsToAuthority(certificate, chain);
    }

    private bool ChainsToAuthority(X509Certificate certificate, X509Chain? presented)
    {
        if (Authorities.Count == 0)
        {
            return false;
        }

        using var leaf = certificate as X509Certificate2 is { } typed ? null : X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(Authorities);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.DisableCertificateDownloads = true;
        chain.ChainPolicy.VerificationTime = _time.GetUtcNow().UtcDateTime;
        chain.ChainPolicy.VerificationTimeIgnored = false;
        if (presented is not null)
        {
            foreach (var element in presented.ChainElements)
            {
                chain.ChainPolicy.ExtraStore.Add(element.Certificate);
            }
        }

        return chain.Build(leaf ?? (X509Certificate2)certificate);
    }

    private static (X509Certificate2 Certificate, X509Certificate2Collection Chain) LoadCertificate(string certificatePath, string keyPath, TimeProvider time)
    {
        string certificatePem;
        try
        {
            certificatePem = File.ReadAllText(certificatePath);
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            throw new InvalidTlsFileException($"--tls-cert {certificatePath}: {error.Message}", error);
        }

        string keyPem;
        try
        {
            keyPem = SecretFiles.ReadProtected(keyPath, "--tls-key");
        }
        catch (InvalidSecretFileException error)
        {
            throw new InvalidTlsFileException(error.Message, error);
        }

        var all = new X509Certificate2Collection();
        try
        {
            all.ImportFromPem(certificatePem);
        }
        catch (CryptographicException error)
        {
            throw new InvalidTlsFileException($"--tls-cert {certificatePath}: not a PEM certificate: {error.Message}", error);
        }

        if (all.Count == 0)
        {
            throw new InvalidTlsFileException($"--tls-cert {certificatePath}: no PEM certificate (-----BEGIN CERTIFICATE-----) in the file");
        }

        X509Certificate2 certificate;
        try
        {
            certificate = X509Certificate2.CreateFromPem(certificatePem, keyPem);
        }
        catch (Exception error) when (error is CryptographicException or ArgumentException)
        {
            throw new InvalidTlsFileException(HoldsPrivateKey(keyPem)
                ? $"--tls-key {keyPath}: the key does not match the certificate in --tls-cert {certificatePath}"
                : $"--tls-key {keyPath}: no unencrypted PEM private key (RSA or ECDSA) in the file", error);
        }

        var now = time.GetUtcNow().UtcDateTime;
        if (certificate.NotAfter.ToUniversalTime() < now)
        {
            throw new InvalidTlsFileException(
                $"--tls-cert {certificatePath}: the certificate '{certificate.Subject}' expired on {certificate.NotAfter.ToUniversalTime():yyyy-MM-dd HH:mm:ss}Z");
        }

        if (certificate.NotBefore.ToUniversalTime() > now)
        {
            throw new InvalidTlsFileException(
                $"--tls-cert {certificatePath}: the certificate '{certificate.Subject}' is not valid before {certificate.NotBefore.ToUniversalTime():yyyy-MM-dd HH:mm:ss}Z");
        }

        var chain = new X509Certificate2Collection();
        for (var i = 1; i < all.Count; i++)
        {
            chain.Add(all[i]);
        }

        all[0].Dispose();
        return (certificate, chain);
    }

    private static bool HoldsPrivateKey(string pem)
    {
        using var rsa = RSA.Create();
        using var ecdsa = ECDsa.Create();
        foreach (var algorithm in (AsymmetricAlgorithm[])[rsa, ecdsa])
        {
            try
            {
                algorithm.ImportFromPem(pem);
                return true;
            }
            catch (Exception error) when (error is CryptographicException or ArgumentException)
            {
            }
        }

        return false;
    }

    private static X509Certificate2Collection LoadAuthorities(string caPath)
    {
        var authorities = new X509Certificate2Collection();
        try
        {
            authorities.ImportFromPemFile(caPath);
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            throw new InvalidTlsFileException($"--tls-ca {caPath}: {error.Message}", error);
        }
        catch (CryptographicException error)
        {
            throw new InvalidTlsFileException($"--tls-ca {caPath}: not a PEM certificate: {error.Message}", error);
        }

        return authorities.Count > 0
            ? authorities
            : throw new InvalidTlsFileException($"--tls-ca {caPath}: no PEM certificate (-----BEGIN CERTIFICATE-----) in the file");
    }
}

/// <summary>A TLS flag whose file cannot be used; the message names the flag, the file and why.</summary>
public sealed class InvalidTlsFileException : Exception
{
    public InvalidTlsFileException(string message)
        : base(message)
    {
    }

    public InvalidTlsFileException(string message, Exception inner)
        : base(message, inner)
    {
    }

    public InvalidTlsFileException()
    {
    }
}
