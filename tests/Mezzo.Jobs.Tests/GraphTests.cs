using Mezzo.Jobs.Graph;
using Mezzo.Protocol.Chronos;

namespace Mezzo.Jobs.Tests;

public sealed class GraphTests
{
    private static Job Dependent(string name, params string[] parents) => new() { Name = name, Command = "true", Parents = [.. parents] };

    private static Job Scheduled(string name) => new() { Name = name, Command = "true", Schedule = "R//PT1H" };

    private static Dictionary<string, Job> Jobs(params Job[] jobs) => jobs.ToDictionary(j => j.Name);

    [Fact]
    public void Cycles_are_found_and_named()
    {
        var jobs = Jobs(Scheduled("a"), Dependent("b", "a"), Dependent("c", "b"));
        JobGraph.FindCycle(jobs, Dependent("b", "c")).Should().Equal("b", "c", "b");
        JobGraph.FindCycle(jobs, Dependent("a", "c")).Should().Equal("a", "b", "c", "a");
        JobGraph.FindCycle(jobs, Dependent("x", "x")).Should().Equal("x", "x");
        JobGraph.FindCycle(jobs, Dependent("d", "b", "c")).Should().BeNull();
    }

    [Fact]
    public void Dot_and_csv_render_the_dag_with_last_state()
    {
        var jobs = Jobs(Scheduled("a") with { LastSuccess = "2026-01-01T00:00:00.000Z" }, Dependent("b", "a") with { LastError = "2026-01-01T00:00:00.000Z" });
        JobGraph.Dot(jobs).Should().Be("""
            digraph G {
              1 [ label = "a" color = "green" tooltip = "success" ];
              2 [ label = "b" color = "red" tooltip = "failure" ];
              1 -> 2;
            }

            """.Replace("\r", "", StringComparison.Ordinal));
        JobGraph.Csv(jobs, _ => "idle").Should().Be("node,a,success,idle\nnode,b,failure,idle\nlink,a,b\n");
    }
}
