namespace Mezzo.Agent.Fetching;

/// <summary>A URI could not be fetched into a sandbox. The message names the URI and the cause, ready for
/// TaskStatus.message ("Failed to fetch 'http://h/x.tgz': HTTP 404 Not Found").</summary>
public sealed class FetchException : Exception
{
    public FetchException(string message)
        : base(message)
    {
    }

    public FetchException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>The URI as the task gave it; empty when the failure is not about one URI (an unknown user).</summary>
    public string Uri { get; init; } = "";
}
