using System.Buffers;
using System.Text;
using System.Text.Json;
using Mezzo.Protocol;
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

    /// <summary>Mesos's media-type negotiation: JSON in, JSON out (protobuf arrives with the operator issue).</summary>
    public static IResult? CheckMediaTypes(HttpRequest request)
    {
        var contentType = MediaType(request.ContentType);
        if (contentType.IsEmpty)
        {
            return Text(StatusCodes.Status415UnsupportedMediaType, "Expecting 'Content-Type' to be present");
        }

        if (contentType.Equals(Protobuf.AsSpan(), StringComparison.OrdinalIgnoreCase))
        {
            return Text(StatusCodes.Status415UnsupportedMediaType, "Content-Type application/x-protobuf is not supported yet; use application/json");
        }

        if (!contentType.Equals(Json.AsSpan(), StringComparison.OrdinalIgnoreCase))
        {
            return Text(StatusCodes.Status415UnsupportedMediaType, $"Expecting 'Content-Type' of {Json} or {Protobuf}");
        }

        var accept = request.Headers.Accept.ToString();
        if (!string.IsNullOrEmpty(accept) && !accept.Contains(Json, StringComparison.OrdinalIgnoreCase)
            && !accept.Contains("*/*", StringComparison.Ordinal) && !accept.Contains("application/*", StringComparison.OrdinalIgnoreCase))
        {
            return Text(StatusCodes.Status406NotAcceptable, $"Expecting 'Accept' to allow '{Json}'");
        }

        return null;
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
