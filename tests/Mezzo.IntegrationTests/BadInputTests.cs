using System.Net;
using System.Text;
using AwesomeAssertions;
using Mezzo.IntegrationTests.Infrastructure;

namespace Mezzo.IntegrationTests;

/// <summary>Malformed input is answered with a 4xx and a reason, changes nothing, and the master keeps serving.</summary>
public sealed class BadInputTests
{
    public static TheoryData<string, HttpStatusCode, string> MalformedSubscribes => new()
    {
        { "{", HttpStatusCode.BadRequest, "Failed to parse body into Call" },
        { "[]", HttpStatusCode.BadRequest, "Failed to parse body into Call" },
        { """{"type":"SUBSCRIBE"}""", HttpStatusCode.BadRequest, "subscribe.framework_info" },
        { """{"type":"NOT_A_CALL"}""", HttpStatusCode.BadRequest, "Failed to parse body into Call" },
        { """{"type":"SUBSCRIBE","subscribe":{"framework_info":{"user":"u","name":7}}}""", HttpStatusCode.BadRequest, "Failed to parse body into Call" },
        { """{"type":"SUBSCRIBE","subscribe":{"framework_info":{"name":"n"}}}""", HttpStatusCode.BadRequest, "framework_info.user" },
        { """{"type":"SUBSCRIBE","subscribe":{"framework_info":{"user":"u","name":"n","failover_timeout":-5}}}""", HttpStatusCode.BadRequest, "failover_timeout" },
        { """{"type":"SUBSCRIBE","subscribe":{"framework_info":{"user":"u","name":"n","role":"../etc"}}}""", HttpStatusCode.BadRequest, "Invalid role" },
        { """{"type":"SUBSCRIBE","subscribe":{"framework_info":{"user":"u","name":"n","id":{"value":"a/b"}}}}""", HttpStatusCode.BadRequest, "framework_info.id" },
        { """{"type":"ACCEPT"}""", HttpStatusCode.BadRequest, "framework_id" },
    };

    [Theory]
    [MemberData(nameof(MalformedSubscribes))]
    public async Task Malformed_calls_get_400_with_a_reason(string body, HttpStatusCode expected, string reason)
    {
        await using var cluster = await InProcessCluster.StartAsync(withAgent: false);
        var response = await Post(cluster, body);
        response.StatusCode.Should().Be(expected);
        (await response.Content.ReadAsStringAsync()).Should().Contain(reason);
        await AssertStillServing(cluster);
    }

    [Fact]
    public async Task Oversized_body_gets_413()
    {
        await using var cluster = await InProcessCluster.StartAsync(withAgent: false);
        var huge = "{\"type\":\"SUBSCRIBE\",\"pad\":\"" + new string('x', 10 * 1024 * 1024) + "\"}";
        var response = await Post(cluster, huge);
        response.StatusCode.Should().Be(HttpStatusCode.RequestEntityTooLarge);
        await AssertStillServing(cluster);
    }

    [Theory]
    [InlineData("text/plain", HttpStatusCode.UnsupportedMediaType)]
    [InlineData("application/xml", HttpStatusCode.UnsupportedMediaType)]
    [InlineData("application/x-protobuf", HttpStatusCode.BadRequest)]
    public async Task Content_types_other_than_json_or_protobuf_get_415(string contentType, HttpStatusCode expected)
    {
        await using var cluster = await InProcessCluster.StartAsync(withAgent: false);
        var response = await Post(cluster, "{}", contentType);
        response.StatusCode.Should().Be(expected);
    }

    [Fact]
    public async Task Calls_without_matching_stream_or_framework_are_refused()
    {
        await using var cluster = await InProcessCluster.StartAsync();
        await using var scheduler = new RawScheduler(cluster.MasterUrl);
        await scheduler.SubscribeAsync(RawScheduler.FrameworkInfo());
        var revive = $$"""{"framework_id":{"value":"{{scheduler.FrameworkId}}"},"type":"REVIVE"}""";

        var noStream = await scheduler.CallAsync(revive, streamId: "");
        noStream.Status.Should().Be(HttpStatusCode.BadRequest);
        noStream.Body.Should().Contain("Mesos-Stream-Id");

        var wrongStream = await scheduler.CallAsync(revive, streamId: Guid.NewGuid().ToString());
        wrongStream.Status.Should().Be(HttpStatusCode.BadRequest);
        wrongStream.Body.Should().Contain("didn't match");

        var unknown = await scheduler.CallAsync("""{"framework_id":{"value":"no-such-framework"},"type":"REVIVE"}""");
        unknown.Status.Should().Be(HttpStatusCode.BadRequest);
        unknown.Body.Should().Contain("Framework cannot be found");

        var badAck = await scheduler.CallAsync($$"""
            {"framework_id":{"value":"{{scheduler.FrameworkId}}"},"type":"ACKNOWLEDGE",
             "acknowledge":{"agent_id":{"value":"a"},"task_id":{"value":"t"},"uuid":"AAEC"} }
            """);
        badAck.Status.Should().Be(HttpStatusCode.BadRequest);
        badAck.Body.Should().Contain("uuid");

        // The framework's own subscription is untouched by all of that.
        (await scheduler.CallAsync(revive)).Status.Should().Be(HttpStatusCode.Accepted);
        scheduler.StreamEnded.Should().BeFalse();
    }

    [Fact]
    public async Task Agent_files_api_refuses_paths_outside_sandboxes()
    {
        await using var cluster = await InProcessCluster.StartAsync();
        var agent = cluster.Agent!.Url;
        foreach (var path in (string[])["/etc/passwd", "../../../../etc/passwd", cluster.SandboxRoot + "/../../../../etc/passwd"])
        {
            var response = await cluster.Http.GetAsync(new Uri(agent, $"files/read?path={Uri.EscapeDataString(path)}&offset=0"));
            ((int)response.StatusCode).Should().BeOneOf(400, 404);
            (await response.Content.ReadAsStringAsync()).Should().NotContain("root:");
        }

        (await cluster.Http.GetAsync(new Uri(agent, "files/read"))).StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await cluster.Http.GetAsync(new Uri(agent, "files/read?path=x&offset=abc"))).StatusCode.Should().Be(HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Agent_protocol_rejects_garbage_and_unknown_agents()
    {
        await using var cluster = await InProcessCluster.StartAsync(withAgent: false);
        var garbage = await Post(cluster, "{\"type\":", path: "internal/agent");
        garbage.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        var badResources = await Post(cluster, """{"type":"SUBSCRIBE","subscribe":{"hostname":"h","port":5051,"resources":[{"name":"cpus","type":"SCALAR","scalar":{"value":-4}}]}}""", path: "internal/agent");
        badResources.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await badResources.Content.ReadAsStringAsync()).Should().Contain("cpus");
        var noUpdates = await Post(cluster, """{"type":"UPDATE","agent_id":{"value":"nobody"},"updates":[]}""", path: "internal/agent");
        noUpdates.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await noUpdates.Content.ReadAsStringAsync()).Should().Contain("'updates'");
        var halfValid = await Post(cluster, """
            {"type":"UPDATE","agent_id":{"value":"nobody"},"updates":[
              {"framework_id":{"value":"f"},"status":{"task_id":{"value":"t"},"state":"TASK_RUNNING"}},
              {"framework_id":{"value":"f"},"status":{"task_id":{"value":"t"}}}]}
            """, path: "internal/agent");
        halfValid.StatusCode.Should().Be(HttpStatusCode.BadRequest, "one malformed update refuses the whole call");
        (await halfValid.Content.ReadAsStringAsync()).Should().Contain("updates[1]");
        var unknown = await Post(cluster, """{"type":"PING","agent_id":{"value":"nobody"}}""", path: "internal/agent");
        unknown.StatusCode.Should().Be(HttpStatusCode.NotFound);
        await AssertStillServing(cluster);
    }

    private static async Task<HttpResponseMessage> Post(InProcessCluster cluster, string body, string contentType = "application/json", string path = "api/v1/scheduler")
    {
        var content = new ByteArrayContent(Encoding.UTF8.GetBytes(body));
        content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        return await cluster.Http.PostAsync(new Uri(cluster.MasterUrl, path), content);
    }

    private static async Task AssertStillServing(InProcessCluster cluster)
    {
        (await cluster.Http.GetAsync(new Uri(cluster.MasterUrl, "health"))).StatusCode.Should().Be(HttpStatusCode.OK);
        var state = await cluster.Http.GetStringAsync(new Uri(cluster.MasterUrl, "master/state"));
        state.Should().Contain("\"frameworks\":[]");
    }
}
