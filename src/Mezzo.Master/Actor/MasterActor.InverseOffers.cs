using Mezzo.Core.Maintenance;
using Mezzo.Master.State;
using Mezzo.Protocol.V1;
using Microsoft.Extensions.Logging;

namespace Mezzo.Master.Actor;

/// <summary>
/// Inverse offers (Mesos docs/maintenance.md, "Draining mode"): every framework holding resources on an agent of a
/// DRAINING machine is asked, with an INVERSE_OFFERS event, to give them back before the window's unavailability. It
/// answers with ACCEPT_INVERSE_OFFERS or DECLINE_INVERSE_OFFERS; the latest answer per framework and agent shows in
/// GET_MAINTENANCE_STATUS. Answers are hints for the operator only: nothing else changes. An answered inverse offer is
/// sent again once the answer's refuse_seconds filter ends, for as long as the framework still holds resources there.
/// Schedule changes and the agent leaving (deactivated, disconnected, DOWN, removed) rescind outstanding inverse offers.
/// As in Mesos none of this is persisted: a new leader starts with no answers and asks again.
/// </summary>
public sealed partial class MasterActor
{
    private readonly Dictionary<string, InverseOfferEntry> _inverseOffers = [];

    private readonly Dictionary<InverseOfferKey, string> _outstandingInverseOffers = [];

    private readonly Dictionary<InverseOfferKey, DateTimeOffset> _inverseOfferFilters = [];

    /// <summary>Latest answer by agent, then framework (Mesos keeps them in the allocator's per-agent maintenance).</summary>
    private readonly Dictionary<string, Dictionary<string, InverseOfferStatus>> _inverseOfferStatuses = new(StringComparer.Ordinal);

    /// <summary>
    /// How often the planner looks at every agent while a schedule exists, as Mesos does in its periodic allocation
    /// (default interval 1 s): a round looks at every agent, which on every 50 ms tick would cost the actor in proportion
    /// to the cluster. What needs an answer sooner (a new schedule, an answer, REVIVE, a timeout) asks for a round.
    /// </summary>
    private static readonly TimeSpan InverseOfferInterval = TimeSpan.FromSeconds(1);

    private DateTimeOffset _nextInverseOfferRound = DateTimeOffset.MinValue;

    private bool _inverseOffersPending;

    /// <summary>Times out old inverse offers, then, once a round is due, sends those the planner asks for. Runs on every tick.</summary>
    private void GenerateInverseOffers(DateTimeOffset now)
    {
        ExpireInverseOffers(now);
        if (_schedule.Windows is not { Count: > 0 } || (!_inverseOffersPending && now < _nextInverseOfferRound))
        {
            return;
        }

        _inverseOffersPending = false;
        _nextInverseOfferRound = now + InverseOfferInterval;

        var windows = ScheduledUnavailability();
        var draining = new List<(AgentEntry Agent, Unavailability Unavailability)>();
        foreach (var agent in _agents.Values)
        {
            if (agent.AcceptsOffers && DrainingUnavailability(windows, agent) is { } unavailability)
            {
                draining.Add((agent, unavailability));
            }
        }

        if (draining.Count == 0)
        {
            return;
        }

        var drainingIds = draining.Select(d => d.Agent.AgentId).ToHashSet(StringComparer.Ordinal);
        var executorFrameworks = _executors.Values
            .Where(e => drainingIds.Contains(e.AgentId))
            .ToLookup(e => e.AgentId, e => e.FrameworkId, StringComparer.Ordinal);
        var agents = draining.Select(d => new DrainingAgent(d.Agent.AgentId, [
            .. d.Agent.Tasks.Values.Where(t => t.HoldsResources).Select(t => t.FrameworkId),
            .. d.Agent.OfferIds.Select(id => _offers[id].FrameworkId),
            .. executorFrameworks[d.Agent.AgentId],
        ])).ToList();
        var active = _frameworks.Values.Where(f => f.Connected).Select(f => f.FrameworkId).ToHashSet(StringComparer.Ordinal);
        var plan = InverseOfferPlanner.Plan(new InverseOfferInput(agents, active, _outstandingInverseOffers.Keys.ToHashSet(), _inverseOfferFilters, now));
        if (plan.Count == 0)
        {
            return;
        }

        var unavailabilityOf = draining.ToDictionary(d => d.Agent.AgentId, d => d.Unavailability, StringComparer.Ordinal);
        foreach (var group in plan.GroupBy(k => k.FrameworkId))
        {
            var framework = _frameworks[group.Key];
            var wire = new List<InverseOffer>();
            foreach (var key in group)
            {
                var entry = new InverseOfferEntry
                {
                    OfferId = NewOfferId(),
                    FrameworkId = key.FrameworkId,
                    AgentId = key.AgentId,
                    Unavailability = unavailabilityOf[key.AgentId],
                    CreatedAt = now,
                };
                _inverseOffers[entry.OfferId] = entry;
                _outstandingInverseOffers[key] = entry.OfferId;
                wire.Add(InverseOfferWire(entry));
            }

            Log.InverseOffersSent(_log, wire.Count, framework.FrameworkId);
            framework.Connection!.Send(new Event { Type = EventType.INVERSE_OFFERS, InverseOffers = new EventInverseOffers { InverseOffers = wire } });
        }

        _version++;
    }

    private InverseOffer InverseOfferWire(InverseOfferEntry entry)
    {
        var agent = _agents[entry.AgentId];
        return new InverseOffer
        {
            Id = new OfferID { Value = entry.OfferId },
            Url = new URL
            {
                Scheme = _options.Tls.ServesHttps ? "https" : "http",
                Address = new Address { Hostname = agent.Hostname, Ip = agent.Hostname, Port = agent.Port },
                Path = "/slave(1)",
            },
            FrameworkId = new FrameworkID { Value = entry.FrameworkId },
            AgentId = new AgentID { Value = entry.AgentId },
            Unavailability = entry.Unavailability,
            // Maintenance asks for everything on the agent back, which Mesos says with no resources at all.
            Resources = [],
        };
    }

    /// <summary>ACCEPT_INVERSE_OFFERS / DECLINE_INVERSE_OFFERS: records the answer, filters the agent for refuse_seconds.</summary>
    private CallResult AnswerInverseOffers(FrameworkEntry framework, CallInverseOffers call, InverseOfferStatusType answer)
    {
        var ids = call.InverseOfferIds ?? [];
        if (ids.Count == 0)
        {
            // Mesos logs "No inverse offers specified" and answers 202 all the same: the call is asynchronous.
            Log.NoInverseOffers(_log, answer.ToString(), framework.FrameworkId);
            return CallResult.Accepted;
        }

        var now = _time.GetUtcNow();
        var refuse = InverseOfferPlanner.RefuseDuration(call.Filters?.RefuseSeconds);
        foreach (var id in ids)
        {
            // Unknown, answered, rescinded or another framework's: ignored with a warning, as Mesos does. Mesos would
            // even record an answer for another framework's inverse offer; that one is refused here.
            if (id?.Value is not { } offerId || !_inverseOffers.TryGetValue(offerId, out var entry) || entry.FrameworkId != framework.FrameworkId)
            {
                Log.InverseOfferIgnored(_log, answer.ToString(), id?.Value ?? "", framework.FrameworkId);
                continue;
            }

            RemoveInverseOffer(entry, notify: false);
            if (!_inverseOfferStatuses.TryGetValue(entry.AgentId, out var statuses))
            {
                statuses = new Dictionary<string, InverseOfferStatus>(StringComparer.Ordinal);
                _inverseOfferStatuses[entry.AgentId] = statuses;
            }

            statuses[framework.FrameworkId] = new InverseOfferStatus
            {
                Status = answer,
                FrameworkId = new FrameworkID { Value = framework.FrameworkId },
                Timestamp = TimeInfoOf(now),
            };
            var key = new InverseOfferKey(framework.FrameworkId, entry.AgentId);
            if (refuse is { } duration)
            {
                _inverseOfferFilters[key] = InverseOfferPlanner.Extend(_inverseOfferFilters.TryGetValue(key, out var until) ? until : null, now, duration);
            }

            Log.InverseOfferAnswered(_log, framework.FrameworkId, answer.ToString(), offerId, entry.AgentId);
        }

        // With refuse_seconds 0 the framework is asked again at once.
        _inverseOffersPending = true;
        _version++;
        return CallResult.Accepted;
    }

    /// <summary>The answers of frameworks for the live agents on a machine, for GET_MAINTENANCE_STATUS.</summary>
    private List<InverseOfferStatus> InverseOfferStatusesOf(MachineKey machine)
    {
        var statuses = new List<InverseOfferStatus>();
        foreach (var (agentId, byFramework) in _inverseOfferStatuses)
        {
            // Mesos forgets an agent's answers when the agent is removed or unreachable (it leaves the machine).
            if (_agents.TryGetValue(agentId, out var agent) && agent.Liveness is AgentLiveness.Connected or AgentLiveness.Disconnected && machine.Matches(agent))
            {
                statuses.AddRange(byFramework.Values.OrderBy(s => s.FrameworkId!.Value, StringComparer.Ordinal));
            }
        }

        return statuses;
    }

    private void RemoveInverseOffer(InverseOfferEntry entry, bool notify)
    {
        _inverseOffers.Remove(entry.OfferId);
        _outstandingInverseOffers.Remove(new InverseOfferKey(entry.FrameworkId, entry.AgentId));
        if (notify && _frameworks.TryGetValue(entry.FrameworkId, out var framework))
        {
            framework.Connection?.Send(new Event
            {
                Type = EventType.RESCIND_INVERSE_OFFER,
                RescindInverseOffer = new EventRescindInverseOffer { InverseOfferId = new OfferID { Value = entry.OfferId } },
            });
        }
    }

    /// <summary>Mesos's inverse offer timeout: the offer timeout, when set, also rescinds inverse offers (asked again later).</summary>
    private void ExpireInverseOffers(DateTimeOffset now)
    {
        if (_options.OfferTimeout is not { } timeout || _inverseOffers.Count == 0)
        {
            return;
        }

        foreach (var entry in _inverseOffers.Values.Where(o => now - o.CreatedAt >= timeout).ToList())
        {
            RemoveInverseOffer(entry, notify: true);
            _inverseOffersPending = true;
        }
    }

    /// <summary>
    /// The agent stops being asked (deactivated, disconnected, unreachable, gone, or its machine's window changed):
    /// outstanding inverse offers are rescinded. An agent that left the cluster also loses its answers and filters.
    /// </summary>
    private void RescindAgentInverseOffers(AgentEntry agent)
    {
        if (_inverseOffers.Count > 0)
        {
            foreach (var entry in _inverseOffers.Values.Where(o => o.AgentId == agent.AgentId).ToList())
            {
                RemoveInverseOffer(entry, notify: true);
            }
        }

        if (agent.Liveness is AgentLiveness.Unreachable or AgentLiveness.Gone)
        {
            ForgetAgentInverseOffers(agent.AgentId);
        }
    }

    /// <summary>Mesos's updateUnavailability: a new (or no) window starts over, with no answers and no filters.</summary>
    private void ForgetAgentInverseOffers(string agentId)
    {
        _inverseOffersPending = true;
        _inverseOfferStatuses.Remove(agentId);
        if (_inverseOfferFilters.Count > 0)
        {
            foreach (var key in _inverseOfferFilters.Keys.Where(k => k.AgentId == agentId).ToList())
            {
                _inverseOfferFilters.Remove(key);
            }
        }
    }

    /// <summary>A framework's outstanding inverse offers leave with its offers (failover, disconnect, update, removal).</summary>
    private void RescindFrameworkInverseOffers(FrameworkEntry framework, bool notify)
    {
        if (_inverseOffers.Count == 0)
        {
            return;
        }

        foreach (var entry in _inverseOffers.Values.Where(o => o.FrameworkId == framework.FrameworkId).ToList())
        {
            RemoveInverseOffer(entry, notify);
        }
    }

    /// <summary>A removed framework's answers and filters go with it.</summary>
    private void ForgetFrameworkInverseOffers(string frameworkId)
    {
        foreach (var statuses in _inverseOfferStatuses.Values)
        {
            statuses.Remove(frameworkId);
        }

        ForgetFrameworkFilters(frameworkId);
    }

    /// <summary>REVIVE drops inverse offer filters too (Mesos's reviveOffers clears both kinds).</summary>
    private void ReviveInverseOffers(FrameworkEntry framework)
    {
        ForgetFrameworkFilters(framework.FrameworkId);
        _inverseOffersPending = true;
    }

    private void ForgetFrameworkFilters(string frameworkId)
    {
        if (_inverseOfferFilters.Count == 0)
        {
            return;
        }

        foreach (var key in _inverseOfferFilters.Keys.Where(k => k.FrameworkId == frameworkId).ToList())
        {
            _inverseOfferFilters.Remove(key);
        }
    }

    private List<InverseOffer> FrameworkInverseOffersWire(FrameworkEntry framework) =>
        [.. _inverseOffers.Values.Where(o => o.FrameworkId == framework.FrameworkId && _agents.ContainsKey(o.AgentId)).Select(InverseOfferWire)];

    /// <summary>The schedule's unavailability by machine, to find an agent's window without scanning every window.</summary>
    private Dictionary<MachineKey, Unavailability> ScheduledUnavailability()
    {
        var byMachine = new Dictionary<MachineKey, Unavailability>();
        foreach (var window in _schedule.Windows ?? [])
        {
            foreach (var machine in window.MachineIds ?? [])
            {
                byMachine[MachineKey.Of(machine)] = window.Unavailability!;
            }
        }

        return byMachine;
    }

    /// <summary>
    /// The unavailability of a DRAINING machine the agent is on, or null. Mezzo agents advertise one address, used as
    /// hostname and IP alike, so a scheduled machine matches by either or both.
    /// </summary>
    private Unavailability? DrainingUnavailability(Dictionary<MachineKey, Unavailability> windows, AgentEntry agent)
    {
        var hostname = agent.Hostname.ToLowerInvariant();
        foreach (var key in (MachineKey[])[new(hostname, agent.Hostname), new(hostname, null), new(null, agent.Hostname)])
        {
            if (windows.TryGetValue(key, out var unavailability) && !_downMachines.Contains(key))
            {
                return unavailability;
            }
        }

        return null;
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "Sent {Count} inverse offers to framework {FrameworkId}")]
        public static partial void InverseOffersSent(ILogger logger, int count, string frameworkId);

        [LoggerMessage(Level = LogLevel.Information, Message = "Framework {FrameworkId} answered {Answer} to inverse offer {OfferId} for agent {AgentId}")]
        public static partial void InverseOfferAnswered(ILogger logger, string frameworkId, string answer, string offerId, string agentId);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Ignoring {Answer} of inverse offer '{OfferId}' from framework {FrameworkId}: it is no longer valid")]
        public static partial void InverseOfferIgnored(ILogger logger, string answer, string offerId, string frameworkId);

        [LoggerMessage(Level = LogLevel.Warning, Message = "{Answer} of inverse offers from framework {FrameworkId} named no inverse offers")]
        public static partial void NoInverseOffers(ILogger logger, string answer, string frameworkId);
    }
}
