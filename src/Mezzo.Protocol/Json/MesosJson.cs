using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Mezzo.Protocol.Agents;
using Mezzo.Protocol.V1;

namespace Mezzo.Protocol;

/// <summary>Mesos's JSON: proto field names in snake_case, enums by name, bytes as base64, absent fields omitted.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    Converters = [typeof(Json.StrictEnumConverterFactory), typeof(Json.Base64BytesConverter)])]
[JsonSerializable(typeof(Call))]
[JsonSerializable(typeof(Event))]
[JsonSerializable(typeof(TaskStatus))]
[JsonSerializable(typeof(TaskInfo))]
[JsonSerializable(typeof(FrameworkInfo))]
[JsonSerializable(typeof(MasterInfo))]
[JsonSerializable(typeof(Offer))]
[JsonSerializable(typeof(List<Resource>))]
[JsonSerializable(typeof(List<V1.Attribute>))]
[JsonSerializable(typeof(List<Label>))]
[JsonSerializable(typeof(ExecutorCall))]
[JsonSerializable(typeof(ExecutorEvent))]
[JsonSerializable(typeof(AgentCall))]
[JsonSerializable(typeof(AgentEvent))]
[JsonSerializable(typeof(AgentSubscribe))]
[JsonSerializable(typeof(MasterCall))]
[JsonSerializable(typeof(MasterResponse))]
[JsonSerializable(typeof(MasterEvent))]
[JsonSerializable(typeof(AgentOperatorCall))]
[JsonSerializable(typeof(AgentOperatorResponse))]
[JsonSerializable(typeof(MaintenanceSchedule))]
[JsonSerializable(typeof(MaintenanceClusterStatus))]
[JsonSerializable(typeof(List<MachineID>))]
[JsonSerializable(typeof(List<WeightInfo>))]
[JsonSerializable(typeof(List<QuotaConfig>))]
[JsonSerializable(typeof(QuotaRequest))]
[JsonSerializable(typeof(QuotaStatus))]
[JsonSerializable(typeof(List<MonitorStatisticsEntry>))]
public sealed partial class MesosJsonContext : JsonSerializerContext;

public static class MesosJson
{
    public static JsonSerializerOptions Options => MesosJsonContext.Default.Options;

    public static string Serialize<T>(T value) => JsonSerializer.Serialize(value, Info<T>());

    public static byte[] SerializeToUtf8Bytes<T>(T value) => JsonSerializer.SerializeToUtf8Bytes(value, Info<T>());

    /// <summary>Parses Mesos JSON; malformed input or wrong types throw <see cref="JsonException"/>.</summary>
    public static T? Deserialize<T>(ReadOnlySpan<byte> utf8) => JsonSerializer.Deserialize(utf8, Info<T>());

    public static T? Deserialize<T>(byte[] utf8) => JsonSerializer.Deserialize(utf8, Info<T>());

    public static T? Deserialize<T>(string json) => JsonSerializer.Deserialize(json, Info<T>());

    /// <summary>A deep copy through the wire format, so a stored message is never shared with a sender.</summary>
    public static T Clone<T>(T value) => Deserialize<T>(SerializeToUtf8Bytes(value))!;

    private static JsonTypeInfo<T> Info<T>() =>
        (JsonTypeInfo<T>)(MesosJsonContext.Default.GetTypeInfo(typeof(T))
            ?? throw new InvalidOperationException($"{typeof(T).Name} is not registered in MesosJsonContext"));
}
