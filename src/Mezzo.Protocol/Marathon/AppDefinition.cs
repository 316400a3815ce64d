using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Mezzo.Protocol.Marathon;

/// <summary>
/// A Marathon app definition (<c>/v2/apps</c>), field for field as Marathon spells it. Parsed as sent (every field
/// optional), then <see cref="AppNormalizer"/> fills Marathon's defaults; a normalized definition is never mutated
/// again (changes make a new one), so the services actor can hand it to HTTP readers as is.
/// </summary>
public sealed class AppDefinition
{
    public string? Id { get; set; }

    public string? Cmd { get; set; }

    public List<string>? Args { get; set; }

    public string? User { get; set; }

    public Dictionary<string, string>? Env { get; set; }

    public int? Instances { get; set; }

    public double? Cpus { get; set; }

    public double? Mem { get; set; }

    public double? Disk { get; set; }

    public int? Gpus { get; set; }

    public string? Executor { get; set; }

    public List<List<string>>? Constraints { get; set; }

    public List<string>? Uris { get; set; }

    public List<FetchUri>? Fetch { get; set; }

    public List<string>? StoreUrls { get; set; }

    /// <summary>Deprecated by Marathon in favour of <see cref="PortDefinitions"/>; accepted and converted.</summary>
    public List<int>? Ports { get; set; }

    public List<PortDefinition>? PortDefinitions { get; set; }

    public bool? RequirePorts { get; set; }

    public int? BackoffSeconds { get; set; }

    public double? BackoffFactor { get; set; }

    public int? MaxLaunchDelaySeconds { get; set; }

    public AppContainer? Container { get; set; }

    public List<AppHealthCheck>? HealthChecks { get; set; }

    public List<ReadinessCheck>? ReadinessChecks { get; set; }

    public List<string>? Dependencies { get; set; }

    public UpgradeStrategy? UpgradeStrategy { get; set; }

    public Dictionary<string, string>? Labels { get; set; }

    public List<string>? AcceptedResourceRoles { get; set; }

    public string? Version { get; set; }

    public VersionInfo? VersionInfo { get; set; }

    public string? KillSelection { get; set; }

    /// <summary>Either the string "disabled" or an object: kept as JSON and checked by the validator.</summary>
    public JsonNode? UnreachableStrategy { get; set; }

    public string? Role { get; set; }

    public int? TaskKillGracePeriodSeconds { get; set; }

    public List<JsonNode>? Networks { get; set; }

    public JsonNode? IpAddress { get; set; }

    public JsonNode? Secrets { get; set; }

    public JsonNode? Residency { get; set; }

    /// <summary>Service ports Marathon assigned, one per port definition (read-only in the API).</summary>
    [JsonIgnore]
    public IReadOnlyList<int> ServicePorts => PortDefinitions?.Select(p => p.Port ?? 0).ToList() ?? [];

    /// <summary>The version whose change requires the tasks to be replaced (scaling keeps it).</summary>
    [JsonIgnore]
    public string ConfigVersion => VersionInfo?.LastConfigChangeAt ?? Version ?? "";

    public AppDefinition Clone() => AppJson.Parse(AppJson.Serialize(this));
}

public sealed class FetchUri
{
    public string? Uri { get; set; }

    public bool? Executable { get; set; }

    public bool? Extract { get; set; }

    public bool? Cache { get; set; }

    public string? DestPath { get; set; }
}

public sealed class PortDefinition
{
    public int? Port { get; set; }

    public string? Protocol { get; set; }

    public string? Name { get; set; }

    public Dictionary<string, string>? Labels { get; set; }
}

public sealed class UpgradeStrategy
{
    public double? MinimumHealthCapacity { get; set; }

    public double? MaximumOverCapacity { get; set; }
}

public sealed class VersionInfo
{
    public string? LastScalingAt { get; set; }

    public string? LastConfigChangeAt { get; set; }
}

public sealed class AppContainer
{
    public string? Type { get; set; }

    public AppDocker? Docker { get; set; }

    public List<JsonNode>? Volumes { get; set; }

    public List<PortMapping>? PortMappings { get; set; }
}

public sealed class AppDocker
{
    public string? Image { get; set; }

    public bool? ForcePullImage { get; set; }

    public bool? Privileged { get; set; }

    public string? Network { get; set; }

    public List<PortMapping>? PortMappings { get; set; }

    public List<JsonNode>? Parameters { get; set; }
}

public sealed class PortMapping
{
    public int? ContainerPort { get; set; }

    public int? HostPort { get; set; }

    public int? ServicePort { get; set; }

    public string? Protocol { get; set; }

    public string? Name { get; set; }

    public Dictionary<string, string>? Labels { get; set; }
}

public sealed class AppHealthCheck
{
    public string? Protocol { get; set; }

    public string? Path { get; set; }

    public int? PortIndex { get; set; }

    public int? Port { get; set; }

    public CommandCheck? Command { get; set; }

    public int? GracePeriodSeconds { get; set; }

    public int? IntervalSeconds { get; set; }

    public int? TimeoutSeconds { get; set; }

    public int? MaxConsecutiveFailures { get; set; }

    public int? DelaySeconds { get; set; }

    public bool? IgnoreHttp1xx { get; set; }

    public string? IpProtocol { get; set; }
}

/// <summary>Marathon's readiness check: during a deployment, a new task counts only once this HTTP check passes.</summary>
public sealed class ReadinessCheck
{
    public string? Name { get; set; }

    public string? Protocol { get; set; }

    public string? Path { get; set; }

    public string? PortName { get; set; }

    public int? IntervalSeconds { get; set; }

    public int? TimeoutSeconds { get; set; }

    public List<int>? HttpStatusCodesForReady { get; set; }

    public bool? PreserveLastResponse { get; set; }
}

public sealed class CommandCheck
{
    public string? Value { get; set; }
}
