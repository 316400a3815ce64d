using System.Collections.Immutable;

namespace Mezzo.Protocol.Chronos;

/// <summary>One file the Mesos fetcher downloads before a run (Chronos's <c>fetch</c> entries).</summary>
public sealed record FetchUri(string Uri, bool Executable, bool Cache, bool Extract);

public sealed record JobEnvironmentVariable(string Name, string Value);

/// <summary><c>[attribute, operator, value]</c> with Chronos's operators EQUALS, LIKE, UNLIKE.</summary>
public sealed record JobConstraint(string Attribute, string Operator, string Value);

public sealed record JobVolume(string? HostPath, string ContainerPath, string? Mode);

public sealed record JobParameter(string Key, string Value);

/// <summary>Chronos's <c>container</c>: type DOCKER or MESOS, an image, network (HOST default), volumes, parameters.</summary>
public sealed record JobContainer(
    string Type,
    string Image,
    string Network,
    string? NetworkName,
    ImmutableArray<JobVolume> Volumes,
    bool ForcePullImage,
    ImmutableArray<JobParameter> Parameters);

/// <summary>
/// A Chronos job: either scheduled (<see cref="Schedule"/>) or dependent (<see cref="Parents"/>), never both. Field
/// names, defaults and the JSON shape follow Chronos's JobDeserializer/JobSerializer.
/// </summary>
public sealed record Job
{
    public required string Name { get; init; }

    public required string Command { get; init; }

    public bool Shell { get; init; } = true;

    public IsoPeriod Epsilon { get; init; } = IsoPeriod.FromSeconds(60);

    public string Executor { get; init; } = "";

    public string ExecutorFlags { get; init; } = "";

    public string TaskInfoData { get; init; } = "";

    public int Retries { get; init; } = 2;

    public string Owner { get; init; } = "";

    public string OwnerName { get; init; } = "";

    public string Description { get; init; } = "";

    public bool Async { get; init; }

    public long SuccessCount { get; init; }

    public long ErrorCount { get; init; }

    /// <summary>Joda's DateTime.toString in UTC (<c>2014-03-08T16:57:17.507Z</c>), "" when never.</summary>
    public string LastSuccess { get; init; } = "";

    public string LastError { get; init; } = "";

    public double Cpus { get; init; }

    public double Disk { get; init; }

    public double Mem { get; init; }

    public bool Disabled { get; init; }

    public bool SoftError { get; init; }

    /// <summary>Whether runs may overlap; false (the default) keeps a run queued while the previous one is in flight.</summary>
    public bool Concurrent { get; init; }

    public bool DataProcessingJobType { get; init; }

    public long ErrorsSinceLastSuccess { get; init; }

    public ImmutableArray<FetchUri> Fetch { get; init; } = [];

    public ImmutableArray<string> Uris { get; init; } = [];

    public ImmutableArray<JobEnvironmentVariable> EnvironmentVariables { get; init; } = [];

    public ImmutableArray<string> Arguments { get; init; } = [];

    public bool HighPriority { get; init; }

    public string RunAsUser { get; init; } = "";

    public JobContainer? Container { get; init; }

    public ImmutableArray<JobConstraint> Constraints { get; init; } = [];

    /// <summary>Set for a scheduled job.</summary>
    public string? Schedule { get; init; }

    public string ScheduleTimeZone { get; init; } = "";

    /// <summary>Set (non-empty) for a dependent job.</summary>
    public ImmutableArray<string> Parents { get; init; } = [];

    public bool IsDependent => Schedule is null;

    /// <summary>Joda's DateTime.toString for a UTC instant.</summary>
    public static string FormatTime(DateTimeOffset time) =>
        time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture);
}
