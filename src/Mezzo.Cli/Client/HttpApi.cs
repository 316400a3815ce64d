using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Mezzo.Cli.Client;

/// <summary>
/// The HTTP side of a client verb: tries each configured base URL until one answers, follows a standby master's
/// <c>307 Temporary Redirect</c> to the leader (and sticks to it), and turns failures into <see cref="CliException"/>s
/// with the exit code scripts rely on: an error status is <see cref="ExitCodes.Refused"/>, no answer at all
/// <see cref="ExitCodes.Unreachable"/>. With a credential, every request carries <c>Authorization: Basic</c>, also
/// after a redirect, but only to the hosts the user named (a redirect elsewhere, or from https down to http, goes
/// without it, so a rogue or misconfigured standby cannot collect the secret).
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

    /// <summary>The URLs the user named, whose hosts may see the credential.</summary>
    private readonly IReadOnlyList<Uri> _trusted;

    /// <param name="tls">The trust for https:// URLs; null: <see cref="ClientTls.Resolve"/> (MEZZO_TLS_CA, else the machine's).</param>
    public HttpApi(ClientConfig.Endpoint endpoint, string what, TimeSpan? timeout = null, ClientCredentials.Resolved? credential = null, Hosting.Tls.TlsContext? tls = null)
        : this(endpoint, what, timeout, credential, null, tls)
    {
    }

    private HttpApi(ClientConfig.Endpoint endpoint, string what, TimeSpan? timeout, ClientCredentials.Resolved? credential, IReadOnlyList<Uri>? trusted, Hosting.Tls.TlsContext? tls)
    {
        _endpoint = endpoint;
        _what = what;
        _candidates = ClientConfig.BaseUris(endpoint);
        _trusted = trusted ?? _candidates;
        Credential = credential;
        BaseUri = _candidates[0];
        // Redirects are followed here, not by the handler: a standby's Location is scheme-relative and names only the
        // leader, and the verbs should keep talking to the leader once found.
        Tls = tls ?? ClientTls.Resolve();
        _http = new HttpClient(Tls.ConfigureClient(new SocketsHttpHandler { AllowAutoRedirect = false, ConnectTimeout = TimeSpan.FromSeconds(5) }))
        {
            Timeout = timeout ?? TimeSpan.FromSeconds(30),
        };
    }

    /// <summary>Who the requests log in as; null sends no <c>Authorization</c>.</summary>
    public ClientCredentials.Resolved? Credential { get; }

    public Hosting.Tls.TlsContext Tls { get; }

    /// <summary>
    /// Another API of the same cluster (e.g. the leader a standby named) with the same credential, sent only to the
    /// hosts this one trusts, and the same TLS trust.
    /// </summary>
    public HttpApi Sibling(ClientConfig.Endpoint endpoint, string what) => new(endpoint, what, _http.Timeout, Credential, _trusted, Tls);

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

            if (Credential is { } credential && MaySee(request.RequestUri!))
            {
                var basic = credential.Credential.BasicParameter();
                request.Headers.Authorization = new AuthenticationHeaderValue("Basic", basic);
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

    /// <summary>Whether <paramref name="target"/> is on a host the user named, reached without a downgrade to http.</summary>
    private bool MaySee(Uri target) =>
        _trusted.Any(named => string.Equals(named.IdnHost, target.IdnHost, StringComparison.OrdinalIgnoreCase)
            && (named.Scheme == target.Scheme || target.Scheme == Uri.UriSchemeHttps));

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

        var call = $"{response.RequestMessage?.Method} {response.RequestMessage?.RequestUri}";
        if (response.StatusCode == HttpStatusCode.Unauthorized)
        {
            var sent = response.RequestMessage?.Headers.Authorization is not null;
            var who = sent ? $"the {_what} refused {Credential}"
                : Credential is null ? $"the {_what} requires credentials and none were given"
                : $"{Credential} was not sent to {response.RequestMessage?.RequestUri?.Authority}, a host other than the one configured";
            return new CliException(ExitCodes.Refused,
                $"authentication failed: {who}{(message.Length > 0 ? ": " + message : "")} ({call}; {ClientCredentials.Hint})");
        }

        if (response.StatusCode == HttpStatusCode.Forbidden)
        {
            var who = Credential is null ? "an unauthenticated caller" : Credential.ToString();
            return new CliException(ExitCodes.Refused,
                $"403 Forbidden for {who}{(message.Length > 0 ? ": " + message : "")} ({call})");
        }

        return new CliException(ExitCodes.Refused,
            $"{(int)response.StatusCode} {response.ReasonPhrase}{(message.Length > 0 ? ": " + message : "")} ({response.RequestMessage?.Method} {response.RequestMessage?.RequestUri})");
    }

    public void Dispose() => _http.Dispose();
}
