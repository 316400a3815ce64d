using System.CommandLine;
using Mezzo.Hosting.Tls;

namespace Mezzo.Cli.Client;

/// <summary>
/// The trust of the client verbs for an https:// master, agent, services or jobs URL: <c>--tls-ca</c>, else
/// <c>MEZZO_TLS_CA</c>, else the machine's. With a CA, only servers whose certificate chains to it are trusted.
/// </summary>
public static class ClientTls
{
    public const string Variable = "MEZZO_TLS_CA";

    public static Option<string?> Option() => new("--tls-ca")
    {
        Description = $"PEM certificate authority the cluster's https:// certificates chain to (the only one trusted) [env: {Variable}]",
        HelpName = "file",
    };

    /// <summary>The flag's CA, else the environment's; a CA file that cannot be used is a usage error naming it.</summary>
    public static TlsContext Resolve(string? flag = null)
    {
        var path = !string.IsNullOrWhiteSpace(flag) ? flag : Environment.GetEnvironmentVariable(Variable);
        try
        {
            return TlsContext.ForClient(path);
        }
        catch (InvalidTlsFileException ex)
        {
            throw new CliException(ExitCodes.Usage, string.IsNullOrWhiteSpace(flag) ? $"{Variable}: {ex.Message}" : ex.Message);
        }
    }
}
