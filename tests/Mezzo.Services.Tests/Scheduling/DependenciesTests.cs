using Mezzo.Protocol.Marathon;
using Mezzo.Services.Scheduling;
using static Mezzo.Services.Tests.Scheduling.Apps;

namespace Mezzo.Services.Tests.Scheduling;

public sealed class DependenciesTests
{
    private static AppDefinition Dependent(string id, params string[] on) => App($$"""{"id":"{{id}}","cmd":"x","dependencies":[{{string.Join(",", on.Select(d => $"\"{d}\""))}}]}""");

    [Fact]
    public void A_dependency_names_an_app_or_every_app_under_a_group()
    {
        var ids = new[] { "/db/pg", "/db/redis", "/web", "/dbx" };
        Dependencies.Of(Dependent("/web", "/db"), ids).Should().BeEquivalentTo("/db/pg", "/db/redis");
        Dependencies.Of(Dependent("/web", "/dbx"), ids).Should().Equal("/dbx");
    }

    [Fact]
    public void Levels_order_apps_after_what_they_depend_on_and_cycles_are_found()
    {
        var apps = new[] { Dependent("/a"), Dependent("/b", "/a"), Dependent("/c", "/b", "/a") }.ToDictionary(a => a.Id!);
        Dependencies.Levels(apps).Should().BeEquivalentTo(new Dictionary<string, int> { ["/a"] = 0, ["/b"] = 1, ["/c"] = 2 });

        var cyclic = new[] { Dependent("/a", "/c"), Dependent("/b", "/a"), Dependent("/c", "/b") }.ToDictionary(a => a.Id!);
        Dependencies.Levels(cyclic).Should().BeNull();
    }
}
