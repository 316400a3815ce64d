using Mezzo.Services.Scheduling;

namespace Mezzo.Services.Tests.Scheduling;

public sealed class ConstraintsTests
{
    private static Placement At(string host, string? rack = null) =>
        new(host, rack is null ? new Dictionary<string, string>() : new Dictionary<string, string> { ["rack"] = rack });

    private static bool Accept(string field, string op, string? value, Placement offer, params Placement[] running) =>
        Constraints.Accept([value is null ? [field, op] : [field, op, value]], offer, running);

    [Fact]
    public void Unique() =>
        (Accept("hostname", "UNIQUE", null, At("a"), At("b")), Accept("hostname", "UNIQUE", null, At("a"), At("a"))).Should().Be((true, false));

    [Fact]
    public void Cluster_pins_to_a_value() =>
        (Accept("rack", "CLUSTER", "r1", At("a", "r1")), Accept("rack", "CLUSTER", "r1", At("a", "r2"))).Should().Be((true, false));

    [Fact]
    public void Like_and_unlike_match_the_whole_value()
    {
        Accept("hostname", "LIKE", "srv[0-9]", At("srv1")).Should().BeTrue();
        Accept("hostname", "LIKE", "srv", At("srv1")).Should().BeFalse();
        Accept("hostname", "UNLIKE", "srv[0-9]", At("srv1")).Should().BeFalse();
        Accept("rack", "UNLIKE", "r1", At("a")).Should().BeTrue("an agent without the attribute is unlike anything");
        Accept("rack", "LIKE", "r1", At("a")).Should().BeFalse();
    }

    [Fact]
    public void Max_per_caps_tasks_per_value()
    {
        Accept("rack", "MAX_PER", "2", At("x", "r1"), At("a", "r1"), At("b", "r1")).Should().BeFalse();
        Accept("rack", "MAX_PER", "2", At("x", "r1"), At("a", "r1"), At("c", "r2")).Should().BeTrue();
        Accept("rack", "MAX_PER", "1", At("x", "r2"), At("a", "r1"), At("c", "r2")).Should().BeFalse();
    }

    [Fact]
    public void Group_by_spreads_evenly()
    {
        Accept("rack", "GROUP_BY", "2", At("a", "r1"), At("b", "r1")).Should().BeFalse("r2 is still unused");
        Accept("rack", "GROUP_BY", "2", At("a", "r2"), At("b", "r1")).Should().BeTrue();
        Accept("rack", "GROUP_BY", "2", At("a", "r1"), At("b", "r1"), At("c", "r2")).Should().BeTrue();
    }

    [Fact]
    public void Is_compares_exactly() =>
        (Accept("rack", "IS", "r1", At("a", "r1")), Accept("rack", "IS", "r1", At("a", "r10"))).Should().Be((true, false));
}
