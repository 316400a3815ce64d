using System.Text.Json;
using Mezzo.Protocol.Protobuf;
using Microsoft.AspNetCore.Http;

namespace Mezzo.Agent.Http;

/// <summary>
/// The agent's POST bodies (operator and executor calls): Mesos's media-type negotiation (415/406), the size limit
/// (413) and parsing, 400 naming the message ("Failed to parse body into Call protobuf: ..."). The negotiated
/// encoding is kept on the request for the answer. A null call means an empty body; the caller says what it expected.
/// </summary>
internal static class CallBodies
{
    public static async Task<(T? Call, (int Status, string Message)? Error)> ReadAsync<T>(HttpRequest request, long maxBytes, string message)
        where T : class
    {
        var negotiated = ContentNegotiation.Negotiate(request.ContentType, request.Headers.Accept.ToString());
        if (negotiated.ErrorStatus is { } status)
        {
            return (null, (status, negotiated.Error!));
        }

        request.HttpContext.Items[typeof(Negotiated)] = negotiated;
        if (request.ContentLength > maxBytes)
        {
            return (null, (413, $"Request body of {request.ContentLength} bytes exceeds the limit of {maxBytes} bytes"));
        }

        try
        {
            using var body = new MemoryStream();
            await request.Body.CopyToAsync(body, request.HttpContext.RequestAborted);
            if (body.Length > maxBytes)
            {
                return (null, (413, $"Request body exceeds the limit of {maxBytes} bytes"));
            }

            return (MesosWire.Deserialize<T>(negotiated.Request, body.ToArray()), null);
        }
        catch (JsonException ex)
        {
            return (null, (400, $"Failed to parse body into {message}: {ex.Message}"));
        }
        catch (ProtobufFormatException ex)
        {
            return (null, (400, $"Failed to parse body into {message} protobuf: {ex.Message}"));
        }
        catch (BadHttpRequestException ex)
        {
            return (null, (ex.StatusCode, ex.Message));
        }
    }
}
