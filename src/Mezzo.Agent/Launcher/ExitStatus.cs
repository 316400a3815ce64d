namespace Mezzo.Agent.Launcher;

/// <summary>How a process ended: exactly one of <see cref="ExitCode"/> and <see cref="Signal"/> is set,
/// or neither when the status could not be collected (someone else reaped the child).</summary>
/// <param name="LaunchError">Set when the process never ran (its supervisor could not start it); says why.</param>
public readonly record struct ExitStatus(int? ExitCode, int? Signal, string? LaunchError = null)
{
    public static ExitStatus Exited(int code) => new(code, null);

    public static ExitStatus Killed(int signal) => new(null, signal);

    public bool Success => ExitCode == 0;

    /// <summary>Mesos's wording ("Command " + WSTRINGIFY(status)), which frameworks show to users and some parse.</summary>
    public string Describe() => (ExitCode, Signal) switch
    {
        _ when LaunchError is { } error => error,
        ({ } code, _) => $"Command exited with status {code}",
        (null, { } signal) => $"Command terminated with signal {Signals.Describe(signal)}",
        _ => "Command exited with unknown status",
    };

    public override string ToString() => Describe();
}
