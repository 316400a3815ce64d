using Mezzo.Core.Resources;
using Wire = Mezzo.Protocol.V1;

namespace Mezzo.Protocol;

/// <summary>Between the wire's <c>Resource</c>/<c>Attribute</c> messages and Mezzo.Core's resource model.</summary>
public static class ResourceConversion
{
    /// <summary>
    /// What Mesos's <c>Resources::validate</c> checks, plus what Mezzo does not support yet (volumes, revocable and
    /// shared resources), so such a request fails with a reason instead of being half-honoured. Null when valid.
    /// </summary>
    public static string? Validate(IEnumerable<Wire.Resource> resources)
    {
        var types = new Dictionary<string, Wire.ValueType>(StringComparer.Ordinal);
        foreach (var resource in resources)
        {
            if (resource is null)
            {
                return "Resource must not be null";
            }

            if (Validate(resource) is { } error)
            {
                return error;
            }

            if (types.TryGetValue(resource.Name!, out var type) && type != resource.Type)
            {
                return $"Resources with the same name ('{resource.Name}') but different types are not allowed";
            }

            types[resource.Name!] = resource.Type!.Value;
        }

        return null;
    }

    public static string? Validate(Wire.Resource resource)
    {
        if (ResourceValidation.ValidateName(resource.Name) is { } nameError)
        {
            return nameError;
        }

        var name = resource.Name;
        switch (resource.Type)
        {
            case null:
                return $"Resource '{name}' is missing 'type'";
            case Wire.ValueType.SCALAR:
                if (resource.Scalar?.Value is not { } value)
                {
                    return $"Resource '{name}' of type SCALAR is missing 'scalar.value'";
                }

                if (!double.IsFinite(value))
                {
                    return $"Resource '{name}' has an invalid scalar value {value}";
                }

                if (value < 0)
                {
                    return $"Resource '{name}' has a negative scalar value {value}";
                }

                if (value > long.MaxValue / 1000.0)
                {
                    return $"Resource '{name}' has a scalar value that is too large";
                }

                if (resource.Ranges is not null || resource.Set is not null)
                {
                    return $"Resource '{name}' of type SCALAR must not carry 'ranges' or 'set'";
                }

                break;
            case Wire.ValueType.RANGES:
                if (resource.Ranges?.Range is not { } ranges)
                {
                    return $"Resource '{name}' of type RANGES is missing 'ranges.range'";
                }

                foreach (var range in ranges)
                {
                    if (range?.Begin is not { } begin || range.End is not { } end)
                    {
                        return $"Resource '{name}' has a range without 'begin' or 'end'";
                    }

                    if (begin > end)
                    {
                        return $"Resource '{name}' has a range {begin}-{end} that begins after it ends";
                    }
                }

                if (resource.Scalar is not null || resource.Set is not null)
                {
                    return $"Resource '{name}' of type RANGES must not carry 'scalar' or 'set'";
                }

                break;
            case Wire.ValueType.SET:
                if (resource.Set?.Item is not { } items)
                {
                    return $"Resource '{name}' of type SET is missing 'set.item'";
                }

                if (items.Any(string.IsNullOrEmpty))
                {
                    return $"Resource '{name}' has an empty set item";
                }

                if (resource.Scalar is not null || resource.Ranges is not null)
                {
                    return $"Resource '{name}' of type SET must not carry 'scalar' or 'ranges'";
                }

                break;
            default:
                return $"Resource '{name}' has unsupported type {resource.Type}";
        }

        if (resource.Disk is not null || resource.Revocable is not null || resource.Shared is not null)
        {
            return $"Resource '{name}': disk info, revocable and shared resources are not supported";
        }

        if (resource.Role is { } legacyRole && ResourceValidation.ValidateRole(legacyRole) is { } legacyError)
        {
            return $"Resource '{name}': {legacyError}";
        }

        if (resource.AllocationInfo is { } allocation && ResourceValidation.ValidateRole(allocation.Role) is { } allocationError)
        {
            return $"Resource '{name}' has an invalid 'allocation_info.role': {allocationError}";
        }

        foreach (var reservation in resource.Reservations ?? [])
        {
            if (reservation is null || reservation.Type is not (Wire.ReservationInfoType.STATIC or Wire.ReservationInfoType.DYNAMIC))
            {
                return $"Resource '{name}' has a reservation without a STATIC or DYNAMIC 'type'";
            }

            if (reservation.Role == "*" || ResourceValidation.ValidateRole(reservation.Role) is not null)
            {
                return $"Resource '{name}' has a reservation with an invalid role '{reservation.Role}'";
            }
        }

        // As Mesos's Resources::validate: each reservation after the first refines the one before it, so it is DYNAMIC
        // and its role is a strict sub-role ("eng" -> "eng/web").
        if (resource.Reservations is { Count: > 0 } stack)
        {
            for (var i = 1; i < stack.Count; i++)
            {
                if (stack[i].Type != Wire.ReservationInfoType.DYNAMIC)
                {
                    return $"Resource '{name}' has a refined reservation in 'reservations' that is not DYNAMIC";
                }

                if (!stack[i].Role!.StartsWith(stack[i - 1].Role + "/", StringComparison.Ordinal))
                {
                    return $"Resource '{name}' has a reservation for role '{stack[i].Role}' in 'reservations' that is not a refinement of '{stack[i - 1].Role}'";
                }
            }

            // The deprecated 'role' may accompany 'reservations' (Mezzo's own offers carry both) but must not contradict
            // them; otherwise it would be silently ignored.
            if (resource.Role is { } role && role != stack[^1].Role)
            {
                return $"Resource '{name}' has 'role' '{role}' that does not match the role '{stack[^1].Role}' in 'reservations'";
            }
        }

        return null;
    }

    /// <summary>Converts validated wire resources; invalid ones throw <see cref="FormatException"/>.</summary>
    public static Resources ToCore(IEnumerable<Wire.Resource> resources)
    {
        var list = resources as IReadOnlyCollection<Wire.Resource> ?? [.. resources];
        if (Validate(list) is { } error)
        {
            throw new FormatException(error);
        }

        return new Resources(list.Select(ToCore));
    }

    public static List<Wire.Resource> ToWire(Resources resources) => [.. resources.Select(ToWire)];

    public static Wire.Resource ToWire(Resource resource)
    {
        var wire = new Wire.Resource
        {
            Name = resource.Name,
            Role = resource.Role,
            AllocationInfo = resource.AllocationRole is { } role ? new Wire.ResourceAllocationInfo { Role = role } : null,
            Reservations = resource.IsReserved
                ? [.. resource.Reservations.Select(r => new Wire.ResourceReservationInfo
                {
                    Type = r.Type == ReservationType.Static ? Wire.ReservationInfoType.STATIC : Wire.ReservationInfoType.DYNAMIC,
                    Role = r.Role,
                    Principal = r.Principal,
                })]
                : null,
        };
        switch (resource.Type)
        {
            case ResourceType.Scalar:
                wire.Type = Wire.ValueType.SCALAR;
                wire.Scalar = new Wire.ValueScalar { Value = resource.Scalar };
                break;
            case ResourceType.Ranges:
                wire.Type = Wire.ValueType.RANGES;
                wire.Ranges = ToWire(resource.Ranges);
                break;
            default:
                wire.Type = Wire.ValueType.SET;
                wire.Set = new Wire.ValueSet { Item = [.. resource.Set] };
                break;
        }

        return wire;
    }

    public static IReadOnlyList<AgentAttribute> ToCore(IEnumerable<Wire.Attribute> attributes) =>
        [.. attributes.Select(ToCore)];

    public static List<Wire.Attribute> ToWire(IEnumerable<AgentAttribute> attributes) =>
        [.. attributes.Select(a => new Wire.Attribute
        {
            Name = a.Name,
            Type = a.Type switch
            {
                AttributeType.Scalar => Wire.ValueType.SCALAR,
                AttributeType.Ranges => Wire.ValueType.RANGES,
                AttributeType.Set => Wire.ValueType.SET,
                _ => Wire.ValueType.TEXT,
            },
            Scalar = a.Type == AttributeType.Scalar ? new Wire.ValueScalar { Value = a.Scalar } : null,
            Ranges = a.Type == AttributeType.Ranges ? ToWire(a.Ranges ?? Core.Resources.ValueRanges.Empty) : null,
            Set = a.Type == AttributeType.Set ? new Wire.ValueSet { Item = [.. a.Set ?? []] } : null,
            Text = a.Type == AttributeType.Text ? new Wire.ValueText { Value = a.Text } : null,
        })];

    private static Resource ToCore(Wire.Resource wire)
    {
        IEnumerable<ReservationInfo> reservations = wire.Reservations is { Count: > 0 } stack
            ? stack.Select(r => new ReservationInfo(
                r.Type == Wire.ReservationInfoType.STATIC ? ReservationType.Static : ReservationType.Dynamic, r.Role!, r.Principal))
            : wire.Role is { } role and not "*"
                ? [new ReservationInfo(ReservationType.Static, role)]
                : [];
        var resource = wire.Type switch
        {
            Wire.ValueType.SCALAR => Resource.ScalarOf(wire.Name!, wire.Scalar!.Value!.Value, reservations),
            Wire.ValueType.RANGES => Resource.RangesOf(wire.Name!, ToCore(wire.Ranges!), reservations),
            _ => Resource.SetOf(wire.Name!, wire.Set!.Item!, reservations),
        };
        return resource.WithAllocationRole(wire.AllocationInfo?.Role);
    }

    private static AgentAttribute ToCore(Wire.Attribute wire)
    {
        var name = string.IsNullOrEmpty(wire.Name) ? throw new FormatException("Attribute is missing 'name'") : wire.Name;
        return wire.Type switch
        {
            Wire.ValueType.SCALAR when wire.Scalar?.Value is { } value && double.IsFinite(value) =>
                new AgentAttribute(name, AttributeType.Scalar, Scalar: value),
            Wire.ValueType.RANGES when wire.Ranges is { } ranges => new AgentAttribute(name, AttributeType.Ranges, Ranges: ToCoreChecked(ranges, name)),
            Wire.ValueType.SET when wire.Set?.Item is { } items => new AgentAttribute(name, AttributeType.Set, Set: [.. items]),
            Wire.ValueType.TEXT when wire.Text?.Value is { } text => new AgentAttribute(name, AttributeType.Text, Text: text),
            _ => throw new FormatException($"Attribute '{name}' has a missing or mismatched value for its type"),
        };
    }

    private static Core.Resources.ValueRanges ToCoreChecked(Wire.ValueRanges ranges, string name)
    {
        foreach (var range in ranges.Range ?? [])
        {
            if (range?.Begin is not { } begin || range.End is not { } end || begin > end)
            {
                throw new FormatException($"Attribute '{name}' has an invalid range");
            }
        }

        return ToCore(ranges);
    }

    private static Core.Resources.ValueRanges ToCore(Wire.ValueRanges ranges) =>
        Core.Resources.ValueRanges.Of((ranges.Range ?? []).Select(r => new Core.Resources.ValueRange(r.Begin!.Value, r.End!.Value)));

    private static Wire.ValueRanges ToWire(Core.Resources.ValueRanges ranges) =>
        new() { Range = [.. ranges.Select(r => new Wire.ValueRange { Begin = r.Begin, End = r.End })] };
}
