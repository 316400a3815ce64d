using System.Net;
using System.Net.Http.Headers;
using Google.Protobuf;
using Mezzo.IntegrationTests.Infrastructure;
using Mezzo.Protocol.RecordIO;
using MasterProto = Mesos.V1.Master;
using SchedulerProto = Mesos.V1.Scheduler;

namespace Mezzo.IntegrationTests;

/// <summary>
/// The v1 APIs over application/x-protobuf against a real master and agent. Requests are encoded, and answers decoded,
/// with the classes generated from Mesos's .proto files, never with Mezzo's POCOs.
/// </summary>
public sealed class ProtobufApiTests
{
    private const string Protobuf = "application/x-protobuf";

    [Fact]
    public async Task Scheduler_subscribes_and_runs_a_task_entirely_over_protobuf()
    {
        await using var cluster = await InProcessCluster.StartAsync();
        await using var scheduler = new RawScheduler(cluster.MasterUrl) { Protobuf = true, AutoAcknowledge = false };
        await scheduler.SubscribeAsync(RawScheduler.FrameworkInfo("proto-test"));

        scheduler.SubscribeStatus.Should().Be(HttpStatusCode.OK);
        scheduler.StreamContentType.Should().Be(Protobuf);
        scheduler.FrameworkId.Should().NotBeNullOrEmpty();
        var offer = await scheduler.NextOfferAsync();
        ((string?)offer["hostname"]).Should().Be("127.0.0.1");

        var (status, body) = await scheduler.LaunchAsync(offer, "proto-task", "echo over protobuf");
        status.Should().Be(HttpStatusCode.Accepted, body);

        foreach (var expected in (string[])["TASK_STARTING", "TASK_RUNNING", "TASK_FINISHED"])
        {
            var update = await scheduler.WaitForUpdateAsync("proto-task", expected);
            ((string?)update["update"]!["status"]!["uuid"]).Should().NotBeNullOrEmpty();
            (await scheduler.AcknowledgeAsync(update)).Status.Should().Be(HttpStatusCode.Accepted);
        }
    }

    [Fact]
    public async Task Malformed_protobuf_unsupported_types_and_unacceptable_accepts_are_refused_as_Mesos_does()
    {
        await using var cluster = await InProcessCluster.StartAsync(withAgent: false);
        using var http = new HttpClient();

        var garbage = await PostAsync(http, new Uri(cluster.MasterUrl, "api/v1/scheduler"), [0x0a, 0xff, 0xff], Protobuf);
        garbage.Status.Should().Be(HttpStatusCode.BadRequest);
        garbage.Body.Should().StartWith("Failed to parse body into Call protobuf");

        var operatorGarbage = await PostAsync(http, new Uri(cluster.MasterUrl, "api/v1"), [0x08, 0x80], Protobuf);
        operatorGarbage.Status.Should().Be(HttpStatusCode.BadRequest);
        operatorGarbage.Body.Should().StartWith("Failed to parse body into Call protobuf");

        var unsupported = await PostAsync(http, new Uri(cluster.MasterUrl, "api/v1"), "{}"u8.ToArray(), "application/xml");
        unsupported.Status.Should().Be(HttpStatusCode.UnsupportedMediaType);
        unsupported.Body.Should().Be("Expecting 'Content-Type' of application/json or application/x-protobuf");

        var call = new MasterProto.Call { Type = MasterProto.Call.Types.Type.GetHealth }.ToByteArray();
        var unacceptable = await PostAsync(http, new Uri(cluster.MasterUrl, "api/v1"), call, Protobuf, accept: "text/html");
        unacceptable.Status.Should().Be(HttpStatusCode.NotAcceptable);
        unacceptable.Body.Should().Be("Expecting 'Accept' to allow 'application/x-protobuf' or 'application/json'");

        // A protobuf request may still ask for JSON back, and q=0 refuses a type.
        var json = await PostAsync(http, new Uri(cluster.MasterUrl, "api/v1"), call, Protobuf, accept: "application/json");
        json.Status.Should().Be(HttpStatusCode.OK);
        json.Body.Should().Contain("\"healthy\":true");
        var refused = await PostAsync(http, new Uri(cluster.MasterUrl, "api/v1"), call, Protobuf, accept: "application/json;q=0");
        refused.Status.Should().Be(HttpStatusCode.NotAcceptable);

        // Nothing was acted on: no framework came of the garbage SUBSCRIBE.
        var state = await PostAsync(http, new Uri(cluster.MasterUrl, "api/v1"), new MasterProto.Call { Type = MasterProto.Call.Types.Type.GetFrameworks }.ToByteArray(), Protobuf, accept: Protobuf);
        MasterProto.Response.Parser.ParseFrom(state.Bytes).GetFrameworks.Frameworks.Should().BeEmpty();
    }

    [Fact]
    public async Task Operator_GET_STATE_and_SUBSCRIBE_answer_in_protobuf()
    {
        await using var cluster = await InProcessCluster.StartAsync();
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        await using var scheduler = new RawScheduler(cluster.MasterUrl) { Protobuf = true };
        await scheduler.SubscribeAsync(RawScheduler.FrameworkInfo("proto-operator"));

        var getState = new MasterProto.Call { Type = MasterProto.Call.Types.Type.GetState }.ToByteArray();
        var answer = await PostAsync(http, new Uri(cluster.MasterUrl, "api/v1"), getState, Protobuf, accept: Protobuf);
        answer.Status.Should().Be(HttpStatusCode.OK);
        answer.ContentType.Should().Be(Protobuf);
        var response = MasterProto.Response.Parser.ParseFrom(answer.Bytes);
        response.Type.Should().Be(MasterProto.Response.Types.Type.GetState);
        response.GetState.GetAgents.Agents.Should().ContainSingle().Which.AgentInfo.Hostname.Should().Be("127.0.0.1");
        response.GetState.GetFrameworks.Frameworks.Should().ContainSingle().Which.FrameworkInfo.Name.Should().Be("proto-operator");

        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(cluster.MasterUrl, "api/v1"))
        {
            Content = Content(new MasterProto.Call { Type = MasterProto.Call.Types.Type.Subscribe }.ToByteArray(), Protobuf),
        };
        request.Headers.Accept.ParseAdd(Protobuf);
        using var stream = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        stream.StatusCode.Should().Be(HttpStatusCode.OK);
        stream.Content.Headers.ContentType!.MediaType.Should().Be(Protobuf);
        var reader = new RecordIOReader(await stream.Content.ReadAsStreamAsync());
        var first = MasterProto.Event.Parser.ParseFrom(await reader.ReadAsync());
        first.Type.Should().Be(MasterProto.Event.Types.Type.Subscribed);
        first.Subscribed.GetState.GetAgents.Agents.Should().ContainSingle();
    }

    [Fact]
    public async Task Agent_operator_and_executor_APIs_speak_protobuf()
    {
        await using var cluster = await InProcessCluster.StartAsync();
        using var http = new HttpClient();
        var agentUrl = cluster.Agent!.Url;

        var getHealth = new Mesos.V1.Agent.Call { Type = Mesos.V1.Agent.Call.Types.Type.GetHealth }.ToByteArray();
        var answer = await PostAsync(http, new Uri(agentUrl, "api/v1"), getHealth, Protobuf, accept: Protobuf);
        answer.Status.Should().Be(HttpStatusCode.OK);
        answer.ContentType.Should().Be(Protobuf);
        Mesos.V1.Agent.Response.Parser.ParseFrom(answer.Bytes).GetHealth.Healthy.Should().BeTrue();

        var garbage = await PostAsync(http, new Uri(agentUrl, "api/v1"), [0x12, 0x05, 0x01], Protobuf);
        garbage.Status.Should().Be(HttpStatusCode.BadRequest);
        garbage.Body.Should().StartWith("Failed to parse body into Call protobuf");

        var executorGarbage = await PostAsync(http, new Uri(agentUrl, "api/v1/executor"), [0x12, 0x05, 0x01], Protobuf);
        executorGarbage.Status.Should().Be(HttpStatusCode.BadRequest);
        executorGarbage.Body.Should().StartWith("Failed to parse body into executor call protobuf");

        // A well-formed executor SUBSCRIBE for an executor the agent never launched: decoded, then refused by validation.
        var subscribe = new Mesos.V1.Executor.Call
        {
            Type = Mesos.V1.Executor.Call.Types.Type.Subscribe,
            FrameworkId = new Mesos.V1.FrameworkID { Value = "no-such-framework" },
            ExecutorId = new Mesos.V1.ExecutorID { Value = "no-such-executor" },
            Subscribe = new Mesos.V1.Executor.Call.Types.Subscribe(),
        }.ToByteArray();
        var unknown = await PostAsync(http, new Uri(agentUrl, "api/v1/executor"), subscribe, Protobuf, accept: Protobuf);
        ((int)unknown.Status).Should().BeInRange(400, 499, unknown.Body);
    }

    private static ByteArrayContent Content(byte[] body, string contentType) =>
        new(body) { Headers = { ContentType = new MediaTypeHeaderValue(contentType) } };

    private static async Task<(HttpStatusCode Status, string Body, byte[] Bytes, string? ContentType)> PostAsync(
        HttpClient http, Uri url, byte[] body, string contentType, string? accept = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = Content(body, contentType) };
        if (accept is not null)
        {
            request.Headers.TryAddWithoutValidation("Accept", accept);
        }

        using var response = await http.SendAsync(request);
        var bytes = await response.Content.ReadAsByteArrayAsync();
        return (response.StatusCode, System.Text.Encoding.UTF8.GetString(bytes), bytes, response.Content.Headers.ContentType?.MediaType);
    }
}
