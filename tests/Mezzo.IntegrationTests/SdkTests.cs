using System.Globalization;
using Mezzo.Core.Resources;
using Mezzo.Framework;
using Mezzo.IntegrationTests.Infrastructure;
using Mezzo.Protocol.V1;
using CoreTaskState = Mezzo.Core.Tasks.TaskState;

namespace Mezzo.IntegrationTests;

/// <summary>The C# scheduler SDK against a real master and agent.</summary>
public sealed class SdkTests
{
    [Fact]
    public async Task SDK_launches_a_task_group_then_messages_and_shuts_down_a_custom_executor()
    {
        await using var cluster = await InProcessCluster.StartAsync();
        await using var client = new SchedulerClient(new SchedulerOptions
        {
            Master = cluster.MasterAddress,
            FrameworkInfo = new FrameworkInfo { User = "root", Name = "sdk-executors" },
        });
        await client.SubscribeAsync();
        var executor = MesosJson.Deserialize<ExecutorInfo>(ExecutorTests.CustomExecutor("sdk-exec").ToJsonString())!;
        var offers = 0;
        var finished = new HashSet<string>();
        string? agentId = null;
        var cancel = TestContext.Current.CancellationToken;
        await foreach (var ev in client.Events.ReadAllAsync(cancel))
        {
            if (ev.Type == EventType.OFFERS && ++offers == 1)
            {
                var offer = ev.Offers!.Offers![0];
                agentId = offer.AgentId!.Value;
                await client.LaunchGroupAsync(
                    offer,
                    new ExecutorInfo { Type = ExecutorInfoType.DEFAULT, ExecutorId = new ExecutorID { Value = "sdk-pod" } },
                    new[] { "g1", "g2" }.Select(id => Task(offer, id, new CommandInfo { Value = "true" })),
                    new Filters { RefuseSeconds = 0 },
                    cancel);
            }
            else if (ev.Type == EventType.OFFERS && finished.Count == 2 && offers < 100)
            {
                var offer = ev.Offers!.Offers![0];
                var task = Task(offer, "talker", null);
                task.Executor = executor;
                task.Data = "run"u8.ToArray();
                await client.LaunchAsync(offer, [task], new Filters { RefuseSeconds = 0 }, cancel);
                offers = 100;
            }
            else if (ev.Type == EventType.OFFERS)
            {
                // Not needed yet: give it back so it comes again once the group is done.
                await client.DeclineAsync(ev.Offers!.Offers!.Select(o => o.Id!), new Filters { RefuseSeconds = 0.05 }, cancel);
            }
            else if (ev.Type == EventType.UPDATE && ev.Update!.Status!.State == CoreTaskState.TASK_FINISHED)
            {
                finished.Add(ev.Update.Status.TaskId!.Value!);
            }
            else if (ev.Type == EventType.UPDATE && ev.Update!.Status!.State == CoreTaskState.TASK_RUNNING && ev.Update.Status.TaskId!.Value == "talker")
            {
                await client.SendMessageAsync(agentId!, "sdk-exec", "hi"u8.ToArray(), cancel);
            }
            else if (ev.Type == EventType.MESSAGE && System.Text.Encoding.UTF8.GetString(ev.Message!.Data!) == "echo:hi")
            {
                ev.Message.ExecutorId!.Value.Should().Be("sdk-exec");
                await client.ShutdownExecutorAsync(agentId!, "sdk-exec", cancel);
            }
            else if (ev.Type == EventType.UPDATE && ev.Update!.Status!.State == CoreTaskState.TASK_KILLED)
            {
                ev.Update.Status.TaskId!.Value.Should().Be("talker");
                break;
            }
        }

        finished.Should().BeEquivalentTo("g1", "g2");

        static TaskInfo Task(Offer offer, string id, CommandInfo? command) => new()
        {
            Name = id,
            TaskId = new TaskID { Value = id },
            AgentId = offer.AgentId,
            Resources = ResourceConversion.ToWire(Resources.Parse("cpus:0.1;mem:32")),
            Command = command,
        };
    }

    [Fact]
    public async Task A_burst_of_acknowledgements_shares_a_bounded_connection_pool()
    {
        const int Tasks = 400;
        await using var cluster = await InProcessCluster.StartAsync();
        await using var client = new SchedulerClient(new SchedulerOptions
        {
            Master = cluster.MasterAddress,
            FrameworkInfo = new FrameworkInfo { User = "root", Name = "burst" },
            MaxConnections = 3,
        });
        await client.SubscribeAsync();
        var finished = 0;
        await foreach (var ev in client.Events.ReadAllAsync(TestContext.Current.CancellationToken))
        {
            if (ev.Type == EventType.OFFERS && finished == 0)
            {
                var offer = ev.Offers!.Offers![0];
                await client.LaunchAsync(offer, Enumerable.Range(0, Tasks).Select(i => new TaskInfo
                {
                    Name = "b" + i.ToString(CultureInfo.InvariantCulture),
                    TaskId = new TaskID { Value = "b" + i.ToString(CultureInfo.InvariantCulture) },
                    AgentId = offer.AgentId,
                    Resources = ResourceConversion.ToWire(Resources.Parse("cpus:0.01;mem:1")),
                    Command = new CommandInfo { Shell = false, Value = "/bin/true", Arguments = ["true"] },
                }));
            }
            else if (ev.Type == EventType.UPDATE && ev.Update!.Status!.State == CoreTaskState.TASK_FINISHED && ++finished == Tasks)
            {
                break;
            }
        }

        // 1,200 acknowledgements went out fire-and-forget; they queued on the pool instead of opening a socket each.
        EstablishedConnectionsTo(cluster.Master.Url.Port).Should().BeLessThanOrEqualTo(3 + 4, "the SDK's 3 plus the agent link's 4 at most");
    }

    [Fact]
    public async Task A_multi_role_framework_suppresses_a_role_and_moves_to_another_with_update_framework()
    {
        await using var cluster = await InProcessCluster.StartAsync();
        static FrameworkInfo Info(params string[] roles) => new()
        {
            User = "root",
            Name = "multi",
            Roles = [.. roles],
            Capabilities = [new FrameworkInfoCapability { Type = FrameworkInfoCapabilityType.MULTI_ROLE }],
        };
        await using var client = new SchedulerClient(new SchedulerOptions
        {
            Master = cluster.MasterAddress,
            FrameworkInfo = Info("a", "b"),
            SuppressedRoles = ["a"],
        });
        await client.SubscribeAsync();

        async Task<string> NextOfferRoleAsync()
        {
            await foreach (var ev in client.Events.ReadAllAsync(TestContext.Current.CancellationToken))
            {
                if (ev.Type == EventType.OFFERS)
                {
                    var offer = ev.Offers!.Offers![0];
                    await client.DeclineAsync([offer.Id!], new Filters { RefuseSeconds = 0 });
                    return offer.AllocationInfo!.Role!;
                }
            }

            throw new InvalidOperationException("the event stream ended");
        }

        (await NextOfferRoleAsync()).Should().Be("b", "role a was subscribed suppressed");

        await client.UpdateFrameworkAsync(Info("c"));
        await Poll.UntilAsync(async () => await NextOfferRoleAsync() == "c", "an offer for the new role c");
        await client.SuppressAsync(["c"]);
        await client.ReviveAsync(["c"]);
        (await NextOfferRoleAsync()).Should().Be("c");

        var bad = await Assert.ThrowsAsync<SchedulerCallException>(() => client.SuppressAsync(["zzz"]));
        bad.Message.Should().Contain("zzz");
    }

    /// <summary>Established connections the master on 127.0.0.1:<paramref name="port"/> has accepted (its side of each).</summary>
    private static int EstablishedConnectionsTo(int port)
    {
        var local = "0100007F:" + port.ToString("X4", CultureInfo.InvariantCulture);
        return File.ReadLines("/proc/net/tcp").Skip(1)
            .Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Count(fields => fields[1] == local && fields[3] == "01");
    }
}
