using System.CommandLine;
using Mezzo.Cli.Flags;
using Mezzo.Hosting.Security;

namespace Mezzo.Cli.Commands;

/// <summary>
/// The master's authentication and authorization flags, as Mesos's master names them (<c>--credentials</c>,
/// <c>--authenticate_frameworks</c>, ..., <c>--acls</c>), read into <see cref="SecurityOptions"/>.
/// </summary>
public sealed record MasterSecurityFlags(
    Option<string?> Credentials,
    Option<bool> AuthenticateFrameworks,
    Option<bool> AuthenticateAgents,
    Option<bool> AuthenticateHttpReadonly,
    Option<bool> AuthenticateHttpReadwrite,
    Option<string?> Acls)
{
    public static MasterSecurityFlags Create() => new(
        FlagOption.Create<string?>("credentials",
            "File of the principals and secrets the master accepts (HTTP Basic): Mesos's JSON {\"credentials\": [{\"principal\": ..., "
            + "\"secret\": ...}]} or one 'principal secret' per line. Must not be readable by other users (chmod 600)", () => null),
        FlagOption.Create("authenticate-frameworks",
            "Schedulers must authenticate (HTTP Basic against --credentials) to use /api/v1/scheduler; a framework's "
            + "FrameworkInfo.principal must then be the authenticated one", () => false, bool.Parse),
        FlagOption.Create("authenticate-agents",
            "Agents must authenticate (HTTP Basic against --credentials) to register with the master", () => false, bool.Parse),
        FlagOption.Create("authenticate-http-readonly",
            "Endpoints that only read (/state, /metrics, /flags, the web UI, ...) require authentication", () => false, bool.Parse),
        FlagOption.Create("authenticate-http-readwrite",
            "Endpoints that change state (operator API, /quota, /weights, /reserve, maintenance, /logging/toggle, ...) "
            + "require authentication", () => false, bool.Parse),
        FlagOption.Create<string?>("acls",
            "Mesos ACLs (a JSON file, file:// path or the JSON itself): {\"permissive\": true|false, \"register_frameworks\": "
            + "[{\"principals\": {...}, \"roles\": {...}}], \"teardown_frameworks\": [...], ...}; without it everything is allowed", () => null));

    public void AddTo(Command command)
    {
        ArgumentNullException.ThrowIfNull(command);
        command.Options.Add(Credentials);
        command.Options.Add(AuthenticateFrameworks);
        command.Options.Add(AuthenticateAgents);
        command.Options.Add(AuthenticateHttpReadonly);
        command.Options.Add(AuthenticateHttpReadwrite);
        command.Options.Add(Acls);
    }

    /// <summary>
    /// Reads the files and checks the switches; throws <see cref="InvalidSecretFileException"/> (a bad or world-readable
    /// file) or <see cref="ArgumentException"/> (a switch without credentials), each naming the flag.
    /// </summary>
    public SecurityOptions Read(ParseResult parsed)
    {
        ArgumentNullException.ThrowIfNull(parsed);
        var credentials = parsed.GetValue(Credentials);
        var acls = parsed.GetValue(Acls);
        var options = new SecurityOptions
        {
            Credentials = string.IsNullOrWhiteSpace(credentials) ? [] : SecretFiles.ReadCredentials(credentials),
            AuthenticateFrameworks = parsed.GetValue(AuthenticateFrameworks),
            AuthenticateAgents = parsed.GetValue(AuthenticateAgents),
            AuthenticateHttpReadonly = parsed.GetValue(AuthenticateHttpReadonly),
            AuthenticateHttpReadwrite = parsed.GetValue(AuthenticateHttpReadwrite),
            Acls = string.IsNullOrWhiteSpace(acls) ? Core.Security.Acls.AllowAll : SecretFiles.ReadAcls(acls),
        };
        options.Validate();
        return options;
    }
}
