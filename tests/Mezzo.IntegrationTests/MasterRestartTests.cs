using System.Text.Json.Nodes;
using Mezzo.Agent.Tasks;
using Mezzo.IntegrationTests.Infrastructure;

namespace Mezzo.IntegrationTests;

/// <summary>A real master process on SQLite killed with SIGKILL and started again on the same work dir and port.</summary>
public sealed class MasterRestartTests
{
    [Fact]
    public async Task A_master_killed_with_sigkill_restarts_on_its_registry_and_the_agent_task_and_framework_carry_on()
    {
        using var dir = new TempDir();
        var masterDir = Path.Combine(dir.Path, "master");
        var agentDir = Path.Combine(dir.Path, "agent");
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        var first = StartMaster(masterDir, 0);
        try
        {
            var url = await first.WaitForUrlAsync();
            await using var agent = MezzoProcess.Start("agent", "--master", $"127.0.0.1:{url.Port}", "--port", "0", "--ip", "127.0.0.1",
                "--hostname", "127.0.0.1", "--work-dir", agentDir, "--resources", "cpus:2;mem:1024", "--allow-root-tasks");
            await agent.WaitForUrlAsync();
            var agentId = await Poll.UntilAsync(() => ActiveAgentIdAsync(http, url), "the agent to register");
            try
            {
                string frameworkId;
                IReadOnlyList<int> pids;
                await using (var scheduler = new RawScheduler(url))
                {
                    await scheduler.SubscribeAsync(RawScheduler.FrameworkInfo(failoverTimeout: 60));
                    frameworkId = scheduler.FrameworkId!;
                    await scheduler.LaunchAsync(await scheduler.NextOfferAsync(), "survivor", "sleep 1000");
                    await scheduler.WaitForUpdateAsync("survivor", "TASK_RUNNING");
                    pids = await TaskPids.WhenRunningAsync(agentDir);
                    pids.Should().NotBeEmpty();

                    first.Kill9();
                    await first.WaitForExitAsync(TimeSpan.FromSeconds(10));
                    await first.DisposeAsync();
                    first = StartMaster(masterDir, url.Port);
                    (await first.WaitForUrlAsync()).Port.Should().Be(url.Port);
                    await Poll.UntilAsync(() => scheduler.StreamEnded, "the old subscription to end with the killed master");
                    scheduler.Updates("survivor").Select(u => (string?)u["update"]!["status"]!["state"]).Should().OnlyContain(s => s == "TASK_RUNNING" || s == "TASK_STARTING");
                }

                // The agent finds the master again on its own, under the id the registry admitted it with.
                (await Poll.UntilAsync(() => ActiveAgentIdAsync(http, url), "the agent to re-register")).Should().Be(agentId);
                var state = JsonNode.Parse(await http.GetStringAsync(new Uri(url, "master/state")))!;
                state["recovered_slaves"]!.AsArray().Should().BeEmpty("the agent is back");
                var framework = state["frameworks"]!.AsArray().Single()!;
                ((string?)framework["id"]).Should().Be(frameworkId);
                ((bool)framework["recovered"]!).Should().BeTrue("the framework has not re-subscribed yet");
                ((bool)framework["active"]!).Should().BeFalse();
                framework["tasks"]!.AsArray().Select(t => ((string?)t!["id"], (string?)t["state"])).Should().Equal(("survivor", "TASK_RUNNING"));

                await using var again = new RawScheduler(url);
                await again.SubscribeAsync(RawScheduler.FrameworkInfo(failoverTimeout: 60, id: frameworkId), frameworkId);
                again.FrameworkId.Should().Be(frameworkId);
                await again.ReconcileAsync("survivor");
                await again.WaitForUpdateAsync("survivor", "TASK_RUNNING");
                OrphanReaper.FindTaskProcesses(agentDir).Should().BeEquivalentTo(pids, "the task ran on, in the same process, through the master's death");
                again.Updates("survivor").Should().OnlyContain(u => (string?)u["update"]!["status"]!["state"] == "TASK_RUNNING");

                await again.KillAsync("survivor");
                await again.WaitForUpdateAsync("survivor", "TASK_KILLED");
                await Poll.UntilAsync(() => OrphanReaper.FindTaskProcesses(agentDir).Count == 0, "the killed task's processes to end");
            }
            finally
            {
                OrphanReaper.KillTasksUnder(agentDir);
            }
        }
        finally
        {
            await first.DisposeAsync();
        }
    }

    private static MezzoProcess StartMaster(string workDir, int port) =>
        MezzoProcess.Start("master", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--ip", "127.0.0.1",
            "--hostname", "127.0.0.1", "--work-dir", workDir, "--allocation-interval", "20ms");

    private static async Task<string?> ActiveAgentIdAsync(HttpClient http, Uri master)
    {
        try
        {
            var state = JsonNode.Parse(await http.GetStringAsync(new Uri(master, "master/state")))!;
            return state["slaves"]!.AsArray().Where(s => (bool?)s!["active"] == true).Select(s => (string?)s!["id"]).SingleOrDefault();
        }
        catch (HttpRequestException)
        {
            return null;
        }
    }
}
