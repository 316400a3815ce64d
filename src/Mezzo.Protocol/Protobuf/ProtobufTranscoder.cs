using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using Google.Protobuf.Reflection;

namespace Mezzo.Protocol.Protobuf;

/// <summary>
/// Transcodes between Mesos JSON (UTF-8, as <see cref="MesosJson"/> writes it) and the protobuf wire format, driven by
/// the descriptors of the vendored .proto files: field numbers, wire types and enum numbers come from there, nothing is
/// hand-mapped. It stands in for going through the generated message objects and Google.Protobuf's JsonFormatter /
/// JsonParser, which cost the load simulator ~40 % of its throughput (bench/BENCHMARKS.md): one pass each way, no
/// intermediate objects, and the JSON it writes is Mesos's dialect (64-bit integers as numbers), so the POCOs read it
/// with the same options as any JSON body.
/// </summary>
internal static class ProtobufTranscoder
{
    private const int MaxDepth = 64;

    private const int Varint = 0;
    private const int Fixed64 = 1;
    private const int LengthDelimited = 2;
    private const int Fixed32 = 5;

    // ---- JSON -> protobuf ----

    public static byte[] FromJson(ReadOnlySpan<byte> json, MessageDescriptor descriptor)
    {
        var reader = new Utf8JsonReader(json);
        reader.Read();
        var output = new ArrayBufferWriter<byte>(json.Length);
        WriteMessage(ref reader, descriptor, output, 0);
        return output.WrittenSpan.ToArray();
    }

    // A nested message's length goes before its bytes, so each is written to a scratch buffer first: one per nesting
    // level, reused across calls on the thread (the encoding is synchronous), instead of one per nested message.
    [ThreadStatic]
    private static List<ArrayBufferWriter<byte>>? t_levels;

    private static ArrayBufferWriter<byte> Level(int depth)
    {
        var levels = t_levels ??= [];
        while (levels.Count <= depth)
        {
            levels.Add(new ArrayBufferWriter<byte>(256));
        }

        var buffer = levels[depth];
        if (buffer.Capacity > 1024 * 1024)
        {
            // A huge message (a large offer batch) should not pin its buffer to the thread forever.
            buffer = levels[depth] = new ArrayBufferWriter<byte>(256);
        }

        buffer.ResetWrittenCount();
        return buffer;
    }

    private static void WriteMessage(ref Utf8JsonReader reader, MessageDescriptor descriptor, ArrayBufferWriter<byte> output, int depth)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw new InvalidOperationException($"{descriptor.FullName}: expected a JSON object, got {reader.TokenType}");
        }

        if (depth > MaxDepth)
        {
            throw new InvalidOperationException($"{descriptor.FullName}: nested deeper than {MaxDepth}");
        }

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var field = descriptor.FindFieldByName(reader.GetString()!);
            reader.Read();
            if (field is null)
            {
                // A POCO field the .proto lacks; the conformance tests keep this from happening.
                reader.Skip();
                continue;
            }

            if (reader.TokenType == JsonTokenType.Null)
            {
                continue;
            }

            if (field.IsMap)
            {
                var valueField = field.MessageType.FindFieldByNumber(2);
                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    var entry = Level(depth + 1);
                    WriteTag(entry, 1, LengthDelimited);
                    WriteBytes(entry, Encoding.UTF8.GetBytes(reader.GetString()!));
                    reader.Read();
                    WriteValue(ref reader, valueField, entry, depth + 1);
                    WriteTag(output, field.FieldNumber, LengthDelimited);
                    WriteBytes(output, entry.WrittenSpan);
                }
            }
            else if (field.IsRepeated)
            {
                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                {
                    WriteValue(ref reader, field, output, depth);
                }
            }
            else
            {
                WriteValue(ref reader, field, output, depth);
            }
        }
    }

    private static void WriteValue(ref Utf8JsonReader reader, FieldDescriptor field, ArrayBufferWriter<byte> output, int depth)
    {
        var number = field.FieldNumber;
        switch (field.FieldType)
        {
            case FieldType.Message:
                var nested = Level(depth + 1);
                WriteMessage(ref reader, field.MessageType, nested, depth + 1);
                WriteTag(output, number, LengthDelimited);
                WriteBytes(output, nested.WrittenSpan);
                break;
            case FieldType.String:
                WriteTag(output, number, LengthDelimited);
                if (reader.ValueIsEscaped || reader.HasValueSequence)
                {
                    WriteBytes(output, Encoding.UTF8.GetBytes(reader.GetString()!));
                }
                else
                {
                    WriteBytes(output, reader.ValueSpan);
                }

                break;
            case FieldType.Bytes:
                WriteTag(output, number, LengthDelimited);
                WriteBytes(output, reader.GetBytesFromBase64());
                break;
            case FieldType.Enum:
                var name = reader.GetString()!;
                var value = field.EnumType.FindValueByName(name)
                    ?? throw new InvalidOperationException($"{field.EnumType.FullName} has no value {name}");
                WriteTag(output, number, Varint);
                WriteVarint(output, (ulong)(long)value.Number);
                break;
            case FieldType.Bool:
                WriteTag(output, number, Varint);
                WriteVarint(output, reader.GetBoolean() ? 1UL : 0UL);
                break;
            case FieldType.Int32:
                WriteTag(output, number, Varint);
                WriteVarint(output, (ulong)(long)reader.GetInt32());
                break;
            case FieldType.Int64:
                WriteTag(output, number, Varint);
                WriteVarint(output, (ulong)reader.GetInt64());
                break;
            case FieldType.UInt32:
                WriteTag(output, number, Varint);
                WriteVarint(output, reader.GetUInt32());
                break;
            case FieldType.UInt64:
                WriteTag(output, number, Varint);
                WriteVarint(output, reader.GetUInt64());
                break;
            case FieldType.SInt32:
                WriteTag(output, number, Varint);
                var s32 = reader.GetInt32();
                WriteVarint(output, (uint)((s32 << 1) ^ (s32 >> 31)));
                break;
            case FieldType.SInt64:
                WriteTag(output, number, Varint);
                var s64 = reader.GetInt64();
                WriteVarint(output, (ulong)((s64 << 1) ^ (s64 >> 63)));
                break;
            case FieldType.Fixed32 or FieldType.SFixed32 or FieldType.Float:
                WriteTag(output, number, Fixed32);
                var bits32 = field.FieldType switch
                {
                    FieldType.Fixed32 => reader.GetUInt32(),
                    FieldType.SFixed32 => (uint)reader.GetInt32(),
                    _ => BitConverter.SingleToUInt32Bits(reader.GetSingle()),
                };
                BinaryPrimitives.WriteUInt32LittleEndian(output.GetSpan(4), bits32);
                output.Advance(4);
                break;
            case FieldType.Fixed64 or FieldType.SFixed64 or FieldType.Double:
                WriteTag(output, number, Fixed64);
                var bits64 = field.FieldType switch
                {
                    FieldType.Fixed64 => reader.GetUInt64(),
                    FieldType.SFixed64 => (ulong)reader.GetInt64(),
                    _ => BitConverter.DoubleToUInt64Bits(reader.GetDouble()),
                };
                BinaryPrimitives.WriteUInt64LittleEndian(output.GetSpan(8), bits64);
                output.Advance(8);
                break;
            default:
                throw new InvalidOperationException($"{field.FullName}: {field.FieldType} fields are not supported");
        }
    }

    private static void WriteTag(ArrayBufferWriter<byte> output, int number, int wireType) =>
        WriteVarint(output, ((ulong)number << 3) | (uint)wireType);

    private static void WriteBytes(ArrayBufferWriter<byte> output, ReadOnlySpan<byte> bytes)
    {
        WriteVarint(output, (ulong)bytes.Length);
        output.Write(bytes);
    }

    private static void WriteVarint(ArrayBufferWriter<byte> output, ulong value)
    {
        var span = output.GetSpan(10);
        var i = 0;
        while (value >= 0x80)
        {
            span[i++] = (byte)(value | 0x80);
            value >>= 7;
        }

        span[i++] = (byte)value;
        output.Advance(i);
    }

    // ---- protobuf -> JSON ----

    /// <summary>Mesos JSON for a protobuf message; malformed input throws <see cref="ProtobufFormatException"/>.</summary>
    public static byte[] ToJson(ReadOnlySpan<byte> bytes, MessageDescriptor descriptor)
    {
        var output = new ArrayBufferWriter<byte>(bytes.Length * 2 + 16);
        using (var writer = new Utf8JsonWriter(output, new JsonWriterOptions { SkipValidation = true }))
        {
            try
            {
                ReadMessage(bytes, descriptor, writer, 0);
            }
            catch (ArgumentException ex)
            {
                // Utf8JsonWriter refuses invalid UTF-8 in a string and non-finite doubles.
                throw new ProtobufFormatException($"Invalid {descriptor.FullName}: {ex.Message}", ex);
            }
        }

        return output.WrittenSpan.ToArray();
    }

    private readonly record struct Entry(FieldDescriptor Field, int WireType, ulong Number, int Start, int Length);

    private static void ReadMessage(ReadOnlySpan<byte> bytes, MessageDescriptor descriptor, Utf8JsonWriter writer, int depth)
    {
        if (depth > MaxDepth)
        {
            throw new ProtobufFormatException($"{descriptor.FullName}: nested deeper than {MaxDepth}");
        }

        // Repeated fields need not be contiguous on the wire, but a JSON array is: collect first, then group.
        var entries = new List<Entry>();
        var position = 0;
        while (position < bytes.Length)
        {
            var tag = ReadVarint(bytes, ref position, descriptor);
            var fieldNumber = (int)(tag >> 3);
            var wireType = (int)(tag & 7);
            if (fieldNumber <= 0)
            {
                throw new ProtobufFormatException($"{descriptor.FullName}: invalid field number {fieldNumber}");
            }

            ulong number = 0;
            int start = 0, length = 0;
            switch (wireType)
            {
                case Varint:
                    number = ReadVarint(bytes, ref position, descriptor);
                    break;
                case Fixed64:
                    Need(bytes, position, 8, descriptor);
                    number = BinaryPrimitives.ReadUInt64LittleEndian(bytes[position..]);
                    position += 8;
                    break;
                case Fixed32:
                    Need(bytes, position, 4, descriptor);
                    number = BinaryPrimitives.ReadUInt32LittleEndian(bytes[position..]);
                    position += 4;
                    break;
                case LengthDelimited:
                    var size = ReadVarint(bytes, ref position, descriptor);
                    if (size > (ulong)(bytes.Length - position))
                    {
                        throw new ProtobufFormatException($"{descriptor.FullName}: truncated field {fieldNumber}");
                    }

                    start = position;
                    length = (int)size;
                    position += length;
                    break;
                default:
                    throw new ProtobufFormatException($"{descriptor.FullName}: unsupported wire type {wireType} for field {fieldNumber}");
            }

            if (descriptor.FindFieldByNumber(fieldNumber) is { } field)
            {
                entries.Add(new Entry(field, wireType, number, start, length));
            }
        }

        writer.WriteStartObject();
        for (var i = 0; i < entries.Count; i++)
        {
            var field = entries[i].Field;
            if (SeenBefore(entries, i))
            {
                continue;
            }

            writer.WritePropertyName(field.Name);
            if (field.IsMap)
            {
                writer.WriteStartObject();
                foreach (var entry in Occurrences(entries, i))
                {
                    WriteMapEntry(bytes.Slice(Expect(entry, LengthDelimited).Start, entry.Length), field.MessageType, writer, depth);
                }

                writer.WriteEndObject();
            }
            else if (field.IsRepeated)
            {
                writer.WriteStartArray();
                foreach (var entry in Occurrences(entries, i))
                {
                    if (entry.WireType == LengthDelimited && IsPackable(field.FieldType))
                    {
                        WritePacked(bytes.Slice(entry.Start, entry.Length), field, writer);
                    }
                    else
                    {
                        WriteValue(bytes, entry, writer, depth);
                    }
                }

                writer.WriteEndArray();
            }
            else
            {
                // A singular field given twice: the last one wins, as protobuf parsers do.
                WriteValue(bytes, entries.FindLast(e => e.Field == field), writer, depth);
            }
        }

        writer.WriteEndObject();
    }

    private static bool SeenBefore(List<Entry> entries, int index)
    {
        for (var k = 0; k < index; k++)
        {
            if (entries[k].Field == entries[index].Field)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The entries of the field at <paramref name="first"/>, in wire order, from there on.</summary>
    private static IEnumerable<Entry> Occurrences(List<Entry> entries, int first)
    {
        var field = entries[first].Field;
        for (var k = first; k < entries.Count; k++)
        {
            if (entries[k].Field == field)
            {
                yield return entries[k];
            }
        }
    }

    private static void WriteMapEntry(ReadOnlySpan<byte> bytes, MessageDescriptor entryType, Utf8JsonWriter writer, int depth)
    {
        // Keys of Mesos's maps are strings; the value is written under that key.
        var position = 0;
        string? key = null;
        Entry? value = null;
        var valueField = entryType.FindFieldByNumber(2);
        while (position < bytes.Length)
        {
            var tag = ReadVarint(bytes, ref position, entryType);
            var wireType = (int)(tag & 7);
            if (wireType != LengthDelimited && wireType != Varint)
            {
                throw new ProtobufFormatException($"{entryType.FullName}: unsupported wire type {wireType}");
            }

            var fieldNumber = (int)(tag >> 3);
            if (wireType == Varint)
            {
                var number = ReadVarint(bytes, ref position, entryType);
                if (fieldNumber == 2)
                {
                    value = new Entry(valueField, Varint, number, 0, 0);
                }

                continue;
            }

            var size = ReadVarint(bytes, ref position, entryType);
            if (size > (ulong)(bytes.Length - position))
            {
                throw new ProtobufFormatException($"{entryType.FullName}: truncated map entry");
            }

            if (fieldNumber == 1)
            {
                key = Utf8(bytes.Slice(position, (int)size), entryType);
            }
            else if (fieldNumber == 2)
            {
                value = new Entry(valueField, LengthDelimited, 0, position, (int)size);
            }

            position += (int)size;
        }

        writer.WritePropertyName(key ?? "");
        if (value is { } v)
        {
            WriteValue(bytes, v, writer, depth);
        }
        else if (valueField.FieldType == FieldType.Message)
        {
            writer.WriteStartObject();
            writer.WriteEndObject();
        }
        else
        {
            writer.WriteNullValue();
        }
    }

    private static void WriteValue(ReadOnlySpan<byte> bytes, Entry entry, Utf8JsonWriter writer, int depth)
    {
        var field = entry.Field;
        switch (field.FieldType)
        {
            case FieldType.Message:
                ReadMessage(bytes.Slice(Expect(entry, LengthDelimited).Start, entry.Length), field.MessageType, writer, depth + 1);
                break;
            case FieldType.String:
                writer.WriteStringValue(Utf8(bytes.Slice(Expect(entry, LengthDelimited).Start, entry.Length), field.ContainingType));
                break;
            case FieldType.Bytes:
                writer.WriteBase64StringValue(bytes.Slice(Expect(entry, LengthDelimited).Start, entry.Length));
                break;
            default:
                WriteScalar(field, entry.WireType, entry.Number, writer);
                break;
        }
    }

    private static void WriteScalar(FieldDescriptor field, int wireType, ulong number, Utf8JsonWriter writer)
    {
        var expected = field.FieldType switch
        {
            FieldType.Double or FieldType.Fixed64 or FieldType.SFixed64 => Fixed64,
            FieldType.Float or FieldType.Fixed32 or FieldType.SFixed32 => Fixed32,
            _ => Varint,
        };
        if (wireType != expected)
        {
            throw new ProtobufFormatException($"{field.FullName}: wire type {wireType} where {field.FieldType} needs {expected}");
        }

        switch (field.FieldType)
        {
            case FieldType.Enum:
                var value = field.EnumType.FindValueByNumber((int)number)
                    ?? throw new ProtobufFormatException($"{field.FullName}: {field.EnumType.FullName} has no value {(int)number}");
                writer.WriteStringValue(value.Name);
                break;
            case FieldType.Bool:
                writer.WriteBooleanValue(number != 0);
                break;
            case FieldType.Int32 or FieldType.SFixed32:
                writer.WriteNumberValue((int)number);
                break;
            case FieldType.Int64 or FieldType.SFixed64:
                writer.WriteNumberValue((long)number);
                break;
            case FieldType.UInt32 or FieldType.Fixed32:
                writer.WriteNumberValue((uint)number);
                break;
            case FieldType.UInt64 or FieldType.Fixed64:
                writer.WriteNumberValue(number);
                break;
            case FieldType.SInt32:
                writer.WriteNumberValue((int)((uint)number >> 1) ^ -(int)((uint)number & 1));
                break;
            case FieldType.SInt64:
                writer.WriteNumberValue((long)(number >> 1) ^ -(long)(number & 1));
                break;
            case FieldType.Double:
                writer.WriteNumberValue(BitConverter.UInt64BitsToDouble(number));
                break;
            case FieldType.Float:
                writer.WriteNumberValue(BitConverter.UInt32BitsToSingle((uint)number));
                break;
            default:
                throw new ProtobufFormatException($"{field.FullName}: {field.FieldType} fields are not supported");
        }
    }

    private static void WritePacked(ReadOnlySpan<byte> bytes, FieldDescriptor field, Utf8JsonWriter writer)
    {
        var position = 0;
        while (position < bytes.Length)
        {
            switch (field.FieldType)
            {
                case FieldType.Double or FieldType.Fixed64 or FieldType.SFixed64:
                    Need(bytes, position, 8, field.ContainingType);
                    WriteScalar(field, Fixed64, BinaryPrimitives.ReadUInt64LittleEndian(bytes[position..]), writer);
                    position += 8;
                    break;
                case FieldType.Float or FieldType.Fixed32 or FieldType.SFixed32:
                    Need(bytes, position, 4, field.ContainingType);
                    WriteScalar(field, Fixed32, BinaryPrimitives.ReadUInt32LittleEndian(bytes[position..]), writer);
                    position += 4;
                    break;
                default:
                    WriteScalar(field, Varint, ReadVarint(bytes, ref position, field.ContainingType), writer);
                    break;
            }
        }
    }

    private static bool IsPackable(FieldType type) =>
        type is not (FieldType.Message or FieldType.String or FieldType.Bytes or FieldType.Group);

    private static Entry Expect(Entry entry, int wireType) =>
        entry.WireType == wireType
            ? entry
            : throw new ProtobufFormatException($"{entry.Field.FullName}: wire type {entry.WireType} where {entry.Field.FieldType} needs {wireType}");

    private static string Utf8(ReadOnlySpan<byte> bytes, MessageDescriptor where)
    {
        try
        {
            return StrictUtf8.GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            throw new ProtobufFormatException($"{where.FullName}: a string field is not valid UTF-8");
        }
    }

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private static void Need(ReadOnlySpan<byte> bytes, int position, int count, MessageDescriptor where)
    {
        if (bytes.Length - position < count)
        {
            throw new ProtobufFormatException($"{where.FullName}: truncated");
        }
    }

    private static ulong ReadVarint(ReadOnlySpan<byte> bytes, ref int position, MessageDescriptor where)
    {
        ulong result = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            if (position >= bytes.Length)
            {
                throw new ProtobufFormatException($"{where.FullName}: truncated varint");
            }

            var b = bytes[position++];
            result |= (ulong)(b & 0x7f) << shift;
            if (b < 0x80)
            {
                return result;
            }
        }

        throw new ProtobufFormatException($"{where.FullName}: malformed varint");
    }
}
