using System.Globalization;

namespace Mezzo.Protocol.Protobuf;

/// <summary>The two encodings of Mesos's v1 HTTP APIs.</summary>
public enum WireFormat
{
    Json,
    Protobuf,
}

/// <summary>What a request carries and what its answer must be in; an error is Mesos's status and text.</summary>
public readonly record struct Negotiated(WireFormat Request, WireFormat Response, int? ErrorStatus, string? Error);

/// <summary>
/// Mesos's choice of encoding for the scheduler, executor and operator APIs (src/master/http.cpp, src/slave/http.cpp):
/// the body's Content-Type must be application/json or application/x-protobuf (else 415); the answer is JSON if the
/// Accept header allows it (no header allows everything), else protobuf if allowed, else 406. Streams (SUBSCRIBE) are
/// RecordIO-framed records in the same negotiated type; Message-Accept/Message-Content-Type only apply to the
/// agent's streaming container calls (application/recordio), which Mezzo does not serve.
/// </summary>
public static class ContentNegotiation
{
    public const string Json = "application/json";

    public const string Protobuf = MesosProtobuf.MediaType;

    public static string MediaType(WireFormat format) => format == WireFormat.Protobuf ? Protobuf : Json;

    public static Negotiated Negotiate(string? contentType, string? accept)
    {
        var type = BaseType(contentType);
        WireFormat request;
        if (type.Length == 0)
        {
            return new(default, default, 415, "Expecting 'Content-Type' to be present");
        }

        if (type.Equals(Json, StringComparison.OrdinalIgnoreCase))
        {
            request = WireFormat.Json;
        }
        else if (type.Equals(Protobuf, StringComparison.OrdinalIgnoreCase))
        {
            request = WireFormat.Protobuf;
        }
        else
        {
            return new(default, default, 415, $"Expecting 'Content-Type' of {Json} or {Protobuf}");
        }

        if (Accepts(accept, Json))
        {
            return new(request, WireFormat.Json, null, null);
        }

        return Accepts(accept, Protobuf)
            ? new(request, WireFormat.Protobuf, null, null)
            : new(request, default, 406, $"Expecting 'Accept' to allow '{Protobuf}' or '{Json}'");
    }

    /// <summary>
    /// Whether an Accept header allows <paramref name="mediaType"/>: no header allows all; otherwise an entry equal to
    /// it, its <c>type/*</c> or <c>*/*</c>, the most specific one deciding, whose q is not 0
    /// (process::http::Request::acceptsMediaType).
    /// </summary>
    public static bool Accepts(string? accept, string mediaType)
    {
        if (string.IsNullOrWhiteSpace(accept))
        {
            return true;
        }

        var slash = mediaType.IndexOf('/', StringComparison.Ordinal);
        var wildcard = string.Concat(mediaType.AsSpan(0, slash + 1), "*");

        // RFC 7231 5.3.2: the most specific range that matches decides ("application/json;q=0, */*" refuses JSON).
        var best = -1;
        var bestQ = 0.0;
        foreach (var entry in accept.Split(','))
        {
            var parts = entry.Split(';');
            var range = parts[0].Trim();
            var specificity = range.Equals(mediaType, StringComparison.OrdinalIgnoreCase) ? 2
                : range.Equals(wildcard, StringComparison.OrdinalIgnoreCase) ? 1
                : range == "*/*" ? 0
                : -1;
            if (specificity <= best)
            {
                continue;
            }

            var q = 1.0;
            foreach (var parameter in parts.Skip(1))
            {
                var kv = parameter.Split('=', 2);
                if (kv.Length == 2 && kv[0].Trim().Equals("q", StringComparison.OrdinalIgnoreCase)
                    && !double.TryParse(kv[1].Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out q))
                {
                    q = 0;
                }
            }

            best = specificity;
            bestQ = q;
        }

        return best >= 0 && bestQ > 0;
    }

    private static ReadOnlySpan<char> BaseType(string? header)
    {
        var span = header.AsSpan();
        var semicolon = span.IndexOf(';');
        return (semicolon >= 0 ? span[..semicolon] : span).Trim();
    }
}

/// <summary>One entry point for both encodings of a wire POCO.</summary>
public static class MesosWire
{
    /// <summary>Parses a body; malformed input throws <see cref="System.Text.Json.JsonException"/> (JSON) or <see cref="ProtobufFormatException"/>.</summary>
    public static T? Deserialize<T>(WireFormat format, ReadOnlySpan<byte> body) =>
        format == WireFormat.Protobuf ? MesosProtobuf.Deserialize<T>(body) : MesosJson.Deserialize<T>(body);

    public static byte[] Serialize<T>(WireFormat format, T value) =>
        format == WireFormat.Protobuf ? MesosProtobuf.Serialize(value) : MesosJson.SerializeToUtf8Bytes(value);
}
