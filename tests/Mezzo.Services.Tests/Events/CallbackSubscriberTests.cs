using System.Net;
using System.Net.Sockets;
using Mezzo.Services.Events;
using Mezzo.Services.Tests.Health;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Mezzo.Services.Tests.Events;

/// <summary>Event delivery to HTTP callback subscribers, against real loopback listeners.</summary>
public sealed class CallbackSubscriberTests
{
    private static readonly CallbackSettings Settings = new(Queue: 100, Timeout: TimeSpan.FromSeconds(10), Attempts: 3, FirstRetryDelay: TimeSpan.FromSeconds(1));

    [Fact]
    public async Task Events_are_POSTed_as_JSON_in_order_while_a_dead_and_a_hanging_subscriber_fail_on_their_own()
    {
        var time = new FakeTimeProvider();
        await using var live = new LoopbackServer(_ => LoopbackServer.Status(200));
        await using var hanging = new LoopbackServer(_ => null);
        await using var toLive = new CallbackSubscriber(live.Url, Settings, time, NullLogger.Instance);
        await using var toDead = new CallbackSubscriber(new Uri($"http://127.0.0.1:{FreePort()}/events"), Settings, time, NullLogger.Instance);
        await using var toHanging = new CallbackSubscriber(hanging.Url, Settings, time, NullLogger.Instance);

        for (var i = 0; i < 3; i++)
        {
            var json = $$"""{"eventType":"status_update_event","n":{{i}}}""";
            toDead.Offer(json);
            toHanging.Offer(json);
            toLive.Offer(json);
        }

        // The live subscriber gets all three without the clock moving: nobody else's retries or timeouts hold it up.
        for (var i = 0; i < 3; i++)
        {
            (await live.Bodies.Reader.ReadAsync()).Should().Be($$"""{"eventType":"status_update_event","n":{{i}}}""");
        }

        (await Eventually.TrueAsync(() => toLive.Delivered == 3)).Should().BeTrue();
        var head = await live.Heads.Reader.ReadAsync();
        head.Should().StartWith("POST /events HTTP/1.1").And.Contain("Content-Type: application/json");

        // The dead one is retried with backoff (1 s, 2 s) and each event dropped after 3 attempts; the hanging one
        // times out after 10 s per attempt.
        var deadline = System.Diagnostics.Stopwatch.StartNew();
        while ((toDead.Failed < 3 || toHanging.Failed < 3) && deadline.Elapsed < TimeSpan.FromSeconds(30))
        {
            time.Advance(TimeSpan.FromSeconds(1));
            await Task.Delay(10);
        }

        toDead.Failed.Should().Be(3);
        toDead.Delivered.Should().Be(0);
        toHanging.Failed.Should().Be(3);
        hanging.Requests.Should().Be(9, "3 events × 3 attempts, each one waited out");
    }

    [Fact]
    public async Task A_failed_POST_is_retried_after_the_backoff_and_then_delivered()
    {
        var time = new FakeTimeProvider();
        await using var flaky = new LoopbackServer(n => LoopbackServer.Status(n == 1 ? 503 : 200));
        await using var subscriber = new CallbackSubscriber(flaky.Url, Settings, time, NullLogger.Instance);

        subscriber.Offer("""{"eventType":"deployment_success"}""");
        (await Eventually.TrueAsync(() => flaky.Requests == 1)).Should().BeTrue();
        await Task.Delay(100);
        flaky.Requests.Should().Be(1, "the retry waits for the backoff on the clock");

        (await Eventually.DriveAsync(time, Eventually.TrueAsync(() => subscriber.Delivered == 1), TimeSpan.FromMilliseconds(500))).Should().BeTrue();
        flaky.Requests.Should().Be(2);
        subscriber.Failed.Should().Be(0);
    }

    [Fact]
    public async Task A_full_queue_drops_the_oldest_events_and_never_blocks_the_sender()
    {
        var time = new FakeTimeProvider();
        await using var hanging = new LoopbackServer(_ => null);
        await using var subscriber = new CallbackSubscriber(hanging.Url, Settings with { Queue = 2, Attempts = 1 }, time, NullLogger.Instance);

        subscriber.Offer("0");
        (await Eventually.TrueAsync(() => hanging.Requests == 1)).Should().BeTrue("event 0 is in flight");
        for (var i = 1; i <= 10; i++)
        {
            subscriber.Offer(i.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        // 0 times out; of 1..10 only the newest two were kept.
        var deadline = System.Diagnostics.Stopwatch.StartNew();
        while (subscriber.Failed < 3 && deadline.Elapsed < TimeSpan.FromSeconds(30))
        {
            time.Advance(TimeSpan.FromSeconds(1));
            await Task.Delay(10);
        }

        subscriber.Failed.Should().Be(3);
        var bodies = new List<string>();
        while (hanging.Bodies.Reader.TryRead(out var body))
        {
            bodies.Add(body);
        }

        bodies.Should().Equal("0", "9", "10");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
