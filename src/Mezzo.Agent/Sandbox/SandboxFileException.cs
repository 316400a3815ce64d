namespace Mezzo.Agent.Sandbox;

/// <summary>Maps onto the HTTP status Mesos answers with.</summary>
public enum SandboxFileErrorKind
{
    /// <summary>400: malformed request, or a path that escapes the sandbox.</summary>
    BadRequest,

    /// <summary>404.</summary>
    NotFound,

    /// <summary>500: the file exists but could not be read.</summary>
    Internal,
}

public sealed class SandboxFileException : Exception
{
    public SandboxFileException(SandboxFileErrorKind kind, string message)
        : base(message)
    {
        Kind = kind;
    }

    public SandboxFileErrorKind Kind { get; }

    internal static SandboxFileException BadRequest(string message) => new(SandboxFileErrorKind.BadRequest, message);

    internal static SandboxFileException NotFound(string message) => new(SandboxFileErrorKind.NotFound, message);

    internal static SandboxFileException Internal(string message) => new(SandboxFileErrorKind.Internal, message);
}
