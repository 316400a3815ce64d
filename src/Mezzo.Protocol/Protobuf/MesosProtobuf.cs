using System.Collections.Frozen;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using Mezzo.Protocol.V1;

namespace Mezzo.Protocol.Protobuf;

/// <summary>
/// Mesos's <c>application/x-protobuf</c> bodies for the wire POCOs, byte-compatible with the v1 .proto files vendored
/// under Proto/ (compiled to internal classes). There is one model, the POCOs: protobuf is only a second encoding of
/// them. A message is converted at the edge through the proto3 JSON mapping, which both sides already speak: bytes ⇄
/// generated message (Google.Protobuf's own codec) ⇄ JSON (its JsonFormatter/JsonParser, proto field names) ⇄ POCO
/// (<see cref="MesosJsonContext"/>). A hand-written codec per message would be a second model to keep in step with the
/// JSON one; going through the generated classes keeps field numbers and wire types exactly the .proto's, and the
/// conformance tests walk every POCO field against the descriptors so the JSON names cannot drift from the protos.
/// The two dialects differ only where the POCO side reads leniently here: the formatter writes 64-bit integers as
/// strings and non-finite doubles as "NaN"/"Infinity".
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

    private static readonly JsonParser Parser = new(JsonParser.Settings.Default.WithIgnoreUnknownFields(true));

    private static readonly JsonFormatter Formatter = new(JsonFormatter.Settings.Default.WithPreserveProtoFieldNames(true));

    /// <summary>MesosJson's options, reading what JsonFormatter writes: int64 as strings, "NaN"/"Infinity".</summary>
    private static readonly MesosJsonContext Lenient = new(new JsonSerializerOptions(MesosJsonContext.Default.Options)
    {
        NumberHandling = JsonNumberHandling.AllowReadingFromString | JsonNumberHandling.AllowNamedFloatingPointLiterals,
    });

    /// <summary>The wire types that have a protobuf encoding, with the .proto message each maps to.</summary>
    internal static IReadOnlyDictionary<Type, MessageDescriptor> Descriptors => Messages;

    /// <summary>The protobuf encoding of <paramref name="value"/>.</summary>
    public static byte[] Serialize<T>(T value) => ToMessage(value).ToByteArray();

    /// <summary>Parses a protobuf-encoded <typeparamref name="T"/>; malformed input throws <see cref="ProtobufFormatException"/>.</summary>
    public static T Deserialize<T>(ReadOnlySpan<byte> bytes)
    {
        var descriptor = Descriptor(typeof(T));
        IMessage message;
        try
        {
            message = descriptor.Parser.ParseFrom(bytes);
        }
        catch (InvalidProtocolBufferException ex)
        {
            throw new ProtobufFormatException($"Not a valid {descriptor.FullName} protobuf: {ex.Message}", ex);
        }

        return FromMessage<T>(message);
    }

    /// <summary>The generated message for <paramref name="value"/> (tests and tools encode with it).</summary>
    internal static IMessage ToMessage<T>(T value)
    {
        var descriptor = Descriptor(typeof(T));
        var json = MesosJson.Serialize(value);
        try
        {
            return Parser.Parse(json, descriptor);
        }
        catch (InvalidProtocolBufferException ex)
        {
            // Our own POCO did not fit the .proto: a bug here, never the client's; the conformance tests guard it.
            throw new InvalidOperationException($"{typeof(T).Name} does not map onto {descriptor.FullName}: {ex.Message}", ex);
        }
    }

    internal static T FromMessage<T>(IMessage message)
    {
        var json = Formatter.Format(message);
        try
        {
            return JsonSerializer.Deserialize(json, (JsonTypeInfo<T>)Lenient.GetTypeInfo(typeof(T))!)
                ?? throw new ProtobufFormatException($"Empty {message.Descriptor.FullName}");
        }
        catch (JsonException ex)
        {
            throw new ProtobufFormatException($"Invalid {message.Descriptor.FullName}: {ex.Message}", ex);
        }
    }

    private static MessageDescriptor Descriptor(Type type) =>
        Messages.TryGetValue(type, out var descriptor)
            ? descriptor
            : throw new InvalidOperationException($"{type.Name} has no protobuf encoding");
}

/// <summary>A protobuf body that is not a valid encoding of the expected message (a 400 at the HTTP edge).</summary>
public sealed class ProtobufFormatException(string message, Exception? inner = null) : FormatException(message, inner);
