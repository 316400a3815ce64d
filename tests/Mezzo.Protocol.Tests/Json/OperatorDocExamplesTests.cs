using System.Text.Json;
using System.Text.Json.Nodes;
using Mezzo.Core.Tasks;
using Mezzo.Protocol.V1;

namespace Mezzo.Protocol.Tests.Json;

/// <summary>
/// The operator API examples of Mesos's docs/operator-http-api.md, from DocExamples/Operator/: each is read into
/// Mezzo's types and written back, and everything the example says must come back unchanged, so every field the
/// documentation shows is one Mezzo models under the same name. The few the documentation shows that master.proto
/// does not have (or that Mezzo leaves out) are named per example.
/// </summary>
public sealed class OperatorDocExamplesTests
{
    public static TheoryData<string, string[]> MasterResponses => new()
    {
        { "get-agents", [] },
        { "get-frameworks", [] },
        { "get-executors", [] },
        { "get-tasks", [] },
        { "get-master", [] },
        { "get-logging-level", [] },
        { "list-files", [] },
        { "read-file", [] },
    };

    [Theory]
    [MemberData(nameof(MasterResponses))]
    public void Master_responses_round_trip_every_documented_field(string example, string[] unmodelled)
    {
        var json = Read(example);
        var response = MesosJson.Deserialize<MasterResponse>(json)!;

        AssertRoundTrip(json, MesosJson.Serialize(response), unmodelled);
    }

    public static TheoryData<string, string[]> Events => new()
    {
        { "framework-added", ["framework_added.framework.inverse_offers"] },
        { "framework-removed", [] },
        { "agent-added", ["agent_added.agent.capabilities"] },
        { "agent-removed", [] },
    };

    [Theory]
    [MemberData(nameof(Events))]
    public void Events_round_trip_every_documented_field(string example, string[] unmodelled)
    {
        var json = Read(example);
        var ev = MesosJson.Deserialize<MasterEvent>(json)!;

        AssertRoundTrip(json, MesosJson.Serialize(ev), unmodelled);
    }

    public static TheoryData<string, string[]> AgentResponses => new()
    {
        { "agent-get-containers", [] },
        { "agent-get-frameworks", [] },
        { "agent-get-executors", [] },
        { "agent-get-tasks", [] },
        { "get-logging-level", [] },
        { "list-files", [] },
        { "read-file", [] },
    };

    [Theory]
    [MemberData(nameof(AgentResponses))]
    public void Agent_responses_round_trip_every_documented_field(string example, string[] unmodelled)
    {
        var json = Read(example);
        var response = MesosJson.Deserialize<AgentOperatorResponse>(json)!;

        AssertRoundTrip(json, MesosJson.Serialize(response), unmodelled);
    }

    [Fact]
    public void Read_calls_parse_with_their_documented_arguments()
    {
        var metrics = MesosJson.Deserialize<MasterCall>(Read("get-metrics"))!;
        metrics.Type.Should().Be(MasterCallType.GET_METRICS);
        metrics.GetMetrics!.Timeout!.Nanoseconds.Should().Be(5_000_000_000);

        var logging = MesosJson.Deserialize<MasterCall>(Read("set-logging-level"))!;
        (logging.SetLoggingLevel!.Level, logging.SetLoggingLevel.Duration!.Nanoseconds).Should().Be((1u, 60_000_000_000L));

        var read = MesosJson.Deserialize<MasterCall>(Read("read-file-call"))!;
        (read.ReadFile!.Path, read.ReadFile.Offset, read.ReadFile.Length).Should().Be(("myname", 1ul, 6ul));

        var containers = MesosJson.Deserialize<AgentOperatorCall>(Read("agent-get-containers-call"))!;
        (containers.GetContainers!.ShowNested, containers.GetContainers.ShowStandalone).Should().Be((true, false));
    }

    [Fact]
    public void READ_FILE_data_is_base64_of_the_bytes_read()
    {
        var response = MesosJson.Deserialize<MasterResponse>(Read("read-file"))!;

        System.Text.Encoding.UTF8.GetString(response.ReadFile!.Data!).Should().Be("ody");
        response.ReadFile.Size.Should().Be(4);
    }

    [Fact]
    public void GET_AGENTS_as_printed_opens_with_two_braces_and_reads_without_the_extra_one()
    {
        var verbatim = () => MesosJson.Deserialize<MasterResponse>(File.ReadAllText(PathOf("get-agents")));
        verbatim.Should().Throw<JsonException>();

        var agents = MesosJson.Deserialize<MasterResponse>(Read("get-agents"))!.GetAgents!.Agents!;
        agents.Single().AgentInfo!.Id!.Value.Should().Be("3669ea49-c3c4-4b13-adee-05b8f9cb2562-S0");
        agents.Single().RegisteredTime!.Nanoseconds.Should().Be(1470820171393027072);
    }

    [Fact]
    public void HEARTBEAT_and_AGENT_ADDED_as_printed_have_trailing_commas_and_read_without_them()
    {
        foreach (var example in (string[])["heartbeat", "agent-added"])
        {
            var verbatim = () => MesosJson.Deserialize<MasterEvent>(File.ReadAllText(PathOf(example)));
            verbatim.Should().Throw<JsonException>(example);
        }

        MesosJson.Deserialize<MasterEvent>(Read("heartbeat"))!.Type.Should().Be(MasterEventType.HEARTBEAT);
    }

    [Fact]
    public void TASK_ADDED_as_documented_carries_a_command_that_Task_does_not_have_and_it_is_ignored()
    {
        var task = MesosJson.Deserialize<MasterEvent>(Read("task-added"))!.TaskAdded!.Task!;

        (task.Name, task.TaskId!.Value, task.AgentId!.Value).Should().Be(("dummy-task", "d40f3f3e-bbe3-44af-a230-4cb1eae72f67", "f1c9cdc5-195e-41a7-a0d7-adaa9af07f81"));
        JsonNode.Parse(MesosJson.Serialize(task))!.AsObject().ContainsKey("command").Should().BeFalse("master.proto's Task has no command");
    }

    [Fact]
    public void TASK_UPDATED_as_documented_has_ids_master_proto_does_not_and_only_framework_id_and_state_are_read()
    {
        var updated = MesosJson.Deserialize<MasterEvent>(Read("task-updated"))!.TaskUpdated!;

        updated.FrameworkId!.Value.Should().Be("49154f1b-8cf6-4421-bf13-8bd11dccd1f1");
        updated.State.Should().Be(TaskState.TASK_RUNNING);
        updated.Status.Should().BeNull("the documented example predates Event.TaskUpdated.status");
    }

    [Fact]
    public void Every_example_file_is_read_by_some_test()
    {
        var files = Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "DocExamples", "Operator"), "*.json").Select(Path.GetFileNameWithoutExtension);

        files.Should().BeEquivalentTo(
            "get-agents", "get-frameworks", "get-executors", "get-tasks", "get-master", "get-logging-level", "set-logging-level",
            "get-metrics", "list-files", "read-file-call", "read-file", "heartbeat", "task-added", "task-updated",
            "framework-added", "framework-removed", "agent-added", "agent-removed", "agent-get-containers",
            "agent-get-containers-call", "agent-get-frameworks", "agent-get-executors", "agent-get-tasks");
    }

    private static string PathOf(string example) => Path.Combine(AppContext.BaseDirectory, "DocExamples", "Operator", example + ".json");

    /// <summary>The example, with the documentation's JSON slips (named in the tests above) repaired.</summary>
    private static string Read(string example)
    {
        var json = File.ReadAllText(PathOf(example));
        return example switch
        {
            "get-agents" => json.Replace("{{", "{", StringComparison.Ordinal),
            "heartbeat" => json.Replace("\"HEARTBEAT\",", "\"HEARTBEAT\"", StringComparison.Ordinal),
            "agent-added" => json.Replace("\"resources\": [],\n      },", "\"resources\": []\n      },", StringComparison.Ordinal),
            _ => json,
        };
    }

    /// <summary>Everything in <paramref name="expected"/> is in <paramref name="actual"/>, equal (numbers as numbers).</summary>
    private static void AssertRoundTrip(string expected, string actual, string[] unmodelled)
    {
        var missing = new List<string>();
        Compare(JsonNode.Parse(expected), JsonNode.Parse(actual), "", unmodelled, missing);
        missing.Should().BeEmpty($"every documented field comes back; Mezzo wrote {actual}");
    }

    private static void Compare(JsonNode? expected, JsonNode? actual, string path, string[] unmodelled, List<string> missing)
    {
        if (unmodelled.Contains(path))
        {
            return;
        }

        switch (expected)
        {
            case JsonObject obj:
                if (actual is not JsonObject actualObj)
                {
                    missing.Add($"{path}: object expected");
                    return;
                }

                foreach (var (name, value) in obj)
                {
                    var child = path.Length == 0 ? name : $"{path}.{name}";
                    if (unmodelled.Contains(child))
                    {
                        continue;
                    }

                    if (!actualObj.TryGetPropertyValue(name, out var actualValue))
                    {
                        missing.Add($"{child}: missing");
                        continue;
                    }

                    Compare(value, actualValue, child, unmodelled, missing);
                }

                break;
            case JsonArray array:
                if (actual is not JsonArray actualArray || actualArray.Count != array.Count)
                {
                    missing.Add($"{path}: array of {array.Count} expected");
                    return;
                }

                for (var i = 0; i < array.Count; i++)
                {
                    Compare(array[i], actualArray[i], $"{path}[{i}]", unmodelled, missing);
                }

                break;
            case JsonValue value when value.GetValueKind() == JsonValueKind.Number:
                if (actual is not JsonValue actualNumber || actualNumber.GetValueKind() != JsonValueKind.Number
                    || decimal.Parse(value.ToJsonString(), System.Globalization.CultureInfo.InvariantCulture)
                        != decimal.Parse(actualNumber.ToJsonString(), System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture))
                {
                    missing.Add($"{path}: {value.ToJsonString()} expected, got {actual?.ToJsonString()}");
                }

                break;
            default:
                if (!JsonNode.DeepEquals(expected, actual))
                {
                    missing.Add($"{path}: {expected?.ToJsonString()} expected, got {actual?.ToJsonString()}");
                }

                break;
        }
    }
}
