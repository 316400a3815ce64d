using Microsoft.AspNetCore.Http;

namespace Mezzo.Web.Hosting;

/// <summary>
/// Forwards one request to another HTTP server and streams the answer back as it arrives (server-sent events
/// included), so the UI can reach agents and framework APIs through the master's origin.
/// </summary>
public static class HttpForwarder
{
    // Hop-by-hop headers (RFC 9110 §7.6.1) and those Kestrel or HttpClient compute themselves.
    private static readonly HashSet<string> Skipped = new(StringComparer.OrdinalIgnoreCase)
    {
        "Connection", "Keep-Alive", "Proxy-Connection", "Transfer-Encoding", "TE", "Trailer", "Upgrade", "Host", "Content-Length",
    };

    public static async Task ForwardAsync(HttpContext context, HttpClient client, Uri target)
    {
        using var request = new HttpRequestMessage(new HttpMethod(context.Request.Method), target);
        var hasBody = context.Request.ContentLength > 0 || context.Request.Headers.TransferEncoding.Count > 0;
        if (hasBody)
        {
            request.Content = new StreamContent(context.Request.Body);
        }

        foreach (var (name, value) in context.Request.Headers)
        {
            if (Skipped.Contains(name))
            {
                continue;
            }

            if (!request.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)value) && request.Content is not null)
            {
                request.Content.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)value);
            }
        }

        HttpResponseMessage response;
        try
        {
            response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, context.RequestAborted);
        }
        catch (HttpRequestException ex)
        {
            await WriteErrorAsync(context, StatusCodes.Status502BadGateway, $"Cannot reach {target.GetLeftPart(UriPartial.Authority)}: {ex.Message}");
            return;
        }
        catch (TaskCanceledException) when (!context.RequestAborted.IsCancellationRequested)
        {
            await WriteErrorAsync(context, StatusCodes.Status504GatewayTimeout, $"{target.GetLeftPart(UriPartial.Authority)} did not answer in time");
            return;
        }

        using (response)
        {
            context.Response.StatusCode = (int)response.StatusCode;
            foreach (var (name, values) in response.Headers.Concat(response.Content.Headers))
            {
                if (!Skipped.Contains(name))
                {
                    context.Response.Headers[name] = values.ToArray();
                }
            }

            await using var body = await response.Content.ReadAsStreamAsync(context.RequestAborted);
            var buffer = new byte[16 * 1024];
            try
            {
                int read;
                while ((read = await body.ReadAsync(buffer, context.RequestAborted)) > 0)
                {
                    await context.Response.Body.WriteAsync(buffer.AsMemory(0, read), context.RequestAborted);
                    // Flush per chunk: an event stream must reach the browser when it happens, not when a buffer fills.
                    await context.Response.Body.FlushAsync(context.RequestAborted);
                }
            }
            catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
            {
                // The browser went away (page closed, stream replaced): nothing to answer.
            }
        }
    }

    public static Task WriteErrorAsync(HttpContext context, int status, string message)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "text/plain; charset=utf-8";
        return context.Response.WriteAsync(message, context.RequestAborted);
    }
}
