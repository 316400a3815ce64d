using System.Security.Cryptography;
using System.Text;
using Mezzo.Core.Security;

namespace Mezzo.Hosting.Security;

/// <summary>
/// A server's authentication and authorization settings, as the Mesos flags of the same names: the credentials it
/// accepts, which kinds of endpoint require them, and its ACLs. The default authenticates nothing and allows
/// everything, as Mesos without flags does.
/// </summary>
public sealed class SecurityOptions
{
    private IReadOnlyDictionary<string, byte[]> _secretHashes = new Dictionary<string, byte[]>(StringComparer.Ordinal);

    /// <summary><c>--credentials</c>: the principals and secrets this server accepts (HTTP Basic).</summary>
    public IReadOnlyList<Credential> Credentials
    {
        get;
        set
        {
            field = value ?? [];
            // Secrets are compared as SHA-256 digests in constant time, so neither their contents nor their length leak.
            _secretHashes = field.ToDictionary(credential => credential.Principal, credential => Hash(credential.Secret), StringComparer.Ordinal);
        }
    } = [];

    public bool AuthenticateHttpReadonly { get; set; }

    public bool AuthenticateHttpReadwrite { get; set; }

    public bool AuthenticateFrameworks { get; set; }

    public bool AuthenticateAgents { get; set; }

    public bool AuthenticateHttpExecutors { get; set; }

    /// <summary><c>--acls</c>.</summary>
    public Acls Acls { get; set; } = Acls.AllowAll;

    /// <summary>Validates <c>Authorization: Bearer</c> tokens (the agent's executor tokens); null refuses them.</summary>
    public IBearerTokenValidator? BearerTokens { get; set; }

    /// <summary>Whether any switch is on: a server that authenticates nothing can skip the header work.</summary>
    public bool AuthenticatesAnything =>
        AuthenticateHttpReadonly || AuthenticateHttpReadwrite || AuthenticateFrameworks || AuthenticateAgents || AuthenticateHttpExecutors;

    /// <summary>Whether <paramref name="principal"/> exists and <paramref name="secret"/> is its secret.</summary>
    public bool Verify(string principal, string secret)
    {
        var presented = Hash(secret);
        var known = _secretHashes.TryGetValue(principal, out var expected);
        // An unknown principal costs the same comparison, so timing does not tell which principals exist.
        var equal = CryptographicOperations.FixedTimeEquals(presented, expected ?? UnknownPrincipal);
        return known && equal;
    }

    public bool Requires(AccessKind kind) => kind switch
    {
        AccessKind.Public => false,
        AccessKind.ReadOnly => AuthenticateHttpReadonly,
        AccessKind.ReadWrite => AuthenticateHttpReadwrite,
        AccessKind.Framework => AuthenticateFrameworks,
        AccessKind.Agent => AuthenticateAgents,
        AccessKind.Executor => AuthenticateHttpExecutors,
        _ => true,
    };

    /// <summary>
    /// Refuses switches that could never be satisfied: authentication on with no credentials to check against.
    /// Throws <see cref="ArgumentException"/> naming the flag.
    /// </summary>
    public void Validate()
    {
        var basic = AuthenticateHttpReadonly || AuthenticateHttpReadwrite || AuthenticateFrameworks || AuthenticateAgents;
        if (basic && Credentials.Count == 0)
        {
            var flag = AuthenticateHttpReadonly ? "--authenticate-http-readonly"
                : AuthenticateHttpReadwrite ? "--authenticate-http-readwrite"
                : AuthenticateFrameworks ? "--authenticate-frameworks"
                : "--authenticate-agents";
            throw new ArgumentException($"{flag} needs --credentials: there is nobody to authenticate against");
        }
    }

    private static readonly byte[] UnknownPrincipal = new byte[SHA256.HashSizeInBytes];

    private static byte[] Hash(string secret) => SHA256.HashData(Encoding.UTF8.GetBytes(secret));
}

/// <summary>Turns a bearer token into a principal (with its claims), or null when the token is not valid.</summary>
public interface IBearerTokenValidator
{
    System.Security.Claims.ClaimsPrincipal? Validate(string token);
}
