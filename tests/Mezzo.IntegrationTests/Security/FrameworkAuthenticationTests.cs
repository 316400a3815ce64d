using System.Text.Json.Nodes;
using Mezzo.Core.Security;
using Mezzo.Framework;
using Mezzo.Hosting.Security;
using Mezzo.IntegrationTests.Infrastructure;
using Mezzo.Jobs;
using Mezzo.Master;
using Mezzo.Protocol.V1;
using Mezzo.Services;

namespace Mezzo.IntegrationTests.Security;

/// <summary>Frameworks log in to a master that runs with <c>--authenticate-frameworks</c>: the SDK, services and jobs.</summary>
public sealed class FrameworkAuthenticationTests
{
    private static readonly Credential Framework = new("fw-principal", "fw-secret");

    [Fact]
    public async Task The_SDK_subscribes_with_its_credential_and_the_master_records_its_principal()
    {
        using var dir = new TempDir();
        await using var master = await StartMasterAsync(dir.Path);
        await using var client = new SchedulerClient(new SchedulerOptions
        {
            Master = master.Url.ToString(),
            FrameworkInfo = new FrameworkInfo { User = "root", Name = "authenticated" },
            Credential = Framework,
        });

        var frameworkId = await client.SubscribeAsync(TestContext.Current.CancellationToken);

        (await PrincipalsAsync(master)).Should().Contain((frameworkId, Framework.Principal));
    }

    [Fact]
    public async Task The_SDK_with_a_wrong_secret_is_refused_with_an_error_naming_the_principal_and_not_the_secret()
    {
        using var dir = new TempDir();
        await using var master = await StartMasterAsync(dir.Path);
        await using var client = new SchedulerClient(new SchedulerOptions
        {
            Master = master.Url.ToString(),
            FrameworkInfo = new FrameworkInfo { User = "root", Name = "impostor" },
            Credential = new Credential(Framework.Principal, "not-the-secret"),
        });

        var refused = await client.Invoking(c => c.SubscribeAsync(TestContext.Current.CancellationToken)).Should().ThrowAsync<SchedulerCallException>();

        refused.Which.StatusCode.Should().Be(401);
        refused.Which.Message.Should().Contain("refused the framework's credential").And.Contain("'fw-principal'").And.NotContain("not-the-secret");
        (await PrincipalsAsync(master)).Should().BeEmpty();
    }

    [Fact]
    public async Task Services_and_jobs_subscribe_with_their_mesos_authentication_credential()
    {
        using var masterDir = new TempDir();
        using var servicesDir = new TempDir();
        using var jobsDir = new TempDir();
        await using var master = await StartMasterAsync(masterDir.Path);
        await using var services = ServicesServer.Create(new ServicesOptions
        {
            Master = master.Url.Authority, Port = 0, Ip = "127.0.0.1", Hostname = "127.0.0.1", WorkDir = servicesDir.Path,
            FrameworkName = "marathon-authenticated", MesosCredential = Framework,
        }, TestLogging.Configure);
        await services.StartAsync();
        await using var jobs = JobsServer.Create(new JobsOptions
        {
            Master = master.Url.Authority, Port = 0, Ip = "127.0.0.1", Hostname = "127.0.0.1", WorkDir = jobsDir.Path,
            FrameworkName = "chronos-authenticated", MesosCredential = Framework,
        }, TestLogging.Configure);
        await jobs.StartAsync();

        await Poll.UntilAsync(async () => (await PrincipalsAsync(master)).Count(p => p.Principal == Framework.Principal) == 2, "services and jobs to subscribe as fw-principal");
    }

    private static async Task<MasterServer> StartMasterAsync(string workDir)
    {
        var master = MasterServer.Create(new MasterOptions
        {
            Port = 0,
            Ip = "127.0.0.1",
            Hostname = "127.0.0.1",
            WorkDir = workDir,
            Security = new SecurityOptions { Credentials = [Framework], AuthenticateFrameworks = true },
        }, TestLogging.Configure);
        await master.StartAsync();
        return master;
    }

    private static async Task<List<(string? Id, string? Principal)>> PrincipalsAsync(MasterServer master)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        var state = JsonNode.Parse(await http.GetStringAsync(new Uri(master.Url, "/master/state")))!;
        return [.. state["frameworks"]!.AsArray().Select(f => ((string?)f!["id"], (string?)f["principal"]))];
    }
}
