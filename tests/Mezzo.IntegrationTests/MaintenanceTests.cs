using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using AwesomeAssertions;
using Mezzo.IntegrationTests.Infrastructure;

namespace Mezzo.IntegrationTests;

/// <summary>Mesos's maintenance primitives against a real agent: schedule (DRAINING), machine down, machine up.</summary>
public sealed class MaintenanceTests
{
    private const string Machine = """{"hostname":"127.0.0.1"}""";

    [Fact]
    public async Task Scheduled_machines_are_offered_with_their_unavailability_down_machines_are_drained_and_up_brings_them_back()
    {
        await using var cluster = await InProcessCluster.StartAsync();
        var start = DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeMilliseconds() * 1_000_000;
        var schedule = """{"windows":[{"machine_ids":[@MACHINE@],"unavailability":{"start":{"nanoseconds":@START@},"duration":{"nanoseconds":3600000000000}}}]}"""
            .Replace("@MACHINE@", Machine, StringComparison.Ordinal).Replace("@START@", start.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);
        (await PostAsync(cluster, "master/maintenance/schedule", schedule)).Status.Should().Be(HttpStatusCode.OK);

        await using var scheduler = new RawScheduler(cluster.MasterUrl);
        await scheduler.SubscribeAsync(RawScheduler.FrameworkInfo());
        var offer = await scheduler.NextOfferAsync();
        ((long?)offer["unavailability"]!["start"]!["nanoseconds"]).Should().Be(start);
        (await scheduler.LaunchAsync(offer, "sleeper", "sleep 600")).Status.Should().Be(HttpStatusCode.Accepted);
        await scheduler.WaitForUpdateAsync("sleeper", "TASK_RUNNING");

        var status = await OperatorJsonAsync(cluster, """{"type":"GET_MAINTENANCE_STATUS"}""");
        ((string?)status["get_maintenance_status"]!["status"]!["draining_machines"]![0]!["id"]!["hostname"]).Should().Be("127.0.0.1");

        (await PostAsync(cluster, "machine/down", $"[{Machine}]")).Status.Should().Be(HttpStatusCode.OK);
        await scheduler.WaitForUpdateAsync("sleeper", "TASK_KILLED");
        var down = JsonNode.Parse(await cluster.Http.GetStringAsync(new Uri(cluster.MasterUrl, "maintenance/status")))!;
        ((string?)down["down_machines"]![0]!["hostname"]).Should().Be("127.0.0.1");
        ((bool?)(await cluster.StateAsync())["slaves"]![0]!["active"]).Should().BeFalse();

        await cluster.RestartMasterAsync();
        var persisted = await OperatorJsonAsync(cluster, """{"type":"GET_MAINTENANCE_SCHEDULE"}""");
        ((long?)persisted["get_maintenance_schedule"]!["schedule"]!["windows"]![0]!["unavailability"]!["start"]!["nanoseconds"]).Should().Be(start);
        await Poll.UntilAsync(async () => (string?)(await cluster.StateAsync())["slaves"]!.AsArray().FirstOrDefault()?["id"] is not null
            && (await cluster.StateAsync())["slaves"]![0]!["resources"]!["cpus"]!.GetValue<double>() > 0, "the agent to re-register");
        ((bool?)(await cluster.StateAsync())["slaves"]![0]!["active"]).Should().BeFalse("the machine is still DOWN after the restart");

        (await PostAsync(cluster, "machine/up", $"[{Machine}]")).Status.Should().Be(HttpStatusCode.OK);
        await Poll.UntilAsync(async () => (bool?)(await cluster.StateAsync())["slaves"]![0]!["active"] == true, "the agent to be active again");
        var empty = JsonNode.Parse(await cluster.Http.GetStringAsync(new Uri(cluster.MasterUrl, "maintenance/schedule")))!;
        empty["windows"]!.AsArray().Should().BeEmpty("a machine brought up leaves the schedule");
    }

    public static TheoryData<string, string, string> BadRequests => new()
    {
        { "maintenance/schedule", """{"windows":[{"machine_ids":[],"unavailability":{"start":{"nanoseconds":1}}}]}""", "at least one machine" },
        { "maintenance/schedule", """{"windows":[{"machine_ids":[{}],"unavailability":{"start":{"nanoseconds":1}}}]}""", "'hostname' or an 'ip'" },
        { "maintenance/schedule", """{"windows":[{"machine_ids":[{"ip":"not-an-ip"}],"unavailability":{"start":{"nanoseconds":1}}}]}""", "not a valid IP" },
        { "maintenance/schedule", """{"windows":[{"machine_ids":[{"hostname":"a"}]}]}""", "unavailability.start" },
        { "maintenance/schedule", """{"windows":[{"machine_ids":[{"hostname":"a"}],"unavailability":{"start":{"nanoseconds":1}}},{"machine_ids":[{"hostname":"A"}],"unavailability":{"start":{"nanoseconds":1}}}]}""", "more than one window" },
        { "maintenance/schedule", """{"windows":[{"machine_ids":[{"hostname":"a"}],"unavailability":{"start":{"nanoseconds":1},"duration":{"nanoseconds":-1}}}]}""", "non-negative" },
        { "maintenance/schedule", "{", "Failed to parse the schedule" },
        { "machine/down", """[{"hostname":"nowhere"}]""", "not part of a maintenance schedule" },
        { "machine/down", "[]", "at least one machine" },
        { "machine/down", """{"hostname":"x"}""", "Failed to parse the machines" },
        { "machine/up", """[{"hostname":"127.0.0.1"}]""", "is not DOWN" },
        { "api/v1", """{"type":"UPDATE_MAINTENANCE_SCHEDULE"}""", "'update_maintenance_schedule.schedule'" },
        { "api/v1", """{"type":"START_MAINTENANCE","start_maintenance":{"machines":[]}}""", "at least one machine" },
    };

    [Theory]
    [MemberData(nameof(BadRequests))]
    public async Task Bad_maintenance_requests_are_refused_and_change_nothing(string path, string body, string reason)
    {
        await using var cluster = await InProcessCluster.StartAsync(withAgent: false);
        var before = await cluster.Http.GetStringAsync(new Uri(cluster.MasterUrl, "maintenance/schedule"));

        var (status, text) = await PostAsync(cluster, path, body);

        status.Should().Be(HttpStatusCode.BadRequest, text);
        text.Should().Contain(reason);
        (await cluster.Http.GetStringAsync(new Uri(cluster.MasterUrl, "maintenance/schedule"))).Should().Be(before);
        (await cluster.Http.GetStringAsync(new Uri(cluster.MasterUrl, "maintenance/status"))).Should().Be("""{"draining_machines":[],"down_machines":[]}""");
    }

    [Fact]
    public async Task A_down_machine_cannot_leave_the_schedule_until_it_is_up()
    {
        await using var cluster = await InProcessCluster.StartAsync(withAgent: false);
        (await PostAsync(cluster, "maintenance/schedule", """{"windows":[{"machine_ids":[{"hostname":"h1"}],"unavailability":{"start":{"nanoseconds":1}}}]}""")).Status.Should().Be(HttpStatusCode.OK);
        (await PostAsync(cluster, "machine/down", """[{"hostname":"h1"}]""")).Status.Should().Be(HttpStatusCode.OK);
        var (status, body) = await PostAsync(cluster, "maintenance/schedule", """{"windows":[]}""");
        status.Should().Be(HttpStatusCode.BadRequest);
        body.Should().Contain("is DOWN");
    }

    private static async Task<JsonNode> OperatorJsonAsync(InProcessCluster cluster, string json)
    {
        var (status, body) = await PostAsync(cluster, "api/v1", json);
        status.Should().Be(HttpStatusCode.OK, body);
        return JsonNode.Parse(body)!;
    }

    private static Task<(HttpStatusCode Status, string Body)> PostAsync(InProcessCluster cluster, string path, string json) =>
        cluster.PostJsonAsync(json, path);
}
