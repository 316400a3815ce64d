using System.Text.Json.Nodes;
using Mezzo.Services.Tests.Health;

namespace Mezzo.Services.Tests.Http;

/// <summary>/v2/eventSubscriptions over real HTTP, delivering to a real local listener.</summary>
public sealed class EventSubscriptionsApiTests
{
    [Fact]
    public async Task A_subscriber_is_listed_stored_sent_events_and_removed()
    {
        await using var listener = new LoopbackServer(_ => LoopbackServer.Status(200));
        var dir = Directory.CreateTempSubdirectory("mezzo-services-callbacks-").FullName;
        try
        {
            var url = listener.Url.ToString();
            await using (var host = await ServicesHost.StartAsync(dir))
            {
                (await host.GetAsync("/v2/eventSubscriptions")).Body!.ToJsonString().Should().Be("""{"callbackUrls":[]}""");

                var (status, body, _) = await host.SendAsync(HttpMethod.Post, "/v2/eventSubscriptions?callbackUrl=" + Uri.EscapeDataString(url));

                status.Should().Be(200);
                body!["eventType"]!.GetValue<string>().Should().Be("subscribe_event");
                body["callbackUrl"]!.GetValue<string>().Should().Be(url);
                body["clientIp"]!.GetValue<string>().Should().Be("127.0.0.1");
                body["timestamp"]!.GetValue<string>().Should().NotBeEmpty();
                (await host.GetAsync("/v2/eventSubscriptions")).Body!["callbackUrls"]!.AsArray().Select(u => u!.GetValue<string>()).Should().Equal(url);
                (await host.GetAsync("/v2/info")).Body!["event_subscriber"]!.ToJsonString().Should().Be($$"""{"type":"http_callback","http_endpoints":["{{url}}"]}""");
                (await NextEventAsync(listener))["eventType"]!.GetValue<string>().Should().Be("subscribe_event", "a subscriber hears of its own subscription");

                // Subscribing twice keeps one subscription.
                (await host.SendAsync(HttpMethod.Post, "/v2/eventSubscriptions?callbackUrl=" + Uri.EscapeDataString(url))).Status.Should().Be(200);
                (await host.GetAsync("/v2/eventSubscriptions")).Body!["callbackUrls"]!.AsArray().Should().ContainSingle();
                (await NextEventAsync(listener))["eventType"]!.GetValue<string>().Should().Be("subscribe_event");
            }

            // Stored: a restarted services process still delivers to it.
            await using (var host = await ServicesHost.StartAsync(dir))
            {
                (await host.GetAsync("/v2/eventSubscriptions")).Body!["callbackUrls"]!.AsArray().Select(u => u!.GetValue<string>()).Should().Equal(url);
                (await host.PostAsync("/v2/apps", """{"id":"/web","cmd":"sleep 100","cpus":0.1,"mem":16}""")).Status.Should().Be(201);
                var types = new List<string>();
                while (!types.Contains("api_post_event") || !types.Contains("deployment_info"))
                {
                    types.Add((await NextEventAsync(listener))["eventType"]!.GetValue<string>());
                }

                var (status, body, _) = await host.SendAsync(HttpMethod.Delete, "/v2/eventSubscriptions?callbackUrl=" + Uri.EscapeDataString(url));
                status.Should().Be(200);
                body!["eventType"]!.GetValue<string>().Should().Be("unsubscribe_event");
                body["callbackUrl"]!.GetValue<string>().Should().Be(url);
                (await host.GetAsync("/v2/eventSubscriptions")).Body!["callbackUrls"]!.AsArray().Should().BeEmpty();
            }

            await using (var host = await ServicesHost.StartAsync(dir))
            {
                (await host.GetAsync("/v2/eventSubscriptions")).Body!["callbackUrls"]!.AsArray().Should().BeEmpty("the removal was stored too");
            }
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task A_dead_subscriber_does_not_hold_up_the_API_or_a_live_one()
    {
        await using var live = new LoopbackServer(_ => LoopbackServer.Status(200));
        await using var hanging = new LoopbackServer(_ => null);
        await using var host = await ServicesHost.StartAsync();
        (await host.SendAsync(HttpMethod.Post, "/v2/eventSubscriptions?callbackUrl=" + Uri.EscapeDataString(hanging.Url.ToString()))).Status.Should().Be(200);
        (await host.SendAsync(HttpMethod.Post, "/v2/eventSubscriptions?callbackUrl=" + Uri.EscapeDataString("http://127.0.0.1:1/refused"))).Status.Should().Be(200);
        (await host.SendAsync(HttpMethod.Post, "/v2/eventSubscriptions?callbackUrl=" + Uri.EscapeDataString(live.Url.ToString()))).Status.Should().Be(200);

        for (var i = 0; i < 5; i++)
        {
            (await host.PostAsync("/v2/apps", $$"""{"id":"/app{{i}}","cmd":"sleep 100","cpus":0.1,"mem":16}""")).Status.Should().Be(201);
        }

        var created = new HashSet<string>();
        while (created.Count < 5)
        {
            var ev = await NextEventAsync(live);
            if (ev["eventType"]!.GetValue<string>() == "api_post_event")
            {
                created.Add(ev["appDefinition"]!["id"]!.GetValue<string>());
            }
        }

        created.Should().BeEquivalentTo(["/app0", "/app1", "/app2", "/app3", "/app4"]);
        hanging.Requests.Should().BeLessThanOrEqualTo(1, "the hanging subscriber is still stuck on its first event");
    }

    [Theory]
    [InlineData("?callbackUrl=not%20a%20url")]
    [InlineData("?callbackUrl=ftp%3A%2F%2Fhost%2Fx")]
    [InlineData("?callbackUrl=%2Frelative")]
    [InlineData("")]
    public async Task An_invalid_callbackUrl_is_422_and_nothing_is_subscribed(string query)
    {
        await using var host = await ServicesHost.StartAsync();

        foreach (var method in new[] { HttpMethod.Post, HttpMethod.Delete })
        {
            var (status, body, _) = await host.SendAsync(method, "/v2/eventSubscriptions" + query);

            status.Should().Be(422, method.ToString());
            body!["message"]!.GetValue<string>().Should().Be("Object is not valid");
            body["details"]![0]!["path"]!.GetValue<string>().Should().Be("/callbackUrl");
            body["details"]![0]!["errors"]![0]!.GetValue<string>().Should().MatchRegex(query.Length == 0 ? "callbackUrl is missing" : "^URL has invalid syntax");
        }

        (await host.GetAsync("/v2/eventSubscriptions")).Body!["callbackUrls"]!.AsArray().Should().BeEmpty();
    }

    [Fact]
    public async Task With_callbacks_off_every_call_gets_Marathons_400()
    {
        await using var host = await ServicesHost.StartAsync(configure: options => options.HttpCallbacks = false);

        foreach (var method in new[] { HttpMethod.Get, HttpMethod.Post, HttpMethod.Delete })
        {
            var (status, body, _) = await host.SendAsync(method, "/v2/eventSubscriptions?callbackUrl=http%3A%2F%2F127.0.0.1%3A9%2Fx");

            status.Should().Be(400);
            body!["message"]!.GetValue<string>().Should().Be("http event callback system is not running on this Marathon instance. Please re-start this instance with \"--event_subscriber http_callback\".");
        }

        (await host.GetAsync("/v2/info")).Body!["event_subscriber"].Should().BeNull();
    }

    private static async Task<JsonNode> NextEventAsync(LoopbackServer listener)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        return JsonNode.Parse(await listener.Bodies.Reader.ReadAsync(timeout.Token))!;
    }
}
