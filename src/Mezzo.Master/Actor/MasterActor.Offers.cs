using Mezzo.Core.Allocation;
using Mezzo.Core.Resources;
using Mezzo.Master.State;
using Mezzo.Protocol.V1;

namespace Mezzo.Master.Actor;

public sealed partial class MasterActor
{
    private long _allocationRound;

    private IReadOnlyList<ResourceQuantities>? _minAllocatableParsed;

    /// <summary>Parsed once; MasterOptions was validated by the CLI, and a bad value from code fails loudly here.</summary>
    private IReadOnlyList<ResourceQuantities> MinAllocatable =>
        _minAllocatableParsed ??= ResourceQuantities.ParseAlternatives(_options.MinAllocatableResources);

    /// <summary>One allocation cycle: snapshot what is free, ask the pure allocator, turn its decisions into offers.</summary>
    private void Allocate(DateTimeOffset now)
    {
        var frameworks = new List<AllocatorFramework>();
        foreach (var framework in _frameworks.Values)
        {
            if (framework.Connection is not null && !framework.Suppressed && !OfferLimitReached(framework))
            {
                frameworks.Add(new AllocatorFramework(framework.FrameworkId, framework.Roles, framework.Used + framework.Offered)
                {
                    SuppressedRoles = framework.SuppressedRoles,
                    Filters = framework.Filters,
                    Constraints = framework.Constraints,
                    MinAllocatable = framework.MinAllocatable,
                });
            }
        }

        if (frameworks.Count == 0)
        {
            return;
        }

        var totals = new Dictionary<string, double>();
        var candidates = new List<AllocatorAgent>();
        foreach (var agent in _agents.Values)
        {
            if (!agent.IsActive)
            {
                continue;
            }

            // Totals count every active agent, offerable or not, as Mesos's sorter totals do.

            foreach (var name in (string[])["cpus", "mem", "disk", "gpus"])
            {
                totals[name] = totals.GetValueOrDefault(name) + agent.Total.Scalar(name);
            }

            var available = agent.Available;
            if (!available.IsEmpty && agent.AcceptsOffers)
            {
                candidates.Add(new AllocatorAgent(agent.AgentId, available) { Hostname = agent.Hostname, Attributes = agent.Attributes });
            }
        }

        // Rotate the agent order each round so no agent is always first in line (deterministic for a given state).
        candidates.Sort((a, b) => string.CompareOrdinal(a.AgentId, b.AgentId));
        if (candidates.Count > 1)
        {
            var shift = (int)(_allocationRound++ % candidates.Count);
            candidates = [.. candidates.Skip(shift), .. candidates.Take(shift)];
        }

        var decisions = _allocator.Allocate(new AllocationInput(candidates, frameworks, totals, now)
        {
            Weights = _weights,
            Quotas = _quotas,
            MinAllocatable = MinAllocatable,
        });
        foreach (var group in WithinOfferLimits(decisions).GroupBy(d => d.FrameworkId))
        {
            var framework = _frameworks[group.Key];
            var offers = new List<Offer>();
            foreach (var decision in group)
            {
                var agent = _agents[decision.AgentId];
                var offer = new OfferEntry
                {
                    OfferId = NewOfferId(),
                    FrameworkId = framework.FrameworkId,
                    AgentId = agent.AgentId,
                    Role = decision.Role,
                    Resources = decision.Resources,
                    CreatedAt = now,
                };
                _offers[offer.OfferId] = offer;
                agent.OfferIds.Add(offer.OfferId);
                agent.Offered += offer.Resources.Unallocate();
                framework.OfferIds.Add(offer.OfferId);
                framework.Offered += offer.Resources;
                offers.Add(ToWire(offer, agent));
            }

            Log.OffersSent(_log, offers.Count, framework.FrameworkId);
            framework.Connection!.Send(new Event { Type = EventType.OFFERS, Offers = new EventOffers { Offers = offers } });
        }
    }

    private Offer ToWire(OfferEntry offer, AgentEntry agent) => new()
    {
        Id = new OfferID { Value = offer.OfferId },
        FrameworkId = new FrameworkID { Value = offer.FrameworkId },
        AgentId = new AgentID { Value = offer.AgentId },
        Hostname = agent.Hostname,
        Url = new URL
        {
            Scheme = _options.Tls.ServesHttps ? "https" : "http",
            Address = new Address { Hostname = agent.Hostname, Ip = agent.Hostname, Port = agent.Port },
            Path = "/slave(1)",
        },
        Resources = ResourceConversion.ToWire(offer.Resources),
        Attributes = ResourceConversion.ToWire(agent.Attributes),
        ExecutorIds = [],
        AllocationInfo = new ResourceAllocationInfo { Role = offer.Role },
        Unavailability = UnavailabilityOf(agent),
    };

    /// <summary>Takes an offer out of circulation, giving its resources back to the agent's free pool.</summary>
    private void RemoveOffer(OfferEntry offer)
    {
        _offers.Remove(offer.OfferId);
        if (_agents.TryGetValue(offer.AgentId, out var agent))
        {
            agent.OfferIds.Remove(offer.OfferId);
            agent.Offered -= offer.Resources.Unallocate();
        }

        if (_frameworks.TryGetValue(offer.FrameworkId, out var framework))
        {
            framework.OfferIds.Remove(offer.OfferId);
            framework.Offered -= offer.Resources;
        }

        _allocationPending = true;
    }

    private void Rescind(OfferEntry offer, bool notify)
    {
        RemoveOffer(offer);
        if (notify && _frameworks.TryGetValue(offer.FrameworkId, out var framework))
        {
            framework.Connection?.Send(new Event
            {
                Type = EventType.RESCIND,
                Rescind = new EventRescind { OfferId = new OfferID { Value = offer.OfferId } },
            });
        }
    }

    private void RescindFrameworkOffers(FrameworkEntry framework, bool notify)
    {
        RescindFrameworkInverseOffers(framework, notify);
        foreach (var offerId in framework.OfferIds.ToList())
        {
            Rescind(_offers[offerId], notify);
        }
    }

    private void RescindAgentOffers(AgentEntry agent)
    {
        RescindAgentInverseOffers(agent);
        foreach (var offerId in agent.OfferIds.ToList())
        {
            Rescind(_offers[offerId], notify: true);
        }
    }

    private void ExpireOffers(DateTimeOffset now)
    {
        if (_options.OfferTimeout is not { } timeout || _offers.Count == 0)
        {
            return;
        }

        foreach (var offer in _offers.Values.Where(o => now - o.CreatedAt >= timeout).ToList())
        {
            Rescind(offer, notify: true);
        }
    }

    private void ExpireFilters(DateTimeOffset now)
    {
        foreach (var framework in _frameworks.Values)
        {
            if (framework.Filters.RemoveAll(f => f.Expires <= now) > 0)
            {
                _allocationPending = true;
            }
        }
    }

    private void CountTerminal(Core.Tasks.TaskState state) => _counters.CountTerminal(state);
}
