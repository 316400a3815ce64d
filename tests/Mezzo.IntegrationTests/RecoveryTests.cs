using System.Text.Json.Nodes;
using Mezzo.Agent.Tasks;
using Mezzo.Core.Resources;
using Mezzo.Framework;
using Mezzo.IntegrationTests.Infrastructure;
using Mezzo.Protocol.V1;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using CoreTaskState = Mezzo.Core.Tasks.TaskState;

namespace Mezzo.IntegrationTests;

/// <summary>Connections that drop: the master goes away and comes back; agents and schedulers find it again.</summary>
public sealed class RecoveryTests
{
    [Fact]
    public async Task Master_restart_keeps_the_agent_and_its_running_task_and_the_framework_resubscribes_with_its_id()
    {
        await using var cluster = await InProcessCluster.StartAsync();
        var agentId = await AgentIdAsync(cluster);
        string frameworkId;
        await using (var first = new RawScheduler(cluster.MasterUrl))
        {
            await first.SubscribeAsync(RawScheduler.FrameworkInfo(failoverTimeout: 60));
            frameworkId = first.FrameworkId!;
            await first.LaunchAsync(await first.NextOfferAsync(), "long", "sleep 1000");
            await first.WaitForUpdateAsync("long", "TASK_RUNNING");

            await cluster.RestartMasterAsync();
            await Poll.UntilAsync(() => first.StreamEnded, "the old subscription to end with the master");
        }

        // The agent reconnects on its own, under the id the registry admitted it with.
        await Poll.UntilAsync(async () => await AgentIdAsync(cluster) == agentId, "the agent to re-register");

        await using var second = new RawScheduler(cluster.MasterUrl);
        await second.SubscribeAsync(RawScheduler.FrameworkInfo(failoverTimeout: 60, id: frameworkId), frameworkId);
        second.FrameworkId.Should().Be(frameworkId);
        await second.ReconcileAsync("long");
        await second.WaitForUpdateAsync("long", "TASK_RUNNING");
        OrphanReaper.FindTaskProcesses(cluster.SandboxRoot).Should().NotBeEmpty("nothing that should live was killed by the restart");

        await second.KillAsync("long");
        await second.WaitForUpdateAsync("long", "TASK_KILLED");
    }

    [Fact]
    public async Task Sdk_follows_a_redirect_to_the_leader_and_survives_a_master_restart_as_the_same_framework()
    {
        await using var cluster = await InProcessCluster.StartAsync();
        await using var standby = await RedirectingMaster.StartAsync(cluster.MasterUrl);
        await using var client = new SchedulerClient(new SchedulerOptions
        {
            Master = standby.Address,
            FrameworkInfo = new FrameworkInfo { User = "root", Name = "sdk-test", FailoverTimeout = 60 },
            MaxBackoff = TimeSpan.FromMilliseconds(500),
        });
        var frameworkId = await client.SubscribeAsync();
        client.Master.Port.Should().Be(cluster.MasterUrl.Port, "the SDK follows the 307 to the leading master");

        var events = new List<Event>();
        var pump = Task.Run(async () =>
        {
            await foreach (var ev in client.Events.ReadAllAsync())
            {
                lock (events)
                {
                    events.Add(ev);
                }

                if (ev.Type == EventType.OFFERS && !events.Any(e => e.Type == EventType.UPDATE))
                {
                    var offer = ev.Offers!.Offers![0];
                    await client.LaunchAsync(offer, [new TaskInfo
                    {
                        Name = "sdk-task",
                        TaskId = new TaskID { Value = "sdk-task" },
                        AgentId = offer.AgentId,
                        Resources = ResourceConversion.ToWire(Resources.Parse("cpus:0.1;mem:32")),
                        Command = new CommandInfo { Shell = true, Value = "sleep 1000" },
                    }]);
                }
            }
        });

        bool Seen(Func<Event, bool> match)
        {
            lock (events)
            {
                return events.Any(match);
            }
        }

        static bool IsRunning(Event e) => e.Type == EventType.UPDATE && e.Update!.Status!.State == CoreTaskState.TASK_RUNNING;
        await Poll.UntilAsync(() => Seen(IsRunning), "the task to run");

        await cluster.RestartMasterAsync();
        await Poll.UntilAsync(() => Seen(e => e.Type == EventType.SUBSCRIBED && events.IndexOf(e) > 0), "the SDK to resubscribe");
        client.FrameworkId.Should().Be(frameworkId, "a reconnect is a failover of the same framework, not a new one");

        int seenBefore;
        lock (events)
        {
            seenBefore = events.Count;
        }

        await client.ReconcileAsync([("sdk-task", null)]);
        await Poll.UntilAsync(() => Seen(e => IsRunning(e) && events.IndexOf(e) >= seenBefore), "the reconciled task to be reported running");

        await client.KillAsync("sdk-task");
        await Poll.UntilAsync(() => Seen(e => e.Type == EventType.UPDATE && e.Update!.Status!.State == CoreTaskState.TASK_KILLED), "the kill");
        await client.TeardownAsync();
        await client.DisposeAsync();
        await pump;
    }

    private static async Task<string?> AgentIdAsync(InProcessCluster cluster)
    {
        var state = JsonNode.Parse(await cluster.Http.GetStringAsync(new Uri(cluster.MasterUrl, "master/state")))!;
        return state["slaves"]!.AsArray().Where(s => (bool?)s!["active"] == true).Select(s => (string?)s!["id"]).SingleOrDefault();
    }

    /// <summary>A standby master in miniature: answers every request with 307 to the leader, as Mesos standbys do.</summary>
    private sealed class RedirectingMaster : IAsyncDisposable
    {
        private readonly WebApplication _app;

        private RedirectingMaster(WebApplication app, string address)
        {
            _app = app;
            Address = address;
        }

        public string Address { get; }

        public static async Task<RedirectingMaster> StartAsync(Uri leader)
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.ConfigureKestrel(k => k.Listen(System.Net.IPAddress.Loopback, 0));
            var app = builder.Build();
            app.Run(context =>
            {
                context.Response.StatusCode = StatusCodes.Status307TemporaryRedirect;
                context.Response.Headers.Location = new Uri(leader, context.Request.Path).ToString();
                return Task.CompletedTask;
            });
            await app.StartAsync();
            var url = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
            return new RedirectingMaster(app, $"127.0.0.1:{url.Port}");
        }

        public async ValueTask DisposeAsync()
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }
}
