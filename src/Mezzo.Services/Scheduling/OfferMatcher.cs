using Mezzo.Protocol.V1;
using Mezzo.Protocol.Marathon;
using Mezzo.Services.Model;

namespace Mezzo.Services.Scheduling;

/// <summary>An app that wants <see cref="Count"/> more tasks, with the placements of its tasks already running.</summary>
public sealed record Demand(AppDefinition App, int Count, IReadOnlyList<Placement> Running);

/// <summary>One task to launch from an offer: its resources (cut from the offer's) and the host ports it got.</summary>
public sealed record Match(AppDefinition App, IReadOnlyList<Resource> Resources, IReadOnlyList<int> HostPorts);

/// <summary>
/// Fits tasks into one offer: cpus, mem, disk (and gpus) from scalar resources of an acceptable role, host ports from the
/// offer's port ranges (the declared ones with requirePorts, any free ones otherwise), placement constraints. Pure.
/// </summary>
public static class OfferMatcher
{
    private sealed class Pool(Resource source)
    {
        public Resource Source { get; } = source;

        public double Scalar { get; set; } = source.Scalar?.Value ?? 0;

        public SortedSet<int> FreePorts { get; } = [.. (source.Ranges?.Range ?? []).SelectMany(r => Enumerable.Range((int)r.Begin!.Value, (int)(r.End!.Value - r.Begin.Value + 1)))];
    }

    public static Placement PlacementOf(Offer offer) => new(
        offer.Hostname ?? "",
        (offer.Attributes ?? []).Where(a => a.Name is not null).ToDictionary(a => a.Name!, AttributeText));

    public static string AttributeText(Mezzo.Protocol.V1.Attribute attribute) => attribute.Text?.Value
        ?? attribute.Scalar?.Value?.ToString(System.Globalization.CultureInfo.InvariantCulture)
        ?? (attribute.Ranges?.Range is { } ranges ? "[" + string.Join(",", ranges.Select(r => $"{r.Begin}-{r.End}")) + "]" : null)
        ?? (attribute.Set?.Item is { } items ? "{" + string.Join(",", items) + "}" : "");

    public static List<Match> Match(Offer offer, IReadOnlyList<Demand> demands)
    {
        var pools = (offer.Resources ?? []).Where(r => r.Name is not null).Select(r => new Pool(r)).ToList();
        var placement = PlacementOf(offer);
        var matches = new List<Match>();
        foreach (var demand in demands)
        {
            var running = demand.Running.ToList();
            for (var n = 0; n < demand.Count; n++)
            {
                if (!Constraints.Accept(demand.App.Constraints, placement, running) || TryTake(demand.App, pools) is not { } taken)
                {
                    break;
                }

                matches.Add(new Match(demand.App, taken.Resources, taken.Ports));
                running.Add(placement);
            }
        }

        return matches;
    }

    private static bool Acceptable(AppDefinition app, Resource resource)
    {
        if (resource.AllocationInfo?.Role is { } allocated && allocated != app.Role)
        {
            return false;
        }

        var role = resource.Reservations is { Count: > 0 } reservations ? reservations[^1].Role ?? "*" : resource.Role ?? "*";
        return app.AcceptedResourceRoles is not { Count: > 0 } accepted ? role == "*" || role == app.Role : accepted.Contains(role);
    }

    private static (List<Resource> Resources, List<int> Ports)? TryTake(AppDefinition app, List<Pool> pools)
    {
        var wanted = new List<(string Name, double Amount)> { ("cpus", app.Cpus ?? 0), ("mem", app.Mem ?? 0), ("disk", app.Disk ?? 0), ("gpus", app.Gpus ?? 0) };
        var picks = new List<(Pool Pool, double Amount)>();
        foreach (var (name, amount) in wanted)
        {
            if (amount <= 0)
            {
                continue;
            }

            // Within a small epsilon: offers carry sums of fractions (0.1 + 0.2) that are not exact in binary.
            var pool = pools.FirstOrDefault(p => p.Source.Name == name && p.Source.Scalar is not null && p.Scalar + 1e-9 >= amount && Acceptable(app, p.Source));
            if (pool is null)
            {
                return null;
            }

            picks.Add((pool, amount));
        }

        var portPicks = new List<(Pool Pool, int Port)>();
        foreach (var port in RequestedHostPorts(app))
        {
            var taken = portPicks.Select(p => p.Port).ToHashSet();
            var found = port == 0
                ? pools.Where(p => p.Source.Name == "ports" && Acceptable(app, p.Source)).Select(p => (Pool: p, Port: p.FreePorts.FirstOrDefault(x => !taken.Contains(x)))).FirstOrDefault(x => x.Port != 0)
                : pools.Where(p => p.Source.Name == "ports" && Acceptable(app, p.Source) && p.FreePorts.Contains(port) && !taken.Contains(port)).Select(p => (Pool: p, Port: port)).FirstOrDefault();
            if (found.Pool is null)
            {
                return null;
            }

            portPicks.Add(found);
        }

        var resources = new List<Resource>();
        foreach (var (pool, amount) in picks)
        {
            pool.Scalar -= amount;
            resources.Add(Cut(pool.Source, amount));
        }

        foreach (var group in portPicks.GroupBy(p => p.Pool))
        {
            foreach (var (_, port) in group)
            {
                group.Key.FreePorts.Remove(port);
            }

            var resource = Cut(group.Key.Source, 0);
            resource.Scalar = null;
            resource.Type = Mezzo.Protocol.V1.ValueType.RANGES;
            resource.Ranges = new ValueRanges { Range = [.. group.Select(p => new ValueRange { Begin = (ulong)p.Port, End = (ulong)p.Port })] };
            resources.Add(resource);
        }

        return (resources, [.. portPicks.Select(p => p.Port)]);
    }

    /// <summary>One entry per host port the app needs: the port itself with requirePorts (or a fixed hostPort), 0 for any.</summary>
    public static IReadOnlyList<int> RequestedHostPorts(AppDefinition app)
    {
        if (app.Container?.PortMappings is { Count: > 0 } mappings)
        {
            return [.. mappings.Where(m => m.HostPort is not null).Select(m => m.HostPort!.Value)];
        }

        return [.. (app.PortDefinitions ?? []).Select(p => app.RequirePorts == true ? p.Port ?? 0 : 0)];
    }

    private static Resource Cut(Resource source, double amount) => new()
    {
        Name = source.Name,
        Type = source.Type ?? Mezzo.Protocol.V1.ValueType.SCALAR,
        Scalar = new ValueScalar { Value = amount },
        Role = source.Role,
        AllocationInfo = source.AllocationInfo,
        Reservations = source.Reservations,
    };
}
