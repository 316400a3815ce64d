using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Mezzo.Core.Security;
using Mezzo.Hosting.Security;

namespace Mezzo.Cli.Commands;

/// <summary>
/// <c>mezzo dev --secure</c>: a credentials file with a random secret per principal and an ACL file under the dev work
/// dir (made once, kept across restarts so an exported secret stays valid; delete the directory for new secrets), and
/// the security settings of every process built from them: all <c>--authenticate-*</c> switches on,
/// <c>permissive: false</c>.
/// </summary>
public sealed class DevSecurity
{
    public const string Operator = "operator";
    public const string AgentPrincipal = "agent";
    public const string ServicesPrincipal = "services";
    public const string JobsPrincipal = "jobs";

    private static readonly string[] Principals = [Operator, AgentPrincipal, ServicesPrincipal, JobsPrincipal];

    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    private DevSecurity(string directory, IReadOnlyList<Credential> credentials, Acls acls)
    {
        Directory = directory;
        Credentials = credentials;
        Acls = acls;
    }

    public string Directory { get; }

    /// <summary>The Mesos credentials file every process accepts (mode 0600).</summary>
    public string CredentialsPath => Path.Combine(Directory, "credentials.json");

    /// <summary>The ACLs every process enforces.</summary>
    public string AclsPath => Path.Combine(Directory, "acls.json");

    /// <summary>The operator's secret alone, for <c>MEZZO_SECRET=$(cat ...)</c> and <c>--secret-file</c> (mode 0600).</summary>
    public string OperatorSecretPath => Path.Combine(Directory, "operator.secret");

    public IReadOnlyList<Credential> Credentials { get; }

    public Acls Acls { get; }

    public Credential Of(string principal) => Credentials.First(c => c.Principal == principal);

    /// <summary>
    /// Loads the dev cluster's security files from <paramref name="workDir"/>/security, writing the missing ones first.
    /// A credentials file that lacks one of the dev principals is refused (naming the file), not silently replaced.
    /// </summary>
    public static DevSecurity Prepare(string workDir, string user)
    {
        var directory = Path.Combine(workDir, "security");
        System.IO.Directory.CreateDirectory(directory);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        var credentialsPath = Path.Combine(directory, "credentials.json");
        if (!File.Exists(credentialsPath))
        {
            var fresh = new JsonArray([.. Principals.Select(p => (JsonNode)new JsonObject { ["principal"] = p, ["secret"] = NewSecret() })]);
            WriteOwnerOnly(credentialsPath, new JsonObject { ["credentials"] = fresh }.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        }

        var credentials = SecretFiles.ReadCredentials(credentialsPath);
        if (Principals.FirstOrDefault(p => credentials.All(c => c.Principal != p)) is { } missing)
        {
            throw new InvalidSecretFileException($"{credentialsPath}: has no principal '{missing}' (mezzo dev --secure needs {string.Join(", ", Principals)}); delete the file to have a new one made");
        }

        var security = new DevSecurity(directory, credentials, Acls.AllowAll);
        var operatorSecret = security.Of(Operator).Secret;
        if (!File.Exists(security.OperatorSecretPath) || SecretFiles.ReadSecret(security.OperatorSecretPath, "operator secret") != operatorSecret)
        {
            File.Delete(security.OperatorSecretPath);
            WriteOwnerOnly(security.OperatorSecretPath, operatorSecret + "\n");
        }

        if (!File.Exists(security.AclsPath))
        {
            WriteOwnerOnly(security.AclsPath, AclJson(user));
        }

        return new DevSecurity(directory, credentials, SecretFiles.ReadAcls(security.AclsPath));
    }

    /// <summary>
    /// The dev ACLs: the operator may do everything; the agent may register agents; services (any role its apps ask
    /// for) and jobs (role *) may register frameworks and run tasks as <paramref name="user"/>. Nobody else may do
    /// anything. The agent and frameworks may also call the one endpoint each needs, so the cluster works whether or
    /// not the master's endpoints declare their ACL gates.
    /// </summary>
    public static string AclJson(string user)
    {
        static JsonObject Subjects(params string[] principals) => new() { ["values"] = new JsonArray([.. principals.Select(p => (JsonNode)p)]) };
        static JsonObject Any() => new() { ["type"] = "ANY" };
        static JsonObject Values(params string[] values) => new() { ["values"] = new JsonArray([.. values.Select(v => (JsonNode)v)]) };

        var acls = new JsonObject { ["permissive"] = false };
        foreach (var action in Enum.GetValues<AclAction>())
        {
            acls[AclActions.Key(action)] = new JsonArray(new JsonObject { ["principals"] = Subjects(Operator), [AclActions.ObjectField(action)] = Any() });
        }

        Add(AclAction.RegisterAgents, new JsonObject { ["principals"] = Subjects(AgentPrincipal), ["agents"] = Any() });
        Add(AclAction.RegisterFrameworks, new JsonObject { ["principals"] = Subjects(ServicesPrincipal), ["roles"] = Any() });
        Add(AclAction.RegisterFrameworks, new JsonObject { ["principals"] = Subjects(JobsPrincipal), ["roles"] = Values("*") });
        Add(AclAction.RunTasks, new JsonObject { ["principals"] = Subjects(ServicesPrincipal, JobsPrincipal), ["users"] = Values(user) });
        Add(AclAction.GetEndpoints, new JsonObject { ["principals"] = Subjects(AgentPrincipal), ["paths"] = Values(Master.Agents.AgentEndpoint.Path) });
        Add(AclAction.GetEndpoints, new JsonObject { ["principals"] = Subjects(ServicesPrincipal, JobsPrincipal), ["paths"] = Values("/api/v1/scheduler") });
        return acls.ToJsonString(new JsonSerializerOptions { WriteIndented = true });

        void Add(AclAction action, JsonObject rule) => ((JsonArray)acls[AclActions.Key(action)]!).Add(rule);
    }

    /// <summary>Every switch of a server that serves HTTP and checks the dev ACLs.</summary>
    public SecurityOptions Server(bool frameworks = false, bool agents = false, bool executors = false) => new()
    {
        Credentials = Credentials,
        Acls = Acls,
        AuthenticateHttpReadonly = true,
        AuthenticateHttpReadwrite = true,
        AuthenticateFrameworks = frameworks,
        AuthenticateAgents = agents,
        AuthenticateHttpExecutors = executors,
    };

    /// <summary>How to log in, printed once the cluster is up.</summary>
    public string Instructions(Uri master) => $"""
        Security is on (--secure): every endpoint needs a login; credentials {CredentialsPath}, ACLs {AclsPath}
          log in as principal '{Operator}' (may do everything); its secret is in {OperatorSecretPath}
          export MEZZO_PRINCIPAL={Operator} MEZZO_SECRET=$(cat {OperatorSecretPath})
          mezzo state --master {master}
          web UI: the browser asks for user '{Operator}' and the secret above
        """;

    private static string NewSecret() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));

    private static void WriteOwnerOnly(string path, string text)
    {
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = OwnerOnly;
        }

        using var stream = new FileStream(path, options);
        using var writer = new StreamWriter(stream);
        writer.Write(text);
    }
}
