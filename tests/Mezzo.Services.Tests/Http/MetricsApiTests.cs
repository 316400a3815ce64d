namespace Mezzo.Services.Tests.Http;

/// <summary>/metrics of the services process without a master: its own registry, the API's effects, the queue.</summary>
public sealed class MetricsApiTests
{
    [Fact]
    public async Task Two_services_servers_in_one_process_never_share_a_series()
    {
        await using var first = await ServicesHost.StartAsync();
        await using var second = await ServicesHost.StartAsync();
        await first.PostAsync("/v2/apps", """{"id":"/web","cmd":"x","instances":3}""");
        (await first.GetAsync("/v2/apps/nope")).Status.Should().Be(404);

        var one = await first.Http.GetStringAsync("/metrics");
        var other = await second.Http.GetStringAsync("/metrics");

        one.Should().Contain("mezzo_services_apps 1\n").And.Contain("mezzo_services_launch_queue_instances 3\n")
            .And.Contain("mezzo_services_deployments 1\n").And.Contain("mezzo_services_subscribed 0\n", "no master answers on port 1")
            .And.Contain("mezzo_services_http_requests_total{method=\"GET\",code=\"404\"} 1\n");
        other.Should().Contain("mezzo_services_apps 0\n").And.Contain("mezzo_services_launch_queue_instances 0\n")
            .And.NotContain("code=\"404\"");
    }

    [Fact]
    public async Task The_exposition_is_also_at_metrics_prometheus_and_only_for_GET()
    {
        await using var host = await ServicesHost.StartAsync();

        using var response = await host.Http.GetAsync("/metrics/prometheus");
        response.Content.Headers.ContentType!.ToString().Should().Be("text/plain; version=0.0.4; charset=utf-8");
        (await response.Content.ReadAsStringAsync()).Should().Contain("# TYPE mezzo_services_instances gauge\n");
        (await host.SendAsync(HttpMethod.Post, "/metrics", "{}")).Status.Should().Be(404, "POST /metrics is no route");
        (await host.Http.GetStringAsync("/metrics")).Should().Contain("mezzo_services_http_requests_total{method=\"POST\",code=\"404\"} 1\n");
    }

    [Fact]
    public async Task Unusual_request_methods_are_counted_as_OTHER_not_as_new_series()
    {
        await using var host = await ServicesHost.StartAsync();

        (await host.SendAsync(new HttpMethod("BREW"), "/v2/apps")).Status.Should().BeGreaterThanOrEqualTo(400);
        (await host.SendAsync(new HttpMethod("XYZZY"), "/ping")).Status.Should().BeGreaterThanOrEqualTo(400);

        var text = await host.Http.GetStringAsync("/metrics");
        text.Should().Contain("mezzo_services_http_requests_total{method=\"OTHER\",code=\"405\"} 2\n").And.NotContain("BREW").And.NotContain("XYZZY");
    }
}
