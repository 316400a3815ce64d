using Mezzo.Protocol.V1;
using Mezzo.Services.Scheduling;
using static Mezzo.Services.Tests.Scheduling.Apps;

namespace Mezzo.Services.Tests.Scheduling;

public sealed class OfferMatcherTests
{
    internal static Offer Offer(double cpus = 2, double mem = 1024, string ports = "31000-31002", string host = "h1", string? rack = null, string role = "*") => new()
    {
        Id = new OfferID { Value = "o-" + host },
        AgentId = new AgentID { Value = "agent-" + host },
        Hostname = host,
        Resources =
        [
            Scalar("cpus", cpus, role),
            Scalar("mem", mem, role),
            Scalar("disk", 1000, role),
            new Resource
            {
                Name = "ports",
                Type = Mezzo.Protocol.V1.ValueType.RANGES,
                Ranges = new ValueRanges { Range = [new ValueRange { Begin = ulong.Parse(ports.Split('-')[0]), End = ulong.Parse(ports.Split('-')[1]) }] },
                Role = role,
                AllocationInfo = new ResourceAllocationInfo { Role = "*" },
            },
        ],
        Attributes = rack is null ? [] : [new Mezzo.Protocol.V1.Attribute { Name = "rack", Type = Mezzo.Protocol.V1.ValueType.TEXT, Text = new ValueText { Value = rack } }],
    };

    private static Resource Scalar(string name, double value, string role) => new()
    {
        Name = name,
        Type = Mezzo.Protocol.V1.ValueType.SCALAR,
        Scalar = new ValueScalar { Value = value },
        Role = role,
        AllocationInfo = new ResourceAllocationInfo { Role = "*" },
    };

    [Fact]
    public void Fits_as_many_tasks_as_resources_allow()
    {
        var matches = OfferMatcher.Match(Offer(cpus: 1.6), [new Demand(App(), 5, [])]);

        matches.Should().HaveCount(3, "0.5 cpus each from 1.6");
        matches.SelectMany(m => m.HostPorts).Should().OnlyHaveUniqueItems().And.BeSubsetOf([31000, 31001, 31002]);
        matches[0].Resources.Should().Contain(r => r.Name == "cpus" && r.Scalar!.Value == 0.5 && r.AllocationInfo!.Role == "*");
    }

    [Fact]
    public void Runs_out_of_ports_before_cpus()
    {
        var matches = OfferMatcher.Match(Offer(cpus: 10, ports: "31000-31001"), [new Demand(App(), 5, [])]);
        matches.Should().HaveCount(2);
    }

    [Fact]
    public void Required_ports_must_be_in_the_offer()
    {
        var app = App("""{"id":"/web","cmd":"x","cpus":0.1,"mem":1,"requirePorts":true,"portDefinitions":[{"port":31001}]}""");
        OfferMatcher.Match(Offer(), [new Demand(app, 2, [])]).Should().ContainSingle().Which.HostPorts.Should().Equal(31001);
        OfferMatcher.Match(Offer(ports: "32000-32010"), [new Demand(app, 1, [])]).Should().BeEmpty();
    }

    [Fact]
    public void Resources_of_other_roles_are_not_used_unless_accepted()
    {
        OfferMatcher.Match(Offer(role: "prod"), [new Demand(App(), 1, [])]).Should().BeEmpty();
        var accepting = App("""{"id":"/web","cmd":"x","cpus":0.5,"mem":64,"acceptedResourceRoles":["prod"]}""");
        OfferMatcher.Match(Offer(role: "prod"), [new Demand(accepting, 1, [])]).Should().ContainSingle();
    }

    [Fact]
    public void Unique_hostname_places_one_task_per_agent()
    {
        var app = App("""{"id":"/web","cmd":"x","cpus":0.1,"mem":1,"constraints":[["hostname","UNIQUE"]]}""");
        OfferMatcher.Match(Offer(host: "h1"), [new Demand(app, 3, [])]).Should().ContainSingle();
        OfferMatcher.Match(Offer(host: "h1"), [new Demand(app, 3, [new Placement("h1", new Dictionary<string, string>())])]).Should().BeEmpty();
    }

    [Fact]
    public void Nothing_fits_a_task_bigger_than_the_offer() =>
        OfferMatcher.Match(Offer(mem: 32), [new Demand(App(), 1, [])]).Should().BeEmpty();
}
