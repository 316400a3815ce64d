namespace Mezzo.Master.Actor;

/// <summary>Outcome of a call handed to the actor, in HTTP terms (Mesos answers errors as plain text).</summary>
public readonly record struct CallResult(int StatusCode, string? Error = null)
{
    public static CallResult Accepted { get; } = new(202);

    public static CallResult Ok { get; } = new(200);

    public static CallResult BadRequest(string error) => new(400, error);

    public static CallResult Forbidden(string error) => new(403, error);

    public static CallResult NotFound(string error) => new(404, error);

    public static CallResult Conflict(string error) => new(409, error);

    public static CallResult ServiceUnavailable(string error) => new(503, error);

    public bool IsSuccess => StatusCode is >= 200 and < 300;
}
