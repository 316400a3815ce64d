using System.Text;
using Mezzo.Hosting.HighAvailability;
using Mezzo.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.Http;

namespace Mezzo.IntegrationTests.FrameworkHa;

/// <summary>A standby's leader proxy on the paths where it cannot forward: loops, no leader, a dead leader, event streams.</summary>
public sealed class LeaderProxyTests
{
    private static readonly LeaderProxyOptions Marathon = new() { ViaHeader = "X-Marathon-Via", LeaderHeader = "X-Marathon-Leader", RedirectPrefixes = ["/v2/events"] };

    private static DefaultHttpContext Request(string method, string path, string query = "")
    {
        var context = new DefaultHttpContext();
        context.Request.Method = method;
        context.Request.Path = path;
        context.Request.QueryString = new QueryString(query);
        context.Response.Body = new MemoryStream();
        return context;
    }

    private static string Body(HttpContext context) => Encoding.UTF8.GetString(((MemoryStream)context.Response.Body).ToArray());

    [Fact]
    public async Task A_request_that_already_came_through_this_instance_is_a_proxy_loop()
    {
        using var proxy = new LeaderProxy(Marathon);
        var context = Request("GET", "/v2/apps");
        context.Request.Headers["X-Marathon-Via"] = "other:8080, me:8080";
        await proxy.ForwardAsync(context, "me:8080", "leader:8080");
        context.Response.StatusCode.Should().Be(502);
        Body(context).Should().Be("Detected proxy loop");
    }

    [Theory]
    [InlineData(null)]
    [InlineData("me:8080")]
    public async Task With_no_other_leader_known_the_answer_is_503(string? leader)
    {
        using var proxy = new LeaderProxy(Marathon);
        var context = Request("POST", "/v2/apps");
        await proxy.ForwardAsync(context, "me:8080", leader);
        context.Response.StatusCode.Should().Be(503);
        Body(context).Should().Be("Could not determine the current leader");
    }

    [Fact]
    public async Task A_leader_that_cannot_be_reached_is_a_502()
    {
        using var proxy = new LeaderProxy(Marathon);
        var context = Request("GET", "/v2/apps");
        await proxy.ForwardAsync(context, "me:8080", $"127.0.0.1:{Ports.Free()}");
        context.Response.StatusCode.Should().Be(502);
        Body(context).Should().Contain("connection to the leader");
    }

    [Fact]
    public async Task The_event_stream_is_redirected_to_the_leader_not_proxied()
    {
        using var proxy = new LeaderProxy(Marathon);
        var context = Request("GET", "/v2/events", "?event_type=deployment_info");
        await proxy.ForwardAsync(context, "me:8080", "leader:8080");
        context.Response.StatusCode.Should().Be(307);
        context.Response.Headers.Location.ToString().Should().Be("http://leader:8080/v2/events?event_type=deployment_info");
    }
}
