namespace Mezzo.Hosting.Tls;

/// <summary>
/// <c>--tls-cert</c>, <c>--tls-key</c>, <c>--tls-ca</c> and <c>--tls-redirect-http-port</c>: the same four flags on the
/// master, the agent, services and jobs (Mesos's <c>LIBPROCESS_SSL_CERT_FILE</c>/<c>KEY_FILE</c>/<c>CA_FILE</c>).
/// A client-only process (the CLI) sets only <see cref="CaPath"/>. Paths only: <see cref="TlsContext.Load"/> reads and
/// checks them before anything listens.
/// </summary>
public sealed class TlsOptions
{
    /// <summary>PEM certificate (with its chain after it, if any) the process serves and presents as a client.</summary>
    public string? CertificatePath { get; set; }

    /// <summary>PEM private key of <see cref="CertificatePath"/>; refused when other users may read it.</summary>
    public string? KeyPath { get; set; }

    /// <summary>
    /// PEM certificate authority (one or several): the only roots trusted for the servers this process calls, and the
    /// roots client certificates must chain to. Set, it turns on mutual TLS between agents and master.
    /// </summary>
    public string? CaPath { get; set; }

    /// <summary>A plain-HTTP port that answers every request with a 308 to the same path over HTTPS.</summary>
    public int? RedirectHttpPort { get; set; }

    /// <summary>True when the process serves HTTPS (a certificate and key were given).</summary>
    public bool ServesHttps => CertificatePath is not null || KeyPath is not null;
}
