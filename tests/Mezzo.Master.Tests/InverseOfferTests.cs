using Mezzo.Master.Actor;
using Mezzo.Master.Agents;
using Mezzo.Master.Scheduler;
using Mezzo.Protocol.V1;

namespace Mezzo.Master.Tests;

/// <summary>
/// Inverse offers for DRAINING machines (Mesos docs/maintenance.md): who gets them, ACCEPT/DECLINE_INVERSE_OFFERS and
/// their filters, what GET_MAINTENANCE_STATUS reports, and rescinds when the window changes or the machine goes DOWN.
/// </summary>
public sealed class InverseOfferTests
{
    private const long StartNs = 1_800_000_000_000_000_000;
    private const long DurationNs = 3_600_000_000_000;

    /// <summary>
    /// h1 (scheduled) runs one task of f1 on all its cpus; h2 (never scheduled) is free. f2 subscribes afterwards, so
    /// it can only hold resources on h2. mem alone is not allocatable here, so a full h1 offers nothing.
    /// </summary>
    private static async Task<Cluster> StartAsync(TimeSpan? offerTimeout = null)
    {
        var harness = new MasterHarness(o =>
        {
            o.MinAllocatableResources = "cpus:0.01";
            o.OfferTimeout = offerTimeout;
        });
        var h1 = await harness.AddAgentAsync("cpus:1;mem:1024", hostname: "h1");
        var (f1, s1) = await harness.SubscribeAsync();
        await harness.LaunchAsync(f1, s1, h1.AgentId, h1.Connection, "t1", cpus: 1);
        var h2 = await harness.AddAgentAsync("cpus:1;mem:1024", hostname: "h2");
        var (f2, s2) = await harness.SubscribeAsync();
        await harness.AdvanceAsync(TimeSpan.FromMilliseconds(100));
        MasterHarness.Drain(s1, EventType.UNKNOWN);
        MasterHarness.Drain(s2, EventType.UNKNOWN);
        return new Cluster(harness, h1.AgentId, h1.Connection, h2.AgentId, f1, s1, f2, s2);
    }

    private sealed record Cluster(
        MasterHarness Harness, string H1, AgentConnection H1Connection, string H2, string F1, SchedulerConnection S1, string F2, SchedulerConnection S2)
        : IAsyncDisposable
    {
        public ValueTask DisposeAsync() => Harness.DisposeAsync();

        public Task<CallResult> ScheduleAsync(params string[] hostnames) => Harness.Actor.Ask(() => Harness.Actor.UpdateMaintenanceSchedule(new MaintenanceSchedule
        {
            Windows = hostnames.Length == 0 ? [] : [new MaintenanceWindow
            {
                MachineIds = [.. hostnames.Select(h => new MachineID { Hostname = h })],
                Unavailability = new Unavailability { Start = new TimeInfo { Nanoseconds = StartNs }, Duration = new DurationInfo { Nanoseconds = DurationNs } },
            }],
        }));

        public Task<MaintenanceClusterStatus> StatusAsync() => Harness.Actor.Ask(Harness.Actor.GetMaintenanceStatus);

        public Task<CallResult> AnswerAsync(string frameworkId, SchedulerConnection connection, CallType type, IEnumerable<string> ids, double? refuseSeconds = null)
        {
            var body = new CallInverseOffers
            {
                InverseOfferIds = [.. ids.Select(id => new OfferID { Value = id })],
                Filters = refuseSeconds is { } s ? new Filters { RefuseSeconds = s } : null,
            };
            return Harness.CallAsync(frameworkId, connection, new Call
            {
                Type = type,
                AcceptInverseOffers = type == CallType.ACCEPT_INVERSE_OFFERS ? body : null,
                DeclineInverseOffers = type == CallType.DECLINE_INVERSE_OFFERS ? body : null,
            });
        }

        public async Task<InverseOffer> NextInverseOfferAsync(SchedulerConnection connection)
        {
            await Harness.AdvanceAsync(TimeSpan.FromMilliseconds(100));
            var ev = await MasterHarness.NextAsync(connection, e => e.Type == EventType.INVERSE_OFFERS);
            return ev.InverseOffers!.InverseOffers!.Should().ContainSingle().Subject;
        }

        /// <summary>Inverse offers that arrive while fake time moves on by <paramref name="by"/>.</summary>
        public async Task<List<InverseOffer>> InverseOffersWithinAsync(SchedulerConnection connection, TimeSpan by)
        {
            await Harness.AdvanceAsync(by);
            return [.. MasterHarness.Drain(connection, EventType.INVERSE_OFFERS).SelectMany(e => e.InverseOffers!.InverseOffers!)];
        }
    }

    [Fact]
    public async Task Scheduling_a_machine_sends_an_inverse_offer_to_the_framework_running_there_and_to_no_other()
    {
        await using var c = await StartAsync();

        (await c.ScheduleAsync("h1")).StatusCode.Should().Be(200);
        var inverse = await c.NextInverseOfferAsync(c.S1);

        inverse.FrameworkId!.Value.Should().Be(c.F1);
        inverse.AgentId!.Value.Should().Be(c.H1);
        inverse.Unavailability!.Start!.Nanoseconds.Should().Be(StartNs);
        inverse.Unavailability.Duration!.Nanoseconds.Should().Be(DurationNs);
        inverse.Resources.Should().BeEmpty("maintenance asks for everything on the agent back");
        inverse.Url!.Address!.Hostname.Should().Be("h1");
        (await c.InverseOffersWithinAsync(c.S2, TimeSpan.FromSeconds(1))).Should().BeEmpty("f2 holds nothing on h1, and h2 is not scheduled");
        (await c.InverseOffersWithinAsync(c.S1, TimeSpan.FromSeconds(10))).Should().BeEmpty("one inverse offer is outstanding until answered");
        (await c.Harness.Actor.Ask(c.Harness.Actor.GetFrameworksResponse)).Frameworks!.Single(f => f.FrameworkInfo!.Id!.Value == c.F1)
            .InverseOffers!.Should().ContainSingle(o => o.Id!.Value == inverse.Id!.Value, "GET_FRAMEWORKS lists outstanding inverse offers");
    }

    [Fact]
    public async Task A_framework_holding_only_an_offer_from_a_draining_agent_is_asked_too_and_that_offer_carries_the_unavailability()
    {
        await using var c = await StartAsync();

        (await c.ScheduleAsync("h2")).StatusCode.Should().Be(200);
        await c.Harness.AdvanceAsync(TimeSpan.FromMilliseconds(100));
        var offer = (await MasterHarness.NextAsync(c.S2, e => e.Type == EventType.OFFERS && e.Offers!.Offers!.Any(o => o.AgentId!.Value == c.H2)))
            .Offers!.Offers!.Single(o => o.AgentId!.Value == c.H2);
        offer.Unavailability!.Start!.Nanoseconds.Should().Be(StartNs);

        var inverse = await c.NextInverseOfferAsync(c.S2);
        inverse.AgentId!.Value.Should().Be(c.H2);
        inverse.FrameworkId!.Value.Should().Be(c.F2);
    }

    [Fact]
    public async Task Accept_and_decline_are_recorded_per_framework_with_the_time_of_the_answer_the_latest_answer_winning()
    {
        await using var c = await StartAsync();
        (await c.ScheduleAsync("h1")).StatusCode.Should().Be(200);
        (await c.StatusAsync()).DrainingMachines!.Single().Statuses.Should().BeEmpty("nobody answered yet");

        var first = await c.NextInverseOfferAsync(c.S1);
        (await c.AnswerAsync(c.F1, c.S1, CallType.ACCEPT_INVERSE_OFFERS, [first.Id!.Value!], refuseSeconds: 1)).StatusCode.Should().Be(202);
        var accepted = (await c.StatusAsync()).DrainingMachines!.Single();
        accepted.Id!.Hostname.Should().Be("h1");
        var status = accepted.Statuses.Should().ContainSingle().Subject;
        status.Status.Should().Be(InverseOfferStatusType.ACCEPT);
        status.FrameworkId!.Value.Should().Be(c.F1);
        status.Timestamp!.Nanoseconds.Should().Be(c.Harness.Time.GetUtcNow().ToUnixTimeMilliseconds() * 1_000_000);

        await c.Harness.AdvanceAsync(TimeSpan.FromSeconds(1.5));
        var second = await c.NextInverseOfferAsync(c.S1);
        second.Id!.Value.Should().NotBe(first.Id.Value, "asked again once the filter ended, under a new id");
        (await c.AnswerAsync(c.F1, c.S1, CallType.DECLINE_INVERSE_OFFERS, [second.Id.Value!])).StatusCode.Should().Be(202);
        (await c.StatusAsync()).DrainingMachines!.Single().Statuses.Should().ContainSingle()
            .Which.Status.Should().Be(InverseOfferStatusType.DECLINE);
    }

    [Theory]
    [InlineData(30.0, 30)]
    [InlineData(null, 5)]
    public async Task An_answered_inverse_offer_comes_back_only_after_refuse_seconds(double? refuseSeconds, int seconds)
    {
        await using var c = await StartAsync();
        (await c.ScheduleAsync("h1")).StatusCode.Should().Be(200);
        var inverse = await c.NextInverseOfferAsync(c.S1);

        (await c.AnswerAsync(c.F1, c.S1, CallType.DECLINE_INVERSE_OFFERS, [inverse.Id!.Value!], refuseSeconds)).StatusCode.Should().Be(202);

        (await c.InverseOffersWithinAsync(c.S1, TimeSpan.FromSeconds(seconds) - TimeSpan.FromMilliseconds(200))).Should().BeEmpty();
        // Once a second at most, as Mesos's allocation interval: the next round after the filter ended asks again.
        (await c.InverseOffersWithinAsync(c.S1, TimeSpan.FromMilliseconds(1300))).Should().ContainSingle().Which.AgentId!.Value.Should().Be(c.H1);
    }

    [Fact]
    public async Task Zero_refuse_seconds_ask_again_at_once_and_revive_drops_a_filter()
    {
        await using var c = await StartAsync();
        (await c.ScheduleAsync("h1")).StatusCode.Should().Be(200);
        var inverse = await c.NextInverseOfferAsync(c.S1);
        (await c.AnswerAsync(c.F1, c.S1, CallType.ACCEPT_INVERSE_OFFERS, [inverse.Id!.Value!], refuseSeconds: 0)).StatusCode.Should().Be(202);
        var again = await c.NextInverseOfferAsync(c.S1);

        (await c.AnswerAsync(c.F1, c.S1, CallType.ACCEPT_INVERSE_OFFERS, [again.Id!.Value!], refuseSeconds: 3600)).StatusCode.Should().Be(202);
        (await c.InverseOffersWithinAsync(c.S1, TimeSpan.FromSeconds(1))).Should().BeEmpty();
        (await c.Harness.CallAsync(c.F1, c.S1, new Call { Type = CallType.REVIVE })).StatusCode.Should().Be(202);
        (await c.InverseOffersWithinAsync(c.S1, TimeSpan.FromMilliseconds(200))).Should().ContainSingle();
    }

    [Fact]
    public async Task Machine_down_rescinds_the_inverse_offer_and_machine_up_leaves_no_answers_and_no_more_inverse_offers()
    {
        await using var c = await StartAsync();
        (await c.ScheduleAsync("h1")).StatusCode.Should().Be(200);
        var answered = await c.NextInverseOfferAsync(c.S1);
        (await c.AnswerAsync(c.F1, c.S1, CallType.ACCEPT_INVERSE_OFFERS, [answered.Id!.Value!], refuseSeconds: 0)).StatusCode.Should().Be(202);
        var outstanding = await c.NextInverseOfferAsync(c.S1);

        (await c.Harness.Actor.Ask(() => c.Harness.Actor.StartMaintenance([new MachineID { Hostname = "h1" }]))).StatusCode.Should().Be(200);
        (await MasterHarness.NextAsync(c.S1, e => e.Type == EventType.RESCIND_INVERSE_OFFER))
            .RescindInverseOffer!.InverseOfferId!.Value.Should().Be(outstanding.Id!.Value);
        var down = await c.StatusAsync();
        down.DrainingMachines.Should().BeEmpty();
        down.DownMachines.Should().ContainSingle().Which.Hostname.Should().Be("h1");

        (await c.Harness.Actor.Ask(() => c.Harness.Actor.StopMaintenance([new MachineID { Hostname = "h1" }]))).StatusCode.Should().Be(200);
        (await c.InverseOffersWithinAsync(c.S1, TimeSpan.FromSeconds(1))).Should().BeEmpty("an UP machine is asked nothing");
        var up = await c.StatusAsync();
        up.DrainingMachines.Should().BeEmpty();
        up.DownMachines.Should().BeEmpty();

        (await c.ScheduleAsync("h1")).StatusCode.Should().Be(200);
        (await c.StatusAsync()).DrainingMachines!.Single().Statuses.Should().BeEmpty("answers to an earlier window do not carry over");
    }

    [Fact]
    public async Task Cancelling_the_window_rescinds_outstanding_inverse_offers_and_forgets_answers()
    {
        await using var c = await StartAsync();
        (await c.ScheduleAsync("h1")).StatusCode.Should().Be(200);
        var first = await c.NextInverseOfferAsync(c.S1);
        (await c.AnswerAsync(c.F1, c.S1, CallType.DECLINE_INVERSE_OFFERS, [first.Id!.Value!], refuseSeconds: 0)).StatusCode.Should().Be(202);
        var second = await c.NextInverseOfferAsync(c.S1);

        (await c.ScheduleAsync()).StatusCode.Should().Be(200);

        (await MasterHarness.NextAsync(c.S1, e => e.Type == EventType.RESCIND_INVERSE_OFFER))
            .RescindInverseOffer!.InverseOfferId!.Value.Should().Be(second.Id!.Value);
        (await c.InverseOffersWithinAsync(c.S1, TimeSpan.FromSeconds(1))).Should().BeEmpty();
        (await c.StatusAsync()).DrainingMachines.Should().BeEmpty();
    }

    [Fact]
    public async Task A_deactivated_agent_has_its_inverse_offers_rescinded_and_the_offer_timeout_rescinds_and_asks_again()
    {
        await using var c = await StartAsync(offerTimeout: TimeSpan.FromSeconds(2));
        (await c.ScheduleAsync("h1")).StatusCode.Should().Be(200);
        var first = await c.NextInverseOfferAsync(c.S1);

        await c.Harness.AdvanceAsync(TimeSpan.FromSeconds(2));
        (await MasterHarness.NextAsync(c.S1, e => e.Type == EventType.RESCIND_INVERSE_OFFER)).RescindInverseOffer!.InverseOfferId!.Value.Should().Be(first.Id!.Value);
        var second = await c.NextInverseOfferAsync(c.S1);
        (await c.StatusAsync()).DrainingMachines!.Single().Statuses.Should().BeEmpty("a timed-out inverse offer is no answer");

        (await c.Harness.Actor.Ask(() => c.Harness.Actor.DeactivateAgent(c.H1))).StatusCode.Should().Be(200);
        (await MasterHarness.NextAsync(c.S1, e => e.Type == EventType.RESCIND_INVERSE_OFFER)).RescindInverseOffer!.InverseOfferId!.Value.Should().Be(second.Id!.Value);
        (await c.InverseOffersWithinAsync(c.S1, TimeSpan.FromSeconds(1))).Should().BeEmpty("a deactivated agent is asked nothing");
    }

    [Fact]
    public async Task Unknown_foreign_and_already_answered_ids_are_ignored_as_Mesos_does_and_valid_ones_in_the_same_call_still_count()
    {
        await using var c = await StartAsync();
        (await c.ScheduleAsync("h1", "h2")).StatusCode.Should().Be(200);
        var f1Inverse = await c.NextInverseOfferAsync(c.S1);
        var f2Inverse = await c.NextInverseOfferAsync(c.S2);
        f2Inverse.AgentId!.Value.Should().Be(c.H2, "f2 holds h2's offer");

        (await c.AnswerAsync(c.F1, c.S1, CallType.ACCEPT_INVERSE_OFFERS, ["no-such-offer"])).StatusCode.Should().Be(202);
        (await c.AnswerAsync(c.F1, c.S1, CallType.ACCEPT_INVERSE_OFFERS, [f2Inverse.Id!.Value!])).StatusCode.Should().Be(202, "another framework's inverse offer is just ignored");
        (await c.AnswerAsync(c.F1, c.S1, CallType.DECLINE_INVERSE_OFFERS, [])).StatusCode.Should().Be(202);
        (await c.AnswerAsync(c.F1, c.S1, CallType.ACCEPT_INVERSE_OFFERS, [])).StatusCode.Should().Be(202, "Mesos only logs 'No inverse offers specified'");
        (await c.StatusAsync()).DrainingMachines!.SelectMany(m => m.Statuses!).Should().BeEmpty("nothing valid was answered");

        (await c.AnswerAsync(c.F1, c.S1, CallType.DECLINE_INVERSE_OFFERS, ["no-such-offer", f1Inverse.Id!.Value!])).StatusCode.Should().Be(202);
        (await c.AnswerAsync(c.F1, c.S1, CallType.ACCEPT_INVERSE_OFFERS, [f1Inverse.Id.Value!])).StatusCode.Should().Be(202, "an answered inverse offer is no longer valid");
        var statuses = (await c.StatusAsync()).DrainingMachines!.SelectMany(m => m.Statuses!).ToList();
        statuses.Should().ContainSingle().Which.Status.Should().Be(InverseOfferStatusType.DECLINE);
        statuses[0].FrameworkId!.Value.Should().Be(c.F1);

        (await c.AnswerAsync(c.F2, c.S2, CallType.ACCEPT_INVERSE_OFFERS, [f2Inverse.Id!.Value!])).StatusCode.Should().Be(202);
        (await c.StatusAsync()).DrainingMachines!.Single(m => m.Id!.Hostname == "h2").Statuses.Should().ContainSingle()
            .Which.Status.Should().Be(InverseOfferStatusType.ACCEPT, "f1's try left f2's inverse offer outstanding");
    }

    [Theory]
    [InlineData(CallType.ACCEPT_INVERSE_OFFERS, "Expecting 'accept_inverse_offers' to be present")]
    [InlineData(CallType.DECLINE_INVERSE_OFFERS, "Expecting 'decline_inverse_offers' to be present")]
    public void A_call_without_its_message_is_refused(CallType type, string error)
    {
        SchedulerCallValidation.Validate(new Call { FrameworkId = new FrameworkID { Value = "f" }, Type = type }).Should().Be(error);
    }

    [Fact]
    public async Task A_removed_framework_takes_its_answers_with_it()
    {
        await using var c = await StartAsync();
        (await c.ScheduleAsync("h1")).StatusCode.Should().Be(200);
        var inverse = await c.NextInverseOfferAsync(c.S1);
        (await c.AnswerAsync(c.F1, c.S1, CallType.ACCEPT_INVERSE_OFFERS, [inverse.Id!.Value!])).StatusCode.Should().Be(202);
        (await c.StatusAsync()).DrainingMachines!.Single().Statuses.Should().ContainSingle();

        (await c.Harness.CallAsync(c.F1, c.S1, new Call { Type = CallType.TEARDOWN })).StatusCode.Should().Be(202);

        (await c.StatusAsync()).DrainingMachines!.Single().Statuses.Should().BeEmpty();
    }
}
