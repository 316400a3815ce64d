using System.Net;
using Mezzo.Core.Security;
using Mezzo.Hosting.Security;
using Mezzo.IntegrationTests.Infrastructure;
using Mezzo.Jobs;

namespace Mezzo.IntegrationTests.Security;

public sealed partial class EndpointProtectionTests
{
    private const string JobsPrincipal = "scheduler-admin";
    private const string JobsSecret = "s3cret-jobs";

    [Fact]
    public async Task Jobs_every_route_declares_its_access()
    {
        using var dir = new TempDir();
        await using var jobs = await StartJobsAsync(dir.Path, new SecurityOptions());

        jobs.Endpoints.Should().NotBeEmpty();
        jobs.Endpoints.Where(route => route.Access is null).Select(route => $"{string.Join(",", route.Methods)} {route.Template}")
            .Should().BeEmpty("every route of the jobs API must say who may call it");
        jobs.Endpoints.Where(route => route.Access!.Kind == AccessKind.Public).Select(route => route.Template).Should().Equal("/ping");
        jobs.Endpoints.Select(route => route.Template).Should().Contain(["/metrics", "/logging/toggle", "/v1/scheduler/jobs", "/scheduler/jobs"]);
    }

    [Fact]
    public async Task Jobs_every_route_answers_401_without_credentials_or_with_a_wrong_secret()
    {
        using var dir = new TempDir();
        await using var jobs = await StartJobsAsync(dir.Path, JobsAuthenticating(Acls.AllowAll));
        var cancellation = TestContext.Current.CancellationToken;

        foreach (var authorization in new[] { null, EndpointSweep.Basic(JobsPrincipal, "wrong") })
        {
            var calls = await EndpointSweep.CallAllAsync(jobs.Url, jobs.Endpoints, authorization, cancellation);

            calls.Where(call => call.Kind != AccessKind.Public).Where(call => call.Status != HttpStatusCode.Unauthorized)
                .Select(call => $"{call.Method} {call.Path}: {(int)call.Status}").Should().BeEmpty();
            calls.Where(call => call.Status != HttpStatusCode.Unauthorized).Select(call => call.Path).Distinct()
                .Should().Equal(authorization is null ? ["/ping"] : [], "only the liveness probe answers an anonymous caller; wrong credentials get 401 everywhere");
        }
    }

    [Fact]
    public async Task Jobs_a_principal_no_ACL_allows_gets_403_on_every_route_but_the_probe()
    {
        using var dir = new TempDir();
        await using var jobs = await StartJobsAsync(dir.Path, JobsAuthenticating(Acls.Parse("""{"permissive": false}""")));

        var calls = await EndpointSweep.CallAllAsync(jobs.Url, jobs.Endpoints, EndpointSweep.Basic(JobsPrincipal, JobsSecret), TestContext.Current.CancellationToken);

        calls.Where(call => call.Kind != AccessKind.Public).Where(call => call.Status != HttpStatusCode.Forbidden)
            .Select(call => $"{call.Method} {call.Path}: {(int)call.Status}").Should().BeEmpty();
        calls.Where(call => call.Kind == AccessKind.Public).Should().OnlyContain(call => call.Status == HttpStatusCode.OK);
    }

    private static SecurityOptions JobsAuthenticating(Acls acls) => new()
    {
        Credentials = [new Credential(JobsPrincipal, JobsSecret)],
        AuthenticateHttpReadonly = true,
        AuthenticateHttpReadwrite = true,
        Acls = acls,
    };

    private static async Task<JobsServer> StartJobsAsync(string workDir, SecurityOptions security)
    {
        var jobs = JobsServer.Create(new JobsOptions
        {
            Master = "127.0.0.1:1",
            Port = 0,
            Ip = "127.0.0.1",
            Hostname = "127.0.0.1",
            WorkDir = workDir,
            Security = security,
        }, TestLogging.Configure, connect: false);
        await jobs.StartAsync();
        return jobs;
    }
}
