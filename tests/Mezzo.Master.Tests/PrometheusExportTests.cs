using System.Text;
using Mezzo.Master.Http;

namespace Mezzo.Master.Tests;

/// <summary>How /metrics/snapshot's keys become Prometheus series, without a master behind them.</summary>
public sealed class PrometheusExportTests
{
    [Fact]
    public async Task Known_keys_get_names_and_labels_and_others_a_sanitized_name()
    {
        var endpoint = new PrometheusEndpoint(() => null);

        endpoint.Export(new Dictionary<string, double>
        {
            ["master/slaves_active"] = 2,
            ["master/mem_total"] = 1024,
            ["master/tasks_finished"] = 7,
            ["allocator/mesos/allocation_runs"] = 12,
            ["allocator/mesos/allocation_run_ms/sum"] = 30,
            ["allocator/mesos/allocation_run_ms"] = 2.5,
            ["allocator/mesos/roles/eng/shares/dominant"] = 0.5,
            // Its plain name is the labelled agents family's: one more (unlabelled) series of that family, still valid.
            ["master/agents"] = 3,
        });
        var text = await ScrapeAsync(endpoint);

        text.Should().Contain("mezzo_master_agents{state=\"active\"} 2\n");
        text.Should().Contain("mezzo_master_mem_bytes{kind=\"total\"} 1073741824\n", "megabytes become bytes");
        text.Should().Contain("# TYPE mezzo_master_tasks_terminal_total counter\n");
        text.Should().Contain("mezzo_master_tasks_terminal_total{state=\"finished\"} 7\n");
        text.Should().Contain("mezzo_master_role_dominant_share{role=\"eng\"} 0.5\n", "one series per role under a label");
        text.Should().Contain("mezzo_master_agents 3\n");
        text.Should().Contain("# TYPE mezzo_master_allocation_runs_total counter\nmezzo_master_allocation_runs_total 12\n");
        text.Should().Contain("mezzo_master_allocation_seconds_total 0.03\n", "milliseconds become seconds");
        text.Should().Contain("mezzo_master_allocation_last_seconds 0.0025\n");
        text.Should().Contain("mezzo_master_elected 0\n", "with no actor behind it the process is a standby");
    }

    [Theory]
    [InlineData("master/slaves_active", "master_slaves_active")]
    [InlineData("allocator/mesos/roles/eng/web/shares/dominant", "allocator_mesos_roles_eng_web_shares_dominant")]
    [InlineData("a-b.c d*e", "a_b_c_d_e")]
    public void Mesos_keys_become_valid_prometheus_names(string key, string expected)
    {
        PrometheusEndpoint.Sanitize(key).Should().Be(expected);
    }

    private static async Task<string> ScrapeAsync(PrometheusEndpoint endpoint)
    {
        using var output = new MemoryStream();
        await endpoint.WriteAsync(output);
        return Encoding.UTF8.GetString(output.ToArray());
    }
}
