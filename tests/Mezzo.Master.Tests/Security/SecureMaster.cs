using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Mezzo.Core.Security;
using Mezzo.Hosting.Security;
using Mezzo.Protocol.RecordIO;

namespace Mezzo.Master.Tests.Security;

/// <summary>
/// A real master (Kestrel on a free port) with every authentication switch on, four principals and the ACLs the tests
/// need: team-a and team-b may register frameworks for roles a and b; ops may reach every endpoint (get_endpoints ANY)
/// but do only what the ACLs below name; nobody has no ACL at all.
/// </summary>
internal sealed class SecureMaster : IAsyncDisposable
{
    public const string DefaultAcls = """
        {
          "permissive": false,
          "get_endpoints": [ { "principals": { "values": ["ops"] }, "paths": { "type": "ANY" } } ],
          "register_frameworks": [
            { "principals": { "values": ["team-a"] }, "roles": { "values": ["a"] } },
            { "principals": { "values": ["team-b"] }, "roles": { "values": ["b"] } }
          ],
          "teardown_frameworks": [
            { "principals": { "values": ["ops"] }, "framework_principals": { "values": ["team-b"] } },
            { "principals": { "values": ["team-a"] }, "framework_principals": { "values": ["team-a"] } }
          ],
          "update_weights": [ { "principals": { "values": ["ops"] }, "roles": { "values": ["w"] } } ],
          "get_quotas": [ { "principals": { "values": ["ops"] }, "roles": { "values": ["visible"] } } ],
          "update_quotas": [ { "principals": { "values": ["ops"] }, "roles": { "values": ["visible"] } } ],
          "set_log_level": [ { "principals": { "values": ["ops"] }, "level": { "type": "ANY" } } ]
        }
        """;

    private readonly List<IDisposable> _disposables = [];

    private SecureMaster(MasterServer server) => Server = server;

    public MasterServer Server { get; }

    public Uri Url => Server.Url;

    public static async Task<SecureMaster> StartAsync(string acls = DefaultAcls, Action<SecurityOptions>? configure = null)
    {
        var security = new SecurityOptions
        {
            Credentials = [new("ops", "ops-secret"), new("team-a", "a-secret"), new("team-b", "b-secret"), new("nobody", "n-secret")],
            AuthenticateFrameworks = true,
            AuthenticateAgents = true,
            AuthenticateHttpReadonly = true,
            AuthenticateHttpReadwrite = true,
            Acls = Acls.Parse(acls),
        };
        configure?.Invoke(security);
        var dir = Directory.CreateTempSubdirectory("mezzo-master-security-").FullName;
        var server = MasterServer.Create(new MasterOptions
        {
            Port = 0,
            Ip = "127.0.0.1",
            Hostname = "127.0.0.1",
            WorkDir = dir,
            Security = security,
            RateLimit = new Hosting.Limits.ClientRateLimitOptions { PermitsPerSecond = 0, Burst = 0 },
        });
        var master = new SecureMaster(server);
        master._disposables.Add(new DirectoryCleanup(dir));
        await server.StartAsync(TestContext.Current.CancellationToken);
        return master;
    }

    public static AuthenticationHeaderValue Basic(string principal, string secret) =>
        new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{principal}:{secret}")));

    public static AuthenticationHeaderValue As(string principal) => principal switch
    {
        "ops" => Basic("ops", "ops-secret"),
        "team-a" => Basic("team-a", "a-secret"),
        "team-b" => Basic("team-b", "b-secret"),
        "nobody" => Basic("nobody", "n-secret"),
        _ => throw new ArgumentOutOfRangeException(nameof(principal)),
    };

    public HttpClient Client()
    {
        var client = new HttpClient { BaseAddress = Url, Timeout = TimeSpan.FromSeconds(30) };
        _disposables.Add(client);
        return client;
    }

    public async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, AuthenticationHeaderValue? authorization, HttpContent? content = null)
    {
        using var request = new HttpRequestMessage(method, path) { Content = content };
        request.Headers.Authorization = authorization;
        return await Client().SendAsync(request, TestContext.Current.CancellationToken);
    }

    public Task<HttpResponseMessage> OperatorAsync(string principal, JsonObject call) =>
        SendAsync(HttpMethod.Post, "/api/v1", As(principal), Json(call));

    public static StringContent Json(JsonNode node) => new(node.ToJsonString(), Encoding.UTF8, "application/json");

    /// <summary>A scheduler subscription held open: its stream id and first event.</summary>
    public sealed record Subscription(HttpResponseMessage Response, RecordIOReader Reader, string? StreamId, JsonObject FirstEvent) : IDisposable
    {
        public string? FrameworkId => (string?)FirstEvent["subscribed"]?["framework_id"]?["value"];

        public void Dispose() => Response.Dispose();
    }

    public static JsonObject FrameworkInfo(string? principal, params string[] roles) => new()
    {
        ["user"] = "nobody",
        ["name"] = "secure-test",
        ["principal"] = principal,
        ["roles"] = new JsonArray([.. roles.Select(r => (JsonNode)JsonValue.Create(r))]),
        ["capabilities"] = new JsonArray(new JsonObject { ["type"] = "MULTI_ROLE" }),
    };

    /// <summary>POSTs SUBSCRIBE as <paramref name="authorization"/>; on 200, reads the first event.</summary>
    public async Task<(HttpResponseMessage Response, Subscription? Subscription)> SubscribeAsync(AuthenticationHeaderValue? authorization, JsonObject frameworkInfo)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/scheduler")
        {
            Content = Json(new JsonObject { ["type"] = "SUBSCRIBE", ["subscribe"] = new JsonObject { ["framework_info"] = frameworkInfo } }),
        };
        request.Headers.Authorization = authorization;
        var response = await Client().SendAsync(request, HttpCompletionOption.ResponseHeadersRead, TestContext.Current.CancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            return (response, null);
        }

        var reader = new RecordIOReader(await response.Content.ReadAsStreamAsync(TestContext.Current.CancellationToken));
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(20));
        var first = await reader.ReadAsync(timeout.Token) ?? throw new InvalidOperationException("The subscription stream ended before its first event");
        var subscription = new Subscription(response, reader, response.Headers.TryGetValues("Mesos-Stream-Id", out var ids) ? ids.First() : null,
            JsonNode.Parse(first)!.AsObject());
        _disposables.Add(subscription);
        return (response, subscription);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var disposable in Enumerable.Reverse(_disposables).Where(d => d is not DirectoryCleanup))
        {
            disposable.Dispose();
        }

        await Server.DisposeAsync();
        foreach (var cleanup in _disposables.OfType<DirectoryCleanup>())
        {
            cleanup.Dispose();
        }
    }

    private sealed class DirectoryCleanup(string path) : IDisposable
    {
        public void Dispose()
        {
            if (Directory.Exists(path))
            {
                Directory.Delete(path, recursive: true);
            }
        }
    }
}
