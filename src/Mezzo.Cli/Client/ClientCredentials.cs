using System.CommandLine;
using Mezzo.Core.Security;
using Mezzo.Hosting.Security;

namespace Mezzo.Cli.Client;

/// <summary>
/// Who the client verbs (and <c>mezzo execute</c>) log in as, when the cluster authenticates: <c>--principal</c> with
/// <c>--secret-file</c>, else <c>MEZZO_PRINCIPAL</c> with <c>MEZZO_SECRET</c>, else the config file's <c>principal</c>
/// with <c>secret_file</c>, else nobody. A secret is only ever read from a file nobody else may read, or from the
/// environment; never from the command line, where every user's <c>ps</c> would show it.
/// </summary>
public static class ClientCredentials
{
    public const string PrincipalVariable = "MEZZO_PRINCIPAL";
    public const string SecretVariable = "MEZZO_SECRET";

    /// <summary>How to log in, as every authentication failure tells it.</summary>
    public const string Hint = "use --principal/--secret-file or MEZZO_PRINCIPAL/MEZZO_SECRET";

    /// <summary>A credential and where it came from (named in messages; the secret never is).</summary>
    public sealed record Resolved(Credential Credential, string Source)
    {
        public string Principal => Credential.Principal;

        public override string ToString() => $"principal '{Principal}' (from {Source})";
    }

    public static Option<string?> PrincipalOption() => new("--principal")
    {
        Description = $"Log in as this principal (HTTP Basic; with --secret-file) [env: {PrincipalVariable}; config file key: principal]",
        HelpName = "name",
    };

    public static Option<string?> SecretFileOption() => new("--secret-file")
    {
        Description = $"File holding the principal's secret, readable only by you (chmod 600) [env: {SecretVariable} holds the secret itself; config file key: secret_file]",
        HelpName = "file",
    };

    /// <summary>Adds <c>--principal</c> and <c>--secret-file</c> to a verb and answers how to read them.</summary>
    public static Func<ParseResult, Resolved?> AddTo(Command command)
    {
        var principal = PrincipalOption();
        var secretFile = SecretFileOption();
        command.Options.Add(principal);
        command.Options.Add(secretFile);
        return parsed => Resolve(parsed.GetValue(principal), parsed.GetValue(secretFile));
    }

    /// <summary><c>--principal</c>/<c>--secret-file</c> for a command and all its subcommands (<c>app</c>, <c>job</c>).</summary>
    public sealed class RecursiveOptions
    {
        private readonly Option<string?> _principal = PrincipalOption();
        private readonly Option<string?> _secretFile = SecretFileOption();

        public RecursiveOptions()
        {
            _principal.Recursive = true;
            _secretFile.Recursive = true;
        }

        public void AddTo(Command command)
        {
            ArgumentNullException.ThrowIfNull(command);
            command.Options.Add(_principal);
            command.Options.Add(_secretFile);
        }

        public Resolved? Resolve(ParseResult parsed) =>
            ClientCredentials.Resolve(parsed?.GetValue(_principal), parsed?.GetValue(_secretFile));
    }

    /// <summary>
    /// Makes every request of <paramref name="http"/> log in. HttpClient drops the header on a redirect it follows,
    /// so the secret only goes where the user pointed.
    /// </summary>
    public static void LogIn(HttpClient http, Resolved? credential)
    {
        ArgumentNullException.ThrowIfNull(http);
        if (credential is not null)
        {
            http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue(
                "Basic", credential.Credential.BasicParameter());
        }
    }

    /// <summary>The line a 401 prints: who was refused (or that nobody logged in), the server's reason and how to log in.</summary>
    public static string Failure(string what, Resolved? credential, string reason) =>
        Failure(what, credential?.ToString(), reason);

    /// <summary>As above, naming the login as <paramref name="sent"/> (null when none was sent).</summary>
    public static string Failure(string what, string? sent, string reason) =>
        $"authentication failed: {(sent is null ? $"the {what} requires credentials and none were given" : $"the {what} refused {sent}")}"
        + $"{(reason.Length > 0 ? ": " + reason : "")} ({Hint})";

    /// <summary>
    /// The credential to send, or null to send none. Half a credential (a principal without its secret, or the other
    /// way round) is a usage error rather than a silent anonymous call; so is a secret file others may read.
    /// </summary>
    public static Resolved? Resolve(string? principalFlag, string? secretFileFlag)
    {
        if (!string.IsNullOrEmpty(principalFlag) || !string.IsNullOrEmpty(secretFileFlag))
        {
            if (string.IsNullOrWhiteSpace(principalFlag))
            {
                throw new CliException(ExitCodes.Usage, "--secret-file needs --principal: whose secret is it?");
            }

            if (string.IsNullOrWhiteSpace(secretFileFlag))
            {
                throw new CliException(ExitCodes.Usage, $"--principal '{principalFlag}' needs --secret-file FILE holding its secret");
            }

            return new Resolved(new Credential(principalFlag, ReadSecret(secretFileFlag, "--secret-file")), "--principal/--secret-file");
        }

        var principal = Environment.GetEnvironmentVariable(PrincipalVariable);
        var secret = Environment.GetEnvironmentVariable(SecretVariable);
        if (!string.IsNullOrEmpty(principal) || !string.IsNullOrEmpty(secret))
        {
            if (string.IsNullOrEmpty(principal))
            {
                throw new CliException(ExitCodes.Usage, $"{SecretVariable} is set but {PrincipalVariable} is not: whose secret is it?");
            }

            if (string.IsNullOrEmpty(secret))
            {
                throw new CliException(ExitCodes.Usage, $"{PrincipalVariable} '{principal}' needs {SecretVariable} (its secret) as well");
            }

            return new Resolved(new Credential(principal, secret.Trim()), $"{PrincipalVariable}/{SecretVariable}");
        }

        var configuredPrincipal = ClientConfig.ConfigString("principal", "\"operator\"");
        var configuredFile = ClientConfig.ConfigString("secret_file", "\"~/.config/mezzo/secret\"");
        if (configuredPrincipal is null && configuredFile is null)
        {
            return null;
        }

        if (configuredPrincipal is not { } named || configuredFile is not { } file)
        {
            var path = (configuredPrincipal ?? configuredFile)!.Value.Path;
            throw new CliException(ExitCodes.Usage, $"{path}: 'principal' and 'secret_file' go together: give both or neither");
        }

        // A relative secret_file is relative to the config file, so the two can be moved together.
        var secretPath = ExpandHome(file.Value);
        secretPath = Path.IsPathRooted(secretPath) ? secretPath : Path.Combine(Path.GetDirectoryName(Path.GetFullPath(file.Path))!, secretPath);
        return new Resolved(new Credential(named.Value, ReadSecret(secretPath, $"{file.Path}: secret_file")), file.Path);
    }

    private static string ExpandHome(string path) =>
        path == "~" || path.StartsWith("~/", StringComparison.Ordinal)
            ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), path.TrimStart('~').TrimStart('/'))
            : path;

    private static string ReadSecret(string path, string flag)
    {
        try
        {
            return SecretFiles.ReadSecret(path, flag);
        }
        catch (InvalidSecretFileException ex)
        {
            throw new CliException(ExitCodes.Usage, ex.Message);
        }
    }
}
