using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Mezzo.IntegrationTests.Infrastructure;
using Mezzo.IntegrationTests.Services;
using Mezzo.Jobs;

namespace Mezzo.IntegrationTests.Metrics;

/// <summary>
/// Master, agent, services and jobs in one test process (each its own registry), after some real work: a services app
/// with one running instance, a request answered 404, and one Chronos job run to success. Then each process's
/// <c>/metrics</c> is scraped once for the tests of the class.
/// </summary>
public sealed class ScrapedCluster : IAsyncLifetime
{
    private ServicesCluster? _services;
    private JobsServer? _jobs;
    private TempDir? _jobsDir;

    internal Dictionary<string, (HttpResponseMessage Response, string Text)> Scrapes { get; } = [];

    public JobsServer Jobs => _jobs!;

    public HttpClient Http => _services!.Http;

    public async ValueTask InitializeAsync()
    {
        _services = await ServicesCluster.StartAsync();
        _jobsDir = new TempDir();
        _jobs = JobsServer.Create(
            new JobsOptions
            {
                Master = _services.Cluster.MasterAddress,
                Port = 0,
                Ip = "127.0.0.1",
                Hostname = "127.0.0.1",
                WorkDir = _jobsDir.Path,
                TickInterval = TimeSpan.FromMilliseconds(100),
            },
            TestLogging.Configure);
        await _jobs.StartAsync();

        var (status, body) = await _services.SendAsync(HttpMethod.Post, "/v2/apps", """{"id": "/web", "cmd": "sleep 600", "cpus": 0.1, "mem": 16, "instances": 1}""");
        status.Should().Be(201, body?.ToJsonString());
        await _services.WaitForNoDeploymentsAsync("the /web deployment to finish");
        // An app deployed and removed again: one launch and one kill the deployment plan decided.
        (await _services.SendAsync(HttpMethod.Post, "/v2/apps", """{"id": "/doomed", "cmd": "sleep 600", "cpus": 0.1, "mem": 16, "instances": 1}""")).Status.Should().Be(201);
        await _services.WaitForNoDeploymentsAsync("the /doomed deployment to finish");
        (await _services.SendAsync(HttpMethod.Delete, "/v2/apps/doomed")).Status.Should().Be(200);
        await _services.WaitForNoDeploymentsAsync("/doomed to be removed");
        await Poll.UntilAsync(async () => (await _services.MasterRunningAsync()).Count == 1, "the /doomed task to be killed");
        (await _services.SendAsync(HttpMethod.Get, "/v2/apps/nope")).Status.Should().Be(404);

        using (var content = new StringContent("""{"name": "once", "command": "true", "schedule": "R1//PT1H", "cpus": 0.1, "mem": 16}""", Encoding.UTF8, "application/json"))
        using (var response = await Http.PostAsync(new Uri(_jobs.Url, "v1/scheduler/iso8601"), content))
        {
            response.StatusCode.Should().Be(HttpStatusCode.NoContent);
        }

        await Poll.UntilAsync(async () =>
            JsonNode.Parse(await Http.GetStringAsync(new Uri(_jobs.Url, "v1/scheduler/jobs")))!.AsArray()
                .Single()!["successCount"]!.GetValue<long>() == 1, "the job to succeed once");
        // The success is counted in the same step that records it; the jobs snapshot is what /metrics reads.
        await Poll.UntilAsync(() => _jobs.Actor.Snapshot.Counters.Succeeded == 1, "the jobs counters to show the run");

        foreach (var (process, url) in (ValueTuple<string, Uri>[])[
            ("master", _services.Cluster.MasterUrl), ("agent", _services.Cluster.Agent!.Url), ("services", _services.Services!.Url), ("jobs", _jobs.Url)])
        {
            // The first scrape is counted once it is answered: the second shows it among the requests.
            (await Http.GetAsync(new Uri(url, "metrics"))).Dispose();
            var response = await Http.GetAsync(new Uri(url, "metrics"));
            Scrapes[process] = (response, await response.Content.ReadAsStringAsync());
        }
    }

    internal Exposition Checked(string process) => ExpositionChecker.Check(Scrapes[process].Text);

    public async ValueTask DisposeAsync()
    {
        foreach (var (response, _) in Scrapes.Values)
        {
            response.Dispose();
        }

        if (_jobs is not null)
        {
            await _jobs.DisposeAsync();
        }

        if (_services is not null)
        {
            await _services.DisposeAsync();
        }

        _jobsDir?.Dispose();
    }

    internal static string Invariant(double value) => value.ToString(CultureInfo.InvariantCulture);
}
