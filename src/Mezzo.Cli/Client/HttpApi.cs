using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Mezzo.Cli.Client;

/// <summary>
/// The HTTP side of a client verb: tries each configured base URL until one answers, follows a standby master's
/// <c>307 Temporary Redirect</c> to the leader (and sticks to it), and turns failures into <see cref="CliException"/>s
/// with the exit code scripts rely on: an error status is <see cref="ExitCodes.Refused"/>, no answer at all
/// <see cref="ExitCodes.Unreachable"/>.
/// </summary>
public sealed class HttpApi : IDisposable
{
    private const int MaxRedirects = 5;

    private readonly HttpClient _http;
    private readonly IReadOnlyList<Uri> _candidates;
    private readonly ClientConfig.Endpoint _endpoint;
    private readonly string _what;

    /// <summary>The base URL that answered (the leader, after a redirect); later calls go straight there.</summary>
    private Uri? _answered;

    /// <param name="tls">The trust for https:// URLs; null: <see cref="ClientTls.Resolve"/> (MEZZO_TLS_CA, else the machine's).</param>
    public HttpApi(ClientConfig.Endpoint endpoint, string what, TimeSpan? timeout = null, Hosting.Tls.TlsContext? tls = null)
    {
        _endpoint = endpoint;
        _what = what;
        _candidates = ClientConfig.BaseUris(endpoint);
        BaseUri = _candidates[0];
        // Redirects are followed here, not by the handler: a standby's Location is scheme-relative and names only the
        // leader, and the verbs should keep talking to the leader once found.
        Tls = tls ?? ClientTls.Resolve();
        _http = new HttpClient(Tls.ConfigureClient(new SocketsHttpHandler { AllowAutoRedirect = false, ConnectTimeout = TimeSpan.FromSeconds(5) }))
        {
            Timeout = timeout ?? TimeSpan.FromSeconds(30),
        };
    }

    public Hosting.Tls.TlsContext Tls { get; }

    /// <summary>The base URL that answered last (the leader, after a redirect); the first candidate before any call.</summary>
    public Uri BaseUri { get; private set; }

    public Task<JsonNode?> GetJsonAsync(string path, CancellationToken token) => JsonAsync(HttpMethod.Get, path, null, token);

    public async Task<JsonNode?> JsonAsync(HttpMethod method, string path, string? json, CancellationToken token)
    {
        using var response = await SendAsync(method, path, json, token);
        var text = await response.Content.ReadAsStringAsync(token);
        if (!response.IsSuccessStatusCode)
        {
            throw Refusal(response, text);
        }

        try
        {
            return text.Length == 0 ? null : JsonNode.Parse(text);
        }
        catch (JsonException ex)
        {
            throw new CliException(ExitCodes.Refused, $"The {_what} at {BaseUri} answered {method} {path} with something that is not JSON: {ex.Message}");
        }
    }

    /// <summary>Sends and returns the response whatever its status; only a missing answer throws.</summary>
    public async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string? json, CancellationToken token)
    {
        IReadOnlyList<Uri> bases = _answered is { } known ? [known] : _candidates;
        Exception? last = null;
        foreach (var start in bases)
        {
            try
            {
                return await SendFollowingAsync(start, method, path, json, token);
            }
            catch (HttpRequestException ex)
            {
                last = ex;
            }
            catch (TaskCanceledException ex) when (!token.IsCancellationRequested)
            {
                last = new TimeoutException($"no answer within {_http.Timeout.TotalSeconds}s", ex);
            }
        }

        throw new CliException(ExitCodes.Unreachable,
            $"Cannot reach the {_what} at {string.Join(", ", bases)} (from {_endpoint.Source}): {last?.Message}");
    }

    private async Task<HttpResponseMessage> SendFollowingAsync(Uri start, HttpMethod method, string path, string? json, CancellationToken token)
    {
        var baseUri = start;
        for (var hop = 0; ; hop++)
        {
            BaseUri = baseUri;
            using var request = new HttpRequestMessage(method, new Uri(baseUri, path.TrimStart('/')));
            if (json is not null)
            {
                request.Content = new StringContent(json, Encoding.UTF8, "application/json");
            }

            var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, token);
            if (response.StatusCode is not (HttpStatusCode.TemporaryRedirect or HttpStatusCode.PermanentRedirect or HttpStatusCode.Redirect or HttpStatusCode.MovedPermanently)
                || response.Headers.Location is not { } location)
            {
                _answered = baseUri;
                return response;
            }

            response.Dispose();
            if (hop == MaxRedirects)
            {
                throw new CliException(ExitCodes.Refused, $"The {_what} at {start} redirected more than {MaxRedirects} times (last to {location})");
            }

            // Mesos's standby answers a scheme-relative "//leader:5050/path": resolved against the request, only the
            // leader's scheme and authority are kept; the path is this call's.
            var target = new Uri(request.RequestUri!, location);
            baseUri = new Uri(target.GetLeftPart(UriPartial.Authority) + "/");
        }
    }

    /// <summary>An error answer as one line: status, then the server's reason (Mesos: plain text; Marathon/Chronos: JSON "message").</summary>
    public CliException Refusal(HttpResponseMessage response, string body)
    {
        var message = body.Trim();
        if (message.StartsWith('{'))
        {
            try
            {
                if (JsonNode.Parse(message)?["message"] is JsonValue value && value.TryGetValue<string>(out var text))
                {
                    message = text;
                }
            }
            catch (JsonException)
            {
            }
        }

        return new CliException(ExitCodes.Refused,
            $"{(int)response.StatusCode} {response.ReasonPhrase}{(message.Length > 0 ? ": " + message : "")} ({response.RequestMessage?.Method} {response.RequestMessage?.RequestUri})");
    }

    public void Dispose() => _http.Dispose();
}
