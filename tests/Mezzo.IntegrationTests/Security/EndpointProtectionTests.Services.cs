using System.Net;
using Mezzo.Core.Security;
using Mezzo.Hosting.Security;
using Mezzo.IntegrationTests.Infrastructure;
using Mezzo.Services;

namespace Mezzo.IntegrationTests.Security;

public sealed partial class EndpointProtectionTests
{
    private const string ServicesPrincipal = "operator";
    private const string ServicesSecret = "s3cret-services";

    [Fact]
    public async Task Services_every_route_declares_its_access()
    {
        using var dir = new TempDir();
        await using var services = await StartServicesAsync(dir.Path, new SecurityOptions());

        services.Endpoints.Should().NotBeEmpty();
        services.Endpoints.Where(route => route.Access is null).Select(route => $"{string.Join(",", route.Methods)} {route.Template}")
            .Should().BeEmpty("every route of the services API must say who may call it");
        services.Endpoints.Where(route => route.Access!.Kind == AccessKind.Public).Select(route => route.Template).Should().Equal("/ping");
        services.Endpoints.Select(route => route.Template).Should().Contain(["/metrics", "/metrics/prometheus", "/logging/toggle", "/v2/events", "/v2/info", "/v2/leader"]);
    }

    [Fact]
    public async Task Services_every_route_answers_401_without_credentials_or_with_a_wrong_secret()
    {
        using var dir = new TempDir();
        await using var services = await StartServicesAsync(dir.Path, Authenticating(Acls.AllowAll));
        var cancellation = TestContext.Current.CancellationToken;

        foreach (var authorization in new[] { null, EndpointSweep.Basic(ServicesPrincipal, "wrong") })
        {
            var calls = await EndpointSweep.CallAllAsync(services.Url, services.Endpoints, authorization, cancellation);

            calls.Where(call => call.Kind != AccessKind.Public).Where(call => call.Status != HttpStatusCode.Unauthorized)
                .Select(call => $"{call.Method} {call.Path}: {(int)call.Status}").Should().BeEmpty();
            calls.Where(call => call.Status != HttpStatusCode.Unauthorized).Select(call => call.Path).Distinct()
                .Should().Equal(authorization is null ? ["/ping"] : [], "only the liveness probe answers an anonymous caller; wrong credentials get 401 everywhere");
        }
    }

    [Fact]
    public async Task Services_a_principal_no_ACL_allows_gets_403_on_every_route_but_the_probe()
    {
        using var dir = new TempDir();
        await using var services = await StartServicesAsync(dir.Path, Authenticating(Acls.Parse("""{"permissive": false}""")));

        var calls = await EndpointSweep.CallAllAsync(services.Url, services.Endpoints, EndpointSweep.Basic(ServicesPrincipal, ServicesSecret), TestContext.Current.CancellationToken);

        calls.Where(call => call.Kind != AccessKind.Public).Where(call => call.Status != HttpStatusCode.Forbidden)
            .Select(call => $"{call.Method} {call.Path}: {(int)call.Status}").Should().BeEmpty();
        calls.Where(call => call.Kind == AccessKind.Public).Should().OnlyContain(call => call.Status == HttpStatusCode.OK);
    }

    [Fact]
    public async Task Services_a_standby_neither_answers_nor_proxies_an_unauthenticated_call()
    {
        await using var etcd = await EtcdServer.StartAsync();
        using var first = new TempDir();
        using var second = new TempDir();
        await using var one = await StartServicesAsync(first.Path, Authenticating(Acls.AllowAll), etcd.Url());
        await using var two = await StartServicesAsync(second.Path, Authenticating(Acls.AllowAll), etcd.Url());
        await Poll.UntilAsync(() => one.IsLeading || two.IsLeading, "one instance to lead");
        var standby = one.IsLeading ? two : one;
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        var cancellation = TestContext.Current.CancellationToken;

        foreach (var (method, path) in new[] { ("GET", "/v2/apps"), ("GET", "/v2/leader"), ("POST", "/v2/apps"), ("DELETE", "/v2/groups/x"), ("GET", "/metrics") })
        {
            using var anonymous = await http.SendAsync(new HttpRequestMessage(new HttpMethod(method), new Uri(standby.Url, path)), cancellation);
            anonymous.StatusCode.Should().Be(HttpStatusCode.Unauthorized, $"{method} {path} on a standby");
            anonymous.Headers.Contains(ServicesServer.ViaHeader).Should().BeFalse("the call must not reach the leader");
            anonymous.Headers.WwwAuthenticate.ToString().Should().Contain("Basic");
        }

        using var ping = await http.GetAsync(new Uri(standby.Url, "/ping"), cancellation);
        ping.StatusCode.Should().Be(HttpStatusCode.OK);
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(standby.Url, "/v2/apps"));
        request.Headers.Authorization = EndpointSweep.Basic(ServicesPrincipal, ServicesSecret);
        using var proxied = await http.SendAsync(request, cancellation);
        proxied.StatusCode.Should().Be(HttpStatusCode.OK, "an authenticated call is proxied to the leader, which authenticates it again");
    }

    private static SecurityOptions Authenticating(Acls acls) => new()
    {
        Credentials = [new Credential(ServicesPrincipal, ServicesSecret)],
        AuthenticateHttpReadonly = true,
        AuthenticateHttpReadwrite = true,
        Acls = acls,
    };

    private static async Task<ServicesServer> StartServicesAsync(string workDir, SecurityOptions security, string store = "sqlite")
    {
        var services = ServicesServer.Create(new ServicesOptions
        {
            Master = "127.0.0.1:1",
            Port = 0,
            Ip = "127.0.0.1",
            Hostname = "127.0.0.1",
            WorkDir = workDir,
            Store = store,
            LeaderLeaseTtl = TimeSpan.FromSeconds(2),
            Security = security,
        }, TestLogging.Configure);
        await services.StartAsync();
        return services;
    }
}
