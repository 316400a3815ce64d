using System.Text.Json;
using Mezzo.Core.Tasks;
using Mezzo.Protocol.V1;
using ValueType = Mezzo.Protocol.V1.ValueType;

namespace Mezzo.Protocol.Tests.Json;

/// <summary>
/// The request and event examples of Mesos's docs/scheduler-http-api.md, read byte for byte from DocExamples/, parsed
/// with <see cref="MesosJson"/>. Where the documentation is not valid JSON or disagrees with scheduler.proto, the test
/// says so and follows the proto, as Mesos's parser does.
/// </summary>
public sealed class SchedulerDocExamplesTests
{
    private const string FrameworkId = "12220-3440-12532-2345";

    [Fact]
    public void SUBSCRIBE_reads_the_framework_info_and_ignores_the_removed_force_field()
    {
        var call = Parse<Call>("subscribe");

        call.Type.Should().Be(CallType.SUBSCRIBE);
        call.FrameworkId.Should().BeNull();
        call.Subscribe!.FrameworkInfo!.User.Should().Be("foo");
        call.Subscribe.FrameworkInfo.Name.Should().Be("Example HTTP Framework");
        call.Subscribe.FrameworkInfo.Id.Should().BeNull("a new framework has no id yet");

        // "force" is not a field of Call.Subscribe in scheduler.proto; Mesos's parser skips unknown fields, so must we.
        call.Subscribe.SuppressedRoles.Should().BeNull();
    }

    [Fact]
    public void SUBSCRIBED_event_reads_the_framework_id_and_an_integral_heartbeat_interval()
    {
        var ev = Parse<Event>("subscribed");

        ev.Type.Should().Be(EventType.SUBSCRIBED);
        ev.Subscribed!.FrameworkId!.Value.Should().Be(FrameworkId);
        ev.Subscribed.HeartbeatIntervalSeconds.Should().Be(15.0);
        ev.Subscribed.MasterInfo.Should().BeNull();
    }

    [Fact]
    public void ACCEPT_with_a_LAUNCH_operation_reads_offer_ids_task_infos_and_filters()
    {
        // The documented body has "{...}" placeholders for the launch and the filters; they are filled in here.
        const string launch = """
            {"task_infos" : [{
              "name" : "my-task",
              "task_id" : {"value" : "12220-3440-12532-my-task"},
              "agent_id" : {"value" : "12220-3440-12532-S1233"},
              "resources" : [
                {"name" : "cpus", "type" : "SCALAR", "scalar" : {"value" : 0.5}},
                {"name" : "mem", "type" : "SCALAR", "scalar" : {"value" : 128}},
                {"name" : "ports", "type" : "RANGES", "ranges" : {"range" : [{"begin" : 31000, "end" : 31001}]}}
              ],
              "command" : {"value" : "sleep 10", "shell" : true,
                           "environment" : {"variables" : [{"name" : "GREETING", "type" : "VALUE", "value" : "hi"}]},
                           "uris" : [{"value" : "http://example.com/app.tgz", "extract" : true, "output_file" : "app.tgz"}]},
              "kill_policy" : {"grace_period" : {"nanoseconds" : 3000000000}},
              "labels" : {"labels" : [{"key" : "tier", "value" : "web"}]},
              "data" : "aGVsbG8="
            }]}
            """;
        var call = Parse<Call>("accept", json => json
            .Replace("\"launch\" : {...}", "\"launch\" : " + launch, StringComparison.Ordinal)
            .Replace("{...}", """{"refuse_seconds" : 5.0}""", StringComparison.Ordinal));

        call.Type.Should().Be(CallType.ACCEPT);
        call.FrameworkId!.Value.Should().Be(FrameworkId);
        call.Accept!.OfferIds!.Select(o => o.Value).Should().Equal("12220-3440-12532-O12", "12220-3440-12532-O12");
        call.Accept.Filters!.RefuseSeconds.Should().Be(5.0);

        var operation = call.Accept.Operations.Should().ContainSingle().Subject;
        operation.Type.Should().Be(OfferOperationType.LAUNCH);
        var task = operation.Launch!.TaskInfos.Should().ContainSingle().Subject;
        task.Name.Should().Be("my-task");
        task.TaskId!.Value.Should().Be("12220-3440-12532-my-task");
        task.AgentId!.Value.Should().Be("12220-3440-12532-S1233");
        task.Resources!.Select(r => (r.Name, r.Type)).Should().Equal(("cpus", ValueType.SCALAR), ("mem", ValueType.SCALAR), ("ports", ValueType.RANGES));
        task.Resources![0].Scalar!.Value.Should().Be(0.5);
        task.Resources[2].Ranges!.Range!.Single().Begin.Should().Be(31000UL);
        task.Command!.Value.Should().Be("sleep 10");
        task.Command.Shell.Should().BeTrue();
        task.Command.Environment!.Variables!.Single().Type.Should().Be(EnvironmentVariableType.VALUE);
        task.Command.Uris!.Single().OutputFile.Should().Be("app.tgz");
        task.KillPolicy!.GracePeriod!.Nanoseconds.Should().Be(3_000_000_000L);
        task.Labels!.Items!.Single().Key.Should().Be("tier");
        task.Data.Should().Equal("hello"u8.ToArray());

        ResourceConversion.ToCore(task.Resources).Cpus.Should().Be(0.5);
    }

    [Fact]
    public void DECLINE_with_filters_reads_both_offer_ids_and_the_refusal()
    {
        var call = Parse<Call>("decline", json => json.Replace("{...}", """{"refuse_seconds" : 3600}""", StringComparison.Ordinal));

        call.Type.Should().Be(CallType.DECLINE);
        call.FrameworkId!.Value.Should().Be(FrameworkId);
        call.Decline!.OfferIds!.Select(o => o.Value).Should().Equal("12220-3440-12532-O12", "12220-3440-12532-O13");
        call.Decline.Filters!.RefuseSeconds.Should().Be(3600);
    }

    [Fact]
    public void KILL_reads_task_and_agent()
    {
        var call = Parse<Call>("kill");

        call.Type.Should().Be(CallType.KILL);
        call.FrameworkId!.Value.Should().Be(FrameworkId);
        call.Kill!.TaskId!.Value.Should().Be("12220-3440-12532-my-task");
        call.Kill.AgentId!.Value.Should().Be("12220-3440-12532-S1233");
        call.Kill.KillPolicy.Should().BeNull();
    }

    [Fact]
    public void SHUTDOWN_reads_executor_and_agent()
    {
        var call = Parse<Call>("shutdown");

        call.Type.Should().Be(CallType.SHUTDOWN);
        call.Shutdown!.ExecutorId!.Value.Should().Be("123450-2340-1232-my-executor");
        call.Shutdown.AgentId!.Value.Should().Be("12220-3440-12532-S1233");
    }

    [Fact]
    public void ACKNOWLEDGE_decodes_the_unpadded_base64_uuid_as_Mesos_does()
    {
        // "jhadf73jhakdlfha723adf" is 22 base64 characters without the "==" padding: the 16 bytes of a UUID. Mesos's
        // base64::decode accepts missing padding, so a scheduler written from this example works against Mesos.
        var call = Parse<Call>("acknowledge");

        call.Type.Should().Be(CallType.ACKNOWLEDGE);
        call.FrameworkId!.Value.Should().Be(FrameworkId);
        call.Acknowledge!.AgentId!.Value.Should().Be("12220-3440-12532-S1233");
        call.Acknowledge.TaskId!.Value.Should().Be("12220-3440-12532-my-task");
        call.Acknowledge.Uuid.Should().Equal(Convert.FromHexString("8e169d7fbde385a91d95f85aef6dda75"));
    }

    [Fact]
    public void RECONCILE_reads_each_task_with_its_agent()
    {
        var call = Parse<Call>("reconcile");

        call.Type.Should().Be(CallType.RECONCILE);
        var task = call.Reconcile!.Tasks.Should().ContainSingle().Subject;
        task.TaskId!.Value.Should().Be("312325");
        task.AgentId!.Value.Should().Be("123535");
    }

    [Fact]
    public void MESSAGE_call_decodes_the_base64_data()
    {
        var call = Parse<Call>("message-call");

        call.Type.Should().Be(CallType.MESSAGE);
        call.Message!.AgentId!.Value.Should().Be("12220-3440-12532-S1233");
        call.Message.ExecutorId!.Value.Should().Be("my-framework-executor");
        call.Message.Data.Should().Equal(Convert.FromBase64String("adaf838jahd748jnaldf"));
    }

    [Theory]
    [InlineData("teardown", CallType.TEARDOWN)]
    [InlineData("revive", CallType.REVIVE)]
    public void TEARDOWN_and_REVIVE_as_printed_have_a_trailing_comma_which_is_not_JSON(string example, CallType type)
    {
        // Mesos parses with picojson, which rejects a trailing comma too; without it the call reads fine.
        var verbatim = () => Parse<Call>(example);
        verbatim.Should().Throw<JsonException>();

        var call = Parse<Call>(example, json => json.Replace(",\n}", "\n}", StringComparison.Ordinal));
        call.Type.Should().Be(type);
        call.FrameworkId!.Value.Should().Be(FrameworkId);
    }

    [Fact]
    public void OFFERS_event_reads_offers_with_resources_and_attributes()
    {
        // The documented event departs from scheduler.proto twice: "offers" holds the list directly, where the proto's
        // Event.offers is an Offers message ({"offers": [...]}, which is what Mesos sends), and the offer's id is
        // named "offer_id" where mesos.proto's Offer has "id". With both put right, and the "[...]" placeholders
        // filled in, the offer reads completely.
        const string resources = """
            [{"name":"cpus","type":"SCALAR","scalar":{"value":2.5},"role":"*","allocation_info":{"role":"web"}},
             {"name":"mem","type":"SCALAR","scalar":{"value":1024},"role":"*","allocation_info":{"role":"web"}},
             {"name":"ports","type":"RANGES","ranges":{"range":[{"begin":31000,"end":31099},{"begin":32000,"end":32000}]},"role":"*","allocation_info":{"role":"web"}},
             {"name":"disks","type":"SET","set":{"item":["sda","sdb"]},"role":"web","reservations":[{"type":"STATIC","role":"web"}],"allocation_info":{"role":"web"}}]
            """;
        const string attributes = """
            [{"name":"rack","type":"TEXT","text":{"value":"r1"}},
             {"name":"weight","type":"SCALAR","scalar":{"value":2.5}}]
            """;
        var ev = Parse<Event>("offers", json => json
            .Replace("\"offers\"\t: [", "\"offers\"\t: {\"offers\": [", StringComparison.Ordinal)
            .Replace("  ]\n}", "  ]}\n}", StringComparison.Ordinal)
            .Replace("\"offer_id\"", "\"id\"", StringComparison.Ordinal)
            .Replace("\"resources\":[...]", "\"resources\":" + resources, StringComparison.Ordinal)
            .Replace("\"attributes\":[...]", "\"attributes\":" + attributes, StringComparison.Ordinal));

        ev.Type.Should().Be(EventType.OFFERS);
        var offer = ev.Offers!.Offers.Should().ContainSingle().Subject;
        offer.Id!.Value.Should().Be("12214-23523-O235235");
        offer.FrameworkId!.Value.Should().Be("12124-235325-32425");
        offer.AgentId!.Value.Should().Be("12325-23523-S23523");
        offer.Hostname.Should().Be("agent.host");
        offer.ExecutorIds.Should().BeEmpty();
        offer.Attributes!.Select(a => a.Type).Should().Equal(ValueType.TEXT, ValueType.SCALAR);

        var core = ResourceConversion.ToCore(offer.Resources!);
        core.Cpus.Should().Be(2.5);
        core.Mem.Should().Be(1024);
        core.Ports.Size.Should().Be(101UL);
        core.Should().OnlyContain(r => r.AllocationRole == "web");
        core.Single(r => r.Name == "disks").Role.Should().Be("web");
        ResourceConversion.ToCore(offer.Attributes!).Select(a => a.ToString()).Should().Equal("rack:r1", "weight:2.5");
    }

    [Fact]
    public void OFFERS_example_as_printed_is_not_JSON_nor_the_proto_shape()
    {
        var verbatim = () => Parse<Event>("offers");
        verbatim.Should().Throw<JsonException>("\"[...]\" is a placeholder");

        // Filled in, it is JSON, but a list where scheduler.proto has the Offers message: a scheduler would not read
        // such an event, and Mezzo never sends one (see EventSerializationTests).
        var filled = () => Parse<Event>("offers", json => json.Replace("[...]", "[]", StringComparison.Ordinal));
        filled.Should().Throw<JsonException>().WithMessage("*EventOffers*");
    }

    [Fact]
    public void RESCIND_reads_the_offer_id()
    {
        var ev = Parse<Event>("rescind");

        ev.Type.Should().Be(EventType.RESCIND);
        ev.Rescind!.OfferId!.Value.Should().Be("12214-23523-O235235");
    }

    [Fact]
    public void UPDATE_reads_state_source_and_base64_uuid()
    {
        var ev = Parse<Event>("update");

        ev.Type.Should().Be(EventType.UPDATE);
        var status = ev.Update!.Status!;
        status.TaskId!.Value.Should().Be("12344-my-task");
        status.State.Should().Be(TaskState.TASK_RUNNING);
        status.Source.Should().Be(TaskStatusSource.SOURCE_EXECUTOR);
        status.Uuid.Should().Equal(Convert.FromHexString("69d7da75f69d6e182f8dac9ddb7af6b9a863"));

        // The example's "bytes" is not a TaskStatus field (the proto's is "data"), so it is skipped like any unknown field.
        status.Data.Should().BeNull();
    }

    [Fact]
    public void MESSAGE_event_reads_agent_executor_and_data()
    {
        var ev = Parse<Event>("message-event");

        ev.Type.Should().Be(EventType.MESSAGE);
        ev.Message!.AgentId!.Value.Should().Be("12214-23523-S235235");
        ev.Message.ExecutorId!.Value.Should().Be("12214-23523-my-executor");
        ev.Message.Data.Should().Equal(Convert.FromBase64String("adfadf3t2wa3353dfadf"));
    }

    [Fact]
    public void FAILURE_reads_agent_executor_and_status()
    {
        var ev = Parse<Event>("failure");

        ev.Type.Should().Be(EventType.FAILURE);
        ev.Failure!.AgentId!.Value.Should().Be("12214-23523-S235235");
        ev.Failure.ExecutorId!.Value.Should().Be("12214-23523-my-executor");
        ev.Failure.Status.Should().Be(1);
    }

    [Fact]
    public void ERROR_example_puts_the_message_where_the_proto_has_the_MESSAGE_event()
    {
        // The doc writes {"type":"ERROR","message":"..."}, but in scheduler.proto "message" is Event.Message (an
        // object) and the text belongs in "error": {"message": ...}. A string where an object belongs is an error.
        var verbatim = () => Parse<Event>("error");
        verbatim.Should().Throw<JsonException>();

        var ev = MesosJson.Deserialize<Event>("""{"type":"ERROR","error":{"message":"Framework is not authorized"}}""")!;
        ev.Type.Should().Be(EventType.ERROR);
        ev.Error!.Message.Should().Be("Framework is not authorized");
    }

    [Fact]
    public void HEARTBEAT_as_printed_has_a_trailing_comma_and_reads_without_it()
    {
        var verbatim = () => Parse<Event>("heartbeat");
        verbatim.Should().Throw<JsonException>();

        Parse<Event>("heartbeat", json => json.Replace(",\n}", "\n}", StringComparison.Ordinal)).Type.Should().Be(EventType.HEARTBEAT);
    }

    [Fact]
    public void Every_example_file_is_read_by_some_test()
    {
        var files = Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "DocExamples"), "*.json").Select(Path.GetFileNameWithoutExtension);

        files.Should().BeEquivalentTo(
            "subscribe", "subscribed", "teardown", "accept", "decline", "revive", "kill", "shutdown", "acknowledge",
            "reconcile", "message-call", "offers", "rescind", "update", "message-event", "failure", "error", "heartbeat");
    }

    private static T Parse<T>(string example, Func<string, string>? fill = null)
    {
        var json = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "DocExamples", example + ".json"));
        json.Should().Contain("\t", "the examples are kept with the documentation's tabs");
        return MesosJson.Deserialize<T>(fill is null ? json : fill(json)) ?? throw new InvalidOperationException("null");
    }
}
