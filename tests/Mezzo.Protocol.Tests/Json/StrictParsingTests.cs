using System.Text.Json;
using Mezzo.Core.Tasks;
using Mezzo.Protocol.Agents;
using Mezzo.Protocol.V1;
using ValueType = Mezzo.Protocol.V1.ValueType;

namespace Mezzo.Protocol.Tests.Json;

/// <summary>
/// Reading is strict about values: an unknown enum name or a value of the wrong JSON type is a
/// <see cref="JsonException"/> (the endpoints answer 400). Unknown fields and null are tolerated as Mesos does.
/// </summary>
public sealed class StrictParsingTests
{
    [Theory]
    [InlineData("""{"type":"SUBSCRIBE_PLEASE"}""", "*Unknown CallType value 'SUBSCRIBE_PLEASE'*")]
    [InlineData("""{"type":"subscribe"}""", "*Unknown CallType value 'subscribe'*")]
    [InlineData("""{"type":"Subscribe"}""", "*Unknown CallType value 'Subscribe'*")]
    [InlineData("""{"type":" SUBSCRIBE"}""", "*Unknown CallType value ' SUBSCRIBE'*")]
    [InlineData("""{"type":"1"}""", "*Unknown CallType value '1'*")]
    [InlineData("""{"type":1}""", "*Expected a string for CallType, got Number*")]
    [InlineData("""{"type":true}""", "*Expected a string for CallType, got True*")]
    [InlineData("""{"type":["SUBSCRIBE"]}""", "*Expected a string for CallType, got StartArray*")]
    [InlineData("""{"accept":{"operations":[{"type":"LAUNCH_ROCKET"}]}}""", "*Unknown OfferOperationType value 'LAUNCH_ROCKET'*")]
    [InlineData("""{"subscribe":{"framework_info":{"capabilities":[{"type":"TELEPATHY"}]}}}""", "*Unknown FrameworkInfoCapabilityType value 'TELEPATHY'*")]
    [InlineData("""{"accept":{"operations":[{"launch":{"task_infos":[{"resources":[{"name":"cpus","type":"scalar"}]}]}}]}}""", "*Unknown ValueType value 'scalar'*")]
    [InlineData("""{"accept":{"operations":[{"reserve":{"resources":[{"reservations":[{"type":"TEMPORARY"}]}]}}]}}""", "*Unknown ReservationInfoType value 'TEMPORARY'*")]
    public void Unknown_or_misspelled_enum_values_in_a_call_are_rejected_by_name(string json, string message)
    {
        var act = () => MesosJson.Deserialize<Call>(json);

        act.Should().Throw<JsonException>().WithMessage(message);
    }

    [Theory]
    [InlineData("""{"type":"UPDATE","update":{"status":{"state":"TASK_EXPLODED"}}}""", "*Unknown TaskState value 'TASK_EXPLODED'*")]
    [InlineData("""{"type":"UPDATE","update":{"status":{"state":"RUNNING"}}}""", "*Unknown TaskState value 'RUNNING'*")]
    [InlineData("""{"type":"UPDATE","update":{"status":{"state":1}}}""", "*Expected a string for TaskState*")]
    [InlineData("""{"type":"UPDATE","update":{"status":{"source":"SOURCE_SCHEDULER"}}}""", "*Unknown TaskStatusSource value 'SOURCE_SCHEDULER'*")]
    [InlineData("""{"type":"UPDATE","update":{"status":{"reason":"REASON_COSMIC_RAY"}}}""", "*Unknown TaskStatusReason value 'REASON_COSMIC_RAY'*")]
    [InlineData("""{"type":"HEARTBEAT_"}""", "*Unknown EventType value 'HEARTBEAT_'*")]
    public void Unknown_enum_values_in_an_event_are_rejected_by_name(string json, string message)
    {
        var act = () => MesosJson.Deserialize<Event>(json);

        act.Should().Throw<JsonException>().WithMessage(message);
    }

    [Theory]
    [InlineData("""{"framework_id":"12220-3440-12532-2345"}""")]
    [InlineData("""{"framework_id":{"value":12220}}""")]
    [InlineData("""{"framework_id":{"value":{"value":"x"}}}""")]
    [InlineData("""{"framework_id":[{"value":"x"}]}""")]
    [InlineData("""{"accept":{"offer_ids":{"value":"o-1"}}}""")]
    [InlineData("""{"accept":{"offer_ids":["o-1"]}}""")]
    [InlineData("""{"accept":{"filters":{"refuse_seconds":"5"}}}""")]
    [InlineData("""{"decline":{"filters":{"refuse_seconds":true}}}""")]
    [InlineData("""{"subscribe":{"framework_info":{"checkpoint":"true"}}}""")]
    [InlineData("""{"subscribe":{"framework_info":{"failover_timeout":"1w"}}}""")]
    [InlineData("""{"subscribe":{"framework_info":{"roles":"web"}}}""")]
    [InlineData("""{"subscribe":{"framework_info":{"roles":[1,2]}}}""")]
    [InlineData("""{"kill":{"kill_policy":{"grace_period":{"nanoseconds":"5000"}}}}""")]
    [InlineData("""{"kill":{"kill_policy":{"grace_period":{"nanoseconds":1.5}}}}""")]
    [InlineData("""{"accept":{"operations":[{"launch":{"task_infos":[{"resources":[{"name":"ports","type":"RANGES","ranges":{"range":[{"begin":-1,"end":5}]}}]}]}}]}}""")]
    [InlineData("""{"accept":{"operations":[{"launch":{"task_infos":[{"resources":[{"name":"ports","type":"RANGES","ranges":{"range":[{"begin":18446744073709551616,"end":5}]}}]}]}}]}}""")]
    [InlineData("""{"accept":{"operations":[{"launch":{"task_infos":[{"resources":[{"name":"cpus","type":"SCALAR","scalar":{"value":"1"}}]}]}}]}}""")]
    [InlineData("""{"accept":{"operations":[{"launch":{"task_infos":[{"resources":[{"name":"cpus","type":"SCALAR","scalar":{"value":"NaN"}}]}]}}]}}""")]
    [InlineData("""{"accept":{"operations":[{"launch":{"task_infos":[{"resources":[{"name":"cpus","type":"SCALAR","scalar":{"value":NaN}}]}]}}]}}""")]
    [InlineData("""{"accept":{"operations":[{"launch":{"task_infos":[{"resources":[{"name":"cpus","type":"SCALAR","scalar":{"value":Infinity}}]}]}}]}}""")]
    [InlineData("""{"accept":{"operations":[{"launch":{"task_infos":[{"resources":[{"name":"cpus","type":"SCALAR","scalar":{"value":"-Infinity"}}]}]}}]}}""")]
    [InlineData("""{"accept":{"operations":[{"launch":{"task_infos":[{"resources":[{"name":"cpus","type":"SCALAR","scalar":1}]}]}}]}}""")]
    [InlineData("""{"accept":{"operations":[{"launch":{"task_infos":[{"name":["a"]}]}}]}}""")]
    [InlineData("""{"accept":{"operations":[{"launch":{"task_infos":[{"data":42}]}}]}}""")]
    [InlineData("""{"acknowledge":{"uuid":12345}}""")]
    [InlineData("""{"acknowledge":{"uuid":["AAEC"]}}""")]
    [InlineData("""{"acknowledge":{"uuid":"not base64!"}}""")]
    [InlineData("""{"acknowledge":{"uuid":"AAEC-_8"}}""")]
    [InlineData("""{"acknowledge":{"uuid":"A"}}""")]
    [InlineData("""{"acknowledge":{"uuid":"AAEC=AAEC"}}""")]
    [InlineData("""{"message":{"data":{"bytes":"AAEC"}}}""")]
    public void Values_of_the_wrong_JSON_type_are_rejected(string json)
    {
        var act = () => MesosJson.Deserialize<Call>(json);

        act.Should().Throw<JsonException>();
    }

    [Theory]
    [InlineData("""{"type":"FAILURE","failure":{"status":"1"}}""")]
    [InlineData("""{"type":"FAILURE","failure":{"status":1.5}}""")]
    [InlineData("""{"type":"FAILURE","failure":{"status":2147483648}}""")]
    [InlineData("""{"type":"SUBSCRIBED","subscribed":{"heartbeat_interval_seconds":"15"}}""")]
    [InlineData("""{"type":"SUBSCRIBED","subscribed":{"master_info":{"ip":-1}}}""")]
    [InlineData("""{"type":"SUBSCRIBED","subscribed":{"master_info":{"port":"5050"}}}""")]
    [InlineData("""{"type":"UPDATE","update":{"status":{"healthy":"yes"}}}""")]
    [InlineData("""{"type":"UPDATE","update":{"status":{"timestamp":"2024-01-01T00:00:00Z"}}}""")]
    [InlineData("""{"type":"OFFERS","offers":[{"id":{"value":"o"}}]}""")]
    [InlineData("""{"type":"OFFERS","offers":{"offers":{"id":{"value":"o"}}}}""")]
    public void Event_values_of_the_wrong_JSON_type_are_rejected(string json)
    {
        var act = () => MesosJson.Deserialize<Event>(json);

        act.Should().Throw<JsonException>();
    }

    [Theory]
    [InlineData("")]
    [InlineData("{")]
    [InlineData("""{"type":"SUBSCRIBE",}""")]
    [InlineData("""{"type":"SUBSCRIBE"} {}""")]
    [InlineData("""{type:"SUBSCRIBE"}""")]
    [InlineData("""{'type':'SUBSCRIBE'}""")]
    [InlineData("""{"type":"SUBSCRIBE"} // comment""")]
    [InlineData("[]")]
    [InlineData("\"SUBSCRIBE\"")]
    [InlineData("42")]
    public void Malformed_JSON_or_a_non_object_is_rejected(string json)
    {
        var act = () => MesosJson.Deserialize<Call>(json);

        act.Should().Throw<JsonException>();
    }

    [Fact]
    public void Unknown_fields_are_skipped_at_any_depth_as_Mesos_does()
    {
        // Newer schedulers send fields this version does not model (offer_constraints, a Subscribe "force" of old
        // docs, ...); Mesos's parser ignores fields it does not know, and so do we.
        var call = MesosJson.Deserialize<Call>("""
            {"type":"SUBSCRIBE","extension":{"deep":[1,2,{"x":null}]},
             "subscribe":{"force":true,"offer_constraints":{"role_constraints":{}},
                          "framework_info":{"user":"u","name":"n","offer_filters":{"web":{}},"id":{"value":"fw","extra":1}}}}
            """)!;

        call.Type.Should().Be(CallType.SUBSCRIBE);
        call.Subscribe!.FrameworkInfo!.Name.Should().Be("n");
        call.Subscribe.FrameworkInfo.Id!.Value.Should().Be("fw");
    }

    [Fact]
    public void Field_names_are_case_sensitive_like_proto_field_names()
    {
        // "Type" is not the proto field "type"; it is an unknown field, skipped.
        MesosJson.Deserialize<Call>("""{"Type":"SUBSCRIBE","FrameworkId":{"value":"x"}}""")!.Type.Should().BeNull();
        MesosJson.Deserialize<Call>("""{"Type":"SUBSCRIBE"}""")!.FrameworkId.Should().BeNull();
    }

    [Fact]
    public void Null_reads_as_an_unset_field_as_in_Mesos()
    {
        var call = MesosJson.Deserialize<Call>("""{"type":null,"framework_id":null,"accept":{"offer_ids":null,"filters":null}}""")!;

        call.Type.Should().BeNull();
        call.FrameworkId.Should().BeNull();
        call.Accept!.OfferIds.Should().BeNull();
        MesosJson.Deserialize<Event>("""{"type":"UPDATE","update":{"status":{"uuid":null,"state":null}}}""")!.Update!.Status!.Uuid.Should().BeNull();
    }

    [Theory]
    [InlineData("AAECAwQFBgcICQoLDA0ODw==")]
    [InlineData("AAECAwQFBgcICQoLDA0ODw")]
    [InlineData("AAECAwQFBgcICQoLDA0ODw=")]
    [InlineData("AAECAwQF\nBgcICQoLDA0ODw==")]
    [InlineData(" AAECAwQFBgcI CQoLDA0ODw== ")]
    public void Bytes_read_padded_unpadded_or_wrapped_base64_like_Mesos(string base64)
    {
        var json = """{"acknowledge":{"uuid":""" + JsonSerializer.Serialize(base64) + "}}";

        MesosJson.Deserialize<Call>(json)!.Acknowledge!.Uuid.Should().Equal(Enumerable.Range(0, 16).Select(i => (byte)i));
    }

    [Theory]
    [InlineData("QR==")]
    [InlineData("QQ==")]
    [InlineData("QR")]
    [InlineData("AB")]
    [InlineData("ABC=")]
    [InlineData("ABD=")]
    [InlineData("AAEC")]
    [InlineData("A")]
    [InlineData("AAEC=AAEC")]
    [InlineData("====")]
    [InlineData("=")]
    [InlineData("ab+/")]
    [InlineData("AAEC-_8")]
    [InlineData("AAECé")]
    [InlineData(" AAECAwQFBgcI CQoLDA0ODw== ")]
    public void Bytes_decode_alike_whether_or_not_the_JSON_string_is_escaped(string base64)
    {
        // An unescaped value is decoded straight from UTF-8; an escaped one (here its first character written as
        // \u00XX) through a string. Both must give the same bytes, or the same error.
        var plain = """{"acknowledge":{"uuid":""" + "\"" + base64 + "\"}}";
        var escaped = """{"acknowledge":{"uuid":""" + "\"\\u" + ((int)base64[0]).ToString("x4", System.Globalization.CultureInfo.InvariantCulture) + base64[1..] + "\"}}";

        static (byte[]? Bytes, string? Error) Decode(string json)
        {
            try
            {
                return (MesosJson.Deserialize<Call>(json)!.Acknowledge!.Uuid, null);
            }
            catch (JsonException ex)
            {
                return (null, ex.Message);
            }
        }

        var (plainBytes, plainError) = Decode(plain);
        var (escapedBytes, escapedError) = Decode(escaped);
        plainError.Should().Be(escapedError);
        (plainBytes ?? []).Should().Equal(escapedBytes ?? []);
    }

    [Fact]
    public void Empty_bytes_are_an_empty_array_not_null()
    {
        MesosJson.Deserialize<Call>("""{"message":{"data":""}}""")!.Message!.Data.Should().NotBeNull().And.BeEmpty();
        MesosJson.Serialize(new CallMessage { Data = [] }).Should().Be("""{"data":""}""");
    }

    [Fact]
    public void Every_bytes_length_round_trips()
    {
        for (var length = 0; length <= 40; length++)
        {
            var bytes = Enumerable.Range(0, length).Select(i => (byte)(255 - (i * 37))).ToArray();
            var json = MesosJson.Serialize(new TaskStatus { Data = bytes });

            MesosJson.Deserialize<TaskStatus>(json)!.Data.Should().Equal(bytes, $"{length} bytes via {json}");
            MesosJson.Deserialize<TaskStatus>(json.Replace("=", "", StringComparison.Ordinal))!.Data.Should().Equal(bytes, "without padding");
        }
    }

    [Fact]
    public void An_agent_event_with_an_unknown_type_is_rejected_too()
    {
        var act = () => MesosJson.Deserialize<AgentEvent>("""{"type":"RUN_TASKS"}""");

        act.Should().Throw<JsonException>().WithMessage("*Unknown AgentEventType value 'RUN_TASKS'*");
    }

    [Fact]
    public void Enum_fields_of_an_offer_reject_wrong_values_when_read_as_a_list_of_resources()
    {
        var act = () => MesosJson.Deserialize<List<Resource>>("""[{"name":"cpus","type":"TEXTUAL"}]""");

        act.Should().Throw<JsonException>().WithMessage("*Unknown ValueType value 'TEXTUAL'*");
        MesosJson.Deserialize<List<Resource>>("""[{"name":"cpus","type":"SCALAR","scalar":{"value":1}}]""")![0].Type.Should().Be(ValueType.SCALAR);
        MesosJson.Deserialize<TaskStatus>("""{"state":"TASK_FINISHED"}""")!.State.Should().Be(TaskState.TASK_FINISHED);
    }
}
