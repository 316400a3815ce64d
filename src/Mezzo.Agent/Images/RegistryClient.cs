using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace Mezzo.Agent.Images;

/// <summary>
/// Docker Registry HTTP API v2, read side: manifests (Docker v2 schema 2, manifest lists, OCI manifests and indexes)
/// and blobs. Token auth as the distribution spec describes it: a 401 with <c>WWW-Authenticate: Bearer
/// realm=..,service=..,scope=..</c> sends us to the realm for a token (anonymous, or with the Basic credentials
/// <c>--docker-config</c> gives for that registry), which is cached per registry and scope until it expires.
/// </summary>
internal sealed partial class RegistryClient(HttpClient http, TimeProvider time, IReadOnlyDictionary<string, string> basicCredentials, ILogger log)
{
    internal const int MaxManifestBytes = 4 * 1024 * 1024;

    private static readonly string ManifestAccept = string.Join(", ",
        MediaTypes.DockerManifest, MediaTypes.DockerManifestList, MediaTypes.OciManifest, MediaTypes.OciIndex);

    private readonly ConcurrentDictionary<string, (string Header, DateTimeOffset Expires)> _tokens = new(StringComparer.Ordinal);

    /// <summary>Fetches a manifest by tag or digest. Returns its bytes and media type.</summary>
    public async Task<(byte[] Body, string? MediaType)> GetManifestAsync(ImageReference image, string reference, string name, CancellationToken ct)
    {
        var uri = new Uri(image.RegistryUri, $"/v2/{image.Repository}/manifests/{reference}");
        using var response = await SendAsync(image, name, uri, ManifestAccept, ct);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            var why = await ErrorTextAsync(response, ct);
            throw new ImageException($"Failed to pull image '{name}': manifest unknown: '{reference}' not found in repository '{image.Repository}' at {image.Registry}{why}");
        }

        await EnsureSuccessAsync(response, name, $"manifest '{reference}'", ct);
        if (response.Content.Headers.ContentLength > MaxManifestBytes)
        {
            throw new ImageException($"Failed to pull image '{name}': manifest '{reference}' is larger than {MaxManifestBytes} bytes");
        }

        var body = await ReadAsync(response, name, ct);
        return (body, response.Content.Headers.ContentType?.MediaType);
    }

    /// <summary>Opens a blob's content stream; the caller verifies the digest while reading.</summary>
    public async Task<Stream> OpenBlobAsync(ImageReference image, string digest, string name, CancellationToken ct)
    {
        var uri = new Uri(image.RegistryUri, $"/v2/{image.Repository}/blobs/{digest}");
        var response = await SendAsync(image, name, uri, accept: null, ct);
        try
        {
            if (response.StatusCode == HttpStatusCode.NotFound)
            {
                throw new ImageException($"Failed to pull image '{name}': blob {digest} not found in repository '{image.Repository}' at {image.Registry}{await ErrorTextAsync(response, ct)}");
            }

            await EnsureSuccessAsync(response, name, $"blob {digest}", ct);
            return new ResponseStream(await response.Content.ReadAsStreamAsync(ct), response);
        }
        catch
        {
            response.Dispose();
            throw;
        }
    }

    internal static string Describe(HttpRequestException e, Uri uri)
    {
        var authority = $"{uri.Host}:{uri.Port}";
        return e.InnerException switch
        {
            SocketException { SocketErrorCode: SocketError.ConnectionRefused } => $"connection refused to {authority}",
            SocketException { SocketErrorCode: SocketError.HostNotFound or SocketError.TryAgain or SocketError.NoData } => $"cannot resolve host '{uri.Host}'",
            SocketException { SocketErrorCode: SocketError.TimedOut } => $"connection to {authority} timed out",
            SocketException s => $"cannot connect to {authority}: {s.Message}",
            System.Security.Authentication.AuthenticationException a => $"TLS handshake with {authority} failed: {a.Message}",
            _ => $"request to {authority} failed: {e.Message}",
        };
    }

    private async Task<HttpResponseMessage> SendAsync(ImageReference image, string name, Uri uri, string? accept, CancellationToken ct)
    {
        var scope = $"repository:{image.Repository}:pull";
        var tokenKey = image.Registry + " " + scope;
        var authorization = _tokens.TryGetValue(tokenKey, out var cached) && cached.Expires > time.GetUtcNow() ? cached.Header : null;
        var response = await SendOnceAsync(uri, accept, authorization, name, ct);
        if (response.StatusCode != HttpStatusCode.Unauthorized)
        {
            return response;
        }

        var challenge = response.Headers.WwwAuthenticate.FirstOrDefault();
        response.Dispose();
        TimeSpan lifetime;
        (authorization, lifetime) = await AuthorizeAsync(image, name, challenge, scope, ct);

        // Renew a little early so a token never expires between our check and the registry's.
        _tokens[tokenKey] = (authorization, time.GetUtcNow() + lifetime - TimeSpan.FromSeconds(Math.Min(10, lifetime.TotalSeconds / 2)));
        response = await SendOnceAsync(uri, accept, authorization, name, ct);
        if (response.StatusCode == HttpStatusCode.Unauthorized)
        {
            response.Dispose();
            _tokens.TryRemove(tokenKey, out _);
            throw new ImageException($"Failed to pull image '{name}': {image.Registry} refused the credentials for {scope} (401)");
        }

        return response;
    }

    private async Task<HttpResponseMessage> SendOnceAsync(Uri uri, string? accept, string? authorization, string name, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, uri);
        if (accept is not null)
        {
            request.Headers.TryAddWithoutValidation("Accept", accept);
        }

        if (authorization is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", authorization);
        }

        try
        {
            return await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
        }
        catch (HttpRequestException e)
        {
            throw new ImageException($"Failed to pull image '{name}': {Describe(e, uri)}", e);
        }
        catch (TaskCanceledException e) when (!ct.IsCancellationRequested)
        {
            throw new ImageException($"Failed to pull image '{name}': request to {uri.Host}:{uri.Port} timed out", e);
        }
    }

    private async Task<(string Header, TimeSpan Lifetime)> AuthorizeAsync(ImageReference image, string name, AuthenticationHeaderValue? challenge, string scope, CancellationToken ct)
    {
        basicCredentials.TryGetValue(image.Registry, out var basic);
        if (challenge is null)
        {
            throw new ImageException($"Failed to pull image '{name}': {image.Registry} answered 401 without a WWW-Authenticate challenge");
        }

        if (challenge.Scheme.Equals("Basic", StringComparison.OrdinalIgnoreCase))
        {
            return basic is null
                ? throw new ImageException($"Failed to pull image '{name}': {image.Registry} requires Basic credentials and --docker-config has none for it")
                : ("Basic " + basic, TimeSpan.FromHours(1));
        }

        if (!challenge.Scheme.Equals("Bearer", StringComparison.OrdinalIgnoreCase))
        {
            throw new ImageException($"Failed to pull image '{name}': {image.Registry} asks for unsupported auth scheme '{challenge.Scheme}'");
        }

        var parameters = ParseChallenge(challenge.Parameter ?? "");
        if (!parameters.TryGetValue("realm", out var realm) || !Uri.TryCreate(realm, UriKind.Absolute, out var realmUri))
        {
            throw new ImageException($"Failed to pull image '{name}': {image.Registry} sent a Bearer challenge without a valid realm: '{challenge.Parameter}'");
        }

        var query = new StringBuilder();
        if (parameters.TryGetValue("service", out var service))
        {
            query.Append("service=").Append(Uri.EscapeDataString(service));
        }

        query.Append(query.Length > 0 ? "&" : "").Append("scope=").Append(Uri.EscapeDataString(parameters.GetValueOrDefault("scope") ?? scope));
        var tokenUri = new UriBuilder(realmUri) { Query = (realmUri.Query.TrimStart('?') is { Length: > 0 } q ? q + "&" : "") + query }.Uri;
        Log.FetchingToken(log, image.Registry, tokenUri.GetLeftPart(UriPartial.Path));
        using var response = await SendOnceAsync(tokenUri, accept: null, basic is null ? null : "Basic " + basic, name, ct);
        await EnsureSuccessAsync(response, name, $"token from {tokenUri.GetLeftPart(UriPartial.Path)}", ct);
        var body = await ReadAsync(response, name, ct);
        TokenResponse? token;
        try
        {
            token = JsonSerializer.Deserialize(body, ImageJsonContext.Default.TokenResponse);
        }
        catch (JsonException e)
        {
            throw new ImageException($"Failed to pull image '{name}': token server {realmUri.Host} answered with invalid JSON: {e.Message}", e);
        }

        var value = token?.Token ?? token?.AccessToken;
        return string.IsNullOrEmpty(value)
            ? throw new ImageException($"Failed to pull image '{name}': token server {realmUri.Host} answered without a token")
            : ("Bearer " + value, TimeSpan.FromSeconds(token!.ExpiresIn is int seconds and > 0 ? seconds : 60));
    }

    /// <summary>Parses <c>realm="https://auth",service="registry",scope="repository:x:pull"</c>.</summary>
    internal static Dictionary<string, string> ParseChallenge(string parameter)
    {
        var result = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var i = 0;
        while (i < parameter.Length)
        {
            while (i < parameter.Length && (parameter[i] == ',' || char.IsWhiteSpace(parameter[i])))
            {
                i++;
            }

            var eq = parameter.IndexOf('=', i);
            if (eq < 0)
            {
                break;
            }

            var key = parameter[i..eq].Trim();
            i = eq + 1;
            var value = new StringBuilder();
            if (i < parameter.Length && parameter[i] == '"')
            {
                i++;
                while (i < parameter.Length && parameter[i] != '"')
                {
                    if (parameter[i] == '\\' && i + 1 < parameter.Length)
                    {
                        i++;
                    }

                    value.Append(parameter[i++]);
                }

                i++;
            }
            else
            {
                while (i < parameter.Length && parameter[i] != ',')
                {
                    value.Append(parameter[i++]);
                }
            }

            result[key] = value.ToString().Trim();
        }

        return result;
    }

    private static async Task EnsureSuccessAsync(HttpResponseMessage response, string name, string what, CancellationToken ct)
    {
        if (!response.IsSuccessStatusCode)
        {
            var uri = response.RequestMessage?.RequestUri;
            throw new ImageException($"Failed to pull image '{name}': {what} from {uri?.Host}:{uri?.Port}: HTTP {(int)response.StatusCode} {response.ReasonPhrase}{await ErrorTextAsync(response, ct)}");
        }
    }

    private static async Task<string> ErrorTextAsync(HttpResponseMessage response, CancellationToken ct)
    {
        try
        {
            var text = await response.Content.ReadAsStringAsync(ct);
            var errors = JsonSerializer.Deserialize(text, ImageJsonContext.Default.RegistryErrors)?.Errors;
            return errors is { Count: > 0 } ? " (" + string.Join("; ", errors.Select(e => $"{e.Code}: {e.Message}")) + ")" : "";
        }
        catch (Exception e) when (e is JsonException or HttpRequestException or IOException)
        {
            return "";
        }
    }

    private static async Task<byte[]> ReadAsync(HttpResponseMessage response, string name, CancellationToken ct)
    {
        try
        {
            await using var stream = await response.Content.ReadAsStreamAsync(ct);
            using var buffer = new MemoryStream();
            var chunk = new byte[16384];
            int read;
            while ((read = await stream.ReadAsync(chunk, ct)) > 0)
            {
                buffer.Write(chunk, 0, read);
                if (buffer.Length > MaxManifestBytes)
                {
                    throw new ImageException($"Failed to pull image '{name}': response from {response.RequestMessage?.RequestUri} is larger than {MaxManifestBytes} bytes");
                }
            }

            return buffer.ToArray();
        }
        catch (HttpRequestException e)
        {
            throw new ImageException($"Failed to pull image '{name}': {Describe(e, response.RequestMessage!.RequestUri!)}", e);
        }
        catch (IOException e)
        {
            throw new ImageException($"Failed to pull image '{name}': reading from {response.RequestMessage?.RequestUri?.Authority} failed: {e.Message}", e);
        }
    }

    /// <summary>The content stream that also owns (and disposes) its response.</summary>
    private sealed class ResponseStream(Stream inner, HttpResponseMessage response) : Stream
    {
        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            inner.ReadAsync(buffer, cancellationToken);

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            inner.ReadAsync(buffer, offset, count, cancellationToken);

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
                response.Dispose();
            }

            base.Dispose(disposing);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Debug, Message = "Registry {Registry} asks for a token: fetching one from {Realm}")]
        public static partial void FetchingToken(ILogger logger, string registry, string realm);
    }
}
