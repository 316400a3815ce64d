using System.CommandLine;
using Mezzo.Cli.Flags;
using Mezzo.Core.Security;
using Mezzo.Hosting.Limits;
using Mezzo.Hosting.Security;

namespace Mezzo.Cli.Commands;

/// <summary>
/// The security flags of <c>mezzo services</c> and <c>mezzo jobs</c>: who may call their API (Mesos's names:
/// <c>--credentials</c>, <c>--authenticate-http-readonly</c>, <c>--authenticate-http-readwrite</c>, <c>--acls</c>), how
/// fast (<c>--rate-limit-qps</c>, <c>--rate-limit-burst</c>, as the master's), and the credential the framework logs
/// in to the master with (Marathon's and Chronos's <c>--mesos-authentication-principal</c> and
/// <c>--mesos-authentication-secret-file</c>).
/// </summary>
internal sealed class FrameworkSecurityFlags
{
    private readonly Option<string?> _credentials;
    private readonly Option<bool> _readonly;
    private readonly Option<bool> _readwrite;
    private readonly Option<string?> _acls;
    private readonly Option<string?> _principal;
    private readonly Option<string?> _secretFile;
    private readonly Option<int> _qps;
    private readonly Option<int> _burst;

    private FrameworkSecurityFlags(string api)
    {
        _credentials = FlagOption.Create<string?>("credentials",
            $"File of the principals and secrets the {api} accepts (Mesos's JSON {{\"credentials\":[...]}} or 'principal secret' lines; chmod 600)", () => null);
        _readonly = FlagOption.Create("authenticate-http-readonly", $"Require HTTP Basic credentials on the {api}'s read-only endpoints", () => false);
        _readwrite = FlagOption.Create("authenticate-http-readwrite", $"Require HTTP Basic credentials on the {api}'s endpoints that change state", () => false);
        _acls = FlagOption.Create<string?>("acls", $"Mesos ACLs (a JSON file or the JSON itself) deciding what each principal may see and change in the {api}", () => null);
        _principal = FlagOption.Create<string?>("mesos-authentication-principal", "Principal the framework authenticates to the master as", () => null);
        _secretFile = FlagOption.Create<string?>("mesos-authentication-secret-file",
            "File holding the secret of --mesos-authentication-principal (not readable by other users: chmod 600)", () => null);
        _qps = FlagOption.Create("rate-limit-qps",
                $"Calls per second each client may make to the {api}; over it a call is answered 429 with Retry-After "
                + "(clients are their principal, or their address; loopback is not limited; 0 = off)", () => 2000)
            .Check(value => value < 0 ? "--rate-limit-qps must be 0 (off) or more" : null);
        _burst = FlagOption.Create("rate-limit-burst", "Calls a client may make at once before --rate-limit-qps applies (0 = off)", () => 10_000)
            .Check(value => value < 0 ? "--rate-limit-burst must be 0 (off) or more" : null);
    }

    public static FrameworkSecurityFlags Create(string api) => new(api);

    public void AddTo(Command command)
    {
        foreach (var option in new Option[] { _credentials, _readonly, _readwrite, _acls, _principal, _secretFile, _qps, _burst })
        {
            command.Options.Add(option);
        }
    }

    /// <summary>
    /// The API's security settings. Throws <see cref="InvalidSecretFileException"/> or <see cref="ArgumentException"/>
    /// with a message naming the flag (and file) for the command to print.
    /// </summary>
    /// <summary>
    /// The API's security and the framework's credential with the master, or null after telling stderr why not
    /// ("Cannot start {process}: ..."): a bad or world-readable file, half a credential, a switch without credentials.
    /// </summary>
    public (SecurityOptions Security, Credential? MesosCredential)? Read(ParseResult parsed, string process)
    {
        try
        {
            return (Security(parsed), MesosCredential(parsed));
        }
        catch (Exception ex) when (ex is InvalidSecretFileException or ArgumentException)
        {
            Console.Error.WriteLine($"Cannot start {process}: {ex.Message}");
            return null;
        }
    }

    public SecurityOptions Security(ParseResult parsed)
    {
        var security = new SecurityOptions
        {
            AuthenticateHttpReadonly = parsed.GetValue(_readonly),
            AuthenticateHttpReadwrite = parsed.GetValue(_readwrite),
        };
        if (parsed.GetValue(_credentials) is { Length: > 0 } credentials)
        {
            security.Credentials = SecretFiles.ReadCredentials(credentials);
        }

        if (parsed.GetValue(_acls) is { Length: > 0 } acls)
        {
            security.Acls = SecretFiles.ReadAcls(acls);
        }

        security.Validate();
        return security;
    }

    public ClientRateLimitOptions RateLimit(ParseResult parsed) => new() { PermitsPerSecond = parsed.GetValue(_qps), Burst = parsed.GetValue(_burst) };

    /// <summary>The credential towards the master, or null when neither flag is given.</summary>
    public Credential? MesosCredential(ParseResult parsed)
    {
        var principal = parsed.GetValue(_principal);
        var secretFile = parsed.GetValue(_secretFile);
        return (string.IsNullOrEmpty(principal), string.IsNullOrEmpty(secretFile)) switch
        {
            (true, true) => null,
            (false, false) => new Credential(principal!, SecretFiles.ReadSecret(secretFile!, "--mesos-authentication-secret-file")),
            (true, false) => throw new ArgumentException("--mesos-authentication-secret-file needs --mesos-authentication-principal: whose secret is it?"),
            (false, true) => throw new ArgumentException("--mesos-authentication-principal needs --mesos-authentication-secret-file: the secret to authenticate with"),
        };
    }
}
