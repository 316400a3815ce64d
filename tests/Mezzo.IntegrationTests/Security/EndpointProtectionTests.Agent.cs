using System.Net;
using AwesomeAssertions;
using Mezzo.Core.Security;
using Mezzo.Hosting.Security;
using Mezzo.IntegrationTests.Infrastructure;

namespace Mezzo.IntegrationTests.Security;

public sealed partial class EndpointProtectionTests
{
    /// <summary>Every route of a real agent, from its routing table, with every switch on and ACLs that allow nothing.</summary>
    [Fact]
    public async Task Agent_every_route_answers_401_without_credentials_and_403_to_a_principal_no_ACL_allows()
    {
        await using var cluster = await InProcessCluster.StartAsync(configureAgent: options =>
        {
            options.Security.Credentials = [new Credential("stranger", "stranger-secret")];
            options.Security.AuthenticateHttpReadonly = true;
            options.Security.AuthenticateHttpReadwrite = true;
            options.Security.AuthenticateHttpExecutors = true;
            options.Security.Acls = Acls.Parse("""{"permissive": false}""");
        });
        var agent = cluster.Agent!;
        var routes = agent.Endpoints;
        routes.Should().NotBeEmpty();
        routes.Where(r => r.Access is null).Select(r => r.Template).Should().BeEmpty("every agent route must declare its access");
        routes.Where(r => r.Access!.Kind == AccessKind.Public).Select(r => r.Template).Should().BeEquivalentTo(["/health"]);
        routes.Select(r => r.Template).Should().Contain(["/state", "/files/read", "/files/browse", "/files/download", "/api/v1", "/api/v1/executor", "/flags", "/metrics", "/logging/toggle"]);
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));

        var anonymous = await EndpointSweep.CallAllAsync(agent.Url, routes, null, timeout.Token);
        anonymous.Where(c => c.Status != HttpStatusCode.Unauthorized).Select(c => c.Path).Should().BeEquivalentTo(["/health"]);

        var stranger = await EndpointSweep.CallAllAsync(agent.Url, routes, EndpointSweep.Basic("stranger", "stranger-secret"), timeout.Token);
        stranger.Where(c => c.Kind != AccessKind.Public && c.Status != HttpStatusCode.Forbidden)
            .Select(c => $"{c.Method} {c.Path}: {(int)c.Status}").Should().BeEmpty();

        var wrongSecret = await EndpointSweep.CallAllAsync(agent.Url, routes, EndpointSweep.Basic("stranger", "guess"), timeout.Token);
        wrongSecret.Where(c => c.Kind != AccessKind.Public).Should().OnlyContain(c => c.Status == HttpStatusCode.Unauthorized);
    }
}
