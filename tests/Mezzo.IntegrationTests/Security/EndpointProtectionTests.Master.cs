using System.Net;
using Mezzo.Core.Security;
using Mezzo.Hosting.Security;
using Mezzo.IntegrationTests.Infrastructure;
using Mezzo.Master;

namespace Mezzo.IntegrationTests.Security;

/// <summary>
/// The master's whole routing table, read from the running server, with every authentication switch on: each route
/// declares its access, answers 401 without credentials and 403 to a principal the ACLs give nothing — so a route
/// added later cannot skip protection. The same holds for a standby, which answers or redirects only after the same
/// checks, and for <c>/metrics</c>, served before routing.
/// </summary>
public sealed partial class EndpointProtectionTests
{
    /// <summary>The only master routes anyone may call unauthenticated: liveness probes.</summary>
    private static readonly string[] MasterPublicRoutes = ["GET /health", "GET /master/health"];

    /// <summary>Served by middleware rather than a route, so the sweep adds them by hand.</summary>
    private static readonly EndpointEntry[] MasterMiddlewareRoutes =
    [
        new(["GET"], "/metrics", new EndpointAccess(AccessKind.ReadOnly, []), "prometheus"),
    ];

    /// <summary>ops may reach every endpoint (what it may then do is the handlers' to decide); nobody has nothing.</summary>
    private const string OpsEverywhere = """{"permissive": false, "get_endpoints": [{"principals": {"values": ["ops"]}, "paths": {"type": "ANY"}}]}""";

    private static void Secure(MasterOptions options, string acls = """{"permissive": false}""")
    {
        options.Security = new SecurityOptions
        {
            Credentials = [new("ops", "ops-secret"), new("nobody", "n-secret")],
            AuthenticateFrameworks = true,
            AuthenticateAgents = true,
            AuthenticateHttpReadonly = true,
            AuthenticateHttpReadwrite = true,
            Acls = Acls.Parse(acls),
        };
        options.RateLimit = new Hosting.Limits.ClientRateLimitOptions { PermitsPerSecond = 0, Burst = 0 };
    }

    private static IEnumerable<EndpointEntry> Sweepable(IEnumerable<EndpointEntry> routes) => routes.Concat(MasterMiddlewareRoutes);

    private static string Describe(IEnumerable<EndpointSweep.Call> calls) =>
        string.Join("\n", calls.Select(call => $"{call.Method} {call.Path} ({call.Kind?.ToString() ?? "undeclared"}): {(int)call.Status}"));

    [Fact]
    public async Task Every_master_route_declares_its_access()
    {
        await using var cluster = await InProcessCluster.StartAsync(options => Secure(options), withAgent: false);

        var routes = cluster.Master.Endpoints;

        routes.Should().NotBeEmpty();
        routes.Where(route => route.Access is null).Select(route => $"{string.Join(",", route.Methods)} {route.Template} ({route.DisplayName})")
            .Should().BeEmpty("every route must say who may call it with .Access(...)");
        routes.Where(route => route.Access!.Kind == AccessKind.Public).SelectMany(route => route.Methods.Select(method => $"{method} {route.Template}"))
            .Should().BeEquivalentTo(MasterPublicRoutes);
        routes.Where(route => route.Access!.Kind is AccessKind.Executor).Should().BeEmpty("the master serves no executor API");
    }

    [Fact]
    public async Task Every_master_route_answers_401_without_credentials_and_403_without_acls()
    {
        await using var cluster = await InProcessCluster.StartAsync(options => Secure(options), withAgent: false);
        var routes = Sweepable(cluster.Master.Endpoints).ToList();
        var cancellation = TestContext.Current.CancellationToken;

        var anonymous = await EndpointSweep.CallAllAsync(cluster.MasterUrl, routes, null, cancellation);
        var unprotected = anonymous.Where(call => call.Kind != AccessKind.Public && call.Status != HttpStatusCode.Unauthorized).ToList();
        unprotected.Should().BeEmpty($"without credentials every non-public route is 401:\n{Describe(unprotected)}");
        anonymous.Where(call => call.Kind == AccessKind.Public).Should().OnlyContain(call => call.Status == HttpStatusCode.OK);

        var nobody = await EndpointSweep.CallAllAsync(cluster.MasterUrl, routes, EndpointSweep.Basic("nobody", "n-secret"), cancellation);
        var allowed = nobody.Where(call => call.Kind != AccessKind.Public && call.Status != HttpStatusCode.Forbidden).ToList();
        allowed.Should().BeEmpty($"a principal with no ACL under permissive:false gets 403 everywhere:\n{Describe(allowed)}");
    }

    [Fact]
    public async Task A_principal_allowed_every_endpoint_passes_the_route_checks()
    {
        await using var cluster = await InProcessCluster.StartAsync(options => Secure(options, OpsEverywhere), withAgent: false);
        var routes = Sweepable(cluster.Master.Endpoints).ToList();

        var ops = await EndpointSweep.CallAllAsync(cluster.MasterUrl, routes, EndpointSweep.Basic("ops", "ops-secret"), TestContext.Current.CancellationToken);

        // Whatever a handler then answers (its own 400, 404 or a per-action 403), it is not the route's challenge.
        var challenged = ops.Where(call => call.Status == HttpStatusCode.Unauthorized).ToList();
        challenged.Should().BeEmpty(Describe(challenged));
        ops.Should().Contain(call => call.Path == "/state" && call.Status == HttpStatusCode.OK);
        ops.Should().Contain(call => call.Path == "/metrics" && call.Status == HttpStatusCode.OK);
    }

    [Fact]
    public async Task A_standby_master_authenticates_and_authorizes_before_it_answers_or_redirects()
    {
        await using var etcd = await EtcdServer.StartAsync();
        using var dir = new TempDir();
        IReadOnlyList<EndpointEntry> table;
        await using (var reference = await InProcessCluster.StartAsync(options => Secure(options), withAgent: false))
        {
            // With etcd each term maps its own routes; the table is the same one a SQLite master serves.
            table = reference.Master.Endpoints;
        }

        await using var first = await StartEtcdMasterAsync(etcd, Path.Combine(dir.Path, "m1"));
        await Poll.UntilAsync(() => Task.FromResult<bool?>(first.IsLeading), "the first master to lead");
        await using var second = await StartEtcdMasterAsync(etcd, Path.Combine(dir.Path, "m2"));
        second.IsLeading.Should().BeFalse();
        var routes = Sweepable(table).ToList();
        var cancellation = TestContext.Current.CancellationToken;

        var anonymous = await EndpointSweep.CallAllAsync(second.Url, routes, null, cancellation);
        var leaked = anonymous.Where(call => call.Kind != AccessKind.Public && call.Status != HttpStatusCode.Unauthorized).ToList();
        leaked.Should().BeEmpty($"a standby must not answer or redirect an unauthenticated call:\n{Describe(leaked)}");

        var nobody = await EndpointSweep.CallAllAsync(second.Url, routes, EndpointSweep.Basic("nobody", "n-secret"), cancellation);
        var allowed = nobody.Where(call => call.Kind != AccessKind.Public && call.Status != HttpStatusCode.Forbidden).ToList();
        allowed.Should().BeEmpty($"a standby refuses a principal without ACLs:\n{Describe(allowed)}");

        // Authorized, the standby still redirects API calls to the leader and answers its own probes.
        var ops = await EndpointSweep.CallAllAsync(second.Url, routes.Where(r => r.Template is "/api/v1" or "/state"), EndpointSweep.Basic("ops", "ops-secret"), cancellation);
        ops.Single(call => call.Path == "/api/v1").Status.Should().Be(HttpStatusCode.TemporaryRedirect);
        ops.Single(call => call.Path == "/state").Status.Should().Be(HttpStatusCode.OK);
    }

    private static async Task<MasterServer> StartEtcdMasterAsync(EtcdServer etcd, string workDir)
    {
        var options = new MasterOptions
        {
            Port = 0,
            Ip = "127.0.0.1",
            Hostname = "127.0.0.1",
            WorkDir = workDir,
            Store = etcd.Url(),
            LeaderLeaseTtl = TimeSpan.FromSeconds(2),
        };
        Secure(options, OpsEverywhere);
        var master = MasterServer.Create(options, TestLogging.Configure);
        await master.StartAsync();
        return master;
    }
}
