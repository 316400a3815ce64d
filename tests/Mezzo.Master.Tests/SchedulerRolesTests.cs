using System.Text.Json.Nodes;
using Mezzo.Protocol.V1;
using WireResource = Mezzo.Protocol.V1.Resource;

namespace Mezzo.Master.Tests;

/// <summary>The scheduler side of roles: MULTI_ROLE offers, per-role suppression, UPDATE_FRAMEWORK, offer constraints, RESERVE/UNRESERVE.</summary>
public sealed class SchedulerRolesTests
{
    [Fact]
    public async Task Multi_role_offers_carry_their_role_and_reserved_resources_go_only_to_the_reservation_role()
    {
        await using var harness = new MasterHarness();
        await harness.AddAgentAsync("cpus:4;mem:4096;cpus(eng):2;mem(eng):1024");
        var (_, scheduler) = await harness.SubscribeMultiRoleAsync(["ops", "eng"]);

        var offers = await harness.OffersAfterAsync(scheduler);

        offers.Should().NotBeEmpty();
        foreach (var offer in offers)
        {
            var role = offer.AllocationInfo!.Role;
            role.Should().BeOneOf("ops", "eng");
            offer.Resources!.Should().OnlyContain(r => r.AllocationInfo!.Role == role);
            if (role == "ops")
            {
                offer.Resources!.Should().NotContain(r => r.Reservations != null, "resources reserved to eng are not offered to ops");
            }
        }

        var total = ResourceConversion.ToCore(offers.SelectMany(o => o.Resources!));
        total.Cpus.Should().Be(6, "the whole agent is offered, split by role");
    }

    [Fact]
    public async Task Suppressed_roles_get_no_offers_until_revived_and_revive_of_an_unknown_role_is_rejected()
    {
        await using var harness = new MasterHarness();
        await harness.AddAgentAsync();
        var (id, scheduler) = await harness.SubscribeMultiRoleAsync(["a", "b"], suppressed: ["a", "b"]);
        (await harness.OffersAfterAsync(scheduler)).Should().BeEmpty();

        var bad = await harness.CallAsync(id, scheduler, new Call { Type = CallType.REVIVE, Revive = new CallRevive { Roles = ["c"] } });
        bad.StatusCode.Should().Be(400);
        bad.Error.Should().Contain("'c'");
        (await harness.OffersAfterAsync(scheduler)).Should().BeEmpty("a rejected REVIVE changes nothing");

        (await harness.CallAsync(id, scheduler, new Call { Type = CallType.REVIVE, Revive = new CallRevive { Roles = ["b"] } })).StatusCode.Should().Be(202);
        var offers = await harness.OffersAfterAsync(scheduler);
        offers.Should().NotBeEmpty();
        offers.Should().OnlyContain(o => o.AllocationInfo!.Role == "b");
    }

    [Fact]
    public async Task Subscribe_with_a_suppressed_role_it_does_not_have_is_invalid()
    {
        var call = new Call
        {
            Type = CallType.SUBSCRIBE,
            Subscribe = new CallSubscribe
            {
                FrameworkInfo = new FrameworkInfo
                {
                    User = "u",
                    Name = "f",
                    Roles = ["a", "a"],
                    Capabilities = [new FrameworkInfoCapability { Type = FrameworkInfoCapabilityType.MULTI_ROLE }],
                },
            },
        };
        Master.Scheduler.SchedulerCallValidation.Validate(call).Should().Contain("duplicate role 'a'");
        call.Subscribe.FrameworkInfo.Roles = ["a"];
        call.Subscribe.SuppressedRoles = ["b"];
        Master.Scheduler.SchedulerCallValidation.Validate(call).Should().Contain("Suppressed role 'b'");
    }

    [Fact]
    public async Task Update_framework_moves_the_framework_to_new_roles_and_rejects_immutable_changes()
    {
        await using var harness = new MasterHarness();
        await harness.AddAgentAsync();
        var (id, scheduler) = await harness.SubscribeMultiRoleAsync(["a"]);
        var first = await harness.OffersAfterAsync(scheduler);
        first.Should().ContainSingle().Which.AllocationInfo!.Role.Should().Be("a");

        FrameworkInfo Info(string user) => new()
        {
            Id = new FrameworkID { Value = id },
            User = user,
            Name = "f",
            Roles = ["b"],
            Capabilities = [new FrameworkInfoCapability { Type = FrameworkInfoCapabilityType.MULTI_ROLE }],
        };

        var rejected = await harness.CallAsync(id, scheduler, new Call { Type = CallType.UPDATE_FRAMEWORK, UpdateFramework = new CallUpdateFramework { FrameworkInfo = Info("someone-else") } });
        rejected.StatusCode.Should().Be(400);
        rejected.Error.Should().Contain("user");
        (await harness.OffersAfterAsync(scheduler)).Should().BeEmpty("the rejected update left the outstanding offer alone");

        var updated = await harness.CallAsync(id, scheduler, new Call { Type = CallType.UPDATE_FRAMEWORK, UpdateFramework = new CallUpdateFramework { FrameworkInfo = Info("u") } });
        updated.StatusCode.Should().Be(200, "Mesos answers UPDATE_FRAMEWORK with 200 OK");

        var events = new List<Event>();
        await harness.AdvanceAsync(TimeSpan.FromMilliseconds(100));
        while (scheduler.Reader.TryRead(out var e))
        {
            events.Add(e);
        }

        events.Should().Contain(e => e.Type == EventType.RESCIND && e.Rescind!.OfferId!.Value == first[0].Id!.Value);
        events.Where(e => e.Type == EventType.OFFERS).SelectMany(e => e.Offers!.Offers!).Should().ContainSingle()
            .Which.AllocationInfo!.Role.Should().Be("b");
    }

    [Fact]
    public async Task Offer_constraints_restrict_offers_to_matching_agents()
    {
        await using var harness = new MasterHarness();
        await harness.AddAgentAsync(hostname: "node-1", attributes: "rack:r1");
        var (agent2, _) = await harness.AddAgentAsync(hostname: "node-2", attributes: "rack:r2");
        await harness.AddAgentAsync(hostname: "node-3");
        var constraints = new OfferConstraints
        {
            RoleConstraints = new()
            {
                ["a"] = new OfferConstraintsRoleConstraints
                {
                    Groups =
                    [
                        new OfferConstraintsGroup
                        {
                            AttributeConstraints =
                            [
                                new AttributeConstraint
                                {
                                    Selector = new AttributeConstraintSelector { AttributeName = "rack" },
                                    Predicate = new AttributeConstraintPredicate { TextEquals = new TextPredicateValue { Value = "r2" } },
                                },
                                new AttributeConstraint
                                {
                                    Selector = new AttributeConstraintSelector { PseudoattributeType = PseudoattributeType.HOSTNAME },
                                    Predicate = new AttributeConstraintPredicate { TextMatches = new TextPredicateRegex { Regex = "node-[0-9]" } },
                                },
                            ],
                        },
                    ],
                },
            },
        };
        var (_, scheduler) = await harness.SubscribeMultiRoleAsync(["a"], constraints: constraints);

        var offers = await harness.OffersAfterAsync(scheduler);

        offers.Should().ContainSingle().Which.AgentId!.Value.Should().Be(agent2);
    }

    [Theory]
    [InlineData("(", "invalid regex")]
    [InlineData("(a)\\1", "invalid regex")]
    public void Offer_constraints_with_a_bad_regex_or_an_unknown_role_are_rejected(string regex, string message)
    {
        OfferConstraints Constraints(string role) => new()
        {
            RoleConstraints = new()
            {
                [role] = new OfferConstraintsRoleConstraints
                {
                    Groups = [new OfferConstraintsGroup { AttributeConstraints = [new AttributeConstraint
                    {
                        Selector = new AttributeConstraintSelector { AttributeName = "rack" },
                        Predicate = new AttributeConstraintPredicate { TextMatches = new TextPredicateRegex { Regex = regex } },
                    }] }],
                },
            },
        };
        Call Subscribe(string role) => new()
        {
            Type = CallType.SUBSCRIBE,
            Subscribe = new CallSubscribe
            {
                FrameworkInfo = new FrameworkInfo
                {
                    User = "u",
                    Name = "f",
                    Roles = ["a"],
                    Capabilities = [new FrameworkInfoCapability { Type = FrameworkInfoCapabilityType.MULTI_ROLE }],
                },
                OfferConstraints = Constraints(role),
            },
        };

        Master.Scheduler.SchedulerCallValidation.Validate(Subscribe("a")).Should().Contain(message);
        Master.Scheduler.SchedulerCallValidation.Validate(Subscribe("z")).Should().Contain("'z'");
    }

    [Fact]
    public async Task Reserve_then_unreserve_through_offers_changes_what_other_roles_are_offered()
    {
        await using var harness = new MasterHarness();
        var (agentId, _) = await harness.AddAgentAsync("cpus:4;mem:4096");
        var (id, scheduler) = await harness.SubscribeMultiRoleAsync(["eng"], principal: "alice");
        var offer = (await harness.OffersAfterAsync(scheduler)).Should().ContainSingle().Subject;

        var accepted = await harness.CallAsync(id, scheduler, new Call
        {
            Type = CallType.ACCEPT,
            Accept = new CallAccept
            {
                OfferIds = [offer.Id!],
                Operations =
                [
                    new OfferOperation
                    {
                        Type = OfferOperationType.RESERVE,
                        Id = new OperationID { Value = "op-1" },
                        Reserve = new OfferOperationResources { Resources = [Reserved("cpus", 1, "eng", "alice")] },
                    },
                    new OfferOperation
                    {
                        Type = OfferOperationType.RESERVE,
                        Id = new OperationID { Value = "op-2" },
                        Reserve = new OfferOperationResources { Resources = [Reserved("cpus", 100, "eng", "alice")] },
                    },
                ],
                Filters = new Filters { RefuseSeconds = 3600 },
            },
        });
        accepted.StatusCode.Should().Be(202);

        var statuses = new List<OperationStatus>();
        await harness.AdvanceAsync(TimeSpan.FromMilliseconds(10));
        while (scheduler.Reader.TryRead(out var e))
        {
            if (e.Type == EventType.UPDATE_OPERATION_STATUS)
            {
                statuses.Add(e.UpdateOperationStatus!.Status!);
            }
        }

        statuses.Should().HaveCount(2);
        statuses[0].State.Should().Be(OperationState.OPERATION_FINISHED);
        statuses[1].State.Should().Be(OperationState.OPERATION_ERROR);
        statuses[1].Message.Should().Contain("not available");

        var reserved = await ReservedAsync(harness, agentId);
        reserved["eng"]!["cpus"]!.GetValue<double>().Should().Be(1);

        // A second framework in another role never sees the reserved cpu.
        var (_, other) = await harness.SubscribeMultiRoleAsync(["ops"]);
        var opsOffers = await harness.OffersAfterAsync(other, TimeSpan.FromSeconds(1));
        ResourceConversion.ToCore(opsOffers.SelectMany(o => o.Resources!)).Cpus.Should().Be(3);

        await harness.CallAsync(id, scheduler, new Call { Type = CallType.REVIVE });
        var engOffer = (await harness.OffersAfterAsync(scheduler, TimeSpan.FromSeconds(1)))
            .Single(o => o.Resources!.Any(r => r.Reservations is { Count: > 0 }));
        var unreserve = await harness.CallAsync(id, scheduler, new Call
        {
            Type = CallType.ACCEPT,
            Accept = new CallAccept
            {
                OfferIds = [engOffer.Id!],
                Operations = [new OfferOperation { Type = OfferOperationType.UNRESERVE, Unreserve = new OfferOperationResources { Resources = [Reserved("cpus", 1, "eng", "alice")] } }],
            },
        });
        unreserve.StatusCode.Should().Be(202);
        (await ReservedAsync(harness, agentId)).Should().BeEmpty();
    }

    [Fact]
    public async Task Dynamic_reservations_survive_a_master_restart()
    {
        var dir = Path.Combine(Path.GetTempPath(), "mezzo-roles-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            string agentId;
            await using (var first = new MasterHarness(workDir: dir))
            {
                (agentId, _) = await first.AddAgentAsync("cpus:4;mem:4096");
                var (id, scheduler) = await first.SubscribeMultiRoleAsync(["eng"]);
                var offer = (await first.OffersAfterAsync(scheduler)).Single();
                await first.CallAsync(id, scheduler, new Call
                {
                    Type = CallType.ACCEPT,
                    Accept = new CallAccept
                    {
                        OfferIds = [offer.Id!],
                        Operations = [new OfferOperation { Type = OfferOperationType.RESERVE, Reserve = new OfferOperationResources { Resources = [Reserved("mem", 512, "eng", null)] } }],
                    },
                });
                (await ReservedAsync(first, agentId))["eng"]!["mem"]!.GetValue<double>().Should().Be(512);
            }

            await using var second = new MasterHarness(workDir: dir);
            await second.AddAgentAsync("cpus:4;mem:4096", agentId: agentId);
            (await ReservedAsync(second, agentId))["eng"]!["mem"]!.GetValue<double>().Should().Be(512);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task A_framework_reserves_only_for_the_role_its_offer_is_allocated_to()
    {
        await using var harness = new MasterHarness();
        var (agentId, _) = await harness.AddAgentAsync("cpus:4;mem:4096");
        var (id, scheduler) = await harness.SubscribeMultiRoleAsync(["eng", "ops"], suppressed: ["ops"]);
        var offer = (await harness.OffersAfterAsync(scheduler)).Single();
        offer.AllocationInfo!.Role.Should().Be("eng");

        var forOps = Reserved("cpus", 1, "ops", null);
        forOps.AllocationInfo = new ResourceAllocationInfo { Role = "eng" };
        await harness.CallAsync(id, scheduler, new Call
        {
            Type = CallType.ACCEPT,
            Accept = new CallAccept
            {
                OfferIds = [offer.Id!],
                Operations = [new OfferOperation { Type = OfferOperationType.RESERVE, Id = new OperationID { Value = "x" }, Reserve = new OfferOperationResources { Resources = [forOps] } }],
            },
        });

        var status = (await MasterHarness.NextAsync(scheduler, e => e.Type == EventType.UPDATE_OPERATION_STATUS)).UpdateOperationStatus!.Status!;
        status.State.Should().Be(OperationState.OPERATION_ERROR);
        status.Message.Should().Contain("allocated to role 'eng'");
        (await ReservedAsync(harness, agentId)).Should().BeEmpty();
    }

    [Fact]
    public async Task A_subrole_refines_its_parents_reservation_only_with_the_refinement_capability()
    {
        await using var harness = new MasterHarness();
        var (agentId, _) = await harness.AddAgentAsync("cpus:2;mem:1024;cpus(eng):2;mem(eng):1024");
        var refined = new WireResource
        {
            Name = "cpus",
            Type = Mezzo.Protocol.V1.ValueType.SCALAR,
            Scalar = new ValueScalar { Value = 1 },
            Reservations =
            [
                new ResourceReservationInfo { Type = ReservationInfoType.STATIC, Role = "eng" },
                new ResourceReservationInfo { Type = ReservationInfoType.DYNAMIC, Role = "eng/dev" },
            ],
            AllocationInfo = new ResourceAllocationInfo { Role = "eng/dev" },
        };

        async Task<OperationStatus> ReserveAsync(string frameworkId, Mezzo.Master.Scheduler.SchedulerConnection scheduler)
        {
            var offer = (await harness.OffersAfterAsync(scheduler)).Single(o => o.Resources!.Any(r => r.Reservations is { Count: > 0 }));
            await harness.CallAsync(frameworkId, scheduler, new Call
            {
                Type = CallType.ACCEPT,
                Accept = new CallAccept
                {
                    OfferIds = [offer.Id!],
                    Operations = [new OfferOperation { Type = OfferOperationType.RESERVE, Id = new OperationID { Value = "refine" }, Reserve = new OfferOperationResources { Resources = [refined] } }],
                    Filters = new Filters { RefuseSeconds = 0 },
                },
            });
            return (await MasterHarness.NextAsync(scheduler, e => e.Type == EventType.UPDATE_OPERATION_STATUS)).UpdateOperationStatus!.Status!;
        }

        var (plainId, plain) = await harness.SubscribeMultiRoleAsync(["eng/dev"]);
        var refused = await ReserveAsync(plainId, plain);
        refused.State.Should().Be(OperationState.OPERATION_ERROR);
        refused.Message.Should().Contain("RESERVATION_REFINEMENT");
        await harness.CallAsync(plainId, plain, new Call { Type = CallType.TEARDOWN });

        var (id, scheduler) = await harness.SubscribeMultiRoleAsync(["eng/dev"], refinement: true);
        (await ReserveAsync(id, scheduler)).State.Should().Be(OperationState.OPERATION_FINISHED);

        var reserved = await ReservedAsync(harness, agentId);
        reserved["eng/dev"]!["cpus"]!.GetValue<double>().Should().Be(1, "the refined cpu now belongs to eng/dev");
        reserved["eng"]!["cpus"]!.GetValue<double>().Should().Be(1, "the rest stays with eng");
    }

    private static WireResource Reserved(string name, double amount, string role, string? principal) => new()
    {
        Name = name,
        Type = Mezzo.Protocol.V1.ValueType.SCALAR,
        Scalar = new ValueScalar { Value = amount },
        Reservations = [new ResourceReservationInfo { Type = ReservationInfoType.DYNAMIC, Role = role, Principal = principal }],
        AllocationInfo = new ResourceAllocationInfo { Role = role },
    };

    private static async Task<JsonObject> ReservedAsync(MasterHarness harness, string agentId)
    {
        var snapshot = await harness.Actor.GetSnapshotAsync();
        var state = JsonNode.Parse(snapshot.StateJson)!;
        var agent = state["slaves"]!.AsArray().Single(a => a!["id"]!.GetValue<string>() == agentId)!;
        return agent["reserved_resources"]!.AsObject();
    }
}
