using System.Net;
using Mezzo.IntegrationTests.Infrastructure;

namespace Mezzo.IntegrationTests.Limits;

/// <summary>Issue 10 §4 over real HTTP: a framework beyond --max-frameworks is answered 503 and the master keeps serving.</summary>
public sealed class MasterCapsTests
{
    [Fact]
    public async Task A_scheduler_beyond_max_frameworks_gets_503_and_the_subscribed_one_is_still_served()
    {
        await using var cluster = await InProcessCluster.StartAsync(o =>
        {
            o.MaxFrameworks = 1;
            o.MaxOutstandingOffersPerFramework = 1;
        });
        await using var first = new RawScheduler(cluster.MasterUrl);
        await first.SubscribeAsync(RawScheduler.FrameworkInfo("first"));
        first.SubscribeStatus.Should().Be(HttpStatusCode.OK);

        await using var second = new RawScheduler(cluster.MasterUrl);
        await second.SubscribeAsync(RawScheduler.FrameworkInfo("second"));

        second.SubscribeStatus.Should().Be(HttpStatusCode.ServiceUnavailable);
        using (var health = await cluster.Http.GetAsync(new Uri(cluster.MasterUrl, "health")))
        {
            health.StatusCode.Should().Be(HttpStatusCode.OK);
        }

        var offer = await first.NextOfferAsync();
        var launch = await first.LaunchAsync(offer, "still-served", "exit 0");
        launch.Status.Should().Be(HttpStatusCode.Accepted, launch.Body);
        await first.WaitForUpdateAsync("still-served", "TASK_FINISHED");
        var frameworks = (await cluster.StateAsync())["frameworks"]!.AsArray();
        frameworks.Should().ContainSingle().Which!["name"]!.GetValue<string>().Should().Be("first");
    }

    [Fact]
    public async Task The_refusal_names_the_flag()
    {
        await using var cluster = await InProcessCluster.StartAsync(o => o.MaxFrameworks = 1, withAgent: false);
        await using var first = new RawScheduler(cluster.MasterUrl);
        await first.SubscribeAsync(RawScheduler.FrameworkInfo("first"));

        var (status, body) = await cluster.PostJsonAsync(
            """{"type":"SUBSCRIBE","subscribe":{"framework_info":INFO}}""".Replace("INFO", RawScheduler.FrameworkInfo("second"), StringComparison.Ordinal),
            "api/v1/scheduler");

        status.Should().Be(HttpStatusCode.ServiceUnavailable);
        body.Should().Contain("--max-frameworks=1");
    }
}
