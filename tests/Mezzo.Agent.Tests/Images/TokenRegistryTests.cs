using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using AwesomeAssertions;
using Mezzo.Agent.Images;

namespace Mezzo.Agent.Tests.Images;

/// <summary>
/// The real registry with distribution's token auth switched on: it answers 401 with a Bearer challenge and accepts only
/// JWTs signed by the certificate in its rootcertbundle. The tests run the token issuer (an HttpListener signing ES256
/// JWTs with that certificate), as an operator's auth server would.
/// </summary>
public sealed class TokenRegistryFixture : RegistryFixture
{
    public const string Service = "mezzo-test-registry";
    private const string Issuer = "mezzo-test-issuer";

    private readonly ECDsa _key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private readonly HttpListener _listener = new();
    private X509Certificate2 _certificate = null!;
    private int _tokenPort;

    public ConcurrentQueue<(string Query, string? Authorization)> TokenRequests { get; } = new();

    /// <summary>When set, the issuer wants exactly this Basic credential (base64 user:pass).</summary>
    public string? RequiredBasic { get; set; }

    protected override string ExtraConfig => $"""
        auth:
          token:
            realm: http://127.0.0.1:{_tokenPort}/token
            service: {Service}
            issuer: {Issuer}
            rootcertbundle: {Path.Join(Dir, "token.pem")}
        """;

    public override async ValueTask InitializeAsync()
    {
        var request = new CertificateRequest("CN=mezzo-test-token-issuer", _key, HashAlgorithmName.SHA256);
        _certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        await File.WriteAllTextAsync(Path.Join(Dir, "token.pem"), _certificate.ExportCertificatePem());
        _tokenPort = FreePort();
        _listener.Prefixes.Add($"http://127.0.0.1:{_tokenPort}/");
        _listener.Start();
        _ = Task.Run(ServeTokensAsync);
        await base.InitializeAsync();
    }

    public override async ValueTask DisposeAsync()
    {
        _listener.Close();
        _certificate.Dispose();
        _key.Dispose();
        await base.DisposeAsync();
    }

    /// <summary>A signed token granting <paramref name="actions"/> on <paramref name="repository"/>.</summary>
    public string Token(string repository, params string[] actions)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var header = new JsonObject { ["typ"] = "JWT", ["alg"] = "ES256", ["x5c"] = new JsonArray(Convert.ToBase64String(_certificate.RawData)) };
        var claims = new JsonObject
        {
            ["iss"] = Issuer,
            ["sub"] = "tester",
            ["aud"] = Service,
            ["iat"] = now - 10,
            ["nbf"] = now - 10,
            ["exp"] = now + 300,
            ["jti"] = Guid.NewGuid().ToString("N"),
            ["access"] = new JsonArray(new JsonObject
            {
                ["type"] = "repository",
                ["name"] = repository,
                ["actions"] = new JsonArray([.. actions.Select(a => (JsonNode)a)]),
            }),
        };
        var signingInput = Base64Url(Encoding.UTF8.GetBytes(header.ToJsonString())) + "." + Base64Url(Encoding.UTF8.GetBytes(claims.ToJsonString()));
        var signature = _key.SignData(Encoding.ASCII.GetBytes(signingInput), HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        return signingInput + "." + Base64Url(signature);
    }

    private static string Base64Url(byte[] data) => Convert.ToBase64String(data).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private async Task ServeTokensAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            using var response = context.Response;
            var authorization = context.Request.Headers["Authorization"];
            TokenRequests.Enqueue((context.Request.Url!.Query, authorization));
            if (RequiredBasic is not null && authorization != "Basic " + RequiredBasic)
            {
                response.StatusCode = 401;
                continue;
            }

            // scope=repository:<name>:<actions>; grant what is asked.
            var scope = context.Request.QueryString["scope"] ?? "";
            var parts = scope.Split(':');
            var token = parts.Length == 3 && context.Request.QueryString["service"] == Service ? Token(parts[1], parts[2].Split(',')) : "";
            var body = Encoding.UTF8.GetBytes(new JsonObject { ["token"] = token, ["expires_in"] = 300 }.ToJsonString());
            response.ContentType = "application/json";
            await response.OutputStream.WriteAsync(body);
        }
    }
}

public sealed class TokenRegistryTests(TokenRegistryFixture registry) : StoreHarness, IClassFixture<TokenRegistryFixture>
{
    private async Task<(string Repo, TestImage Image)> PushAsync()
    {
        registry.SkipIfMissing();
        var repo = "auth-" + Guid.NewGuid().ToString("N")[..8];
        var image = TestImage.Create([LayerBuilder.Busybox()], cmd: ["/bin/busybox", "true"]);
        using var http = new HttpClient();
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", registry.Token(repo, "pull", "push"));
        await RegistryPush.PushAsync(http, registry.Uri, repo, "1", image);
        return (repo, image);
    }

    [Fact]
    public async Task Pulls_with_an_anonymous_bearer_token_fetched_once_per_repository()
    {
        var (repo, image) = await PushAsync();
        using (var anonymous = new HttpClient())
        {
            (await anonymous.GetAsync(new Uri(registry.Uri, $"/v2/{repo}/manifests/1"), TestContext.Current.CancellationToken)).StatusCode
                .Should().Be(HttpStatusCode.Unauthorized, "the registry really enforces tokens");
        }

        var handler = new CountingHandler();
        using var store = Store(registry: registry.Uri.ToString(), handler: handler);
        var before = registry.TokenRequests.Count;

        var provisioned = await store.ProvisionAsync(new ImageSpec($"{repo}:1"), "c1", TestContext.Current.CancellationToken);

        provisioned.Digest.Should().Be(image.ManifestDigest);
        File.Exists(Path.Join(provisioned.RootfsPath, "bin", "busybox")).Should().BeTrue();
        var tokenRequests = registry.TokenRequests.Skip(before).ToList();
        tokenRequests.Should().ContainSingle("the token is cached for the manifest, config and layer requests");
        tokenRequests[0].Query.Should().Contain($"service={TokenRegistryFixture.Service}").And.Contain(Uri.EscapeDataString($"repository:{repo}:pull"));
        tokenRequests[0].Authorization.Should().BeNull();
    }

    [Fact]
    public async Task Docker_config_credentials_go_to_the_token_server_and_wrong_ones_fail_clearly()
    {
        var (repo, _) = await PushAsync();
        var basic = Convert.ToBase64String(Encoding.UTF8.GetBytes("alice:secret"));
        var config = TempPath("config.json");
        await File.WriteAllTextAsync(config, new JsonObject { ["auths"] = new JsonObject { [registry.Uri.Authority] = new JsonObject { ["auth"] = basic } } }.ToJsonString(), TestContext.Current.CancellationToken);
        var wrongConfig = TempPath("wrong.json");
        await File.WriteAllTextAsync(wrongConfig, new JsonObject { ["auths"] = new JsonObject { ["http://" + registry.Uri.Authority] = new JsonObject { ["username"] = "alice", ["password"] = "nope" } } }.ToJsonString(), TestContext.Current.CancellationToken);
        registry.RequiredBasic = basic;
        try
        {
            using var store = Store(registry: registry.Uri.ToString(), dockerConfig: config);
            var provisioned = await store.ProvisionAsync(new ImageSpec($"{repo}:1"), "c1", TestContext.Current.CancellationToken);
            File.Exists(Path.Join(provisioned.RootfsPath, "bin", "busybox")).Should().BeTrue();

            using var wrong = Store(registry: registry.Uri.ToString(), dockerConfig: wrongConfig);
            var error = await FluentActions.Awaiting(() => wrong.ProvisionAsync(new ImageSpec($"{repo}:1", Cached: false), "c2", TestContext.Current.CancellationToken))
                .Should().ThrowAsync<ImageException>();
            error.Which.Message.Should().StartWith($"Failed to pull image '{repo}:1': token from http://127.0.0.1:").And.Contain("HTTP 401");
        }
        finally
        {
            registry.RequiredBasic = null;
        }
    }
}
