using System.CommandLine;
using Mezzo.Agent;
using Mezzo.Cli.Flags;
using Mezzo.Hosting.Security;

namespace Mezzo.Cli.Commands;

/// <summary>
/// The agent's security flags, as Mesos's agent names them: the credentials and switches of its own HTTP endpoints,
/// its ACLs, the credential it presents to the master, and whether tasks may run as root.
/// </summary>
public sealed record AgentSecurityFlags(
    Option<string?> Credentials,
    Option<bool> AuthenticateHttpReadonly,
    Option<bool> AuthenticateHttpReadwrite,
    Option<bool> AuthenticateHttpExecutors,
    Option<string?> Acls,
    Option<string?> Credential,
    Option<bool> AllowRootTasks)
{
    public static AgentSecurityFlags Create() => new(
        FlagOption.Create<string?>("credentials", "File of the principals and secrets the agent's HTTP endpoints accept (Mesos JSON {\"credentials\":[...]} or 'principal secret' lines; chmod 600)", () => null),
        FlagOption.Create("authenticate-http-readonly", "Require HTTP Basic credentials (--credentials) on the read-only endpoints (/state, /files, /metrics, ...)", () => false),
        FlagOption.Create("authenticate-http-readwrite", "Require HTTP Basic credentials (--credentials) on the endpoints that change state (/api/v1, /logging/toggle)", () => false),
        FlagOption.Create("authenticate-http-executors", "Give each executor a signed token (MESOS_EXECUTOR_AUTHENTICATION_TOKEN) and require it on the executor API, so one executor cannot act as another", () => false),
        FlagOption.Create<string?>("acls", "Mesos ACLs (a JSON file, or the JSON itself): who may view frameworks, tasks, executors, containers, flags and sandboxes", () => null),
        FlagOption.Create<string?>("credential", "File with the single credential ('principal secret' or JSON) the agent presents to the master (HTTP Basic on every call; chmod 600)", () => null),
        FlagOption.Create("allow-root-tasks", "Let tasks and executors run as root (uid 0), which includes tasks with no user when the agent runs as root; refused with TASK_FAILED otherwise", () => false));

    public void AddTo(Command command)
    {
        ArgumentNullException.ThrowIfNull(command);
        foreach (var option in (Option[])[Credentials, AuthenticateHttpReadonly, AuthenticateHttpReadwrite, AuthenticateHttpExecutors, Acls, Credential, AllowRootTasks])
        {
            command.Options.Add(option);
        }
    }

    /// <summary>Reads the files the flags name. Throws <see cref="InvalidSecretFileException"/> or <see cref="ArgumentException"/> with the flag's name.</summary>
    public void Apply(ParseResult parsed, AgentOptions options)
    {
        ArgumentNullException.ThrowIfNull(parsed);
        ArgumentNullException.ThrowIfNull(options);
        var security = options.Security;
        if (parsed.GetValue(Credentials) is { } credentials)
        {
            security.Credentials = SecretFiles.ReadCredentials(credentials);
        }

        security.AuthenticateHttpReadonly = parsed.GetValue(AuthenticateHttpReadonly);
        security.AuthenticateHttpReadwrite = parsed.GetValue(AuthenticateHttpReadwrite);
        security.AuthenticateHttpExecutors = parsed.GetValue(AuthenticateHttpExecutors);
        if (parsed.GetValue(Acls) is { } acls)
        {
            security.Acls = SecretFiles.ReadAcls(acls);
        }

        if (parsed.GetValue(Credential) is { } credential)
        {
            options.Credential = SecretFiles.ReadCredential(credential);
        }

        options.AllowRootTasks = parsed.GetValue(AllowRootTasks);
        security.Validate();
    }
}
