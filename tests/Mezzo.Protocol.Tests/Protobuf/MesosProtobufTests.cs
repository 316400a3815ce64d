using Google.Protobuf;
using Mezzo.Protocol.Protobuf;
using Mezzo.Protocol.V1;
using SchedulerProto = Mesos.V1.Scheduler;
using WireFormat = Mezzo.Protocol.Protobuf.WireFormat;

namespace Mezzo.Protocol.Tests.Protobuf;

/// <summary>
/// Protobuf bytes built with the classes generated from Mesos's .proto files decode into the POCOs, and the POCOs
/// encode into bytes those classes read back field for field.
/// </summary>
public sealed class MesosProtobufTests
{
    [Fact]
    public void An_ACCEPT_encoded_from_the_proto_decodes_into_the_POCO()
    {
        var proto = new SchedulerProto.Call
        {
            FrameworkId = new Mesos.V1.FrameworkID { Value = "fw-1" },
            Type = SchedulerProto.Call.Types.Type.Accept,
            Accept = new SchedulerProto.Call.Types.Accept
            {
                OfferIds = { new Mesos.V1.OfferID { Value = "o-1" } },
                Filters = new Mesos.V1.Filters { RefuseSeconds = 7 },
                Operations =
                {
                    new Mesos.V1.Offer.Types.Operation
                    {
                        Type = Mesos.V1.Offer.Types.Operation.Types.Type.Launch,
                        Launch = new Mesos.V1.Offer.Types.Operation.Types.Launch
                        {
                            TaskInfos =
                            {
                                new Mesos.V1.TaskInfo
                                {
                                    Name = "t",
                                    TaskId = new Mesos.V1.TaskID { Value = "t-1" },
                                    AgentId = new Mesos.V1.AgentID { Value = "a-1" },
                                    Resources =
                                    {
                                        new Mesos.V1.Resource
                                        {
                                            Name = "ports",
                                            Type = Mesos.V1.Value.Types.Type.Ranges,
                                            Ranges = new Mesos.V1.Value.Types.Ranges { Range = { new Mesos.V1.Value.Types.Range { Begin = 31000, End = 31001 } } },
                                        },
                                    },
                                    Command = new Mesos.V1.CommandInfo { Shell = true, Value = "echo hi" },
                                    Data = ByteString.CopyFrom(1, 2, 3),
                                    MaxCompletionTime = new Mesos.V1.DurationInfo { Nanoseconds = 5_000_000_000 },
                                },
                            },
                        },
                    },
                },
            },
        };

        var call = MesosProtobuf.Deserialize<Call>(proto.ToByteArray());

        call.Type.Should().Be(CallType.ACCEPT);
        call.FrameworkId!.Value.Should().Be("fw-1");
        call.Accept!.Filters!.RefuseSeconds.Should().Be(7);
        var task = call.Accept.Operations![0].Launch!.TaskInfos![0];
        task.TaskId!.Value.Should().Be("t-1");
        task.Resources![0].Ranges!.Range![0].Begin.Should().Be(31000UL);
        task.Command!.Value.Should().Be("echo hi");
        task.Data.Should().Equal(1, 2, 3);
        task.MaxCompletionTime!.Nanoseconds.Should().Be(5_000_000_000);
    }

    [Fact]
    public void An_UPDATE_event_encodes_to_bytes_the_generated_parser_reads()
    {
        var uuid = Guid.NewGuid().ToByteArray();
        var ev = new Event
        {
            Type = EventType.UPDATE,
            Update = new EventUpdate
            {
                Status = new TaskStatus
                {
                    TaskId = new TaskID { Value = "t-1" },
                    State = Mezzo.Core.Tasks.TaskState.TASK_RUNNING,
                    Source = TaskStatusSource.SOURCE_EXECUTOR,
                    Timestamp = 1700000000.25,
                    Uuid = uuid,
                    AgentId = new AgentID { Value = "a-1" },
                },
            },
        };

        var proto = SchedulerProto.Event.Parser.ParseFrom(MesosProtobuf.Serialize(ev));

        proto.Type.Should().Be(SchedulerProto.Event.Types.Type.Update);
        proto.Update.Status.TaskId.Value.Should().Be("t-1");
        proto.Update.Status.State.Should().Be(Mesos.V1.TaskState.TaskRunning);
        proto.Update.Status.Source.Should().Be(Mesos.V1.TaskStatus.Types.Source.Executor);
        proto.Update.Status.Timestamp.Should().Be(1700000000.25);
        proto.Update.Status.Uuid.ToByteArray().Should().Equal(uuid);
        proto.Update.Status.AgentId.Value.Should().Be("a-1");
    }

    [Fact]
    public void Round_trip_through_protobuf_keeps_an_event_equal_to_its_JSON()
    {
        var ev = new Event
        {
            Type = EventType.OFFERS,
            Offers = new EventOffers
            {
                Offers =
                [
                    new Offer
                    {
                        Id = new OfferID { Value = "o" },
                        FrameworkId = new FrameworkID { Value = "f" },
                        AgentId = new AgentID { Value = "a" },
                        Hostname = "h",
                        Resources = [new Resource { Name = "cpus", Type = V1.ValueType.SCALAR, Scalar = new ValueScalar { Value = 1.5 } }],
                    },
                ],
            },
        };

        var back = MesosProtobuf.Deserialize<Event>(MesosProtobuf.Serialize(ev));

        MesosJson.Serialize(back).Should().Be(MesosJson.Serialize(ev));
    }

    [Fact]
    public void Maps_and_oneofs_cross_the_wire_as_the_generated_classes_encode_them()
    {
        var proto = new SchedulerProto.Call
        {
            Type = SchedulerProto.Call.Types.Type.UpdateFramework,
            UpdateFramework = new SchedulerProto.Call.Types.UpdateFramework
            {
                FrameworkInfo = new Mesos.V1.FrameworkInfo { User = "u", Name = "n", Roles = { "a", "b" } },
                SuppressedRoles = { "b" },
                OfferConstraints = new SchedulerProto.OfferConstraints
                {
                    RoleConstraints =
                    {
                        ["a"] = new SchedulerProto.OfferConstraints.Types.RoleConstraints
                        {
                            Groups =
                            {
                                new SchedulerProto.OfferConstraints.Types.RoleConstraints.Types.Group
                                {
                                    AttributeConstraints =
                                    {
                                        new SchedulerProto.AttributeConstraint
                                        {
                                            Selector = new SchedulerProto.AttributeConstraint.Types.Selector { AttributeName = "rack" },
                                            Predicate = new SchedulerProto.AttributeConstraint.Types.Predicate
                                            {
                                                TextEquals = new SchedulerProto.AttributeConstraint.Types.Predicate.Types.TextEquals { Value = "r1" },
                                            },
                                        },
                                    },
                                },
                            },
                        },
                    },
                },
            },
        };

        var call = MesosProtobuf.Deserialize<Call>(proto.ToByteArray());
        var constraint = call.UpdateFramework!.OfferConstraints!.RoleConstraints!["a"].Groups![0].AttributeConstraints![0];
        constraint.Selector!.AttributeName.Should().Be("rack");
        constraint.Predicate!.TextEquals!.Value.Should().Be("r1");
        call.UpdateFramework.FrameworkInfo!.Roles.Should().Equal("a", "b");

        SchedulerProto.Call.Parser.ParseFrom(MesosProtobuf.Serialize(call)).Should().Be(proto);
    }

    [Fact]
    public void Repeated_fields_split_on_the_wire_are_read_as_one_list()
    {
        // Field 1 (offer_ids) twice with field 3 (filters) between: protobuf allows it, JSON needs one array.
        var first = new SchedulerProto.Call.Types.Decline { OfferIds = { new Mesos.V1.OfferID { Value = "o1" } } }.ToByteArray();
        var filters = new SchedulerProto.Call.Types.Decline { Filters = new Mesos.V1.Filters { RefuseSeconds = 1 } }.ToByteArray();
        var second = new SchedulerProto.Call.Types.Decline { OfferIds = { new Mesos.V1.OfferID { Value = "o2" } } }.ToByteArray();
        var decline = new SchedulerProto.Call { Type = SchedulerProto.Call.Types.Type.Decline }.ToByteArray()
            .Concat(Field(5, [.. first, .. filters, .. second])).ToArray();

        var call = MesosProtobuf.Deserialize<Call>(decline);

        call.Decline!.OfferIds!.Select(o => o.Value).Should().Equal("o1", "o2");
        call.Decline.Filters!.RefuseSeconds.Should().Be(1);
    }

    [Theory]
    [InlineData(new byte[] { 0x0a, 0x05, 0x0a, 0x01 }, "truncated")]
    [InlineData(new byte[] { 0x12 }, "truncated varint")]
    [InlineData(new byte[] { 0x10, 0x80 }, "truncated varint")]
    [InlineData(new byte[] { 0x0b }, "wire type 3")]
    [InlineData(new byte[] { 0x0a, 0x03, 0x0a, 0x01, 0xff }, "UTF-8")]
    [InlineData(new byte[] { 0x11, 0, 0, 0, 0, 0, 0, 0, 0 }, "wire type 1")]
    public void Broken_wire_data_is_refused_with_the_reason(byte[] bytes, string reason)
    {
        var act = () => MesosProtobuf.Deserialize<Call>(bytes);

        act.Should().Throw<ProtobufFormatException>().WithMessage($"*{reason}*");
    }

    private static byte[] Field(int number, byte[] payload) => [(byte)((number << 3) | 2), (byte)payload.Length, .. payload];

    [Fact]
    public void Malformed_bytes_are_a_ProtobufFormatException_naming_the_message()
    {
        var act = () => MesosProtobuf.Deserialize<Call>([0x0a, 0xff, 0xff]);

        act.Should().Throw<ProtobufFormatException>().WithMessage("*mesos.v1.scheduler.Call*");
    }

    [Fact]
    public void An_unknown_enum_number_is_refused_not_guessed()
    {
        // Field 2 (type), varint 99: no Call.Type has that number.
        var act = () => MesosProtobuf.Deserialize<Call>([0x10, 99]);

        act.Should().Throw<ProtobufFormatException>();
    }

    [Fact]
    public void A_type_without_a_protobuf_mapping_is_a_programming_error()
    {
        var act = () => MesosProtobuf.Serialize(new FrameworkID { Value = "x" });

        act.Should().Throw<InvalidOperationException>().WithMessage("*FrameworkID has no protobuf encoding*");
    }

    [Theory]
    [InlineData("application/json", null, WireFormat.Json, WireFormat.Json)]
    [InlineData("application/x-protobuf", null, WireFormat.Protobuf, WireFormat.Json)]
    [InlineData("application/x-protobuf", "application/x-protobuf", WireFormat.Protobuf, WireFormat.Protobuf)]
    [InlineData("application/json; charset=utf-8", "application/x-protobuf", WireFormat.Json, WireFormat.Protobuf)]
    [InlineData("application/json", "application/x-protobuf, application/json", WireFormat.Json, WireFormat.Json)]
    [InlineData("application/json", "application/json;q=0, application/*", WireFormat.Json, WireFormat.Protobuf)]
    [InlineData("application/json", "*/*", WireFormat.Json, WireFormat.Json)]
    public void Negotiation_picks_JSON_when_allowed_else_protobuf(string contentType, string? accept, WireFormat request, WireFormat response)
    {
        var negotiated = ContentNegotiation.Negotiate(contentType, accept);

        negotiated.ErrorStatus.Should().BeNull(negotiated.Error);
        negotiated.Request.Should().Be(request);
        negotiated.Response.Should().Be(response);
    }

    [Theory]
    [InlineData(null, null, 415, "Expecting 'Content-Type' to be present")]
    [InlineData("text/plain", null, 415, "Expecting 'Content-Type' of application/json or application/x-protobuf")]
    [InlineData("application/json", "text/html", 406, "Expecting 'Accept' to allow 'application/x-protobuf' or 'application/json'")]
    [InlineData("application/json", "application/json;q=0", 406, "Expecting 'Accept' to allow 'application/x-protobuf' or 'application/json'")]
    public void Negotiation_refuses_as_Mesos_does(string? contentType, string? accept, int status, string error)
    {
        var negotiated = ContentNegotiation.Negotiate(contentType, accept);

        negotiated.ErrorStatus.Should().Be(status);
        negotiated.Error.Should().Be(error);
    }
}
