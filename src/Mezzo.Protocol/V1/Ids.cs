namespace Mezzo.Protocol.V1;

// Mesos v1 wire types (include/mesos/v1/mesos.proto, scheduler/scheduler.proto) as JSON DTOs. Property names map to
// the proto field names through the snake_case policy of MesosJsonContext; enum members are spelled as in the proto.
// Every field is optional here so that a missing required field becomes a validation error with a message, not a
// deserialization failure.

public sealed class FrameworkID
{
    public string? Value { get; set; }
}

public sealed class OfferID
{
    public string? Value { get; set; }
}

public sealed class AgentID
{
    public string? Value { get; set; }
}

public sealed class TaskID
{
    public string? Value { get; set; }
}

public sealed class ExecutorID
{
    public string? Value { get; set; }
}

public sealed class ContainerID
{
    public string? Value { get; set; }

    public ContainerID? Parent { get; set; }
}

public sealed class DurationInfo
{
    public long? Nanoseconds { get; set; }
}

public sealed class TimeInfo
{
    public long? Nanoseconds { get; set; }
}

public sealed class Label
{
    public string? Key { get; set; }

    public string? Value { get; set; }
}

public sealed class Labels
{
    [System.Text.Json.Serialization.JsonPropertyName("labels")]
    public List<Label>? Items { get; set; }
}

public sealed class Address
{
    public string? Hostname { get; set; }

    public string? Ip { get; set; }

    public int? Port { get; set; }
}

public sealed class URL
{
    public string? Scheme { get; set; }

    public Address? Address { get; set; }

    public string? Path { get; set; }

    public List<Parameter>? Query { get; set; }

    public string? Fragment { get; set; }
}

public sealed class Parameter
{
    public string? Key { get; set; }

    public string? Value { get; set; }
}

public sealed class Filters
{
    public double? RefuseSeconds { get; set; }
}

public sealed class MasterInfo
{
    public string? Id { get; set; }

    public uint? Ip { get; set; }

    public uint? Port { get; set; }

    public string? Pid { get; set; }

    public string? Hostname { get; set; }

    public string? Version { get; set; }

    public Address? Address { get; set; }
}
