using Etcdserverpb;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.Extensions.Logging;

namespace Mezzo.Storage.Etcd;

/// <summary>
/// Leader election on one etcd key held with a lease: the first candidate to create the key (a transaction that
/// puts only while the key does not exist) leads for as long as it keeps the lease alive; when the leader dies the
/// lease expires, etcd deletes the key and the next candidate to see it gone takes it. The key's create revision
/// identifies the term, and every registry write of the leader is conditional on it (see
/// <see cref="EtcdRegistryStore"/>), so a leader that lost the key can never write again.
/// </summary>
public sealed partial class EtcdLeaderElection
{
    private readonly EtcdConnection _etcd;
    private readonly TimeSpan _leaseTtl;
    private readonly TimeProvider _time;
    private readonly ILogger _log;
    private volatile LeaderObservation _observed = new(null, false);

    public EtcdLeaderElection(EtcdConnection etcd, TimeSpan leaseTtl, TimeProvider time, ILogger log)
    {
        if (leaseTtl < TimeSpan.FromSeconds(1))
        {
            throw new ArgumentOutOfRangeException(nameof(leaseTtl), leaseTtl, "The leader lease TTL must be at least 1s (etcd counts leases in seconds).");
        }

        _etcd = etcd;
        _leaseTtl = leaseTtl;
        _time = time;
        _log = log;
        // A standby notices a vanished leader key within this; small beside the TTL, which dominates failover.
        PollInterval = TimeSpan.FromTicks(Math.Clamp(leaseTtl.Ticks / 10, TimeSpan.FromMilliseconds(50).Ticks, TimeSpan.FromMilliseconds(250).Ticks));
    }

    public TimeSpan PollInterval { get; }

    public TimeSpan LeaseTtl => _leaseTtl;

    /// <summary>The leader as last seen (its key's value), or null with EtcdReachable telling why.</summary>
    public LeaderObservation Observed => _observed;

    /// <summary>Reads the leader key once; null when nobody leads.</summary>
    public async Task<string?> ReadLeaderAsync(CancellationToken cancellationToken)
    {
        var range = await _etcd.Kv.RangeAsync(new RangeRequest { Key = ByteString.CopyFromUtf8(_etcd.Target.LeaderKey) },
            deadline: _etcd.Deadline, cancellationToken: cancellationToken).ConfigureAwait(false);
        return range.Kvs.Count == 0 ? null : range.Kvs[0].Value.ToStringUtf8();
    }

    /// <summary>Waits until this candidate holds the leader key with <paramref name="value"/>, then returns the term.</summary>
    public async Task<Leadership> CampaignAsync(string value, CancellationToken cancellationToken)
    {
        var key = ByteString.CopyFromUtf8(_etcd.Target.LeaderKey);
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            long lease = 0;
            try
            {
                var current = await ReadLeaderAsync(cancellationToken).ConfigureAwait(false);
                _observed = new LeaderObservation(current, true);
                if (current is null)
                {
                    var grant = await _etcd.Lease.LeaseGrantAsync(new LeaseGrantRequest { TTL = (long)Math.Ceiling(_leaseTtl.TotalSeconds) },
                        deadline: _etcd.Deadline, cancellationToken: cancellationToken).ConfigureAwait(false);
                    lease = grant.ID;
                    var txn = new TxnRequest
                    {
                        Compare = { new Compare { Key = key, Target = Compare.Types.CompareTarget.Create, Result = Compare.Types.CompareResult.Equal, CreateRevision = 0 } },
                        Success = { new RequestOp { RequestPut = new PutRequest { Key = key, Value = ByteString.CopyFromUtf8(value), Lease = lease } } },
                        Failure = { new RequestOp { RequestRange = new RangeRequest { Key = key } } },
                    };
                    var result = await _etcd.Kv.TxnAsync(txn, deadline: _etcd.Deadline, cancellationToken: cancellationToken).ConfigureAwait(false);
                    if (result.Succeeded)
                    {
                        // The put is the transaction's only write, so the key was created at the revision it committed.
                        var term = new Leadership(_etcd, lease, result.Header.Revision, _leaseTtl, _time, _log);
                        _observed = new LeaderObservation(value, true);
                        Log.Elected(_log, _etcd.Target.LeaderKey, lease, result.Header.Revision);
                        term.Start();
                        return term;
                    }

                    var winner = result.Responses[0].ResponseRange.Kvs;
                    _observed = new LeaderObservation(winner.Count == 0 ? null : winner[0].Value.ToStringUtf8(), true);
                    await RevokeQuietlyAsync(_etcd, lease).ConfigureAwait(false);
                }
            }
            catch (RpcException ex) when (!cancellationToken.IsCancellationRequested)
            {
                _observed = new LeaderObservation(null, false);
                Log.EtcdUnreachable(_log, _etcd.Target.ToString(), EtcdConnection.Describe(ex));
                if (lease != 0)
                {
                    await RevokeQuietlyAsync(_etcd, lease).ConfigureAwait(false);
                }
            }

            await Task.Delay(PollInterval, _time, cancellationToken).ConfigureAwait(false);
        }
    }

    internal static async Task RevokeQuietlyAsync(EtcdConnection etcd, long lease)
    {
        try
        {
            await etcd.Lease.LeaseRevokeAsync(new LeaseRevokeRequest { ID = lease }, deadline: DateTime.UtcNow + TimeSpan.FromSeconds(1)).ConfigureAwait(false);
        }
        catch (RpcException)
        {
            // It expires by itself within its TTL.
        }
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "Elected leader: holding {Key} with lease {Lease} since revision {Revision}")]
        public static partial void Elected(ILogger logger, string key, long lease, long revision);

        [LoggerMessage(Level = LogLevel.Warning, Message = "etcd at {Target} unreachable while campaigning: {Reason}")]
        public static partial void EtcdUnreachable(ILogger logger, string target, string reason);
    }
}

/// <summary>What a candidate last saw of the leader key: its value (null = no leader) and whether etcd answered at all.</summary>
public sealed record LeaderObservation(string? Leader, bool EtcdReachable);
