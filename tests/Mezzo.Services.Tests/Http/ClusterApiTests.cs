using System.Text.Json.Nodes;

namespace Mezzo.Services.Tests.Http;

/// <summary>/ping, /v2/info, /v2/leader, /v2/queue, /v2/tasks, /v2/groups and /v2/events over real HTTP.</summary>
public sealed class ClusterApiTests
{
    [Fact]
    public async Task Ping_info_and_leader_answer_like_Marathon()
    {
        await using var host = await ServicesHost.StartAsync();

        (await host.Http.GetStringAsync("/ping")).Should().Be("pong");
        var info = (await host.GetAsync("/v2/info")).Body!;
        info["name"]!.GetValue<string>().Should().Be("marathon");
        info["elected"]!.GetValue<bool>().Should().BeTrue();
        info["leader"]!.GetValue<string>().Should().Be($"127.0.0.1:{host.Server.Url.Port}");
        info["marathon_config"]!["master"]!.GetValue<string>().Should().Be("127.0.0.1:1");
        (await host.GetAsync("/v2/leader")).Body!["leader"]!.GetValue<string>().Should().Be($"127.0.0.1:{host.Server.Url.Port}");
    }

    [Fact]
    public async Task Apps_waiting_for_offers_are_in_the_queue_and_their_delay_can_be_reset()
    {
        await using var host = await ServicesHost.StartAsync();
        await host.PostAsync("/v2/apps", """{"id":"/web","cmd":"x","instances":3}""");

        var queue = (await host.GetAsync("/v2/queue")).Body!["queue"]!.AsArray();

        var item = queue.Should().ContainSingle().Subject!;
        item["count"]!.GetValue<int>().Should().Be(3);
        item["app"]!["id"]!.GetValue<string>().Should().Be("/web");
        item["delay"]!["overdue"]!.GetValue<bool>().Should().BeTrue();
        (await host.SendAsync(HttpMethod.Delete, "/v2/queue/web/delay")).Status.Should().Be(204);
        var (status, body, _) = await host.SendAsync(HttpMethod.Delete, "/v2/queue/other/delay");
        status.Should().Be(404);
        body!["message"]!.GetValue<string>().Should().Contain("/other");
    }

    [Fact]
    public async Task Tasks_and_task_deletion_with_unknown_ids_and_bad_bodies()
    {
        await using var host = await ServicesHost.StartAsync();

        (await host.GetAsync("/v2/tasks")).Body!["tasks"]!.AsArray().Should().BeEmpty();
        var (status, body, _) = await host.PostAsync("/v2/tasks/delete", """{"ids":["web.instance-nope"]}""");
        status.Should().Be(200);
        body!["tasks"]!.AsArray().Should().BeEmpty();
        (await host.PostAsync("/v2/tasks/delete", """{"ids":"web"}""")).Status.Should().Be(400);
        await host.PostAsync("/v2/apps", """{"id":"/web","cmd":"x"}""");
        (await host.SendAsync(HttpMethod.Delete, "/v2/apps/web/tasks/web.instance-nope")).Body!["message"]!.GetValue<string>()
            .Should().Be("Task 'web.instance-nope' does not exist");
    }

    [Fact]
    public async Task Groups_nest_apps_by_their_path()
    {
        await using var host = await ServicesHost.StartAsync();
        await host.PostAsync("/v2/apps", """{"id":"/prod/web","cmd":"x"}""");
        await host.PostAsync("/v2/apps", """{"id":"/top","cmd":"x"}""");

        var root = (await host.GetAsync("/v2/groups")).Body!;

        root["id"]!.GetValue<string>().Should().Be("/");
        root["apps"]!.AsArray().Select(a => a!["id"]!.GetValue<string>()).Should().Equal("/top");
        var prod = root["groups"]!.AsArray().Single()!;
        prod["id"]!.GetValue<string>().Should().Be("/prod");
        prod["apps"]![0]!["id"]!.GetValue<string>().Should().Be("/prod/web");
    }

    [Fact]
    public async Task The_event_stream_sends_Marathon_events_filtered_by_type()
    {
        await using var host = await ServicesHost.StartAsync();
        using var all = await OpenEventsAsync(host, "/v2/events");
        using var filtered = await OpenEventsAsync(host, "/v2/events?event_type=deployment_info");

        (await NextEventAsync(all.Reader)).Type.Should().Be("event_stream_attached");
        await host.PostAsync("/v2/apps", """{"id":"/web","cmd":"x"}""");

        var types = new List<string>();
        JsonNode? posted = null;
        while (!types.Contains("api_post_event") || !types.Contains("deployment_info"))
        {
            var (type, data) = await NextEventAsync(all.Reader);
            types.Add(type);
            if (type == "api_post_event")
            {
                posted = data;
            }
        }

        posted!["appDefinition"]!["id"]!.GetValue<string>().Should().Be("/web");
        posted["eventType"]!.GetValue<string>().Should().Be("api_post_event");
        posted["timestamp"].Should().NotBeNull();
        var (onlyType, plan) = await NextEventAsync(filtered.Reader);
        onlyType.Should().Be("deployment_info");
        plan["plan"]!["target"]!["apps"]![0]!["id"]!.GetValue<string>().Should().Be("/web");
    }

    private sealed class EventStream(HttpResponseMessage response, StreamReader reader) : IDisposable
    {
        public StreamReader Reader { get; } = reader;

        public void Dispose()
        {
            Reader.Dispose();
            response.Dispose();
        }
    }

    private static async Task<EventStream> OpenEventsAsync(ServicesHost host, string path)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Accept.ParseAdd("text/event-stream");
        var response = await host.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        response.Content.Headers.ContentType!.MediaType.Should().Be("text/event-stream");
        return new EventStream(response, new StreamReader(await response.Content.ReadAsStreamAsync()));
    }

    private static async Task<(string Type, JsonNode Data)> NextEventAsync(StreamReader reader)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        string? type = null;
        while (true)
        {
            var line = await reader.ReadLineAsync(timeout.Token) ?? throw new EndOfStreamException("The event stream ended");
            if (line.StartsWith("event: ", StringComparison.Ordinal))
            {
                type = line["event: ".Length..];
            }
            else if (line.StartsWith("data: ", StringComparison.Ordinal))
            {
                return (type!, JsonNode.Parse(line["data: ".Length..])!);
            }
        }
    }
}
