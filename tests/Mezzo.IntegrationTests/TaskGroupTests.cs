using System.Net;
using System.Text.Json.Nodes;
using AwesomeAssertions;
using Mezzo.IntegrationTests.Infrastructure;

namespace Mezzo.IntegrationTests;

/// <summary>LAUNCH_GROUP with the default executor through a real cluster (docs/nested-container-and-task-group.md).</summary>
public sealed class TaskGroupTests
{
    internal static JsonObject DefaultExecutor(string id) => new()
    {
        ["executor_id"] = new JsonObject { ["value"] = id },
        ["type"] = "DEFAULT",
        ["resources"] = JsonNode.Parse("""[{"name":"cpus","type":"SCALAR","scalar":{"value":0.1}},{"name":"mem","type":"SCALAR","scalar":{"value":32}}]"""),
    };

    internal static JsonObject GroupTask(JsonObject offer, string taskId, string command) => new()
    {
        ["name"] = taskId,
        ["task_id"] = new JsonObject { ["value"] = taskId },
        ["agent_id"] = offer["agent_id"]!.DeepClone(),
        ["resources"] = JsonNode.Parse("""[{"name":"cpus","type":"SCALAR","scalar":{"value":0.1}},{"name":"mem","type":"SCALAR","scalar":{"value":32}}]"""),
        ["command"] = new JsonObject { ["shell"] = true, ["value"] = command },
    };

    internal static Task<(HttpStatusCode Status, string Body)> LaunchGroupAsync(RawScheduler scheduler, JsonObject offer, JsonObject executor, params JsonObject[] tasks) =>
        scheduler.AcceptAsync(offer, new JsonObject
        {
            ["type"] = "LAUNCH_GROUP",
            ["launch_group"] = new JsonObject
            {
                ["executor"] = executor,
                ["task_group"] = new JsonObject { ["tasks"] = new JsonArray([.. tasks]) },
            },
        });

    private static string Status(JsonObject update, string field) => (string?)update["update"]!["status"]![field] ?? "";

    [Fact]
    public async Task Group_of_two_tasks_runs_under_one_executor_sandbox_to_TASK_FINISHED()
    {
        await using var cluster = await InProcessCluster.StartAsync();
        await using var scheduler = new RawScheduler(cluster.MasterUrl);
        await scheduler.SubscribeAsync(RawScheduler.FrameworkInfo());
        var offer = await scheduler.NextOfferAsync();

        // The tasks share the network: "server" listens on loopback and "client" reaches it there.
        var port = Random.Shared.Next(40000, 60000);
        var (status, body) = await LaunchGroupAsync(scheduler, offer, DefaultExecutor("pod"),
            GroupTask(offer, "server", $"echo sandbox=$MESOS_SANDBOX executor=$MESOS_EXECUTOR_ID; echo hello | nc -l -N 127.0.0.1 {port}"),
            GroupTask(offer, "client", $"for i in $(seq 1 200); do nc -N -w 5 127.0.0.1 {port} </dev/null && exit 0; sleep 0.05; done; exit 1"));
        status.Should().Be(HttpStatusCode.Accepted, body);

        foreach (var taskId in (string[])["server", "client"])
        {
            await scheduler.WaitForUpdateAsync(taskId, "TASK_RUNNING");
            var finished = await scheduler.WaitForUpdateAsync(taskId, "TASK_FINISHED");
            ((string?)finished["update"]!["status"]!["executor_id"]!["value"]).Should().Be("pod");
        }

        var state = JsonNode.Parse(await cluster.Http.GetStringAsync(new Uri(cluster.Agent!.Url, "state")))!;
        var executor = state["frameworks"]![0]!["completed_executors"]!.AsArray().Single(e => (string?)e!["id"] == "pod")!;
        ((string?)executor["type"]).Should().Be("DEFAULT");
        executor["completed_tasks"]!.AsArray().Select(t => (string?)t!["id"]).Should().BeEquivalentTo("server", "client");
        var directory = (string)executor["directory"]!;
        var serverSandbox = Path.Combine(directory, "tasks", "server");
        (await File.ReadAllTextAsync(Path.Combine(serverSandbox, "stdout"))).Should().StartWith($"sandbox={serverSandbox} executor=pod\n");
        (await File.ReadAllTextAsync(Path.Combine(directory, "tasks", "client", "stdout"))).Should().Contain("hello", "the client read what the server sent over loopback");

        await scheduler.WaitForAsync(e => (string?)e["type"] == "FAILURE" && (string?)e["failure"]!["executor_id"]!["value"] == "pod", "FAILURE for the finished default executor");
        await Poll.UntilAsync(
            async () => (await cluster.StateAsync())["frameworks"]![0]!["executors"]!.AsArray().Count == 0,
            "the master to release the default executor's resources");
    }

    private static JsonObject WithParentVolume(JsonObject task, string containerPath, string source, string mode = "RW")
    {
        task["container"] = new JsonObject
        {
            ["type"] = "MESOS",
            ["volumes"] = new JsonArray(new JsonObject
            {
                ["mode"] = mode,
                ["container_path"] = containerPath,
                ["source"] = new JsonObject { ["type"] = "SANDBOX_PATH", ["sandbox_path"] = new JsonObject { ["type"] = "PARENT", ["path"] = source } },
            }),
        };
        return task;
    }

    [Fact]
    public async Task Tasks_of_a_group_share_a_PARENT_sandbox_path_volume()
    {
        await using var cluster = await InProcessCluster.StartAsync();
        await using var scheduler = new RawScheduler(cluster.MasterUrl);
        await scheduler.SubscribeAsync(RawScheduler.FrameworkInfo());
        var offer = await scheduler.NextOfferAsync();

        // Mounted at $MESOS_SANDBOX/<container_path> (the agent's mount namespaces are on here); the RO one refuses writes.
        await LaunchGroupAsync(scheduler, offer, DefaultExecutor("sharing"),
            WithParentVolume(GroupTask(offer, "writer", "echo from-writer > $MESOS_SANDBOX/data/note && test \"$MEZZO_VOLUME_DATA\" != \"$MESOS_SANDBOX/data\""), "data", "shared"),
            WithParentVolume(GroupTask(offer, "reader", "for i in $(seq 1 200); do [ -s in/note ] && ! touch in/other 2>/dev/null && cat in/note && exit 0; sleep 0.05; done; exit 1"), "in", "shared", "RO"));

        await scheduler.WaitForUpdateAsync("writer", "TASK_FINISHED");
        await scheduler.WaitForUpdateAsync("reader", "TASK_FINISHED");
        var state = JsonNode.Parse(await cluster.Http.GetStringAsync(new Uri(cluster.Agent!.Url, "state")))!;
        var directory = (string)state["frameworks"]![0]!["completed_executors"]!.AsArray().Single(e => (string?)e!["id"] == "sharing")!["directory"]!;
        (await File.ReadAllTextAsync(Path.Combine(directory, "shared", "note"))).Should().Be("from-writer\n");
        (await File.ReadAllTextAsync(Path.Combine(directory, "tasks", "reader", "stdout"))).Should().Be("from-writer\n");
        File.Exists(Path.Combine(directory, "shared", "other")).Should().BeFalse("the reader's volume is read-only");
        (await File.ReadAllLinesAsync("/proc/self/mountinfo")).Should().NotContain(l => l.Contains(directory, StringComparison.Ordinal), "volume mounts live only in the tasks' namespaces");
    }

    [Fact]
    public async Task A_volume_that_climbs_out_of_the_sandbox_fails_the_whole_group()
    {
        await using var cluster = await InProcessCluster.StartAsync();
        await using var scheduler = new RawScheduler(cluster.MasterUrl);
        await scheduler.SubscribeAsync(RawScheduler.FrameworkInfo());
        var offer = await scheduler.NextOfferAsync();

        await LaunchGroupAsync(scheduler, offer, DefaultExecutor("escape"),
            GroupTask(offer, "innocent", "sleep 1000"),
            WithParentVolume(GroupTask(offer, "climber", "true"), "data", "../../etc"));

        foreach (var taskId in (string[])["innocent", "climber"])
        {
            var failed = await scheduler.WaitForUpdateAsync(taskId, "TASK_FAILED");
            Status(failed, "reason").Should().Be("REASON_CONTAINER_LAUNCH_FAILED");
            Status(failed, "message").Should().Contain("'../../etc'");
        }
    }

    [Fact]
    public async Task A_failing_task_kills_the_rest_of_its_group()
    {
        await using var cluster = await InProcessCluster.StartAsync();
        await using var scheduler = new RawScheduler(cluster.MasterUrl);
        await scheduler.SubscribeAsync(RawScheduler.FrameworkInfo());
        var offer = await scheduler.NextOfferAsync();

        await LaunchGroupAsync(scheduler, offer, DefaultExecutor("doomed"),
            GroupTask(offer, "sleeper", "sleep 1000"),
            GroupTask(offer, "failer", "sleep 0.2; exit 3"));

        var failed = await scheduler.WaitForUpdateAsync("failer", "TASK_FAILED");
        Status(failed, "message").Should().Be("Command exited with status 3");
        await scheduler.WaitForUpdateAsync("sleeper", "TASK_RUNNING");
        await scheduler.WaitForUpdateAsync("sleeper", "TASK_KILLED");
    }

    [Fact]
    public async Task Killing_one_task_kills_its_group()
    {
        await using var cluster = await InProcessCluster.StartAsync();
        await using var scheduler = new RawScheduler(cluster.MasterUrl);
        await scheduler.SubscribeAsync(RawScheduler.FrameworkInfo());
        var offer = await scheduler.NextOfferAsync();
        await LaunchGroupAsync(scheduler, offer, DefaultExecutor("pair"), GroupTask(offer, "a", "sleep 1000"), GroupTask(offer, "b", "sleep 1000"));
        await scheduler.WaitForUpdateAsync("a", "TASK_RUNNING");
        await scheduler.WaitForUpdateAsync("b", "TASK_RUNNING");

        await scheduler.KillAsync("a");

        await scheduler.WaitForUpdateAsync("a", "TASK_KILLED");
        await scheduler.WaitForUpdateAsync("b", "TASK_KILLED");
    }

    public static TheoryData<string, string> InvalidGroups => new()
    {
        { "duplicate", "duplicate task ID 'same'" },
        { "own-executor", "must not set 'executor'" },
        { "default-with-command", "'ExecutorInfo.command' must not be set for 'DEFAULT' executor" },
        { "too-big", "more resources" },
        { "empty-command", "Task 'bad' is invalid" },
    };

    [Theory]
    [MemberData(nameof(InvalidGroups))]
    public async Task Invalid_group_is_TASK_ERROR_with_REASON_TASK_GROUP_INVALID_for_every_task(string kind, string message)
    {
        await using var cluster = await InProcessCluster.StartAsync();
        await using var scheduler = new RawScheduler(cluster.MasterUrl);
        await scheduler.SubscribeAsync(RawScheduler.FrameworkInfo());
        var offer = await scheduler.NextOfferAsync();
        var executor = DefaultExecutor("invalid");
        var first = GroupTask(offer, "ok", "true");
        var second = GroupTask(offer, "bad", "true");
        switch (kind)
        {
            case "duplicate":
                first = GroupTask(offer, "same", "true");
                second = GroupTask(offer, "same", "true");
                break;
            case "own-executor":
                second["executor"] = ExecutorTests.CustomExecutor("own");
                break;
            case "default-with-command":
                executor["command"] = new JsonObject { ["value"] = "true" };
                break;
            case "too-big":
                second["resources"] = JsonNode.Parse("""[{"name":"cpus","type":"SCALAR","scalar":{"value":100}}]""");
                break;
            default:
                second["command"] = new JsonObject { ["shell"] = true };
                break;
        }

        await LaunchGroupAsync(scheduler, offer, executor, first, second);

        foreach (var taskId in new[] { (string)first["task_id"]!["value"]!, (string)second["task_id"]!["value"]! }.Distinct())
        {
            var error = await scheduler.WaitForUpdateAsync(taskId, "TASK_ERROR");
            Status(error, "reason").Should().Be("REASON_TASK_GROUP_INVALID");
            Status(error, "source").Should().Be("SOURCE_MASTER");
            Status(error, "message").Should().Contain(message);
        }

        scheduler.Events.Should().NotContain(e => (string?)e["type"] == "UPDATE" && (string?)e["update"]!["status"]!["state"] == "TASK_RUNNING",
            "no task of an invalid group may start");
        (await cluster.StateAsync())["frameworks"]![0]!["executors"]!.AsArray().Should().BeEmpty("an invalid group holds no executor resources");
    }
}
