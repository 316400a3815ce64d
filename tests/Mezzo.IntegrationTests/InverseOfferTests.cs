using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using AwesomeAssertions;
using Mezzo.Framework;
using Mezzo.IntegrationTests.Infrastructure;
using Mezzo.Protocol.V1;

namespace Mezzo.IntegrationTests;

/// <summary>Inverse offers over the real scheduler HTTP API: a framework running on a scheduled machine is asked, accepts, and the operator sees it.</summary>
public sealed class InverseOfferTests
{
    [Fact]
    public async Task A_framework_running_on_a_scheduled_machine_gets_an_inverse_offer_accepts_it_and_maintenance_status_shows_ACCEPT()
    {
        await using var cluster = await InProcessCluster.StartAsync();
        await using var scheduler = new RawScheduler(cluster.MasterUrl);
        await scheduler.SubscribeAsync(RawScheduler.FrameworkInfo());
        var offer = await scheduler.NextOfferAsync();
        (await scheduler.LaunchAsync(offer, "sleeper", "sleep 600")).Status.Should().Be(HttpStatusCode.Accepted);
        await scheduler.WaitForUpdateAsync("sleeper", "TASK_RUNNING");

        var start = DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeMilliseconds() * 1_000_000;
        var schedule = """{"windows":[{"machine_ids":[{"hostname":"127.0.0.1"}],"unavailability":{"start":{"nanoseconds":@START@}}}]}"""
            .Replace("@START@", start.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal);
        (await cluster.PostJsonAsync(schedule, "maintenance/schedule")).Status.Should().Be(HttpStatusCode.OK);

        var inverse = (await scheduler.WaitForAsync(e => (string?)e["type"] == "INVERSE_OFFERS", "INVERSE_OFFERS"))["inverse_offers"]!["inverse_offers"]![0]!;
        ((string?)inverse["framework_id"]!["value"]).Should().Be(scheduler.FrameworkId);
        ((string?)inverse["agent_id"]!["value"]).Should().Be((string?)offer["agent_id"]!["value"]);
        ((long?)inverse["unavailability"]!["start"]!["nanoseconds"]).Should().Be(start);
        var inverseId = (string)inverse["id"]!["value"]!;

        var (missing, missingBody) = await scheduler.CallAsync($$"""{"framework_id":{"value":"{{scheduler.FrameworkId}}"},"type":"ACCEPT_INVERSE_OFFERS"}""");
        missing.Should().Be(HttpStatusCode.BadRequest);
        missingBody.Should().Contain("'accept_inverse_offers'");
        (await scheduler.CallAsync(AcceptJson(scheduler.FrameworkId!, "not-an-inverse-offer"))).Status.Should().Be(HttpStatusCode.Accepted, "Mesos ignores ids it does not know");
        var unanswered = JsonNode.Parse(await cluster.Http.GetStringAsync(new Uri(cluster.MasterUrl, "maintenance/status")))!;
        unanswered["draining_machines"]![0]!["statuses"]!.AsArray().Should().BeEmpty();

        (await scheduler.CallAsync(AcceptJson(scheduler.FrameworkId!, inverseId))).Status.Should().Be(HttpStatusCode.Accepted);

        var status = JsonNode.Parse(await cluster.Http.GetStringAsync(new Uri(cluster.MasterUrl, "maintenance/status")))!;
        var machine = status["draining_machines"]![0]!;
        ((string?)machine["id"]!["hostname"]).Should().Be("127.0.0.1");
        ((string?)machine["statuses"]![0]!["status"]).Should().Be("ACCEPT");
        ((string?)machine["statuses"]![0]!["framework_id"]!["value"]).Should().Be(scheduler.FrameworkId);
        ((long?)machine["statuses"]![0]!["timestamp"]!["nanoseconds"]).Should().BePositive();
        var (code, body) = await cluster.PostJsonAsync("""{"type":"GET_MAINTENANCE_STATUS"}""", "api/v1");
        code.Should().Be(HttpStatusCode.OK, body);
        ((string?)JsonNode.Parse(body)!["get_maintenance_status"]!["status"]!["draining_machines"]![0]!["statuses"]![0]!["status"]).Should().Be("ACCEPT");

        (await cluster.PostJsonAsync("""{"windows":[]}""", "maintenance/schedule")).Status.Should().Be(HttpStatusCode.OK);
        JsonNode.Parse(await cluster.Http.GetStringAsync(new Uri(cluster.MasterUrl, "maintenance/status")))!["draining_machines"]!.AsArray().Should().BeEmpty();
    }

    [Fact]
    public async Task The_SDK_sees_the_inverse_offer_for_an_offer_it_holds_and_declines_it()
    {
        await using var cluster = await InProcessCluster.StartAsync();
        await using var client = new SchedulerClient(new SchedulerOptions
        {
            Master = cluster.MasterAddress,
            FrameworkInfo = new FrameworkInfo { User = "root", Name = "sdk-maintenance" },
        });
        await client.SubscribeAsync();
        var cancel = TestContext.Current.CancellationToken;
        var scheduled = false;
        Unavailability? offered = null;
        await foreach (var ev in client.Events.ReadAllAsync(cancel))
        {
            if (ev.Type == EventType.OFFERS && !scheduled)
            {
                // Held, not declined: an offer is resources on the agent too, so the framework is asked for it back.
                scheduled = true;
                var schedule = """{"windows":[{"machine_ids":[{"hostname":"127.0.0.1"}],"unavailability":{"start":{"nanoseconds":1}}}]}""";
                (await cluster.PostJsonAsync(schedule, "maintenance/schedule")).Status.Should().Be(HttpStatusCode.OK);
            }
            else if (ev.Type == EventType.OFFERS)
            {
                offered = ev.Offers!.Offers![0].Unavailability;
            }
            else if (ev.Type == EventType.INVERSE_OFFERS)
            {
                var inverse = ev.InverseOffers!.InverseOffers!.Should().ContainSingle().Subject;
                inverse.Unavailability!.Start!.Nanoseconds.Should().Be(1);
                await client.DeclineInverseOffersAsync([inverse.Id!], new Filters { RefuseSeconds = 3600 }, cancel);
                break;
            }
        }

        offered.Should().NotBeNull("the offer made again after the schedule carries the unavailability");
        offered!.Start!.Nanoseconds.Should().Be(1);
        var status = JsonNode.Parse(await cluster.Http.GetStringAsync(new Uri(cluster.MasterUrl, "maintenance/status"), cancel))!;
        ((string?)status["draining_machines"]![0]!["statuses"]![0]!["status"]).Should().Be("DECLINE");
        ((string?)status["draining_machines"]![0]!["statuses"]![0]!["framework_id"]!["value"]).Should().Be(client.FrameworkId);
    }

    private static string AcceptJson(string frameworkId, string inverseOfferId) =>
        new JsonObject
        {
            ["framework_id"] = new JsonObject { ["value"] = frameworkId },
            ["type"] = "ACCEPT_INVERSE_OFFERS",
            ["accept_inverse_offers"] = new JsonObject
            {
                ["inverse_offer_ids"] = new JsonArray(new JsonObject { ["value"] = inverseOfferId }),
                ["filters"] = new JsonObject { ["refuse_seconds"] = 3600 },
            },
        }.ToJsonString();
}
