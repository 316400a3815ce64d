namespace Mezzo.Agent.Launcher;

/// <summary>Handle on a launched task process and its process group.</summary>
public sealed class LaunchedProcess
{
    private readonly Action<int> _signalGroup;

    /// <summary>For launchers other than <see cref="PosixProcessLauncher"/> (and fakes in tests):
    /// <paramref name="signalGroup"/> must deliver a signal to the whole process group and must be a
    /// no-op once <paramref name="exited"/> has completed.</summary>
    public LaunchedProcess(int pid, Task<ExitStatus> exited, Action<int> signalGroup)
    {
        ArgumentNullException.ThrowIfNull(exited);
        ArgumentNullException.ThrowIfNull(signalGroup);
        Pid = pid;
        Exited = exited;
        _signalGroup = signalGroup;
    }

    /// <summary>Also the process group id and session id: tasks are started with setsid.</summary>
    public int Pid { get; }

    /// <summary>Completes (on the thread pool) once the leader has exited and been reaped.
    /// By then every other member of its process group has been sent SIGKILL.</summary>
    public Task<ExitStatus> Exited { get; }

    public bool HasExited => Exited.IsCompleted;

    /// <summary>Sends <paramref name="signal"/> to every process in the group. Does nothing once the
    /// process has been reaped, because its group id could then belong to someone else.</summary>
    public void Signal(int signal)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(signal);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(signal, Signals.Max);
        _signalGroup(signal);
    }

    /// <summary>SIGTERM to the group, then SIGKILL to the group if the leader is still alive after
    /// <paramref name="gracePeriod"/>. Completes when the leader has been reaped.</summary>
    /// <remarks>Cancelling <paramref name="cancellationToken"/> escalates to SIGKILL at once and then throws
    /// without waiting for the exit: an abandoned kill must still not leave the task running.</remarks>
    public async Task KillAsync(TimeSpan gracePeriod, CancellationToken cancellationToken = default)
    {
        if (HasExited)
        {
            return;
        }

        try
        {
            if (gracePeriod > TimeSpan.Zero)
            {
                Signal(Signals.SIGTERM);
                if (await WaitForExitAsync(gracePeriod, cancellationToken))
                {
                    return;
                }
            }

            Signal(Signals.SIGKILL);
            await Exited.WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            Signal(Signals.SIGKILL);
            throw;
        }
    }

    private async Task<bool> WaitForExitAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        try
        {
            await Exited.WaitAsync(timeout, cancellationToken);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    public override string ToString() => $"pid {Pid}";
}
