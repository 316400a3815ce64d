using BenchmarkDotNet.Attributes;
using Mezzo.Protocol.Protobuf;
using Mezzo.Protocol.V1;

namespace Mezzo.Benchmarks;

/// <summary>
/// The cost of the two encodings on the scheduler's hot messages: an OFFERS event the master writes (10 offers) and
/// an ACCEPT call it reads (one LAUNCH of 50 tasks). Protobuf goes through the generated classes and the proto3 JSON
/// mapping (MesosProtobuf), so its extra cost over JSON is that conversion.
/// </summary>
[MemoryDiagnoser]
public class WireFormatBenchmarks
{
    private Event _offers = null!;
    private byte[] _acceptJson = null!;
    private byte[] _acceptProtobuf = null!;

    [Params(WireFormat.Json, WireFormat.Protobuf)]
    public WireFormat Format { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        Resource Scalar(string name, double value) => new() { Name = name, Type = Protocol.V1.ValueType.SCALAR, Scalar = new ValueScalar { Value = value }, AllocationInfo = new ResourceAllocationInfo { Role = "*" } };
        _offers = new Event
        {
            Type = EventType.OFFERS,
            Offers = new EventOffers
            {
                Offers = [.. Enumerable.Range(0, 10).Select(i => new Offer
                {
                    Id = new OfferID { Value = $"offer-{i}" },
                    FrameworkId = new FrameworkID { Value = "framework-0001" },
                    AgentId = new AgentID { Value = $"agent-{i}" },
                    Hostname = $"host-{i}.example",
                    Resources =
                    [
                        Scalar("cpus", 4), Scalar("mem", 8192), Scalar("disk", 10000),
                        new Resource { Name = "ports", Type = Protocol.V1.ValueType.RANGES, Ranges = new ValueRanges { Range = [new ValueRange { Begin = 31000, End = 32000 }] } },
                    ],
                })],
            },
        };
        var accept = new Call
        {
            FrameworkId = new FrameworkID { Value = "framework-0001" },
            Type = CallType.ACCEPT,
            Accept = new CallAccept
            {
                OfferIds = [new OfferID { Value = "offer-0" }],
                Filters = new Filters { RefuseSeconds = 0 },
                Operations =
                [
                    new OfferOperation
                    {
                        Type = OfferOperationType.LAUNCH,
                        Launch = new OfferOperationLaunch
                        {
                            TaskInfos = [.. Enumerable.Range(0, 50).Select(i => new TaskInfo
                            {
                                Name = $"task-{i}",
                                TaskId = new TaskID { Value = $"task-{i}" },
                                AgentId = new AgentID { Value = "agent-0" },
                                Resources = [Scalar("cpus", 0.01), Scalar("mem", 1)],
                                Command = new CommandInfo { Shell = false, Value = "/bin/true", Arguments = ["true"] },
                            })],
                        },
                    },
                ],
            },
        };
        _acceptJson = MesosWire.Serialize(WireFormat.Json, accept);
        _acceptProtobuf = MesosWire.Serialize(WireFormat.Protobuf, accept);
    }

    [Benchmark]
    public byte[] WriteOffersEvent() => MesosWire.Serialize(Format, _offers);

    [Benchmark]
    public Call? ReadAcceptCall() => MesosWire.Deserialize<Call>(Format, Format == WireFormat.Protobuf ? _acceptProtobuf : _acceptJson);
}
