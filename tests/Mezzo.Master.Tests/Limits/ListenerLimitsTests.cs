using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Mezzo.Hosting.Limits;

namespace Mezzo.Master.Tests.Limits;

/// <summary>
/// A real master (Kestrel) with small limits: per-client rate limits on the scheduler and operator APIs, and the
/// listener's header limits and slow-loris timeout. Clients are told apart by their loopback source address
/// (127.0.0.x), which Linux lets a socket bind to.
/// </summary>
public sealed class ListenerLimitsTests : IAsyncLifetime
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(20);
    private readonly string _dir = Directory.CreateTempSubdirectory("mezzo-master-limits-").FullName;
    private readonly List<MasterServer> _masters = [];
    private readonly List<HttpClient> _clients = [];

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        foreach (var client in _clients)
        {
            client.Dispose();
        }

        foreach (var master in _masters)
        {
            await master.DisposeAsync();
        }

        Directory.Delete(_dir, recursive: true);
    }

    private async Task<MasterServer> StartMasterAsync(ClientRateLimitOptions rateLimit, ListenerLimitsOptions? listener = null)
    {
        var master = MasterServer.Create(new MasterOptions
        {
            Port = 0,
            Ip = "127.0.0.1",
            Hostname = "127.0.0.1",
            WorkDir = Directory.CreateDirectory(Path.Combine(_dir, $"master-{_masters.Count}")).FullName,
            RateLimit = rateLimit,
            ListenerLimits = listener ?? new ListenerLimitsOptions(),
        });
        _masters.Add(master);
        await master.StartAsync(TestContext.Current.CancellationToken);
        return master;
    }

    private static ClientRateLimitOptions Strict() => new() { PermitsPerSecond = 1, Burst = 3, ExemptLoopback = false };

    /// <summary>An HTTP client whose connections come from <paramref name="source"/> (e.g. 127.0.0.2).</summary>
    private HttpClient ClientFrom(string source)
    {
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (context, cancellationToken) =>
            {
                var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                try
                {
                    socket.Bind(new IPEndPoint(IPAddress.Parse(source), 0));
                    await socket.ConnectAsync(context.DnsEndPoint, cancellationToken);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        };
        var client = new HttpClient(handler);
        _clients.Add(client);
        return client;
    }

    private static async Task<HttpResponseMessage> PostAsync(HttpClient client, MasterServer master, string path, string json)
    {
        using var content = new StringContent(json, Encoding.UTF8, "application/json");
        return await client.PostAsync(new Uri(master.Url, path), content, TestContext.Current.CancellationToken);
    }

    private static Task<HttpResponseMessage> HealthAsync(HttpClient client, MasterServer master) =>
        PostAsync(client, master, "api/v1", """{"type":"GET_HEALTH"}""");

    /// <summary>Calls until one is refused (the bucket refills once a second, so a call may slip in between).</summary>
    private static async Task<HttpResponseMessage> CallUntilRefusedAsync(Func<Task<HttpResponseMessage>> call, int burst)
    {
        for (var attempt = 0; attempt < burst + 5; attempt++)
        {
            var response = await call();
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                return response;
            }

            response.Dispose();
        }

        throw new Xunit.Sdk.XunitException($"No 429 after {burst + 5} calls with a burst of {burst}");
    }

    [Fact]
    public async Task A_client_over_the_limit_gets_429_with_retry_after_and_is_served_again_after_the_window()
    {
        var master = await StartMasterAsync(Strict());
        var greedy = ClientFrom("127.0.0.2");
        var other = ClientFrom("127.0.0.3");

        using var refused = await CallUntilRefusedAsync(() => HealthAsync(greedy, master), 3);

        refused.Headers.RetryAfter.Should().NotBeNull();
        refused.Headers.RetryAfter!.Delta.Should().BeGreaterThanOrEqualTo(TimeSpan.FromSeconds(1)).And.BeLessThanOrEqualTo(TimeSpan.FromSeconds(2));
        refused.Content.Headers.ContentType!.MediaType.Should().Be("text/plain");
        (await refused.Content.ReadAsStringAsync(TestContext.Current.CancellationToken))
            .Should().Be("Too many requests from 127.0.0.2: the limit is 1 calls per second with bursts of 3; retry after 1s");

        using (var unaffected = await HealthAsync(other, master))
        {
            unaffected.StatusCode.Should().Be(HttpStatusCode.OK, "each client has its own bucket");
        }

        using (var state = await greedy.GetAsync(new Uri(master.Url, "state"), TestContext.Current.CancellationToken))
        {
            state.StatusCode.Should().Be(HttpStatusCode.OK, "only the scheduler and operator APIs are limited");
        }

        var clock = Stopwatch.StartNew();
        while (true)
        {
            using var again = await HealthAsync(greedy, master);
            if (again.StatusCode == HttpStatusCode.OK)
            {
                break;
            }

            again.StatusCode.Should().Be(HttpStatusCode.TooManyRequests);
            clock.Elapsed.Should().BeLessThan(Deadline, "the bucket refills once a second");
            await Task.Delay(50, TestContext.Current.CancellationToken);
        }
    }

    [Theory]
    [InlineData("api/v1/scheduler", "127.0.0.4")]
    [InlineData("api/v1", "127.0.0.5")]
    [InlineData("master/api/v1", "127.0.0.6")]
    public async Task The_scheduler_and_operator_apis_are_limited_even_for_calls_they_reject(string path, string source)
    {
        var master = await StartMasterAsync(Strict());
        var client = ClientFrom(source);

        // A malformed call still costs a token: otherwise garbage would be the way around the limit.
        using var refused = await CallUntilRefusedAsync(() => PostAsync(client, master, path, "{not json"), 3);

        refused.Headers.RetryAfter.Should().NotBeNull();
    }

    [Fact]
    public async Task Paths_outside_the_apis_are_never_limited()
    {
        var master = await StartMasterAsync(Strict());
        var client = ClientFrom("127.0.0.7");

        for (var i = 0; i < 10; i++)
        {
            using var response = await client.GetAsync(new Uri(master.Url, "state"), TestContext.Current.CancellationToken);
            response.StatusCode.Should().Be(HttpStatusCode.OK);
        }
    }

    [Theory]
    [InlineData(0, 3, false)]
    [InlineData(1, 0, false)]
    [InlineData(1, 1, null)]
    public async Task A_zero_limit_is_off_and_loopback_is_exempt_by_default(int qps, int burst, bool? exemptLoopback)
    {
        var options = new ClientRateLimitOptions { PermitsPerSecond = qps, Burst = burst };
        if (exemptLoopback is { } exempt)
        {
            options.ExemptLoopback = exempt;
        }

        var master = await StartMasterAsync(options);
        var client = ClientFrom("127.0.0.8");

        for (var i = 0; i < 10; i++)
        {
            using var response = await HealthAsync(client, master);
            response.StatusCode.Should().Be(HttpStatusCode.OK);
        }
    }

    [Fact]
    public async Task A_slow_loris_client_is_cut_by_the_headers_timeout_while_others_are_served()
    {
        var master = await StartMasterAsync(new ClientRateLimitOptions(), new ListenerLimitsOptions { RequestHeadersTimeout = TimeSpan.FromSeconds(2) });
        using var slow = new TcpClient();
        await slow.ConnectAsync(IPAddress.Loopback, master.Url.Port, TestContext.Current.CancellationToken);
        var stream = slow.GetStream();
        await stream.WriteAsync("POST /api/v1 HTTP/1.1\r\nHost: master\r\n"u8.ToArray(), TestContext.Current.CancellationToken);
        using var stopDrip = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        // The attack itself: a header line trickled one byte a second, never finished.
        var drip = Task.Run(async () =>
        {
            using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
            try
            {
                while (await timer.WaitForNextTickAsync(stopDrip.Token))
                {
                    await stream.WriteAsync("x"u8.ToArray(), stopDrip.Token);
                }
            }
            catch (Exception ex) when (ex is IOException or OperationCanceledException or ObjectDisposedException)
            {
                // Cut by the server (or the test is over).
            }
        });
        var clock = Stopwatch.StartNew();

        using (var normal = await HealthAsync(ClientFrom("127.0.0.9"), master))
        {
            normal.StatusCode.Should().Be(HttpStatusCode.OK, "a trickling client does not hold up others");
        }

        using var readDeadline = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        readDeadline.CancelAfter(Deadline);
        var answer = new StringBuilder();
        var buffer = new byte[1024];
        try
        {
            int read;
            while ((read = await stream.ReadAsync(buffer, readDeadline.Token)) > 0)
            {
                answer.Append(Encoding.ASCII.GetString(buffer, 0, read));
            }
        }
        catch (IOException)
        {
            // A reset is as good as a close.
        }

        readDeadline.IsCancellationRequested.Should().BeFalse("the server must close the connection, not the test give up");
        clock.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(10), "the headers timeout is 2s");
        if (answer.Length > 0)
        {
            answer.ToString().Should().StartWith("HTTP/1.1 408");
        }

        await stopDrip.CancelAsync();
        await drip;
    }

    [Fact]
    public async Task Too_many_request_headers_are_refused_with_431()
    {
        var master = await StartMasterAsync(new ClientRateLimitOptions(), new ListenerLimitsOptions { MaxRequestHeaderCount = 5 });
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(master.Url, "state"));
        for (var i = 0; i < 10; i++)
        {
            request.Headers.Add($"X-Extra-{i}", "1");
        }

        using var response = await ClientFrom("127.0.0.10").SendAsync(request, TestContext.Current.CancellationToken);

        response.StatusCode.Should().Be(HttpStatusCode.RequestHeaderFieldsTooLarge);
    }
}
