using System.Security.Claims;
using System.Security.Cryptography;
using Mezzo.Hosting.Security;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Mezzo.Agent.Executors;

/// <summary>
/// Executor tokens as Mesos's (<c>--authenticate_http_executors</c>): each executor container gets an HS256 JWT whose
/// claims <c>fid</c>, <c>eid</c> and <c>cid</c> name its framework, executor and container, in
/// <c>MESOS_EXECUTOR_AUTHENTICATION_TOKEN</c>; the executor API accepts a call only for the executor its token names.
/// The signing key is made once per agent and kept in its work dir (mode 0600), so executors recovered after an agent
/// restart keep working with the token they were started with. Tokens are secrets: never logged.
/// </summary>
public sealed class ExecutorTokens : IBearerTokenValidator
{
    public const string EnvironmentVariable = "MESOS_EXECUTOR_AUTHENTICATION_TOKEN";
    public const string FrameworkClaim = "fid";
    public const string ExecutorClaim = "eid";
    public const string ContainerClaim = "cid";

    /// <summary>The authentication type of an executor's identity (what the protection middleware checks for).</summary>
    public const string Scheme = "Bearer";

    private const int KeyBytes = 32;
    private readonly JsonWebTokenHandler _handler = new() { SetDefaultTimesOnTokenCreation = false };
    private readonly SigningCredentials _signing;
    private readonly TokenValidationParameters _validation;

    private ExecutorTokens(byte[] key)
    {
        var securityKey = new SymmetricSecurityKey(key);
        _signing = new SigningCredentials(securityKey, SecurityAlgorithms.HmacSha256);
        _validation = new TokenValidationParameters
        {
            IssuerSigningKey = securityKey,
            ValidAlgorithms = [SecurityAlgorithms.HmacSha256],
            RequireSignedTokens = true,
            ValidateIssuer = false,
            ValidateAudience = false,
            // An executor's token lives as long as its container, however long that is (as Mesos's).
            ValidateLifetime = false,
            RequireExpirationTime = false,
        };
    }

    /// <summary>The key file in the agent's work dir: read if there, else made (random, mode 0600).</summary>
    public static string KeyPath(string workDir) => Path.Combine(workDir, "meta", "executor_token_key");

    /// <summary>Loads the agent's signing key, or makes it on the agent's first start. Throws IOException naming the file.</summary>
    public static ExecutorTokens LoadOrCreate(string workDir)
    {
        var path = KeyPath(workDir);
        if (File.Exists(path))
        {
            byte[] existing;
            try
            {
                existing = Convert.FromBase64String(SecretFiles.ReadProtected(path, "executor token key").Trim());
            }
            catch (InvalidSecretFileException ex)
            {
                throw new IOException(ex.Message, ex);
            }
            catch (FormatException)
            {
                throw new IOException($"Executor token key '{path}' is not base64; remove it to make a new one (running executors then need new tokens)");
            }

            return existing.Length >= KeyBytes
                ? new ExecutorTokens(existing)
                : throw new IOException($"Executor token key '{path}' is too short ({existing.Length} bytes, expected {KeyBytes}); remove it to make a new one");
        }

        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var key = RandomNumberGenerator.GetBytes(KeyBytes);
        var temporary = path + ".tmp";
        // Created 0600 before a byte of the key is written, then renamed into place whole.
        File.Delete(temporary); // a leftover keeps its own mode: only a new file gets 0600
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using (var file = new FileStream(temporary, options))
        using (var writer = new StreamWriter(file))
        {
            writer.Write(Convert.ToBase64String(key));
        }

        File.Move(temporary, path, overwrite: true);
        return new ExecutorTokens(key);
    }

    /// <summary>The token of one executor container.</summary>
    public string Issue(string frameworkId, string executorId, string containerId) => _handler.CreateToken(new SecurityTokenDescriptor
    {
        Claims = new Dictionary<string, object>(StringComparer.Ordinal)
        {
            [FrameworkClaim] = frameworkId,
            [ExecutorClaim] = executorId,
            [ContainerClaim] = containerId,
        },
        SigningCredentials = _signing,
    });

    /// <summary>The executor the token names, or null when it is not one of this agent's (bad signature, alg, claims).</summary>
    public ClaimsPrincipal? Validate(string token)
    {
        if (string.IsNullOrEmpty(token))
        {
            return null;
        }

        // Symmetric key in hand, no metadata to fetch: the validation completes synchronously.
        var result = _handler.ValidateTokenAsync(token, _validation).GetAwaiter().GetResult();
        if (!result.IsValid
            || Claim(result, FrameworkClaim) is not { } frameworkId
            || Claim(result, ExecutorClaim) is not { } executorId
            || Claim(result, ContainerClaim) is not { } containerId)
        {
            return null;
        }

        return new ClaimsPrincipal(new ClaimsIdentity(
            [
                new Claim(ClaimTypes.Name, $"executor:{frameworkId}/{executorId}"),
                new Claim(FrameworkClaim, frameworkId),
                new Claim(ExecutorClaim, executorId),
                new Claim(ContainerClaim, containerId),
            ],
            Scheme));
    }

    /// <summary>The (framework, executor) a request's token names, or null when the request carries no executor token.</summary>
    public static (string FrameworkId, string ExecutorId)? Named(ClaimsPrincipal user)
    {
        ArgumentNullException.ThrowIfNull(user);
        if (user.Identity is not { IsAuthenticated: true, AuthenticationType: Scheme })
        {
            return null;
        }

        return user.FindFirst(FrameworkClaim)?.Value is { } frameworkId && user.FindFirst(ExecutorClaim)?.Value is { } executorId
            ? (frameworkId, executorId)
            : null;
    }

    private static string? Claim(TokenValidationResult result, string name) =>
        result.Claims.TryGetValue(name, out var value) && value is string text && text.Length > 0 ? text : null;
}
