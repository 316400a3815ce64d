using Microsoft.Extensions.Logging;

namespace Mezzo.Storage.Etcd;

/// <summary>What a candidate does when its term ends while it is still running.</summary>
public enum TermEndPolicy
{
    /// <summary>Throw the term away and campaign again as a standby (Mesos masters, Chronos).</summary>
    Standby,

    /// <summary>Throw the term away and stop for good, so a supervisor restarts the process (Marathon).</summary>
    Exit,
}

/// <summary>
/// One process of several on an etcd cluster that elect one leader among them (through
/// <see cref="EtcdLeaderElection"/>): while elected it serves a <typeparamref name="TTerm"/> built for the term (fed
/// with the term's <see cref="Leadership"/> to fence its writes), and throws it away the moment the term ends.
/// Between terms <see cref="Current"/> is null and <see cref="Leader"/> names whoever leads, for standbys to proxy to.
/// </summary>
public sealed partial class EtcdCandidate<TTerm> : IAsyncDisposable
    where TTerm : class, IAsyncDisposable
{
    private readonly EtcdLeaderElection _election;
    private readonly Func<Leadership, CancellationToken, Task<TTerm>> _elected;
    private readonly TermEndPolicy _policy;
    private readonly TimeProvider _time;
    private readonly ILogger _log;
    private readonly CancellationTokenSource _stopping = new();
    private readonly TaskCompletionSource<string> _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile TTerm? _current;
    private Task? _loop;
    private string _announcement = "";
    private int _termsLed;

    public EtcdCandidate(EtcdConnection etcd, TimeSpan leaseTtl, Func<Leadership, CancellationToken, Task<TTerm>> elected,
        TermEndPolicy policy, TimeProvider time, ILogger log)
    {
        Target = etcd.Target;
        _election = new EtcdLeaderElection(etcd, leaseTtl, time, log);
        _elected = elected;
        _policy = policy;
        _time = time;
        _log = log;
    }

    public EtcdTarget Target { get; }

    public TimeSpan LeaseTtl => _election.LeaseTtl;

    /// <summary>The term being served, or null while this process is a standby.</summary>
    public TTerm? Current => _current;

    /// <summary>The leader's announcement (this process's own while it leads), or null when none is known.</summary>
    public string? Leader => _current is not null ? _announcement : _election.Observed.Leader;

    /// <summary>Whether etcd answered the last look at the leader key.</summary>
    public bool EtcdReachable => _current is not null || _election.Observed.EtcdReachable;

    public string Announcement => _announcement;

    public int TermsLed => Volatile.Read(ref _termsLed);

    /// <summary>With <see cref="TermEndPolicy.Exit"/>: completes with the reason once a term has ended and the process must go.</summary>
    public Task<string> Ended => _ended.Task;

    /// <summary>Starts campaigning; <paramref name="announcement"/> is what others read as the leader (e.g. host:port).</summary>
    public void Start(string announcement)
    {
        _announcement = announcement;
        _loop = Task.Run(RunAsync);
    }

    private async Task RunAsync()
    {
        while (!_stopping.IsCancellationRequested)
        {
            Leadership term;
            try
            {
                term = await _election.CampaignAsync(_announcement, _stopping.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }

            string? reason = null;
            var crashed = false;
            TTerm? served = null;
            try
            {
                using (var both = CancellationTokenSource.CreateLinkedTokenSource(term.Lost, _stopping.Token))
                {
                    served = await _elected(term, both.Token).ConfigureAwait(false);
                }

                _current = served;
                Interlocked.Increment(ref _termsLed);
                Log.Leading(_log, _announcement, term.LeaseId, term.CreateRevision);
                await WaitAsync(term.Lost, _stopping.Token).ConfigureAwait(false);
                reason = term.LostReason;
            }
#pragma warning disable CA1031 // Whatever ends a term (etcd gone, a store entry this version cannot read) must not kill the candidate.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                reason = ex.Message;
                crashed = !term.Lost.IsCancellationRequested;
                Log.TermFailed(_log, ex);
            }
            finally
            {
                // Stop routing to the term first: from here on requests get the standby's answers.
                _current = null;
                if (served is not null)
                {
                    await served.DisposeAsync().ConfigureAwait(false);
                }

                await term.DisposeAsync().ConfigureAwait(false);
            }

            if (_stopping.IsCancellationRequested)
            {
                break;
            }

            Log.SteppedDown(_log, _announcement, reason ?? "");
            if (_policy == TermEndPolicy.Exit)
            {
                _ended.TrySetResult(reason ?? "leadership lost");
                return;
            }

            if (crashed)
            {
                // A term that could not even start (say a store entry this version cannot read): let another
                // candidate try first rather than winning the key straight back.
                try
                {
                    await Task.Delay(_election.LeaseTtl, _time, _stopping.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
        }

        _ended.TrySetResult("stopped");
    }

    private static async Task WaitAsync(CancellationToken lost, CancellationToken stopping)
    {
        using var either = CancellationTokenSource.CreateLinkedTokenSource(lost, stopping);
        try
        {
            await Task.Delay(Timeout.Infinite, either.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>Resigns (revoking the lease, so a standby takes over at once) and stops campaigning.</summary>
    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        if (_loop is not null)
        {
            await _loop.ConfigureAwait(false);
        }

        _stopping.Dispose();
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "Leading as {Leader} (lease {Lease}, term revision {Revision})")]
        public static partial void Leading(ILogger logger, string leader, long lease, long revision);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Leader {Leader} stepped down: {Reason}")]
        public static partial void SteppedDown(ILogger logger, string leader, string reason);

        [LoggerMessage(Level = LogLevel.Error, Message = "Leadership term failed")]
        public static partial void TermFailed(ILogger logger, Exception exception);
    }
}
