namespace Mezzo.Framework;

/// <summary>The master refused a call (4xx/5xx) or could not be reached.</summary>
public sealed class SchedulerCallException : Exception
{
    public SchedulerCallException(int statusCode, string message)
        : base(statusCode == 0 ? message : $"{statusCode}: {message}") => StatusCode = statusCode;

    public SchedulerCallException()
    {
    }

    public SchedulerCallException(string message)
        : base(message)
    {
    }

    public SchedulerCallException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public int StatusCode { get; }
}
