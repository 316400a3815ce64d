using System.Collections.Frozen;
using System.Text.Json;
using Google.Protobuf.Reflection;
using Mezzo.Protocol.V1;

namespace Mezzo.Protocol.Protobuf;

/// <summary>
/// Mesos's <c>application/x-protobuf</c> bodies for the wire POCOs, byte-compatible with the v1 .proto files vendored
/// under Proto/. There is one model, the POCOs: protobuf is only a second encoding of them, transcoded at the edge
/// from and to their Mesos JSON by <see cref="ProtobufTranscoder"/>, driven by the descriptors compiled from the
/// .proto files (so field numbers and wire types are Mesos's, nothing is mapped by hand). A codec per message would be
/// a second model to keep in step with the JSON one. The first version went through the generated message classes and
/// Google.Protobuf's JsonFormatter/JsonParser: correct but slow (the load simulator lost ~40 % of its throughput, see
/// bench/BENCHMARKS.md); the transcoder is one pass each way. The conformance tests walk every POCO field against the
/// descriptors, and the round-trip tests check the transcoder's bytes against the generated classes.
/// </summary>
public static class MesosProtobuf
{
    public const string MediaType = "application/x-protobuf";

    private static readonly FrozenDictionary<Type, MessageDescriptor> Messages = new Dictionary<Type, MessageDescriptor>
    {
        [typeof(Call)] = Mesos.V1.Scheduler.Call.Descriptor,
        [typeof(Event)] = Mesos.V1.Scheduler.Event.Descriptor,
        [typeof(ExecutorCall)] = Mesos.V1.Executor.Call.Descriptor,
        [typeof(ExecutorEvent)] = Mesos.V1.Executor.Event.Descriptor,
        [typeof(MasterCall)] = Mesos.V1.Master.Call.Descriptor,
        [typeof(MasterResponse)] = Mesos.V1.Master.Response.Descriptor,
        [typeof(MasterEvent)] = Mesos.V1.Master.Event.Descriptor,
        [typeof(AgentOperatorCall)] = Mesos.V1.Agent.Call.Descriptor,
        [typeof(AgentOperatorResponse)] = Mesos.V1.Agent.Response.Descriptor,
    }.ToFrozenDictionary();

    /// <summary>The wire types that have a protobuf encoding, with the .proto message each maps to.</summary>
    internal static IReadOnlyDictionary<Type, MessageDescriptor> Descriptors => Messages;

    /// <summary>The protobuf encoding of <paramref name="value"/>.</summary>
    public static byte[] Serialize<T>(T value)
    {
        var descriptor = Descriptor(typeof(T));
        try
        {
            return ProtobufTranscoder.FromJson(MesosJson.SerializeToUtf8Bytes(value), descriptor);
        }
        catch (Exception ex) when (ex is JsonException or FormatException or InvalidOperationException)
        {
            // Our own POCO did not fit the .proto: a bug here, never the client's; the conformance tests guard it.
            throw new InvalidOperationException($"{typeof(T).Name} does not map onto {descriptor.FullName}: {ex.Message}", ex);
        }
    }

    /// <summary>Parses a protobuf-encoded <typeparamref name="T"/>; malformed input throws <see cref="ProtobufFormatException"/>.</summary>
    public static T Deserialize<T>(ReadOnlySpan<byte> bytes)
    {
        var descriptor = Descriptor(typeof(T));
        var json = ProtobufTranscoder.ToJson(bytes, descriptor);
        try
        {
            return MesosJson.Deserialize<T>(json) ?? throw new ProtobufFormatException($"Empty {descriptor.FullName}");
        }
        catch (JsonException ex)
        {
            throw new ProtobufFormatException($"Invalid {descriptor.FullName}: {ex.Message}", ex);
        }
    }

    private static MessageDescriptor Descriptor(Type type) =>
        Messages.TryGetValue(type, out var descriptor)
            ? descriptor
            : throw new InvalidOperationException($"{type.Name} has no protobuf encoding");
}

/// <summary>A protobuf body that is not a valid encoding of the expected message (a 400 at the HTTP edge).</summary>
public sealed class ProtobufFormatException(string message, Exception? inner = null) : FormatException(message, inner);
