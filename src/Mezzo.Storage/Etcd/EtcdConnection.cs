using Etcdserverpb;
using Grpc.Core;
using Grpc.Net.Client;
using Grpc.Net.Client.Balancer;
using Grpc.Net.Client.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Mezzo.Storage.Etcd;

/// <summary>
/// One gRPC channel to an etcd cluster (spread over its endpoints) with the raw etcd v3 clients on it. Mezzo uses
/// the generated clients of <c>dotnet-etcd</c> directly rather than its <c>EtcdClient</c>: every call here carries its
/// own deadline and nothing is retried behind our back, because the master must learn fast that etcd is gone.
/// </summary>
public sealed class EtcdConnection : IDisposable
{
    private readonly GrpcChannel _channel;
    private readonly ServiceProvider _services;

    private EtcdConnection(EtcdTarget target, GrpcChannel channel, ServiceProvider services)
    {
        Target = target;
        _channel = channel;
        _services = services;
        Kv = new KV.KVClient(channel);
        Lease = new Lease.LeaseClient(channel);
    }

    public EtcdTarget Target { get; }

    public KV.KVClient Kv { get; }

    public Lease.LeaseClient Lease { get; }

    /// <summary>How long one etcd call may take before it counts as failed.</summary>
    public TimeSpan CallTimeout { get; init; } = TimeSpan.FromSeconds(3);

    public DateTime Deadline => DateTime.UtcNow + CallTimeout;

    public static EtcdConnection Open(EtcdTarget target, TimeSpan? callTimeout = null)
    {
        var addresses = target.Endpoints.Select(e => new BalancerAddress(e.Host, e.Port)).ToArray();
        var services = new ServiceCollection()
            .AddSingleton<ResolverFactory>(new StaticResolverFactory(_ => addresses))
            .BuildServiceProvider();
        var channel = GrpcChannel.ForAddress("static:///etcd", new GrpcChannelOptions
        {
            Credentials = ChannelCredentials.Insecure,
            ServiceProvider = services,
            ServiceConfig = new ServiceConfig { LoadBalancingConfigs = { new RoundRobinConfig() } },
            HttpHandler = new SocketsHttpHandler
            {
                ConnectTimeout = TimeSpan.FromSeconds(2),
                // A dead etcd member behind an open TCP connection is noticed by HTTP/2 pings, not by waiting.
                KeepAlivePingDelay = TimeSpan.FromSeconds(2),
                KeepAlivePingTimeout = TimeSpan.FromSeconds(2),
                KeepAlivePingPolicy = HttpKeepAlivePingPolicy.Always,
                EnableMultipleHttp2Connections = true,
            },
        });
        return new EtcdConnection(target, channel, services) { CallTimeout = callTimeout ?? TimeSpan.FromSeconds(3) };
    }

    /// <summary>Fails with <see cref="EtcdUnavailableException"/> unless etcd answers a read within the call timeout.</summary>
    public async Task CheckReachableAsync(CancellationToken cancellationToken)
    {
        try
        {
            await Kv.RangeAsync(new RangeRequest { Key = Google.Protobuf.ByteString.CopyFromUtf8(Target.LeaderKey) },
                deadline: Deadline, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (RpcException ex)
        {
            throw new EtcdUnavailableException($"Cannot reach etcd at {Target}: {Describe(ex)}", ex);
        }
    }

    public static string Describe(RpcException ex) => ex.StatusCode switch
    {
        StatusCode.DeadlineExceeded => "no answer in time",
        StatusCode.Unavailable => "unavailable (" + (ex.Status.DebugException?.Message ?? ex.Status.Detail) + ")",
        _ => $"{ex.StatusCode}: {ex.Status.Detail}",
    };

    public void Dispose()
    {
        _channel.Dispose();
        _services.Dispose();
    }
}

/// <summary>etcd could not be reached or did not answer in time.</summary>
public sealed class EtcdUnavailableException(string message, Exception? inner = null) : IOException(message, inner);
