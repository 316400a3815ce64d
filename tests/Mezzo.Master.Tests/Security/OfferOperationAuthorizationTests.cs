using System.Text.Json.Nodes;
using Mezzo.Core.Security;
using Mezzo.Protocol.V1;
using WireResource = Mezzo.Protocol.V1.Resource;

namespace Mezzo.Master.Tests.Security;

/// <summary>
/// RESERVE and UNRESERVE from an offer are authorized with the framework's principal, as Mesos authorizes offer
/// operations: a refused one is dropped with OPERATION_ERROR naming the action, and the agent keeps its resources.
/// </summary>
public sealed class OfferOperationAuthorizationTests
{
    private static WireResource Reserved(double cpus, string role, string? principal) => new()
    {
        Name = "cpus",
        Type = Mezzo.Protocol.V1.ValueType.SCALAR,
        Scalar = new ValueScalar { Value = cpus },
        Reservations = [new ResourceReservationInfo { Type = ReservationInfoType.DYNAMIC, Role = role, Principal = principal }],
        AllocationInfo = new ResourceAllocationInfo { Role = role },
    };

    private static async Task<OperationStatus> AcceptAsync(MasterHarness harness, string frameworkId, Mezzo.Master.Scheduler.SchedulerConnection scheduler, OfferOperation operation)
    {
        var offer = (await harness.OffersAfterAsync(scheduler, TimeSpan.FromSeconds(1))).First();
        (await harness.CallAsync(frameworkId, scheduler, new Call
        {
            Type = CallType.ACCEPT,
            Accept = new CallAccept { OfferIds = [offer.Id!], Operations = [operation], Filters = new Filters { RefuseSeconds = 0 } },
        })).StatusCode.Should().Be(202);
        var update = await MasterHarness.NextAsync(scheduler, e => e.Type == EventType.UPDATE_OPERATION_STATUS);
        return update.UpdateOperationStatus!.Status!;
    }

    private static async Task<JsonObject?> ReservedAsync(MasterHarness harness, string agentId)
    {
        var state = JsonNode.Parse((await harness.Actor.GetSnapshotAsync()).StateJson)!;
        return state["slaves"]!.AsArray().Single(a => (string?)a!["id"] == agentId)!["reserved_resources"]?.AsObject();
    }

    [Fact]
    public async Task A_reserve_for_a_role_the_acls_refuse_is_dropped_and_changes_nothing()
    {
        await using var harness = new MasterHarness(options => options.Security.Acls = Acls.Parse("""
            {"reserve_resources": [{"principals": {"values": ["alice"]}, "roles": {"type": "NONE"}}]}
            """));
        var (agentId, _) = await harness.AddAgentAsync("cpus:4;mem:4096");
        var (id, scheduler) = await harness.SubscribeMultiRoleAsync(["eng"], principal: "alice");

        var status = await AcceptAsync(harness, id, scheduler, new OfferOperation
        {
            Type = OfferOperationType.RESERVE,
            Id = new OperationID { Value = "op-1" },
            Reserve = new OfferOperationResources { Resources = [Reserved(1, "eng", "alice")] },
        });

        status.State.Should().Be(OperationState.OPERATION_ERROR);
        status.Message.Should().Contain("Principal 'alice' is not authorized to reserve_resources on roles 'eng'");
        (await ReservedAsync(harness, agentId)).Should().BeNullOrEmpty();
    }

    [Fact]
    public async Task Unreserving_another_principals_reservation_needs_the_acl()
    {
        await using var harness = new MasterHarness(options => options.Security.Acls = Acls.Parse("""
            {"unreserve_resources": [
              {"principals": {"values": ["bob"]}, "reserver_principals": {"values": ["bob"]}},
              {"principals": {"type": "ANY"}, "reserver_principals": {"type": "NONE"}}
            ]}
            """));
        var (agentId, _) = await harness.AddAgentAsync("cpus:4;mem:4096");
        var (alice, aliceScheduler) = await harness.SubscribeMultiRoleAsync(["eng"], principal: "alice");
        (await AcceptAsync(harness, alice, aliceScheduler, new OfferOperation
        {
            Type = OfferOperationType.RESERVE,
            Id = new OperationID { Value = "reserve" },
            Reserve = new OfferOperationResources { Resources = [Reserved(1, "eng", "alice")] },
        })).State.Should().Be(OperationState.OPERATION_FINISHED);
        await harness.CallAsync(alice, aliceScheduler, new Call { Type = CallType.TEARDOWN });

        var (bob, bobScheduler) = await harness.SubscribeMultiRoleAsync(["eng"], principal: "bob");
        var status = await AcceptAsync(harness, bob, bobScheduler, new OfferOperation
        {
            Type = OfferOperationType.UNRESERVE,
            Id = new OperationID { Value = "unreserve" },
            Unreserve = new OfferOperationResources { Resources = [Reserved(1, "eng", "alice")] },
        });

        status.State.Should().Be(OperationState.OPERATION_ERROR);
        status.Message.Should().Contain("Principal 'bob' is not authorized to unreserve_resources on reserver_principals 'alice'");
        (await ReservedAsync(harness, agentId))!["eng"]!["cpus"]!.GetValue<double>().Should().Be(1);
    }
}
