namespace Mezzo.Cli.Client;

/// <summary>
/// What the client verbs (agent list, task kill, app deploy, ...) exit with, so scripts can tell a refusal from a typo
/// from an outage. Documented in the README ("Operating a cluster from the CLI").
/// </summary>
public static class ExitCodes
{
    public const int Ok = 0;

    /// <summary>The server answered and refused (4xx/5xx), or what was named does not exist.</summary>
    public const int Refused = 1;

    /// <summary>The command line is wrong: unknown verb or flag, bad value, unreadable config file.</summary>
    public const int Usage = 2;

    /// <summary>No HTTP answer at all: connection refused, DNS failure, timeout.</summary>
    public const int Unreachable = 3;

    /// <summary>A wait (<c>--wait</c>, deployments) did not finish within its <c>--timeout</c>.</summary>
    public const int TimedOut = 4;
}

/// <summary>A client verb's failure: its message goes to stderr, its code is the process's exit code.</summary>
public sealed class CliException(int exitCode, string message) : Exception(message)
{
    public int ExitCode { get; } = exitCode;
}
