using Microsoft.AspNetCore.Http;

namespace Mezzo.Hosting.HighAvailability;

/// <summary>How a framework's standby forwards API calls to its leader: header names and paths answered by redirect.</summary>
public sealed record LeaderProxyOptions
{
    /// <summary>Added to the forwarded request and its answer with this process's host:port (Marathon's X-Marathon-Via).</summary>
    public required string ViaHeader { get; init; }

    /// <summary>Added to the answer with the leader's URL (Marathon's X-Marathon-Leader), or null for none.</summary>
    public string? LeaderHeader { get; init; }

    /// <summary>Paths (prefixes) answered with a 307 to the leader instead of proxied, e.g. long-lived event streams.</summary>
    public IReadOnlyList<string> RedirectPrefixes { get; init; } = [];

    /// <summary>The process's TLS: the leader is called over HTTPS when this process serves it, trusting the cluster's CA.</summary>
    public Tls.TlsContext Tls { get; init; } = Hosting.Tls.TlsContext.None;
}

/// <summary>
/// A standby's answer to an API call, as Marathon's leader proxy gives it: the request is forwarded to the leader
/// (method, path, query, headers and body) with a via header, and the leader's answer streamed back with the via and
/// leader headers added. A request that already came through this process is a loop (502); with no leader known the
/// answer is 503; a leader that cannot be reached is 502.
/// </summary>
public sealed class LeaderProxy : IDisposable
{
    private static readonly HashSet<string> HopByHop = new(StringComparer.OrdinalIgnoreCase)
    {
        "Host", "Connection", "Keep-Alive", "Transfer-Encoding", "TE", "Trailer", "Upgrade", "Proxy-Connection", "Proxy-Authenticate", "Proxy-Authorization",
    };

    private readonly HttpClient _http;
    private readonly LeaderProxyOptions _options;

    public LeaderProxy(LeaderProxyOptions options)
    {
        _options = options;
        _http = new HttpClient(options.Tls.ConfigureClient(new SocketsHttpHandler { AllowAutoRedirect = false, ConnectTimeout = TimeSpan.FromSeconds(5), UseCookies = false }))
        {
            // Event streams stay open as long as the client keeps them; the caller's abort ends the call.
            Timeout = Timeout.InfiniteTimeSpan,
        };
    }

    /// <summary>
    /// Marathon's "waiting for consistent leadership": while this process does not lead and knows no other leader
    /// (between two terms, or elected a moment ago and still loading), a request is held back and looked at again every
    /// 250 ms, up to ten times, rather than refused at once.
    /// </summary>
    public static async Task WaitForConsistentLeadershipAsync(Func<bool> leading, Func<string?> leader, string self, TimeProvider time, CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < 10 && !leading() && leader() is var known && (known is null || known == self); attempt++)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(250), time, cancellationToken);
        }
    }

    /// <param name="self">This process's host:port as it announces itself.</param>
    /// <param name="leader">The leader's host:port, or null when none is known.</param>
    public async Task ForwardAsync(HttpContext context, string self, string? leader)
    {
        if (context.Request.Headers[_options.ViaHeader].Any(v => v is not null && v.Split(',').Any(part => part.Trim() == self)))
        {
            await PlainAsync(context, StatusCodes.Status502BadGateway, "Detected proxy loop");
            return;
        }

        if (leader is null || leader == self)
        {
            // Between two terms, or elected a moment ago and still loading: nobody to forward to yet.
            await PlainAsync(context, StatusCodes.Status503ServiceUnavailable, "Could not determine the current leader");
            return;
        }

        var target = new Uri($"{_options.Tls.Scheme}://{leader}{context.Request.Path}{context.Request.QueryString}");
        if (_options.RedirectPrefixes.Any(prefix => context.Request.Path.StartsWithSegments(prefix, StringComparison.Ordinal)))
        {
            context.Response.StatusCode = StatusCodes.Status307TemporaryRedirect;
            context.Response.Headers.Location = target.ToString();
            return;
        }

        using var request = new HttpRequestMessage(new HttpMethod(context.Request.Method), target);
        if (context.Request.ContentLength > 0 || context.Request.Headers.ContainsKey("Transfer-Encoding"))
        {
            request.Content = new StreamContent(context.Request.Body);
        }

        foreach (var (name, values) in context.Request.Headers)
        {
            if (HopByHop.Contains(name))
            {
                continue;
            }

            if (!request.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)values))
            {
                request.Content?.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)values);
            }
        }

        request.Headers.TryAddWithoutValidation(_options.ViaHeader, self);
        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, context.RequestAborted);
        }
        catch (HttpRequestException)
        {
            await PlainAsync(context, StatusCodes.Status502BadGateway, "Failed to successfully establish a connection to the leader.");
            return;
        }

        using (response)
        {
            context.Response.StatusCode = (int)response.StatusCode;
            foreach (var (name, values) in response.Headers.Concat(response.Content.Headers))
            {
                if (!HopByHop.Contains(name))
                {
                    context.Response.Headers[name] = values.ToArray();
                }
            }

            context.Response.Headers[_options.ViaHeader] = self;
            if (_options.LeaderHeader is { } header)
            {
                context.Response.Headers[header] = $"{_options.Tls.Scheme}://{leader}";
            }

            await using var body = await response.Content.ReadAsStreamAsync(context.RequestAborted);
            try
            {
                await body.CopyToAsync(context.Response.Body, context.RequestAborted);
            }
            catch (IOException) when (context.RequestAborted.IsCancellationRequested)
            {
                // The client left.
            }
        }
    }

    private static Task PlainAsync(HttpContext context, int status, string message)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "text/plain; charset=utf-8";
        return context.Response.WriteAsync(message, context.RequestAborted);
    }

    public void Dispose() => _http.Dispose();
}
