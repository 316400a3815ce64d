using System.Collections.Immutable;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Mezzo.Protocol.Chronos;

/// <summary>What a job gets for a field the JSON leaves out (Chronos's --mesos_task_cpu/mem/disk, --user, --task_epsilon).</summary>
public sealed record JobDefaults(double Cpus = 0.1, double Mem = 128, double Disk = 256, string User = "root", long EpsilonSeconds = 60);

/// <summary>A job body that cannot be accepted; the message names the field.</summary>
public sealed class JobValidationException(string message) : Exception(message);

/// <summary>Chronos's job JSON, read as its JobDeserializer reads it (with every bad value rejected by name) and written as its JobSerializer writes it.</summary>
public static partial class JobJson
{
    /// <summary>Jackson does not escape quotes or '&lt;' in strings; neither do we (bodies are application/json).</summary>
    public static readonly JsonWriterOptions WriterOptions = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public const int MaxNameLength = 200;

    public const string NamePattern = @"([\w\s\.#_-]+)";

    // Java's \w and \s (ASCII only), not .NET's Unicode classes.
    [GeneratedRegex(@"^[A-Za-z0-9_ \t\n\x0B\f\r\.#-]+$", RegexOptions.CultureInvariant)]
    private static partial Regex ValidName();

    public static bool IsValidName(string? name) => !string.IsNullOrEmpty(name) && ValidName().IsMatch(name);

    /// <summary>
    /// How job bodies are read. A JsonObject with a key given twice throws ArgumentException on first access (a 500),
    /// so duplicates are refused while parsing, as malformed JSON naming the key.
    /// </summary>
    public static readonly JsonDocumentOptions DocumentOptions = new() { MaxDepth = 32, AllowDuplicateProperties = false };

    private static readonly HashSet<string> ConstraintOperators = ["EQUALS", "LIKE", "UNLIKE"];

    /// <summary>Parses and validates a job body; throws <see cref="JobValidationException"/> naming the first bad field.</summary>
    public static Job Parse(ReadOnlySpan<byte> utf8, JobDefaults defaults)
    {
        JsonNode? node;
        try
        {
            node = JsonNode.Parse(utf8, documentOptions: DocumentOptions);
        }
        catch (JsonException ex)
        {
            throw new JobValidationException($"Malformed JSON: {ex.Message}");
        }

        if (node is not JsonObject body)
        {
            throw new JobValidationException("Expected a JSON object with the job's fields");
        }

        return Parse(body, defaults);
    }

    public static Job Parse(JsonObject body, JobDefaults defaults)
    {
        var name = String(body, "name") ?? throw new JobValidationException("'name' is required");
        if (!IsValidName(name))
        {
            throw new JobValidationException($"the job's name '{name}' is invalid. Allowed names: '{NamePattern}'");
        }

        if (name.Length > MaxNameLength)
        {
            // The name is part of every run's Mesos task id, which may not be longer than 255 characters.
            throw new JobValidationException($"the job's name is {name.Length} characters long; at most {MaxNameLength} are allowed");
        }

        var container = Container(body);
        var command = String(body, "command");
        if (command is null && container is null)
        {
            throw new JobValidationException("'command' is required");
        }

        var epsilonText = String(body, "epsilon");
        var epsilon = IsoPeriod.FromSeconds(defaults.EpsilonSeconds);
        if (epsilonText is not null && !IsoPeriod.TryParse(epsilonText, out epsilon, out var epsilonError))
        {
            throw new JobValidationException($"'epsilon': {epsilonError}");
        }

        var uris = Strings(body, "uris");
        var fetch = FetchList(body);
        if (uris.Length > 0 && fetch.Length > 0 && uris.SequenceEqual(fetch.Select(f => f.Uri)))
        {
            // What GET jobs shows (fetch mirrored into uris), posted back unchanged.
            uris = [];
        }
        else if (uris.Length > 0 && fetch.Length > 0)
        {
            throw new JobValidationException($"Tried to add both uri (deprecated) and fetch parameters on {name}");
        }

        var schedule = String(body, "schedule");
        var parents = body.ContainsKey("parents") ? Strings(body, "parents") : [];
        if (schedule is not null && parents.Length > 0)
        {
            throw new JobValidationException("A job has either 'schedule' or 'parents', not both");
        }

        foreach (var parent in parents)
        {
            if (!IsValidName(parent))
            {
                throw new JobValidationException($"'parents': '{parent}' is not a valid job name");
            }
        }

        return new Job
        {
            Name = name,
            Command = command ?? "",
            Shell = Bool(body, "shell") ?? true,
            Epsilon = epsilon,
            Executor = String(body, "executor") ?? "",
            ExecutorFlags = String(body, "executorFlags") ?? "",
            TaskInfoData = String(body, "taskInfoData") ?? "",
            Retries = (int)(Integer(body, "retries", int.MaxValue) ?? 2),
            Owner = String(body, "owner") ?? "",
            OwnerName = String(body, "ownerName") ?? "",
            Description = String(body, "description") ?? "",
            Async = Bool(body, "async") ?? false,
            Disabled = Bool(body, "disabled") ?? false,
            SoftError = Bool(body, "softError") ?? false,
            Concurrent = Bool(body, "concurrent") ?? false,
            DataProcessingJobType = Bool(body, "dataProcessingJobType") ?? false,
            SuccessCount = Integer(body, "successCount", long.MaxValue) ?? 0,
            ErrorCount = Integer(body, "errorCount", long.MaxValue) ?? 0,
            ErrorsSinceLastSuccess = Integer(body, "errorsSinceLastSuccess", long.MaxValue) ?? 0,
            LastSuccess = String(body, "lastSuccess") ?? "",
            LastError = String(body, "lastError") ?? "",
            // Chronos: a missing or zero amount takes the default.
            Cpus = Amount(body, "cpus") is { } cpus and not 0 ? cpus : defaults.Cpus,
            Mem = Amount(body, "mem") is { } mem and not 0 ? mem : defaults.Mem,
            Disk = Amount(body, "disk") is { } disk and not 0 ? disk : defaults.Disk,
            Uris = uris,
            Fetch = fetch,
            Arguments = Strings(body, "arguments"),
            EnvironmentVariables = Environment(body),
            HighPriority = Bool(body, "highPriority") ?? false,
            RunAsUser = String(body, "runAsUser") ?? defaults.User,
            Container = container,
            Constraints = Constraints(body),
            Parents = parents,
            // Chronos: a job with neither schedule nor parents runs once, now.
            Schedule = parents.Length > 0 ? null : schedule ?? "R1//PT24H",
            ScheduleTimeZone = String(body, "scheduleTimeZone") ?? "",
        };
    }

    private static JsonNode? Field(JsonObject body, string name) => body.TryGetPropertyValue(name, out var value) ? value : null;

    private static string? String(JsonObject body, string name) => Field(body, name) switch
    {
        null => null,
        JsonValue v when v.TryGetValue<string>(out var s) => s,
        var other => throw new JobValidationException($"'{name}' must be a string, not {Describe(other)}"),
    };

    private static bool? Bool(JsonObject body, string name, string? path = null) => Field(body, name) switch
    {
        null => null,
        JsonValue v when v.TryGetValue<bool>(out var b) => b,
        JsonValue v when v.TryGetValue<string>(out var s) && bool.TryParse(s, out var b) => b,
        var other => throw new JobValidationException($"'{path ?? name}' must be true or false, not {Describe(other)}"),
    };

    private static double? Number(JsonObject body, string name)
    {
        var node = Field(body, name);
        if (node is null)
        {
            return null;
        }

        double value;
        if (node is JsonValue v && v.TryGetValue<double>(out var d))
        {
            value = d;
        }
        else if (node is JsonValue s && s.TryGetValue<string>(out var text) && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed))
        {
            // Chronos's own docs send "cpus": "0.5".
            value = parsed;
        }
        else
        {
            throw new JobValidationException($"'{name}' must be a number, not {Describe(node)}");
        }

        return value;
    }

    private static double? Amount(JsonObject body, string name)
    {
        var value = Number(body, name);
        if (value is { } v && (!double.IsFinite(v) || v < 0))
        {
            throw new JobValidationException($"'{name}' must be a finite number of 0 or more, not {v.ToString(CultureInfo.InvariantCulture)}");
        }

        return value;
    }

    private static long? Integer(JsonObject body, string name, long max)
    {
        var value = Number(body, name);
        if (value is not { } v)
        {
            return null;
        }

        if (v < 0 || v > max || Math.Floor(v) != v)
        {
            throw new JobValidationException($"'{name}' must be a whole number of 0 or more, not {v.ToString(CultureInfo.InvariantCulture)}");
        }

        return (long)v;
    }

    private static JsonArray? Array(JsonObject body, string name) => Field(body, name) switch
    {
        null => null,
        JsonArray a => a,
        var other => throw new JobValidationException($"'{name}' must be an array, not {Describe(other)}"),
    };

    private static ImmutableArray<string> Strings(JsonObject body, string name) =>
        Array(body, name) is { } array
            ? [.. array.Select((item, i) => item is JsonValue v && v.TryGetValue<string>(out var s) ? s : throw new JobValidationException($"'{name}[{i}]' must be a string, not {Describe(item)}"))]
            : [];

    private static JsonObject Object(JsonNode? node, string path) =>
        node as JsonObject ?? throw new JobValidationException($"'{path}' must be an object, not {Describe(node)}");

    private static ImmutableArray<FetchUri> FetchList(JsonObject body) =>
        Array(body, "fetch") is { } array
            ? [.. array.Select((item, i) =>
            {
                var entry = Object(item, $"fetch[{i}]");
                var uri = String(entry, "uri");
                if (string.IsNullOrEmpty(uri))
                {
                    throw new JobValidationException($"'fetch[{i}].uri' is required");
                }

                return new FetchUri(uri, Bool(entry, "executable", $"fetch[{i}].executable") ?? false, Bool(entry, "cache", $"fetch[{i}].cache") ?? false, Bool(entry, "extract", $"fetch[{i}].extract") ?? false);
            })]
            : [];

    private static ImmutableArray<JobEnvironmentVariable> Environment(JsonObject body) =>
        Array(body, "environmentVariables") is { } array
            ? [.. array.Select((item, i) =>
            {
                var entry = Object(item, $"environmentVariables[{i}]");
                var name = String(entry, "name");
                if (string.IsNullOrEmpty(name))
                {
                    throw new JobValidationException($"'environmentVariables[{i}].name' is required");
                }

                return new JobEnvironmentVariable(name, String(entry, "value") ?? throw new JobValidationException($"'environmentVariables[{i}].value' is required"));
            })]
            : [];

    private static ImmutableArray<JobConstraint> Constraints(JsonObject body) =>
        Array(body, "constraints") is { } array
            ? [.. array.Select((item, i) =>
            {
                if (item is not JsonArray triple || triple.Count != 3 || triple.Any(t => t is not JsonValue v || !v.TryGetValue<string>(out _)))
                {
                    throw new JobValidationException($"'constraints[{i}]' must be [attribute, operator, value], three strings");
                }

                var op = triple[1]!.GetValue<string>();
                if (!ConstraintOperators.Contains(op))
                {
                    throw new JobValidationException($"'constraints[{i}]': unknown operator '{op}' (expected EQUALS, LIKE or UNLIKE)");
                }

                if (op != "EQUALS")
                {
                    try
                    {
                        _ = new Regex(triple[2]!.GetValue<string>(), RegexOptions.None, TimeSpan.FromMilliseconds(100));
                    }
                    catch (ArgumentException ex)
                    {
                        throw new JobValidationException($"'constraints[{i}]': '{triple[2]}' is not a regular expression: {ex.Message}");
                    }
                }

                return new JobConstraint(triple[0]!.GetValue<string>(), op, triple[2]!.GetValue<string>());
            })]
            : [];

    private static JobContainer? Container(JsonObject body)
    {
        if (Field(body, "container") is not { } node)
        {
            return null;
        }

        var container = Object(node, "container");
        var image = String(container, "image");
        if (string.IsNullOrEmpty(image))
        {
            throw new JobValidationException("'container.image' is required");
        }

        var type = (String(container, "type") ?? "DOCKER").ToUpperInvariant();
        if (type is not ("DOCKER" or "MESOS"))
        {
            throw new JobValidationException($"'container.type': unknown type '{type}' (expected DOCKER or MESOS)");
        }

        var network = String(container, "network") ?? "HOST";
        if (network is not ("HOST" or "BRIDGE" or "USER" or "NONE"))
        {
            throw new JobValidationException($"'container.network': unknown network '{network}' (expected HOST, BRIDGE, USER or NONE)");
        }

        var volumes = Array(container, "volumes") is { } v
            ? v.Select((item, i) =>
            {
                var entry = Object(item, $"container.volumes[{i}]");
                var mode = String(entry, "mode")?.ToUpperInvariant();
                if (mode is not (null or "RW" or "RO"))
                {
                    throw new JobValidationException($"'container.volumes[{i}].mode': unknown mode '{mode}' (expected RW or RO)");
                }

                var containerPath = String(entry, "containerPath");
                return string.IsNullOrEmpty(containerPath)
                    ? throw new JobValidationException($"'container.volumes[{i}].containerPath' is required")
                    : new JobVolume(String(entry, "hostPath"), containerPath, mode);
            }).ToImmutableArray()
            : [];
        var parameters = Array(container, "parameters") is { } p
            ? p.Select((item, i) =>
            {
                var entry = Object(item, $"container.parameters[{i}]");
                return new JobParameter(String(entry, "key") ?? throw new JobValidationException($"'container.parameters[{i}].key' is required"), String(entry, "value") ?? "");
            }).ToImmutableArray()
            : [];
        return new JobContainer(type, image, network, String(container, "networkName"), volumes, Bool(container, "forcePullImage", "container.forcePullImage") ?? false, parameters);
    }

    private static string Describe(JsonNode? node) => node switch
    {
        null => "null",
        JsonObject => "an object",
        JsonArray => "an array",
        JsonValue v => v.GetValueKind() switch
        {
            JsonValueKind.String => $"the string {v.ToJsonString()}",
            JsonValueKind.Number => $"the number {v.ToJsonString()}",
            JsonValueKind.True or JsonValueKind.False => v.ToJsonString(),
            _ => v.ToJsonString(),
        },
        _ => node.ToJsonString(),
    };

    /// <summary>Writes the job in Chronos's JobSerializer's field order.</summary>
    public static void Write(Utf8JsonWriter json, Job job)
    {
        json.WriteStartObject();
        json.WriteString("name", job.Name);
        json.WriteString("command", job.Command);
        json.WriteBoolean("shell", job.Shell);
        json.WriteString("epsilon", job.Epsilon.ToString());
        json.WriteString("executor", job.Executor);
        json.WriteString("executorFlags", job.ExecutorFlags);
        json.WriteString("taskInfoData", job.TaskInfoData);
        json.WriteNumber("retries", job.Retries);
        json.WriteString("owner", job.Owner);
        json.WriteString("ownerName", job.OwnerName);
        json.WriteString("description", job.Description);
        json.WriteBoolean("async", job.Async);
        json.WriteNumber("successCount", job.SuccessCount);
        json.WriteNumber("errorCount", job.ErrorCount);
        json.WriteString("lastSuccess", job.LastSuccess);
        json.WriteString("lastError", job.LastError);
        json.WriteNumber("cpus", job.Cpus);
        json.WriteNumber("disk", job.Disk);
        json.WriteNumber("mem", job.Mem);
        json.WriteBoolean("disabled", job.Disabled);
        json.WriteBoolean("softError", job.SoftError);
        json.WriteBoolean("concurrent", job.Concurrent);
        json.WriteBoolean("dataProcessingJobType", job.DataProcessingJobType);
        json.WriteNumber("errorsSinceLastSuccess", job.ErrorsSinceLastSuccess);

        // Chronos's listing shows uris as fetch entries and fetch uris as uris, so old and new clients both see them.
        var fetch = job.Fetch.Length > 0 ? job.Fetch : [.. job.Uris.Select(u => new FetchUri(u, false, false, false))];
        json.WriteStartArray("fetch");
        foreach (var f in fetch)
        {
            json.WriteStartObject();
            json.WriteString("uri", f.Uri);
            json.WriteBoolean("executable", f.Executable);
            json.WriteBoolean("cache", f.Cache);
            json.WriteBoolean("extract", f.Extract);
            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteStartArray("uris");
        foreach (var uri in job.Uris.Length > 0 ? job.Uris : [.. job.Fetch.Select(f => f.Uri)])
        {
            json.WriteStringValue(uri);
        }

        json.WriteEndArray();
        json.WriteStartArray("environmentVariables");
        foreach (var variable in job.EnvironmentVariables)
        {
            json.WriteStartObject();
            json.WriteString("name", variable.Name);
            json.WriteString("value", variable.Value);
            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteStartArray("arguments");
        foreach (var argument in job.Arguments)
        {
            json.WriteStringValue(argument);
        }

        json.WriteEndArray();
        json.WriteBoolean("highPriority", job.HighPriority);
        json.WriteString("runAsUser", job.RunAsUser);
        if (job.Container is { } container)
        {
            WriteContainer(json, container);
        }

        json.WriteStartArray("constraints");
        foreach (var constraint in job.Constraints)
        {
            json.WriteStartArray();
            json.WriteStringValue(constraint.Attribute);
            json.WriteStringValue(constraint.Operator);
            json.WriteStringValue(constraint.Value);
            json.WriteEndArray();
        }

        json.WriteEndArray();
        if (job.IsDependent)
        {
            json.WriteStartArray("parents");
            foreach (var parent in job.Parents)
            {
                json.WriteStringValue(parent);
            }

            json.WriteEndArray();
        }
        else
        {
            json.WriteString("schedule", job.Schedule);
            json.WriteString("scheduleTimeZone", job.ScheduleTimeZone);
        }

        json.WriteEndObject();
    }

    private static void WriteContainer(Utf8JsonWriter json, JobContainer container)
    {
        json.WriteStartObject("container");
        json.WriteString("type", container.Type);
        json.WriteString("image", container.Image);
        json.WriteString("network", container.Network);
        if (container.NetworkName is { } networkName)
        {
            json.WriteString("networkName", networkName);
        }

        json.WriteStartArray("volumes");
        foreach (var volume in container.Volumes)
        {
            json.WriteStartObject();
            if (volume.HostPath is { } hostPath)
            {
                json.WriteString("hostPath", hostPath);
            }

            json.WriteString("containerPath", volume.ContainerPath);
            if (volume.Mode is { } mode)
            {
                json.WriteString("mode", mode);
            }

            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteBoolean("forcePullImage", container.ForcePullImage);
        json.WriteStartArray("parameters");
        foreach (var parameter in container.Parameters)
        {
            json.WriteStartObject();
            json.WriteString("key", parameter.Key);
            json.WriteString("value", parameter.Value);
            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteEndObject();
    }

    public static byte[] ToUtf8(Job job)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, JobJson.WriterOptions))
        {
            Write(json, job);
        }

        return buffer.ToArray();
    }

    public static byte[] ToUtf8(IEnumerable<Job> jobs)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, JobJson.WriterOptions))
        {
            json.WriteStartArray();
            foreach (var job in jobs)
            {
                Write(json, job);
            }

            json.WriteEndArray();
        }

        return buffer.ToArray();
    }
}
