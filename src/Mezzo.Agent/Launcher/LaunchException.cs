namespace Mezzo.Agent.Launcher;

public sealed class LaunchException : Exception
{
    public LaunchException(string message)
        : base(message)
    {
    }

    public LaunchException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>The errno that caused the failure, when the failure came from the OS.</summary>
    public int? Errno { get; init; }
}
