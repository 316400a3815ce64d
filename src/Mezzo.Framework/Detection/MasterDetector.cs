using Grpc.Core;
using Mezzo.Protocol.V1;
using Mezzo.Storage.Etcd;

namespace Mezzo.Framework.Detection;

/// <summary>
/// Finds the leading master, as Mesos's MasterDetector does for agents and scheduler drivers. Three forms:
/// one master (<c>host:5050</c>); a list (<c>host1:5050,host2:5050</c>), tried in turn until one answers, following
/// the 307 a standby sends to the leader; or <c>etcd://host:2379[,...][/prefix]</c>, where the leader key in etcd says
/// who leads. Safe to use from several threads: the worst a race does is one extra attempt at a stale master.
/// </summary>
public sealed class MasterDetector : IDisposable
{
    private readonly IReadOnlyList<Uri> _candidates;
    private readonly EtcdConnection? _etcd;
    private int _next;
    private volatile Uri? _leader;

    private readonly string _scheme;

    private MasterDetector(IReadOnlyList<Uri> candidates, EtcdConnection? etcd, string scheme)
    {
        _candidates = candidates;
        _etcd = etcd;
        _scheme = scheme;
    }

    /// <summary>True when there is more than one master to look at (a list, or etcd).</summary>
    public bool IsHighlyAvailable => _etcd is not null || _candidates.Count > 1;

    /// <summary>How many masters one round of attempts should try before giving up for a while.</summary>
    public int CandidateCount => _etcd is null ? _candidates.Count : 1;

    /// <summary>The master to talk to now: the last one found leading, else the next candidate.</summary>
    public Uri Current => _leader ?? (_candidates.Count > 0 ? _candidates[Volatile.Read(ref _next) % _candidates.Count] : new Uri("http://127.0.0.1:5050/"));

    public override string ToString() => _etcd is not null ? _etcd.Target.ToString() : string.Join(',', _candidates.Select(c => c.Authority));

    /// <summary>
    /// Parses <paramref name="masters"/>; <paramref name="parseOne"/> parses one <c>host:port</c> (each caller keeps
    /// its own spelling rules). Throws <see cref="ArgumentException"/> naming the bad part.
    /// </summary>
    /// <param name="scheme">How the leader etcd names is called: <c>https</c> in a TLS cluster.</param>
    public static MasterDetector Create(string masters, Func<string, Uri> parseOne, string scheme = "http")
    {
        ArgumentNullException.ThrowIfNull(masters);
        if (EtcdTarget.IsEtcd(masters))
        {
            EtcdTarget target;
            try
            {
                target = EtcdTarget.Parse(masters);
            }
            catch (FormatException ex)
            {
                throw new ArgumentException($"Invalid master address: {ex.Message}", nameof(masters), ex);
            }

            return new MasterDetector([], EtcdConnection.Open(target), scheme);
        }

        var parts = masters.Split(',', StringSplitOptions.TrimEntries);
        if (parts.Any(p => p.Length == 0))
        {
            throw new ArgumentException($"Invalid master address '{masters}': empty entry in the list", nameof(masters));
        }

        return new MasterDetector([.. parts.Select(parseOne)], null, scheme);
    }

    /// <summary>Where to send the next attempt. With etcd, reads the leader key; throws <see cref="MasterUnavailableException"/> when nobody leads.</summary>
    public async Task<Uri> ResolveAsync(CancellationToken cancellationToken)
    {
        if (_etcd is null)
        {
            return Current;
        }

        string? value;
        try
        {
            var range = await _etcd.Kv.RangeAsync(new Etcdserverpb.RangeRequest { Key = Google.Protobuf.ByteString.CopyFromUtf8(_etcd.Target.LeaderKey) },
                deadline: _etcd.Deadline, cancellationToken: cancellationToken).ConfigureAwait(false);
            value = range.Kvs.Count == 0 ? null : range.Kvs[0].Value.ToStringUtf8();
        }
        catch (RpcException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw new MasterUnavailableException($"Cannot read the leading master from {_etcd.Target}: {EtcdConnection.Describe(ex)}", ex);
        }

        if (value is null || Parse(value, _scheme) is not { } leader)
        {
            throw new MasterUnavailableException($"No master is leading in {_etcd.Target}");
        }

        _leader = leader;
        return leader;
    }

    /// <summary>A master answered 307: the redirect target leads (it is tried first from now on).</summary>
    public Uri Follow(Uri from, Uri location)
    {
        var target = new Uri(new Uri(from, location).GetLeftPart(UriPartial.Authority) + "/");
        _leader = target;
        return target;
    }

    /// <summary>The master we tried could not be reached (or has no leader): move on to the next candidate.</summary>
    public void Failed(Uri master)
    {
        if (_leader == master)
        {
            _leader = null;
        }

        if (_leader is null && _candidates.Count > 1 && _candidates[Volatile.Read(ref _next) % _candidates.Count] == master)
        {
            Interlocked.Increment(ref _next);
        }
    }

    /// <summary>The leader's URL from the MasterInfo JSON a master writes into the leader key.</summary>
    public static Uri? Parse(string masterInfoJson, string scheme = "http")
    {
        try
        {
            var info = MesosJson.Deserialize<MasterInfo>(masterInfoJson);
            var host = info?.Address?.Hostname ?? info?.Hostname;
            if (string.IsNullOrEmpty(host))
            {
                host = info?.Address?.Ip;
            }

            var port = info?.Address?.Port ?? (int?)info?.Port;
            return string.IsNullOrEmpty(host) || port is null or <= 0 ? null : new Uri($"{scheme}://{host}:{port}/");
        }
        catch (System.Text.Json.JsonException)
        {
            return null;
        }
    }

    public void Dispose() => _etcd?.Dispose();
}

/// <summary>No leading master could be found (none elected, or etcd unreachable).</summary>
public sealed class MasterUnavailableException(string message, Exception? inner = null) : IOException(message, inner);
