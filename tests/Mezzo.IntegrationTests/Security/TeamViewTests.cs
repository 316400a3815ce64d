using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using AwesomeAssertions;
using Mezzo.Core.Security;
using Mezzo.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Mezzo.IntegrationTests.Security;

/// <summary>
/// Two teams share a real master and agent: each principal sees its own frameworks and tasks and never the other
/// team's, through /state, /tasks, GET_STATE, GET_TASKS and the operator event stream; the operator sees everything;
/// a task as a user the team may not run as is refused; the framework proxy serves only a framework's viewers.
/// </summary>
public sealed class TeamViewTests
{
    // Team a's frameworks run as daemon, team b's as nobody (users that exist, since the agent really runs the tasks).
    private const string Acls = """
    {
      "permissive": false,
      "get_endpoints": [{"principals": {"type": "ANY"}, "paths": {"type": "ANY"}}],
      "register_frameworks": [{"principals": {"type": "ANY"}, "roles": {"type": "ANY"}}],
      "run_tasks": [
        {"principals": {"values": ["team-a"]}, "users": {"values": ["daemon"]}},
        {"principals": {"values": ["team-b"]}, "users": {"values": ["nobody"]}}
      ],
      "view_frameworks": [
        {"principals": {"values": ["ops"]}, "users": {"type": "ANY"}},
        {"principals": {"values": ["team-a"]}, "users": {"values": ["daemon"]}},
        {"principals": {"values": ["team-b"]}, "users": {"values": ["nobody"]}}
      ],
      "view_tasks": [
        {"principals": {"values": ["ops"]}, "users": {"type": "ANY"}},
        {"principals": {"values": ["team-a"]}, "users": {"values": ["daemon"]}},
        {"principals": {"values": ["team-b"]}, "users": {"values": ["nobody"]}}
      ],
      "view_executors": [{"principals": {"values": ["ops"]}, "users": {"type": "ANY"}}],
      "view_roles": [{"principals": {"type": "ANY"}, "roles": {"type": "ANY"}}],
      "get_quotas": [{"principals": {"type": "ANY"}, "roles": {"type": "ANY"}}]
    }
    """;

    private static readonly string[] Principals = ["team-a", "team-b", "ops"];

    private static string Basic(string principal) =>
        "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{principal}:{principal}-secret"));

    private static Task<InProcessCluster> StartAsync() => InProcessCluster.StartAsync(configureMaster: o =>
    {
        o.Security.Credentials = [.. Principals.Select(p => new Credential(p, $"{p}-secret"))];
        o.Security.Acls = Core.Security.Acls.Parse(Acls);
    });

    private static string FrameworkInfo(string name, string user, string principal, string? webUiUrl = null) => new JsonObject
    {
        ["user"] = user,
        ["name"] = name,
        ["principal"] = principal,
        ["webui_url"] = webUiUrl,
        ["failover_timeout"] = 0,
    }.ToJsonString();

    private static async Task<JsonNode> GetAsync(InProcessCluster cluster, string path, string? principal)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(cluster.MasterUrl, path));
        if (principal is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", Basic(principal));
        }

        using var response = await cluster.Http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        response.StatusCode.Should().Be(HttpStatusCode.OK, body);
        return JsonNode.Parse(body)!;
    }

    private static async Task<JsonNode> CallAsync(InProcessCluster cluster, string type, string principal)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(cluster.MasterUrl, "api/v1"))
        {
            Content = new StringContent($$"""{"type":"{{type}}"}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.TryAddWithoutValidation("Authorization", Basic(principal));
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        using var response = await cluster.Http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        response.StatusCode.Should().Be(HttpStatusCode.OK, body);
        return JsonNode.Parse(body)!;
    }

    private static IEnumerable<string?> Ids(JsonNode? array, Func<JsonNode, JsonNode?> id) =>
        array!.AsArray().Select(item => (string?)id(item!));

    private static string? EventTaskId(JsonObject e) =>
        (string?)e["task_added"]?["task"]?["task_id"]?["value"] ?? (string?)e["task_updated"]?["status"]?["task_id"]?["value"];

    private static string? EventFrameworkId(JsonObject e) =>
        (string?)(e["framework_added"] ?? e["framework_updated"])?["framework"]?["framework_info"]?["id"]?["value"]
        ?? (string?)e["framework_removed"]?["framework_info"]?["id"]?["value"]
        ?? (string?)e["task_updated"]?["framework_id"]?["value"]
        ?? (string?)e["task_added"]?["task"]?["framework_id"]?["value"];

    [Fact]
    public async Task Each_team_sees_only_its_own_frameworks_and_tasks_and_the_operator_sees_all()
    {
        await using var cluster = await StartAsync();
        await using var streamA = await OperatorStream.OpenAsync(cluster.MasterUrl, Basic("team-a"));
        await using var streamOps = await OperatorStream.OpenAsync(cluster.MasterUrl, Basic("ops"));
        streamA.Status.Should().Be(HttpStatusCode.OK);
        await streamA.WaitForAsync(OperatorStream.Is("SUBSCRIBED"), "team a's SUBSCRIBED");

        await using var a = new RawScheduler(cluster.MasterUrl);
        await a.SubscribeAsync(FrameworkInfo("team-a-app", "daemon", "team-a"));
        // Each team refuses the agent for long after its launch, so the rest of it goes to the other team.
        (await a.LaunchAsync(await a.NextOfferAsync(), "a-task", "sleep 60", refuseSeconds: 3600)).Status.Should().Be(HttpStatusCode.Accepted);

        await using var b = new RawScheduler(cluster.MasterUrl);
        await b.SubscribeAsync(FrameworkInfo("team-b-app", "nobody", "team-b"));
        (await b.LaunchAsync(await b.NextOfferAsync(), "b-task", "sleep 60", refuseSeconds: 3600)).Status.Should().Be(HttpStatusCode.Accepted);
        await streamOps.WaitForAsync(e => EventTaskId(e) == "b-task", "the operator's TASK_ADDED of b-task");

        // Events are ordered: once team a sees a task launched after b-task, b-task's events were already filtered.
        (await a.CallAsync($$"""{"framework_id":{"value":"{{a.FrameworkId}}"},"type":"REVIVE"}""")).Status.Should().Be(HttpStatusCode.Accepted);
        (await a.LaunchAsync(await a.NextOfferAsync(), "a-task-2", "sleep 60")).Status.Should().Be(HttpStatusCode.Accepted);
        await streamA.WaitForAsync(e => EventTaskId(e) == "a-task-2", "team a's TASK_ADDED of a-task-2");
        streamA.Events.Should().NotContain(e => EventTaskId(e) == "b-task");
        streamA.Events.Should().NotContain(e => EventFrameworkId(e) == b.FrameworkId);
        streamA.Events.Should().Contain(e => (string?)e["type"] == "FRAMEWORK_ADDED" && EventFrameworkId(e) == a.FrameworkId);
        streamOps.Events.Should().Contain(e => (string?)e["type"] == "FRAMEWORK_ADDED" && EventFrameworkId(e) == b.FrameworkId);

        // /state and /master/state.
        foreach (var path in (string[])["state", "master/state"])
        {
            var stateA = await GetAsync(cluster, path, "team-a");
            Ids(stateA["frameworks"], f => f["id"]).Should().Equal(a.FrameworkId);
            Ids(stateA["frameworks"]![0]!["tasks"], t => t["id"]).Should().BeEquivalentTo(["a-task", "a-task-2"]);
            stateA["slaves"]!.AsArray().Should().HaveCount(1, "agents are visible to every team");
        }

        var stateB = await GetAsync(cluster, "state", "team-b");
        Ids(stateB["frameworks"], f => f["id"]).Should().Equal(b.FrameworkId);
        var stateOps = await GetAsync(cluster, "state", "ops");
        Ids(stateOps["frameworks"], f => f["id"]).Should().BeEquivalentTo([a.FrameworkId, b.FrameworkId]);
        var anonymous = await GetAsync(cluster, "state", null);
        anonymous["frameworks"]!.AsArray().Should().BeEmpty("an unauthenticated caller matches no view ACL and permissive is false");

        // /tasks and /frameworks.
        Ids((await GetAsync(cluster, "tasks", "team-a"))["tasks"], t => t["id"]).Should().BeEquivalentTo(["a-task", "a-task-2"]);
        Ids((await GetAsync(cluster, "master/tasks", "team-b"))["tasks"], t => t["id"]).Should().Equal("b-task");
        Ids((await GetAsync(cluster, "tasks", "ops"))["tasks"], t => t["id"]).Should().BeEquivalentTo(["a-task", "a-task-2", "b-task"]);
        Ids((await GetAsync(cluster, "frameworks", "team-b"))["frameworks"], f => f["id"]).Should().Equal(b.FrameworkId);
        Ids((await GetAsync(cluster, "master/state-summary", "team-a"))["frameworks"], f => f["id"]).Should().Equal(a.FrameworkId);
        Ids((await GetAsync(cluster, "state-summary", "ops"))["frameworks"], f => f["id"]).Should().BeEquivalentTo([a.FrameworkId, b.FrameworkId]);

        // Roles, quota and weights answer JSON for a restricted principal too.
        Ids((await GetAsync(cluster, "roles", "team-a"))["roles"], r => r["name"]).Should().Contain("*");
        (await GetAsync(cluster, "master/quota", "team-b")).Should().BeOfType<JsonObject>();
        (await GetAsync(cluster, "weights", "team-a")).Should().BeOfType<JsonArray>();

        // GET_STATE and GET_TASKS.
        var getStateA = (await CallAsync(cluster, "GET_STATE", "team-a"))["get_state"]!;
        Ids(getStateA["get_frameworks"]!["frameworks"], f => f["framework_info"]!["id"]!["value"]).Should().Equal(a.FrameworkId);
        Ids(getStateA["get_tasks"]!["tasks"], t => t["task_id"]!["value"]).Should().BeEquivalentTo(["a-task", "a-task-2"]);
        getStateA["get_executors"]?["executors"]?.AsArray().Should().BeEmpty("team a has no view_executors ACL");
        var getTasksB = (await CallAsync(cluster, "GET_TASKS", "team-b"))["get_tasks"]!;
        Ids(getTasksB["tasks"], t => t["task_id"]!["value"]).Should().Equal("b-task");
        var getTasksOps = (await CallAsync(cluster, "GET_TASKS", "ops"))["get_tasks"]!;
        Ids(getTasksOps["tasks"], t => t["task_id"]!["value"]).Should().BeEquivalentTo(["a-task", "a-task-2", "b-task"]);
    }

    [Fact]
    public async Task A_task_as_a_user_the_team_may_not_run_as_gets_TASK_ERROR_unauthorized()
    {
        await using var cluster = await StartAsync();
        await using var a = new RawScheduler(cluster.MasterUrl);
        await a.SubscribeAsync(FrameworkInfo("team-a-app", "daemon", "team-a"));
        var offer = await a.NextOfferAsync();
        JsonObject Task(string id, string? user) => new()
        {
            ["name"] = id,
            ["task_id"] = new JsonObject { ["value"] = id },
            ["agent_id"] = new JsonObject { ["value"] = (string?)offer["agent_id"]!["value"] },
            ["resources"] = JsonNode.Parse("""[{"name":"cpus","type":"SCALAR","scalar":{"value":0.1}},{"name":"mem","type":"SCALAR","scalar":{"value":32}}]"""),
            ["command"] = new JsonObject { ["shell"] = true, ["value"] = "sleep 60", ["user"] = user },
        };

        (await a.AcceptAsync(offer, new JsonObject
        {
            ["type"] = "LAUNCH",
            ["launch"] = new JsonObject { ["task_infos"] = new JsonArray(Task("as-root", "root"), Task("as-daemon", null)) },
        })).Status.Should().Be(HttpStatusCode.Accepted);

        var refused = await a.WaitForUpdateAsync("as-root", "TASK_ERROR");
        ((string?)refused["update"]!["status"]!["reason"]).Should().Be("REASON_TASK_UNAUTHORIZED");
        ((string?)refused["update"]!["status"]!["message"]).Should().Contain("'root'");
        var tasks = await GetAsync(cluster, "tasks", "ops");
        Ids(tasks["tasks"], t => t["id"]).Should().Equal(["as-daemon"], "the refused task was never launched");
    }

    [Fact]
    public async Task The_framework_proxy_serves_only_a_frameworks_viewers_and_never_passes_their_credentials_on()
    {
        await using var cluster = await StartAsync(); // the agent is not needed, but costs little
        await using var ui = await EchoServer.StartAsync();
        await using var a = new RawScheduler(cluster.MasterUrl);
        await a.SubscribeAsync(FrameworkInfo("team-a-app", "daemon", "team-a", ui.Url.ToString()));
        await using var b = new RawScheduler(cluster.MasterUrl);
        await b.SubscribeAsync(FrameworkInfo("team-b-app", "nobody", "team-b", "http://169.254.169.254/latest/"));

        async Task<(HttpStatusCode Status, string Body)> ProxyAsync(string frameworkId, string principal)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(cluster.MasterUrl, $"framework-proxy/{frameworkId}/hello"));
            request.Headers.TryAddWithoutValidation("Authorization", Basic(principal));
            request.Headers.TryAddWithoutValidation("Cookie", "session=master-ui");
            using var response = await cluster.Http.SendAsync(request);
            return (response.StatusCode, await response.Content.ReadAsStringAsync());
        }

        (await ProxyAsync(a.FrameworkId!, "team-a")).Should().Be((HttpStatusCode.OK, "path=/hello authorization=none cookie=none"));
        var refused = await ProxyAsync(a.FrameworkId!, "team-b");
        refused.Status.Should().Be(HttpStatusCode.Forbidden);
        refused.Body.Should().Contain("team-b").And.Contain(a.FrameworkId!);
        (await ProxyAsync(b.FrameworkId!, "team-a")).Status.Should().Be(HttpStatusCode.Forbidden);
        var metadata = await ProxyAsync(b.FrameworkId!, "team-b");
        metadata.Status.Should().Be(HttpStatusCode.BadRequest, "team b may view its framework, but not reach the metadata address through it");
        metadata.Body.Should().Contain("link-local");
        ui.Requests.Should().Be(1);
    }

    [Fact]
    public async Task The_agent_proxy_passes_the_callers_authorization_to_the_agent_and_adds_none_of_its_own()
    {
        await using var cluster = await StartAsync();
        await using var agentFiles = await EchoServer.StartAsync();
        // An agent whose HTTP address is the echo server: the proxy's request is what the agent would receive.
        var master = cluster.Master.Actor;
        var subscribe = new Mezzo.Protocol.Agents.AgentSubscribe
        {
            Hostname = agentFiles.Url.Host,
            Port = agentFiles.Url.Port,
            Resources = Mezzo.Protocol.ResourceConversion.ToWire(Core.Resources.Resources.Parse("cpus:1;mem:128")),
        };
        var (result, agentId) = await master.Ask(() => master.SubscribeAgent(subscribe, Core.Resources.Resources.Parse("cpus:1;mem:128"), [], new Mezzo.Master.Agents.AgentConnection()));
        result.IsSuccess.Should().BeTrue(result.Error);

        async Task<string> BrowseAsync(string? principal)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(cluster.MasterUrl, $"agent-proxy/{agentId}/files/browse?path=%2Fsandbox"));
            if (principal is not null)
            {
                request.Headers.TryAddWithoutValidation("Authorization", Basic(principal));
            }

            using var response = await cluster.Http.SendAsync(request);
            response.StatusCode.Should().Be(HttpStatusCode.OK);
            return await response.Content.ReadAsStringAsync();
        }

        (await BrowseAsync("team-a")).Should().StartWith("path=/files/browse authorization=present");
        (await BrowseAsync(null)).Should().StartWith("path=/files/browse authorization=none", "the master never lends its own credentials");
        agentFiles.LastAuthorization.Should().BeNull();
    }

    /// <summary>A stand-in framework UI that answers what reached it.</summary>
    private sealed class EchoServer : IAsyncDisposable
    {
        private readonly WebApplication _app;
        private int _requests;

        private EchoServer(WebApplication app) => _app = app;

        public Uri Url { get; private set; } = null!;

        public int Requests => Volatile.Read(ref _requests);

        /// <summary>The Authorization header of the last request (null: it had none).</summary>
        public string? LastAuthorization { get; private set; }

        public static async Task<EchoServer> StartAsync()
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
            var app = builder.Build();
            var server = new EchoServer(app);
            app.Run(context =>
            {
                Interlocked.Increment(ref server._requests);
                server.LastAuthorization = context.Request.Headers.Authorization.Count > 0 ? context.Request.Headers.Authorization.ToString() : null;
                var authorization = context.Request.Headers.Authorization.Count > 0 ? "present" : "none";
                var cookie = context.Request.Headers.Cookie.Count > 0 ? "present" : "none";
                return context.Response.WriteAsync($"path={context.Request.Path} authorization={authorization} cookie={cookie}");
            });
            await app.StartAsync();
            server.Url = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
            return server;
        }

        public async ValueTask DisposeAsync()
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }
}
