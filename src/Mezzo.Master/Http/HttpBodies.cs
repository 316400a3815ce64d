using System.Buffers;
using System.Text;
using System.Text.Json;
using Mezzo.Protocol;
using Mezzo.Protocol.Protobuf;
using Microsoft.AspNetCore.Http;

namespace Mezzo.Master.Http;

/// <summary>Request-body plumbing shared by the master's POST APIs.</summary>
public static class HttpBodies
{
    public const string Json = "application/json";
    public const string Protobuf = "application/x-protobuf";

    /// <summary>Reads the whole body, refusing more than <paramref name="limit"/> bytes (413) without buffering it.</summary>
    public static async Task<(byte[]? Body, IResult? Error)> ReadAsync(HttpRequest request, long limit)
    {
        if (request.ContentLength > limit)
        {
            return (null, Text(StatusCodes.Status413PayloadTooLarge, $"Request body of {request.ContentLength} bytes exceeds the limit of {limit} bytes"));
        }

        try
        {
            // The usual case: a Content-Length within the limit. One array of exactly that size, no growing buffer
            // to throw away (this runs for every scheduler call and agent UPDATE/PING).
            if (request.ContentLength is { } length)
            {
                var exact = length == 0 ? [] : new byte[length];
                var filled = 0;
                while (filled < exact.Length)
                {
                    var read = await request.Body.ReadAsync(exact.AsMemory(filled), request.HttpContext.RequestAborted);
                    if (read == 0)
                    {
                        break;
                    }

                    filled += read;
                }

                return (filled == exact.Length ? exact : exact[..filled], null);
            }

            var buffer = new ArrayBufferWriter<byte>(4096);
            while (true)
            {
                var memory = buffer.GetMemory(4096);
                var read = await request.Body.ReadAsync(memory, request.HttpContext.RequestAborted);
                if (read == 0)
                {
                    break;
                }

                buffer.Advance(read);
                if (buffer.WrittenCount > limit)
                {
                    return (null, Text(StatusCodes.Status413PayloadTooLarge, $"Request body exceeds the limit of {limit} bytes"));
                }
            }

            return (buffer.WrittenSpan.ToArray(), null);
        }
        catch (BadHttpRequestException ex)
        {
            return (null, Text(ex.StatusCode, ex.Message));
        }
    }

    /// <summary>
    /// Mesos's media-type negotiation (<see cref="ContentNegotiation"/>): 415 for a body that is neither JSON nor
    /// protobuf, 406 for an Accept that allows neither. The outcome is kept on the request for
    /// <see cref="ReadCallAsync"/>, <see cref="Encoded"/> and the RecordIO streams.
    /// </summary>
    public static IResult? CheckMediaTypes(HttpRequest request)
    {
        var negotiated = ContentNegotiation.Negotiate(request.ContentType, request.Headers.Accept.ToString());
        if (negotiated.ErrorStatus is { } status)
        {
            return Text(status, negotiated.Error!);
        }

        request.HttpContext.Items[typeof(Negotiated)] = negotiated;
        return null;
    }

    /// <summary>The encoding the request's answer must use (JSON unless negotiated otherwise).</summary>
    public static WireFormat ResponseFormat(HttpContext context) =>
        context.Items.TryGetValue(typeof(Negotiated), out var value) && value is Negotiated negotiated ? negotiated.Response : WireFormat.Json;

    private static WireFormat RequestFormat(HttpContext context) =>
        context.Items.TryGetValue(typeof(Negotiated), out var value) && value is Negotiated negotiated ? negotiated.Request : WireFormat.Json;

    /// <summary>
    /// Parses a negotiated body as <typeparamref name="T"/>: malformed JSON or protobuf is a 400 naming the message
    /// ("Failed to parse body into Call protobuf: ..." in Mesos's words), nothing acted on.
    /// </summary>
    public static (T? Value, IResult? Error) DecodeCall<T>(HttpContext context, byte[] body, string message)
        where T : class
    {
        var format = RequestFormat(context);
        try
        {
            return (MesosWire.Deserialize<T>(format, body), null);
        }
        catch (JsonException ex)
        {
            return (null, Text(StatusCodes.Status400BadRequest, $"Failed to parse body into {message}: {Describe(ex)}"));
        }
        catch (ProtobufFormatException ex)
        {
            return (null, Text(StatusCodes.Status400BadRequest, $"Failed to parse body into {message} protobuf: {ex.Message}"));
        }
    }

    /// <summary>Reads (413 past <paramref name="limit"/>) and parses a negotiated body, see <see cref="DecodeCall"/>.</summary>
    public static async Task<(T? Value, IResult? Error)> ReadCallAsync<T>(HttpRequest request, long limit, string message)
        where T : class
    {
        var (body, error) = await ReadAsync(request, limit);
        return error is not null ? (null, error) : DecodeCall<T>(request.HttpContext, body!, message);
    }

    /// <summary>A 200 whose body is <paramref name="value"/> in the encoding negotiated for the request.</summary>
    public static IResult Encoded<T>(T value) => new EncodedResult<T>(value);

    private sealed class EncodedResult<T>(T value) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            var format = ResponseFormat(httpContext);
            return Results.Bytes(MesosWire.Serialize(format, value), ContentNegotiation.MediaType(format)).ExecuteAsync(httpContext);
        }
    }

    /// <summary>The media type of a Content-Type header: what precedes any ';', trimmed.</summary>
    private static ReadOnlySpan<char> MediaType(string? header)
    {
        var span = header.AsSpan();
        var semicolon = span.IndexOf(';');
        return (semicolon >= 0 ? span[..semicolon] : span).Trim();
    }

    /// <summary>
    /// A call's answer: on success only the status code, set directly (what <c>Results.StatusCode</c> does, without
    /// its result object and its logger looked up on every call); on failure the error as text.
    /// </summary>
    public static IResult? Answer(HttpContext context, bool success, int status, string? error)
    {
        if (success)
        {
            context.Response.StatusCode = status;
            return null;
        }

        return Text(status, error ?? "");
    }

    /// <summary>Mesos answers errors as text/plain bodies.</summary>
    public static IResult Text(int status, string message) =>
        Results.Text(message, "text/plain; charset=utf-8", Encoding.UTF8, status);

    /// <summary>
    /// Reads the body (413 past <paramref name="limit"/>) and parses it as <typeparamref name="T"/> with Mesos's JSON
    /// mapping; malformed JSON is a 400 "<paramref name="failure"/>: reason (at path)". A JSON null gives no value and no error.
    /// </summary>
    public static async Task<(T? Value, IResult? Error)> ReadJsonAsync<T>(HttpRequest request, long limit, string failure)
        where T : class
    {
        var (body, error) = await ReadAsync(request, limit);
        if (error is not null)
        {
            return (null, error);
        }

        try
        {
            return (MesosJson.Deserialize<T>(body!), null);
        }
        catch (JsonException ex)
        {
            return (null, Text(StatusCodes.Status400BadRequest, $"{failure}: {Describe(ex)}"));
        }
    }

    /// <summary>The parser's reason, with the JSON path of the offending field when the message lacks it.</summary>
    public static string Describe(JsonException ex) =>
        ex.Path is { } path && !ex.Message.Contains("Path:", StringComparison.Ordinal) ? $"{ex.Message} (at '{path}')" : ex.Message;
}
