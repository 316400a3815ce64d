using System.Text.Json;
using System.Text.Json.Serialization;

namespace Mezzo.Protocol.Json;

/// <summary>
/// Protobuf <c>bytes</c> fields (<c>uuid</c>, <c>data</c>) as Mesos's JSON carries them: standard base64. Written padded,
/// as Mesos writes them. Read like Mesos's <c>base64::decode</c> (stout), which schedulers are written against: the
/// '=' padding may be missing and whitespace is skipped, so the unpadded <c>uuid</c> of docs/scheduler-http-api.md's
/// ACKNOWLEDGE example is accepted. Characters outside the alphabet, or a length no encoder produces, are a
/// <see cref="JsonException"/>.
/// </summary>
public sealed class Base64BytesConverter : JsonConverter<byte[]>
{
    public override byte[] Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.String)
        {
            throw new JsonException($"Expected a base64 string for a bytes field, got {reader.TokenType}");
        }

        // Fast path for the common case (an ACKNOWLEDGE's 16-byte uuid): decode the UTF-8 value in place, no string
        // and no scratch arrays. Anything unusual (escapes, a character outside the alphabet, a bad length) takes the
        // path below, which decides and words the error exactly as before.
        if (!reader.HasValueSequence && !reader.ValueIsEscaped && reader.ValueSpan.Length <= 512
            && TryDecodeUtf8(reader.ValueSpan, out var decoded))
        {
            return decoded;
        }

        var text = reader.GetString()!;
        var chars = new char[text.Length + 3];
        var count = 0;
        var padding = false;
        foreach (var c in text)
        {
            if (c is ' ' or '\t' or '\n' or '\v' or '\f' or '\r')
            {
                continue;
            }

            if (c == '=')
            {
                padding = true;
                continue;
            }

            if (padding || !(char.IsAsciiLetterOrDigit(c) || c is '+' or '/'))
            {
                throw new JsonException($"Invalid base64 in a bytes field: unexpected '{c}'");
            }

            chars[count++] = c;
        }

        if (count % 4 == 1)
        {
            throw new JsonException("Invalid base64 in a bytes field: truncated");
        }

        while (count % 4 != 0)
        {
            chars[count++] = '=';
        }

        var bytes = new byte[count / 4 * 3];
        return Convert.TryFromBase64Chars(chars.AsSpan(0, count), bytes, out var written)
            ? bytes[..written]
            : throw new JsonException("Invalid base64 in a bytes field");
    }

    private static bool TryDecodeUtf8(ReadOnlySpan<byte> value, out byte[] decoded)
    {
        decoded = [];
        Span<byte> chars = stackalloc byte[value.Length + 3];
        var count = 0;
        var padding = false;
        foreach (var c in value)
        {
            if (c is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\v' or (byte)'\f' or (byte)'\r')
            {
                continue;
            }

            if (c == (byte)'=')
            {
                padding = true;
                continue;
            }

            if (padding || !(char.IsAsciiLetterOrDigit((char)c) || c is (byte)'+' or (byte)'/'))
            {
                return false;
            }

            chars[count++] = c;
        }

        if (count % 4 == 1)
        {
            return false;
        }

        while (count % 4 != 0)
        {
            chars[count++] = (byte)'=';
        }

        Span<byte> bytes = stackalloc byte[count / 4 * 3];
        if (System.Buffers.Text.Base64.DecodeFromUtf8(chars[..count], bytes, out _, out var written) != System.Buffers.OperationStatus.Done)
        {
            return false;
        }

        decoded = bytes[..written].ToArray();
        return true;
    }

    public override void Write(Utf8JsonWriter writer, byte[] value, JsonSerializerOptions options) =>
        writer.WriteBase64StringValue(value);
}
