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
