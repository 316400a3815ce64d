using Etcdserverpb;
using Google.Protobuf;
using Grpc.Core;

namespace Mezzo.Storage.Etcd;

/// <summary>
/// Writes of one leadership term to an etcd key space, each a transaction that commits only while the leader key
/// still has the create revision the term was elected with (as <see cref="EtcdRegistryStore"/> fences the registry).
/// A refused or failed write ends the term (<see cref="Leadership.Abdicate"/>) and throws
/// <see cref="StoreFencedException"/>, so the caller never acts on a change that may not be stored. Used by the
/// services and jobs frameworks' etcd stores.
/// </summary>
public sealed class EtcdFence
{
    /// <summary>etcd's default <c>--max-txn-ops</c>: a transaction may hold at most this many operations.</summary>
    public const int DefaultMaxOpsPerTxn = 128;

    // etcd refuses requests over 1.5 MiB by default (--max-request-bytes); stay well below with the overhead.
    private const int MaxBytesPerTxn = 1024 * 1024;
    private readonly Leadership _term;

    public EtcdFence(Leadership term, int maxOpsPerTxn = DefaultMaxOpsPerTxn)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxOpsPerTxn, 1);
        _term = term;
        MaxOpsPerTxn = maxOpsPerTxn;
    }

    public Leadership Term => _term;

    public EtcdConnection Etcd => _term.Etcd;

    public int MaxOpsPerTxn { get; }

    public static RequestOp Put(string key, byte[] value) =>
        new() { RequestPut = new PutRequest { Key = ByteString.CopyFromUtf8(key), Value = ByteString.CopyFrom(value) } };

    public static RequestOp Delete(string key) =>
        new() { RequestDeleteRange = new DeleteRangeRequest { Key = ByteString.CopyFromUtf8(key) } };

    /// <summary>
    /// Applies <paramref name="operations"/> (single keys, each at most once) under the term's fence. More than one
    /// transaction's worth is committed in consecutive fenced transactions, in order: each one all or nothing, and none
    /// after a refused one.
    /// </summary>
    public void Commit(string what, IReadOnlyList<RequestOp> operations)
    {
        var chunk = new List<RequestOp>();
        var bytes = 0;
        foreach (var op in operations)
        {
            var size = op.CalculateSize();
            if (chunk.Count > 0 && (chunk.Count >= MaxOpsPerTxn || bytes + size > MaxBytesPerTxn))
            {
                CommitOne(what, chunk);
                chunk.Clear();
                bytes = 0;
            }

            chunk.Add(op);
            bytes += size;
        }

        if (chunk.Count > 0)
        {
            CommitOne(what, chunk);
        }
    }

    private void CommitOne(string what, List<RequestOp> operations) =>
        CommitFenced(_term, "write of " + what, operations, (message, inner) => new StoreFencedException(message, inner));

    /// <summary>
    /// One transaction of <paramref name="operations"/> that commits only while the leader key still has the term's
    /// create revision. A refused or failed write ends the term and throws what <paramref name="fenced"/> makes of
    /// the reason (the registry and the frameworks' stores each have their own exception type).
    /// </summary>
    internal static void CommitFenced(Leadership term, string write, IEnumerable<RequestOp> operations, Func<string, Exception?, Exception> fenced)
    {
        if (IsOver(term))
        {
            throw fenced($"{char.ToUpperInvariant(write[0])}{write[1..]} refused: {term.LostReason}", null);
        }

        var txn = new TxnRequest
        {
            Compare =
            {
                new Compare
                {
                    Key = ByteString.CopyFromUtf8(term.LeaderKey),
                    Target = Compare.Types.CompareTarget.Create,
                    Result = Compare.Types.CompareResult.Equal,
                    CreateRevision = term.CreateRevision,
                },
            },
        };
        txn.Success.AddRange(operations);
        TxnResponse result;
        try
        {
            result = term.Etcd.Kv.Txn(txn, deadline: term.Etcd.Deadline);
        }
        catch (RpcException ex)
        {
            // The outcome is unknown: a leader that cannot be sure the store holds what it acts on must not act.
            var reason = $"{write} to etcd failed: {EtcdConnection.Describe(ex)}";
            term.Abdicate(reason);
            throw fenced(reason, ex);
        }

        if (!result.Succeeded)
        {
            var reason = $"{write} refused: {term.LeaderKey} is no longer held by this term (revision {term.CreateRevision})";
            term.Abdicate(reason);
            throw fenced(reason, null);
        }
    }

    private static bool IsOver(Leadership term)
    {
        try
        {
            return term.Lost.IsCancellationRequested;
        }
        catch (ObjectDisposedException)
        {
            // The term was resigned and disposed: over.
            return true;
        }
    }

    /// <summary>Every key under <paramref name="prefix"/> (which ends in '/' or another separator), in key order.</summary>
    public IReadOnlyList<Mvccpb.KeyValue> Range(string prefix, bool keysOnly = false)
    {
        try
        {
            var range = Etcd.Kv.Range(new RangeRequest
            {
                Key = ByteString.CopyFromUtf8(prefix),
                RangeEnd = ByteString.CopyFromUtf8(PrefixEnd(prefix)),
                SortOrder = RangeRequest.Types.SortOrder.Ascend,
                SortTarget = RangeRequest.Types.SortTarget.Key,
                KeysOnly = keysOnly,
            }, deadline: Etcd.Deadline);
            return range.Kvs;
        }
        catch (RpcException ex)
        {
            throw new EtcdUnavailableException($"Reading {prefix} from etcd at {Etcd.Target} failed: {EtcdConnection.Describe(ex)}", ex);
        }
    }

    /// <summary>The value of one key, or null.</summary>
    public byte[]? Get(string key)
    {
        try
        {
            var range = Etcd.Kv.Range(new RangeRequest { Key = ByteString.CopyFromUtf8(key) }, deadline: Etcd.Deadline);
            return range.Kvs.Count == 0 ? null : range.Kvs[0].Value.ToByteArray();
        }
        catch (RpcException ex)
        {
            throw new EtcdUnavailableException($"Reading {key} from etcd at {Etcd.Target} failed: {EtcdConnection.Describe(ex)}", ex);
        }
    }

    // etcd's prefix range: the prefix with its last character incremented (our separators are ASCII, never 0xff).
    private static string PrefixEnd(string prefix) => prefix[..^1] + (char)(prefix[^1] + 1);
}

/// <summary>A store write this process may not rely on: it has lost, or given up, its leadership.</summary>
public sealed class StoreFencedException(string message, Exception? inner = null) : IOException(message, inner);
