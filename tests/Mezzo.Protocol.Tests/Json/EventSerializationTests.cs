using System.Text.Json.Nodes;
using Mezzo.Core.Resources;
using Mezzo.Core.Tasks;
using Mezzo.Protocol.V1;
using Resource = Mezzo.Protocol.V1.Resource;
using Resources = Mezzo.Core.Resources.Resources;
using ValueRange = Mezzo.Core.Resources.ValueRange;
using ValueRanges = Mezzo.Core.Resources.ValueRanges;
using ValueType = Mezzo.Protocol.V1.ValueType;

namespace Mezzo.Protocol.Tests.Json;

/// <summary>What a scheduler receives from Mezzo: exact field names, enum spellings, base64 bytes, absent fields omitted.</summary>
public sealed class EventSerializationTests
{
    [Fact]
    public void HEARTBEAT_is_only_its_type()
    {
        MesosJson.Serialize(new Event { Type = EventType.HEARTBEAT }).Should().Be("""{"type":"HEARTBEAT"}""");
    }

    [Fact]
    public void Unset_fields_are_omitted_not_written_as_null()
    {
        MesosJson.Serialize(new TaskStatus()).Should().Be("{}");
        MesosJson.Serialize(new Call { Type = CallType.REVIVE }).Should().Be("""{"type":"REVIVE"}""");

        var json = MesosJson.Serialize(new Event
        {
            Type = EventType.UPDATE,
            Update = new EventUpdate { Status = new TaskStatus { TaskId = new TaskID { Value = "t" }, State = TaskState.TASK_STAGING } },
        });
        json.Should().NotContain("null");
        json.Should().Be("""{"type":"UPDATE","update":{"status":{"task_id":{"value":"t"},"state":"TASK_STAGING"}}}""");
    }

    [Fact]
    public void SUBSCRIBED_with_master_info()
    {
        var ev = new Event
        {
            Type = EventType.SUBSCRIBED,
            Subscribed = new EventSubscribed
            {
                FrameworkId = new FrameworkID { Value = "fw-1" },
                HeartbeatIntervalSeconds = 15,
                MasterInfo = new MasterInfo
                {
                    Id = "m-1",
                    Ip = 16777343,
                    Port = 5050,
                    Pid = "master@127.0.0.1:5050",
                    Hostname = "localhost",
                    Version = "1.11.0",
                    Address = new Address { Hostname = "localhost", Ip = "127.0.0.1", Port = 5050 },
                },
            },
        };

        MesosJson.Serialize(ev).Should().Be(JsonText.Compact("""
            {"type":"SUBSCRIBED","subscribed":{"framework_id":{"value":"fw-1"},"heartbeat_interval_seconds":15,
            "master_info":{"id":"m-1","ip":16777343,"port":5050,"pid":"master@127.0.0.1:5050","hostname":"localhost",
            "version":"1.11.0","address":{"hostname":"localhost","ip":"127.0.0.1","port":5050}}}}
            """));
    }

    [Fact]
    public void OFFERS_spell_SCALAR_RANGES_SET_and_carry_role_reservations_and_allocation_info()
    {
        var core = new Resources(
        [
            Core.Resources.Resource.ScalarOf("cpus", 2.5),
            Core.Resources.Resource.RangesOf("ports", ValueRanges.Of(new ValueRange(31000, 31009))),
            Core.Resources.Resource.SetOf("disks", ["sdb", "sda"], new ReservationInfo(ReservationType.Dynamic, "web", "ops")),
        ]).AllocateTo("web");
        var ev = new Event
        {
            Type = EventType.OFFERS,
            Offers = new EventOffers
            {
                Offers =
                [
                    new Offer
                    {
                        Id = new OfferID { Value = "o-1" },
                        FrameworkId = new FrameworkID { Value = "fw-1" },
                        AgentId = new AgentID { Value = "a-1" },
                        Hostname = "agent.host",
                        Url = new URL { Scheme = "http", Address = new Address { Hostname = "agent.host", Ip = "10.0.0.1", Port = 5051 }, Path = "/slave(1)" },
                        Resources = ResourceConversion.ToWire(core),
                        Attributes = ResourceConversion.ToWire([new AgentAttribute("rack", AttributeType.Text, Text: "r1")]),
                        ExecutorIds = [new ExecutorID { Value = "e-1" }],
                        AllocationInfo = new ResourceAllocationInfo { Role = "web" },
                    },
                ],
            },
        };

        MesosJson.Serialize(ev).Should().Be(JsonText.Compact("""
            {"type":"OFFERS","offers":{"offers":[{"id":{"value":"o-1"},"framework_id":{"value":"fw-1"},"agent_id":{"value":"a-1"},
            "hostname":"agent.host","url":{"scheme":"http","address":{"hostname":"agent.host","ip":"10.0.0.1","port":5051},"path":"/slave(1)"},
            "resources":[
            {"name":"cpus","type":"SCALAR","scalar":{"value":2.5},"role":"*","allocation_info":{"role":"web"}},
            {"name":"ports","type":"RANGES","ranges":{"range":[{"begin":31000,"end":31009}]},"role":"*","allocation_info":{"role":"web"}},
            {"name":"disks","type":"SET","set":{"item":["sda","sdb"]},"role":"web","allocation_info":{"role":"web"},
            "reservations":[{"type":"DYNAMIC","role":"web","principal":"ops"}]}],
            "attributes":[{"name":"rack","type":"TEXT","text":{"value":"r1"}}],"executor_ids":[{"value":"e-1"}],
            "allocation_info":{"role":"web"}}]}}
            """));
    }

    [Fact]
    public void UPDATE_spells_state_source_and_reason_and_writes_uuid_and_data_as_padded_base64()
    {
        byte[] uuid = [0xfb, 0xff, 0xbf, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0xfe];
        var ev = new Event
        {
            Type = EventType.UPDATE,
            Update = new EventUpdate
            {
                Status = new TaskStatus
                {
                    TaskId = new TaskID { Value = "t-1" },
                    State = TaskState.TASK_LOST,
                    Message = "Agent removed",
                    Source = TaskStatusSource.SOURCE_MASTER,
                    Reason = TaskStatusReason.REASON_AGENT_REMOVED,
                    Data = "hi"u8.ToArray(),
                    AgentId = new AgentID { Value = "a-1" },
                    ExecutorId = new ExecutorID { Value = "e-1" },
                    Timestamp = 1_700_000_000.25,
                    Uuid = uuid,
                    Healthy = false,
                    Labels = new Labels { Items = [new Label { Key = "k", Value = "v" }] },
                    ContainerStatus = new ContainerStatus { ContainerId = new ContainerID { Value = "c-1" }, ExecutorPid = 4242 },
                    UnreachableTime = new TimeInfo { Nanoseconds = 1_700_000_000_000_000_000 },
                },
            },
        };

        MesosJson.Serialize(ev).Should().Be(JsonText.Compact("""
            {"type":"UPDATE","update":{"status":{"task_id":{"value":"t-1"},"state":"TASK_LOST","message":"Agent removed",
            "source":"SOURCE_MASTER","reason":"REASON_AGENT_REMOVED","data":"aGk=","agent_id":{"value":"a-1"},
            "executor_id":{"value":"e-1"},"timestamp":1700000000.25,"uuid":"+/+/AQIDBAUGBwgJCgsM/g==","healthy":false,
            "labels":{"labels":[{"key":"k","value":"v"}]},"container_status":{"container_id":{"value":"c-1"},"executor_pid":4242},
            "unreachable_time":{"nanoseconds":1700000000000000000}}}}
            """));
        Convert.FromBase64String("+/+/AQIDBAUGBwgJCgsM/g==").Should().Equal(uuid, "the expected text is standard, padded base64");
    }

    [Fact]
    public void Task_states_partition_aware_schedulers_see_are_spelled_as_in_the_proto()
    {
        foreach (var (state, name) in new[]
        {
            (TaskState.TASK_RUNNING, "TASK_RUNNING"), (TaskState.TASK_KILLING, "TASK_KILLING"),
            (TaskState.TASK_UNREACHABLE, "TASK_UNREACHABLE"), (TaskState.TASK_GONE_BY_OPERATOR, "TASK_GONE_BY_OPERATOR"),
            (TaskState.TASK_DROPPED, "TASK_DROPPED"), (TaskState.TASK_UNKNOWN, "TASK_UNKNOWN"),
        })
        {
            MesosJson.Serialize(new TaskStatus { State = state }).Should().Be($$"""{"state":"{{name}}"}""");
        }
    }

    [Fact]
    public void Every_enum_member_serializes_as_its_name_and_reads_back()
    {
        foreach (var state in Enum.GetValues<TaskState>())
        {
            RoundTrip(new TaskStatus { State = state }, $"\"state\":\"{state}\"").State.Should().Be(state);
        }

        foreach (var source in Enum.GetValues<TaskStatusSource>())
        {
            RoundTrip(new TaskStatus { Source = source }, $"\"source\":\"{source}\"").Source.Should().Be(source);
        }

        foreach (var reason in Enum.GetValues<TaskStatusReason>())
        {
            RoundTrip(new TaskStatus { Reason = reason }, $"\"reason\":\"{reason}\"").Reason.Should().Be(reason);
        }

        foreach (var type in Enum.GetValues<CallType>())
        {
            RoundTrip(new Call { Type = type }, $"\"type\":\"{type}\"").Type.Should().Be(type);
        }

        foreach (var type in Enum.GetValues<EventType>())
        {
            RoundTrip(new Event { Type = type }, $"\"type\":\"{type}\"").Type.Should().Be(type);
        }

        foreach (var capability in Enum.GetValues<FrameworkInfoCapabilityType>())
        {
            RoundTrip(new FrameworkInfo { Capabilities = [new FrameworkInfoCapability { Type = capability }] }, $"{{\"type\":\"{capability}\"}}")
                .Capabilities![0].Type.Should().Be(capability);
        }

        foreach (var type in Enum.GetValues<ValueType>())
        {
            RoundTrip(new Offer { Attributes = [new V1.Attribute { Type = type }] }, $"\"type\":\"{type}\"").Attributes![0].Type.Should().Be(type);
        }

        foreach (var type in Enum.GetValues<ReservationInfoType>())
        {
            RoundTrip(new Offer { Resources = [new Resource { Reservations = [new ResourceReservationInfo { Type = type }] }] }, $"\"type\":\"{type}\"")
                .Resources![0].Reservations![0].Type.Should().Be(type);
        }

        foreach (var type in Enum.GetValues<OfferOperationType>())
        {
            RoundTrip(new Call { Accept = new CallAccept { Operations = [new OfferOperation { Type = type }] } }, $"\"type\":\"{type}\"")
                .Accept!.Operations![0].Type.Should().Be(type);
        }

        foreach (var type in Enum.GetValues<ExecutorInfoType>())
        {
            RoundTrip(new TaskInfo { Executor = new ExecutorInfo { Type = type } }, $"\"type\":\"{type}\"").Executor!.Type.Should().Be(type);
        }

        foreach (var type in Enum.GetValues<EnvironmentVariableType>())
        {
            RoundTrip(
                new TaskInfo { Command = new CommandInfo { Environment = new EnvironmentInfo { Variables = [new EnvironmentVariable { Type = type }] } } },
                $"\"type\":\"{type}\"").Command!.Environment!.Variables![0].Type.Should().Be(type);
        }
    }

    [Fact]
    public void FrameworkInfo_writes_capabilities_roles_and_webui_url()
    {
        var info = new FrameworkInfo
        {
            User = "root",
            Name = "marathon",
            Id = new FrameworkID { Value = "fw-1" },
            FailoverTimeout = 604800,
            Checkpoint = true,
            Roles = ["web", "batch"],
            Principal = "marathon",
            WebuiUrl = "http://marathon:8080",
            Capabilities = [new FrameworkInfoCapability { Type = FrameworkInfoCapabilityType.PARTITION_AWARE }, new FrameworkInfoCapability { Type = FrameworkInfoCapabilityType.MULTI_ROLE }],
        };

        MesosJson.Serialize(info).Should().Be(JsonText.Compact("""
            {"user":"root","name":"marathon","id":{"value":"fw-1"},"failover_timeout":604800,"checkpoint":true,
            "roles":["web","batch"],"principal":"marathon","webui_url":"http://marathon:8080",
            "capabilities":[{"type":"PARTITION_AWARE"},{"type":"MULTI_ROLE"}]}
            """));
    }

    [Fact]
    public void RESCIND_FAILURE_MESSAGE_and_ERROR_have_the_proto_shape()
    {
        MesosJson.Serialize(new Event { Type = EventType.RESCIND, Rescind = new EventRescind { OfferId = new OfferID { Value = "o-1" } } })
            .Should().Be("""{"type":"RESCIND","rescind":{"offer_id":{"value":"o-1"}}}""");
        MesosJson.Serialize(new Event
        {
            Type = EventType.FAILURE,
            Failure = new EventFailure { AgentId = new AgentID { Value = "a-1" }, ExecutorId = new ExecutorID { Value = "e-1" }, Status = 9 },
        }).Should().Be("""{"type":"FAILURE","failure":{"agent_id":{"value":"a-1"},"executor_id":{"value":"e-1"},"status":9}}""");
        MesosJson.Serialize(new Event
        {
            Type = EventType.MESSAGE,
            Message = new EventMessage { AgentId = new AgentID { Value = "a-1" }, ExecutorId = new ExecutorID { Value = "e-1" }, Data = [0, 1, 2, 253, 254, 255] },
        }).Should().Be("""{"type":"MESSAGE","message":{"agent_id":{"value":"a-1"},"executor_id":{"value":"e-1"},"data":"AAEC/f7/"}}""");
        MesosJson.Serialize(new Event { Type = EventType.ERROR, Error = new EventError { Message = "Framework has been removed" } })
            .Should().Be("""{"type":"ERROR","error":{"message":"Framework has been removed"}}""");
    }

    [Fact]
    public void Strings_survive_escaping_whatever_characters_they_hold()
    {
        // The writer escapes non-ASCII and HTML-sensitive characters as \uXXXX; any JSON reader, Mesos's included, reads
        // the same string back.
        const string message = "Tâche <échouée> & \"quoted\" + 🚀\n";
        var json = MesosJson.Serialize(new Event { Type = EventType.ERROR, Error = new EventError { Message = message } });

        JsonNode.Parse(json)!["error"]!["message"]!.GetValue<string>().Should().Be(message);
        MesosJson.Deserialize<Event>(json)!.Error!.Message.Should().Be(message);
    }

    [Fact]
    public void Clone_is_a_deep_copy_through_the_wire_format()
    {
        var original = new Call
        {
            Type = CallType.ACKNOWLEDGE,
            Acknowledge = new CallAcknowledge { TaskId = new TaskID { Value = "t" }, Uuid = [1, 2, 3] },
        };

        var clone = MesosJson.Clone(original);
        clone.Acknowledge!.TaskId!.Value = "changed";
        clone.Acknowledge.Uuid![0] = 9;

        original.Acknowledge.TaskId.Value.Should().Be("t");
        original.Acknowledge.Uuid.Should().Equal(1, 2, 3);
        MesosJson.Serialize(MesosJson.Clone(original)).Should().Be(MesosJson.Serialize(original));
    }

    [Fact]
    public void Every_deserialize_overload_reads_the_same_message()
    {
        var bytes = MesosJson.SerializeToUtf8Bytes(new Event { Type = EventType.RESCIND, Rescind = new EventRescind { OfferId = new OfferID { Value = "o" } } });

        MesosJson.Deserialize<Event>(bytes)!.Rescind!.OfferId!.Value.Should().Be("o");
        MesosJson.Deserialize<Event>(bytes.AsSpan())!.Rescind!.OfferId!.Value.Should().Be("o");
        MesosJson.Deserialize<Event>(System.Text.Encoding.UTF8.GetString(bytes))!.Rescind!.OfferId!.Value.Should().Be("o");
    }

    [Fact]
    public void A_type_outside_the_context_is_refused_by_name()
    {
        var act = () => MesosJson.Serialize(new NotAWireType());

        act.Should().Throw<InvalidOperationException>().WithMessage("*NotAWireType*MesosJsonContext*");
    }

    private static T RoundTrip<T>(T value, string expectedFragment)
    {
        var json = MesosJson.Serialize(value);
        json.Should().Contain(expectedFragment);
        return MesosJson.Deserialize<T>(json)!;
    }

    private sealed class NotAWireType;
}
