using Etcdserverpb;
using Grpc.Core;
using Microsoft.Extensions.Logging;

namespace Mezzo.Storage.Etcd;

/// <summary>
/// One term as leader: the lease that holds the leader key, kept alive every third of its TTL. <see cref="Lost"/>
/// fires when the term is over: the lease was refused or revoked, it could not be renewed before it may have expired
/// on the server, or a fenced registry write was refused (<see cref="Abdicate"/>). After that the holder must stop
/// acting at once; its writes fail anyway because they compare the key's create revision.
/// </summary>
public sealed partial class Leadership : IAsyncDisposable
{
    private readonly EtcdConnection _etcd;
    private readonly TimeSpan _ttl;
    private readonly TimeProvider _time;
    private readonly ILogger _log;
    private readonly CancellationTokenSource _lost;
    private readonly CancellationTokenSource _stopping = new();
    private Task? _keepAlive;
    private string? _lostReason;

    internal Leadership(EtcdConnection etcd, long leaseId, long createRevision, TimeSpan ttl, TimeProvider time, ILogger log)
    {
        _etcd = etcd;
        LeaseId = leaseId;
        CreateRevision = createRevision;
        _ttl = ttl;
        _time = time;
        _log = log;
        _lost = new CancellationTokenSource(Until(ttl, DateTimeOffset.MinValue), time);
    }

    public long LeaseId { get; }

    /// <summary>The leader key's create revision: the term's fencing token.</summary>
    public long CreateRevision { get; }

    public string LeaderKey => _etcd.Target.LeaderKey;

    public CancellationToken Lost => _lost.Token;

    public string LostReason => _lostReason ?? "the leader lease was not renewed before it could expire";

    internal EtcdConnection Etcd => _etcd;

    /// <summary>Ends the term from inside: a write was refused or failed, so this master must not act any more.</summary>
    public void Abdicate(string reason)
    {
        Interlocked.CompareExchange(ref _lostReason, reason, null);
        try
        {
            _lost.Cancel();
        }
        catch (ObjectDisposedException)
        {
        }
    }

    /// <summary>Replaces the leader key's value (what standbys and clients read), only while this term holds it.</summary>
    public async Task ProclaimAsync(string value, CancellationToken cancellationToken)
    {
        var key = Google.Protobuf.ByteString.CopyFromUtf8(LeaderKey);
        var txn = new TxnRequest
        {
            Compare = { new Compare { Key = key, Target = Compare.Types.CompareTarget.Create, Result = Compare.Types.CompareResult.Equal, CreateRevision = CreateRevision } },
            Success = { new RequestOp { RequestPut = new PutRequest { Key = key, Value = Google.Protobuf.ByteString.CopyFromUtf8(value), Lease = LeaseId } } },
        };
        TxnResponse result;
        try
        {
            result = await _etcd.Kv.TxnAsync(txn, deadline: _etcd.Deadline, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (RpcException ex)
        {
            var reason = $"announcing the leader in etcd failed: {EtcdConnection.Describe(ex)}";
            Abdicate(reason);
            throw new RegistryFencedException(reason, ex);
        }

        if (!result.Succeeded)
        {
            var reason = $"{LeaderKey} is no longer held by this term (revision {CreateRevision})";
            Abdicate(reason);
            throw new RegistryFencedException(reason);
        }
    }

    internal void Start() => _keepAlive = Task.Run(KeepAliveLoopAsync);

    private async Task KeepAliveLoopAsync()
    {
        var period = _ttl / 3;
        AsyncDuplexStreamingCall<LeaseKeepAliveRequest, LeaseKeepAliveResponse>? call = null;
        try
        {
            while (!_lost.IsCancellationRequested && !_stopping.IsCancellationRequested)
            {
                var sentAt = _time.GetUtcNow();
                try
                {
                    call ??= _etcd.Lease.LeaseKeepAlive(cancellationToken: _stopping.Token);
                    using var answer = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
                    answer.CancelAfter(_etcd.CallTimeout);
                    await call.RequestStream.WriteAsync(new LeaseKeepAliveRequest { ID = LeaseId }, answer.Token).ConfigureAwait(false);
                    if (!await call.ResponseStream.MoveNext(answer.Token).ConfigureAwait(false))
                    {
                        throw new IOException("etcd closed the keep-alive stream");
                    }

                    if (call.ResponseStream.Current.TTL <= 0)
                    {
                        Abdicate($"the leader lease {LeaseId} has expired or was revoked");
                        break;
                    }

                    // The server renewed the lease no earlier than we sent the request: from then on it lives TTL.
                    _lost.CancelAfter(Until(_ttl, sentAt));
                }
                catch (Exception ex) when (ex is RpcException or IOException or OperationCanceledException && !_stopping.IsCancellationRequested)
                {
                    Log.KeepAliveFailed(_log, LeaseId, ex.Message);
                    call?.Dispose();
                    call = null;
                }

                await Task.Delay(period, _time, _stopping.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
        }
        finally
        {
            call?.Dispose();
        }
    }

    // Step down a little before the server may expire the lease, so that two masters never both believe they lead.
    private TimeSpan Until(TimeSpan ttl, DateTimeOffset renewedAt)
    {
        var margin = TimeSpan.FromTicks(Math.Min(ttl.Ticks / 10, TimeSpan.FromMilliseconds(500).Ticks));
        var now = _time.GetUtcNow();
        var start = renewedAt == DateTimeOffset.MinValue ? now : renewedAt;
        var left = start + ttl - margin - now;
        return left > TimeSpan.Zero ? left : TimeSpan.FromTicks(1);
    }

    /// <summary>Ends the term and revokes the lease, so etcd deletes the key now and a standby takes over at once.</summary>
    public async ValueTask DisposeAsync()
    {
        Abdicate("resigned");
        await _stopping.CancelAsync().ConfigureAwait(false);
        if (_keepAlive is not null)
        {
            await _keepAlive.ConfigureAwait(false);
        }

        await EtcdLeaderElection.RevokeQuietlyAsync(_etcd, LeaseId).ConfigureAwait(false);
        _stopping.Dispose();
        _lost.Dispose();
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Warning, Message = "Renewing leader lease {Lease} failed: {Reason}")]
        public static partial void KeepAliveFailed(ILogger logger, long lease, string reason);
    }
}
