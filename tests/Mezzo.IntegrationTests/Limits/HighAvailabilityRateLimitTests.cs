using System.Net;
using System.Net.Sockets;
using System.Text;
using Mezzo.Hosting.Limits;
using Mezzo.IntegrationTests.Infrastructure;
using Mezzo.Master;

namespace Mezzo.IntegrationTests.Limits;

/// <summary>
/// With an etcd store the master serves each term's routes behind a leader/standby switch: the rate limit sits in
/// front of that switch and applies to the leader's APIs as it does to a single master's.
/// </summary>
public sealed class HighAvailabilityRateLimitTests
{
    [Fact]
    public async Task An_elected_master_rate_limits_its_operator_api_per_client()
    {
        await using var etcd = await EtcdServer.StartAsync();
        using var dir = new TempDir();
        await using var master = MasterServer.Create(new MasterOptions
        {
            Port = 0,
            Ip = "127.0.0.1",
            Hostname = "127.0.0.1",
            WorkDir = dir.Path,
            Store = etcd.Url(),
            LeaderLeaseTtl = TimeSpan.FromSeconds(2),
            RateLimit = new ClientRateLimitOptions { PermitsPerSecond = 1, Burst = 2, ExemptLoopback = false },
        }, TestLogging.Configure);
        await master.StartAsync();
        await Poll.UntilAsync(() => master.IsLeading, "the only master to be elected");
        using var client = ClientFrom("127.0.0.2");

        var refused = false;
        for (var attempt = 0; attempt < 8 && !refused; attempt++)
        {
            using var content = new StringContent("""{"type":"GET_HEALTH"}""", Encoding.UTF8, "application/json");
            using var response = await client.PostAsync(new Uri(master.Url, "api/v1"), content);
            response.StatusCode.Should().BeOneOf(HttpStatusCode.OK, HttpStatusCode.TooManyRequests);
            refused = response.StatusCode == HttpStatusCode.TooManyRequests;
            if (refused)
            {
                response.Headers.RetryAfter.Should().NotBeNull();
            }
        }

        refused.Should().BeTrue("a burst of 2 at 1 call a second is spent within 8 back-to-back calls");
    }

    private static HttpClient ClientFrom(string source) => new(new SocketsHttpHandler
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
    });
}
