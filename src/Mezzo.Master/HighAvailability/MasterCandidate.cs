using Mezzo.Master.Actor;
using Mezzo.Protocol.V1;
using Mezzo.Storage.Etcd;
using Mezzo.Storage.Registry;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Mezzo.Master.HighAvailability;

/// <summary>A term this process leads: its actor (a fresh one, loaded from the registry) and the routes onto it.</summary>
public sealed record MasterTerm(MasterActor Actor, RequestDelegate Pipeline, DateTimeOffset ElectedAt);

/// <summary>
/// This master as one of several on an etcd cluster. It campaigns for the leader key; when elected it builds a new
/// <see cref="MasterActor"/> over the fenced etcd registry (which recovers agents and frameworks exactly as after a
/// restart: they re-register and re-subscribe) and serves it until the term ends, then throws the actor away —
/// closing every agent and scheduler stream — and campaigns again. Between terms it is a standby and requests are
/// answered by <see cref="StandbyEndpoints"/>.
/// </summary>
public sealed partial class MasterCandidate : IAsyncDisposable
{
    private readonly EtcdConnection _etcd;
    private readonly EtcdLeaderElection _election;
    private readonly Func<IRegistryStore, MasterActor> _newActor;
    private readonly Func<MasterActor, RequestDelegate> _routes;
    private readonly TimeProvider _time;
    private readonly ILogger _log;
    private readonly CancellationTokenSource _stopping = new();
    private volatile MasterTerm? _current;
    private Task? _loop;
    private string _announcement = "";
    private int _termsLed;

    public MasterCandidate(EtcdConnection etcd, TimeSpan leaseTtl, Func<IRegistryStore, MasterActor> newActor,
        Func<MasterActor, RequestDelegate> routes, TimeProvider time, ILogger log)
    {
        _etcd = etcd;
        _election = new EtcdLeaderElection(etcd, leaseTtl, time, log);
        _newActor = newActor;
        _routes = routes;
        _time = time;
        _log = log;
        StartTime = time.GetUtcNow();
    }

    /// <summary>The term being served, or null while this master is a standby.</summary>
    public MasterTerm? Current => _current;

    public DateTimeOffset StartTime { get; }

    /// <summary>This process's id while it is a standby (a leader's id is its term's, as in Mesos a new id per election).</summary>
    public string StandbyId { get; } = Guid.NewGuid().ToString();

    public EtcdTarget Target => _etcd.Target;

    public TimeSpan LeaseTtl => _election.LeaseTtl;

    /// <summary>How many terms this process has been elected for.</summary>
    public int TermsLed => Volatile.Read(ref _termsLed);

    public TimeSpan Uptime => _time.GetUtcNow() - StartTime;

    /// <summary>Why the last term ended before it could serve or while serving, if it did (for operators and tests).</summary>
    public string? LastTermError { get; private set; }

    public LeaderObservation ObservedLeader => _current is { } term ? new LeaderObservation(MesosJson.Serialize(term.Actor.MasterInfo()), true) : _election.Observed;

    /// <summary>Starts campaigning; <paramref name="announcement"/> is the MasterInfo other masters see while we are elected.</summary>
    public void Start(MasterInfo announcement)
    {
        _announcement = MesosJson.Serialize(announcement);
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

            MasterActor? actor = null;
            var crashed = false;
            try
            {
                // The registry is read here, under the new term's fence: whatever the previous leader persisted.
                actor = _newActor(new EtcdRegistryStore(term));
                await term.ProclaimAsync(MesosJson.Serialize(actor.MasterInfo()), _stopping.Token).ConfigureAwait(false);
                actor.Start();
                _current = new MasterTerm(actor, _routes(actor), _time.GetUtcNow());
                Interlocked.Increment(ref _termsLed);
                Log.Leading(_log, actor.MasterId, term.LeaseId, term.CreateRevision);
                await WaitAsync(term.Lost, _stopping.Token).ConfigureAwait(false);
                if (!_stopping.IsCancellationRequested)
                {
                    LastTermError = term.LostReason;
                    Log.SteppedDown(_log, actor.MasterId, term.LostReason);
                }
            }
            catch (Exception ex) when (ex is RegistryFencedException or EtcdUnavailableException or OperationCanceledException)
            {
                if (!_stopping.IsCancellationRequested)
                {
                    LastTermError = ex.Message;
                    Log.TermFailed(_log, ex.Message);
                }
            }
            catch (Exception ex)
            {
                // Anything else (say a registry entry this version cannot read) must not leave a process that never
                // campaigns again: resign, let another master try first, and try again.
                LastTermError = ex.Message;
                Log.TermCrashed(_log, ex);
                crashed = true;
            }
            finally
            {
                // Stop routing to the actor first: from here on requests get the standby's answers.
                _current = null;
                if (actor is not null)
                {
                    await actor.DisposeAsync().ConfigureAwait(false);
                }

                await term.DisposeAsync().ConfigureAwait(false);
            }

            if (crashed)
            {
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
        [LoggerMessage(Level = LogLevel.Information, Message = "Leading as master {MasterId} (lease {Lease}, term revision {Revision})")]
        public static partial void Leading(ILogger logger, string masterId, long lease, long revision);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Master {MasterId} stepped down: {Reason}")]
        public static partial void SteppedDown(ILogger logger, string masterId, string reason);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Leadership term ended early: {Reason}")]
        public static partial void TermFailed(ILogger logger, string reason);

        [LoggerMessage(Level = LogLevel.Error, Message = "Leadership term failed; resigning")]
        public static partial void TermCrashed(ILogger logger, Exception exception);
    }
}
