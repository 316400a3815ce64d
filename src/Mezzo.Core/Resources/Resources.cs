using System.Collections;

namespace Mezzo.Core.Resources;

/// <summary>
/// An immutable multiset of resources with Mesos's algebra (<c>src/common/resources.cpp</c>): adding merges
/// resources of the same identity, subtracting removes what became empty or negative, and <see cref="Contains(Resources)"/>
/// asks whether every resource of the other side can be taken out of this one. Empty resources never appear.
/// </summary>
public sealed class Resources : IReadOnlyList<Resource>, IEquatable<Resources>
{
    private readonly Resource[] _items;

    private Resources(Resource[] items, bool normalized)
    {
        _ = normalized;
        _items = items;
    }

    public Resources(IEnumerable<Resource> resources)
    {
        var items = new List<Resource>();
        foreach (var resource in resources)
        {
            AddInto(items, resource);
        }

        _items = [.. items];
    }

    public static Resources Empty { get; } = new([], normalized: true);

    public int Count => _items.Length;

    public bool IsEmpty => _items.Length == 0;

    public Resource this[int index] => _items[index];

    public double Cpus => Scalar("cpus");

    public double Mem => Scalar("mem");

    public double Disk => Scalar("disk");

    public double Gpus => Scalar("gpus");

    /// <summary>All port ranges, whatever their reservation or allocation.</summary>
    public ValueRanges Ports => _items.Where(r => r.Name == "ports" && r.Type == ResourceType.Ranges)
        .Aggregate(ValueRanges.Empty, (sum, r) => sum.Add(r.Ranges));

    /// <summary>Distinct resource names, in order of first appearance.</summary>
    public IReadOnlyList<string> Names => [.. _items.Select(r => r.Name).Distinct()];

    public Resources Unreserved => Filter(r => !r.IsReserved);

    public static Resources Parse(string text) => ResourceParser.Parse(text);

    public static Resources operator +(Resources left, Resources right) => left.Add(right);

    public static Resources operator -(Resources left, Resources right) => left.Subtract(right);

    /// <summary>Sum of the scalar resources named <paramref name="name"/> in thousandths, across reservations and allocations.</summary>
    public long ScalarMilli(string name)
    {
        long milli = 0;
        foreach (var resource in _items)
        {
            if (resource.Name == name && resource.Type == ResourceType.Scalar)
            {
                milli += resource.ScalarMilli;
            }
        }

        return milli;
    }

    public double Scalar(string name) => ScalarMilli(name) / 1000.0;

    public Resources Add(Resource resource)
    {
        if (resource.IsEmpty)
        {
            return this;
        }

        var items = new List<Resource>(_items);
        AddInto(items, resource);
        return new Resources([.. items], normalized: true);
    }

    public Resources Add(Resources other)
    {
        if (other.IsEmpty)
        {
            return this;
        }

        if (IsEmpty)
        {
            return other;
        }

        var items = new List<Resource>(_items);
        foreach (var resource in other._items)
        {
            AddInto(items, resource);
        }

        return new Resources([.. items], normalized: true);
    }

    public Resources Subtract(Resource resource)
    {
        var items = new List<Resource>(_items);
        SubtractFrom(items, resource);
        return new Resources([.. items], normalized: true);
    }

    public Resources Subtract(Resources other)
    {
        if (other.IsEmpty || IsEmpty)
        {
            return this;
        }

        var items = new List<Resource>(_items);
        foreach (var resource in other._items)
        {
            SubtractFrom(items, resource);
        }

        return new Resources([.. items], normalized: true);
    }

    /// <summary>Whether a single resource fits inside one resource of the same identity here.</summary>
    public bool Contains(Resource resource) => resource.IsEmpty || _items.Any(r => r.Contains(resource));

    /// <summary>Whether all of <paramref name="other"/> can be taken out of this (Mesos's <c>Resources::contains</c>).</summary>
    public bool Contains(Resources other)
    {
        var remaining = new List<Resource>(_items);
        foreach (var resource in other._items)
        {
            if (!remaining.Any(r => r.Contains(resource)))
            {
                return false;
            }

            SubtractFrom(remaining, resource);
        }

        return true;
    }

    public Resources Filter(Func<Resource, bool> predicate) =>
        new([.. _items.Where(predicate)], normalized: true);

    /// <summary>Resources whose innermost reservation is to <paramref name="role"/>.</summary>
    public Resources ReservedTo(string role) => Filter(r => r.IsReserved && r.Role == role);

    /// <summary>Mesos's <c>popReservation</c> on each resource: what a RESERVE takes from, what an UNRESERVE gives back.</summary>
    public Resources PopReservations() => new(_items.Select(r => r.PopReservation()));

    /// <summary>Drops all reservations (Mesos's <c>flatten()</c>), merging what becomes the same.</summary>
    public Resources Flatten() => new(_items.Select(r => r.IsReserved ? r.WithReservations([]) : r));

    /// <summary>Marks every resource as allocated to <paramref name="role"/> (offers carry <c>allocation_info</c>).</summary>
    public Resources AllocateTo(string role)
    {
        // Items here differ in identity; when they all carry the same allocation role (usually none, the pool), they
        // still differ once it is replaced, so nothing merges and the normalizing constructor would only copy.
        foreach (var resource in _items)
        {
            if (resource.AllocationRole != _items[0].AllocationRole)
            {
                return new(_items.Select(r => r.WithAllocationRole(role)));
            }
        }

        var items = new Resource[_items.Length];
        for (var i = 0; i < items.Length; i++)
        {
            items[i] = _items[i].WithAllocationRole(role);
        }

        return new Resources(items, normalized: true);
    }

    public Resources Unallocate() =>
        _items.All(r => r.AllocationRole is null) ? this : new(_items.Select(r => r.WithAllocationRole(null)));

    public bool Equals(Resources? other) => other is not null && Contains(other) && other.Contains(this);

    public override bool Equals(object? obj) => Equals(obj as Resources);

    public override int GetHashCode()
    {
        var hash = 0;
        foreach (var resource in _items)
        {
            hash ^= HashCode.Combine(resource.Name, resource.Type, resource.AllocationRole, resource.Role);
        }

        return hash;
    }

    public IEnumerator<Resource> GetEnumerator() => ((IEnumerable<Resource>)_items).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => _items.GetEnumerator();

    /// <summary>Mesos's spelling: <c>cpus:2; mem:1024; ports:[31000-32000]</c>.</summary>
    public override string ToString() => string.Join("; ", _items.Select(r => r.ToString()));

    private static void AddInto(List<Resource> items, Resource resource)
    {
        if (resource.IsEmpty)
        {
            return;
        }

        for (var i = 0; i < items.Count; i++)
        {
            if (items[i].SameIdentity(resource))
            {
                items[i] = items[i].Plus(resource);
                return;
            }
        }

        items.Add(resource);
    }

    private static void SubtractFrom(List<Resource> items, Resource resource)
    {
        if (resource.IsEmpty)
        {
            return;
        }

        for (var i = 0; i < items.Count; i++)
        {
            if (items[i].SameIdentity(resource))
            {
                var left = items[i].Minus(resource);

                // Mesos drops a resource that became empty or negative: a negative amount means the caller subtracted
                // more than there was, and keeping it would poison every later sum.
                if (left.IsEmpty)
                {
                    items.RemoveAt(i);
                }
                else
                {
                    items[i] = left;
                }

                return;
            }
        }
    }
}
