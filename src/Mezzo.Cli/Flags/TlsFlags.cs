using System.CommandLine;
using Mezzo.Hosting.Tls;

namespace Mezzo.Cli.Flags;

/// <summary>
/// <c>--tls-cert</c>, <c>--tls-key</c>, <c>--tls-ca</c> and <c>--tls-redirect-http-port</c>, defined once and added to
/// every command that runs a server (master, agent, services, jobs).
/// </summary>
public sealed record TlsFlags(Option<string?> Certificate, Option<string?> Key, Option<string?> Authority, Option<int?> RedirectHttpPort)
{
    public static TlsFlags Create() => new(
        FlagOption.Create<string?>("tls-cert",
            "PEM certificate to serve HTTPS with (and to present to the master, or to agents, as a client certificate); needs --tls-key",
            () => null),
        FlagOption.Create<string?>("tls-key", "PEM private key of --tls-cert; must not be readable by other users (chmod 600)", () => null),
        FlagOption.Create<string?>("tls-ca",
            "PEM certificate authority of the cluster: the only one trusted for the servers this process calls, and the one "
            + "client certificates must chain to (agents must present one to register: mutual TLS between agents and master)",
            () => null),
        FlagOption.Create<int?>("tls-redirect-http-port", "Also listen for plain HTTP on this port and answer every request with a 308 to HTTPS",
                () => null, text => int.Parse(text, System.Globalization.CultureInfo.InvariantCulture))
            .Check(value => value is < 0 or > 65535 ? $"--tls-redirect-http-port {value}: expected a port from 0 to 65535" : null));

    public void AddTo(Command command)
    {
        ArgumentNullException.ThrowIfNull(command);
        command.Options.Add(Certificate);
        command.Options.Add(Key);
        command.Options.Add(Authority);
        command.Options.Add(RedirectHttpPort);
    }

    public TlsOptions Options(ParseResult parsed)
    {
        ArgumentNullException.ThrowIfNull(parsed);
        return new TlsOptions
        {
            CertificatePath = Full(parsed.GetValue(Certificate)),
            KeyPath = Full(parsed.GetValue(Key)),
            CaPath = Full(parsed.GetValue(Authority)),
            RedirectHttpPort = parsed.GetValue(RedirectHttpPort),
        };
    }

    /// <summary>
    /// The options, after checking that their files load (the server loads them again when it starts); a bad file is
    /// one stderr line naming the flag and the file, and null (the command exits 1).
    /// </summary>
    public TlsOptions? Check(ParseResult parsed)
    {
        var options = Options(parsed);
        try
        {
            TlsContext.Load(options);
            return options;
        }
        catch (InvalidTlsFileException ex)
        {
            Console.Error.WriteLine($"Cannot start: {ex.Message}");
            return null;
        }
    }

    private static string? Full(string? path) => string.IsNullOrWhiteSpace(path) ? null : Path.GetFullPath(path);
}
