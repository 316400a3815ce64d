using System.Text.Json;
using AwesomeAssertions;
using FsCheck;
using FsCheck.Fluent;
using Mezzo.Fuzz.Tests.Harness;
using Mezzo.Protocol;
using Mezzo.Protocol.Json;
using Mezzo.Protocol.Protobuf;
using Mezzo.Protocol.RecordIO;
using Mezzo.Protocol.V1;

namespace Mezzo.Fuzz.Tests;

/// <summary>
/// The bodies of the scheduler, executor and operator APIs (master and agent) in both encodings, and RecordIO framing:
/// a body parses or throws <see cref="JsonException"/> / <see cref="ProtobufFormatException"/> (the 400 at the HTTP
/// edge), and whatever parses can be written back (what /state and the event streams do with it).
/// </summary>
public sealed class ProtocolFuzzTests
{
    private const int Timeout = 120_000;

    [Fact(Timeout = Timeout)]
    public Task Scheduler_calls_in_json() => Json<Call>("scheduler-call", TestContext.Current.CancellationToken);

    [Fact(Timeout = Timeout)]
    public Task Master_operator_calls_in_json() => Json<MasterCall>("master-call", TestContext.Current.CancellationToken);

    [Fact(Timeout = Timeout)]
    public Task Agent_operator_calls_in_json() => Json<AgentOperatorCall>("agent-call", TestContext.Current.CancellationToken);

    [Fact(Timeout = Timeout)]
    public Task Executor_calls_in_json() => Json<ExecutorCall>("executor-call", TestContext.Current.CancellationToken);

    [Fact(Timeout = Timeout)]
    public Task Scheduler_calls_in_protobuf() => Protobuf<Call>("scheduler-call", TestContext.Current.CancellationToken);

    [Fact(Timeout = Timeout)]
    public Task Master_operator_calls_in_protobuf() => Protobuf<MasterCall>("master-call", TestContext.Current.CancellationToken);

    [Fact(Timeout = Timeout)]
    public Task Agent_operator_calls_in_protobuf() => Protobuf<AgentOperatorCall>("agent-call", TestContext.Current.CancellationToken);

    [Fact(Timeout = Timeout)]
    public Task Executor_calls_in_protobuf() => Protobuf<ExecutorCall>("executor-call", TestContext.Current.CancellationToken);

    [Fact(Timeout = Timeout)]
    public Task RecordIO_streams_read_records_or_fail_with_a_RecordIOException() => Task.Run(() =>
    {
        var corpus = Fuzzer.Corpus("recordio");
        var headers = new[] { "0\n", "1\n", "99999999999\n", "67108863\n", "67108864\n", "\n", "-1\n", "1a\n", "000000000000000000000000000005\nhello", "2147483648\n" };
        Fuzzer.Run("recordio", corpus, Mutations.Of(corpus, [.. Mutations.TextTokens, .. headers]), ReadAll, ex => ex is RecordIOException);
    }, TestContext.Current.CancellationToken);

    [Fact(Timeout = Timeout)]
    public Task RecordIO_frames_read_back_as_written() => Task.Run(() =>
    {
        var records = ArbMap.Default.GeneratorFor<byte[]>().ArrayOf();
        foreach (var (_, written) in Fuzzer.Samples(records))
        {
            using var stream = new MemoryStream();
            foreach (var record in written)
            {
                stream.Write(RecordIOFraming.Frame(record));
            }

            stream.Position = 0;
            var reader = new RecordIOReader(stream);
            var read = new List<byte[]>();
            while (reader.ReadAsync().AsTask().GetAwaiter().GetResult() is { } record)
            {
                read.Add(record);
            }

            read.Should().BeEquivalentTo(written, options => options.WithStrictOrdering());
        }
    }, TestContext.Current.CancellationToken);

    /// <summary>Resources in calls (ACCEPT, RESERVE_RESOURCES, an agent's registration) go from the wire to Core:
    /// whatever converts holds no negative, NaN or infinite quantity, and converts back.</summary>
    [Fact(Timeout = Timeout)]
    public Task Wire_resources_convert_to_core_or_fail_with_a_FormatException() => Task.Run(() =>
    {
        var corpus = Fuzzer.Corpus("wire-resources");
        Fuzzer.Run("wire-resources", corpus, Mutations.Of(corpus), input =>
        {
            if (MesosJson.Deserialize<List<Resource>>(input) is not { } wire)
            {
                return;
            }

            var resources = ResourceConversion.ToCore(wire);
            foreach (var resource in resources)
            {
                if (resource.Scalar is var scalar && (!double.IsFinite(scalar) || scalar < 0))
                {
                    throw Fuzzer.Failure("wire-resources", "property", input, $"converted to a scalar of {scalar}");
                }
            }

            MesosJson.SerializeToUtf8Bytes(ResourceConversion.ToWire(resources));
        }, ex => ex is JsonException or FormatException);
    }, TestContext.Current.CancellationToken);

    /// <summary>A record whose header claims far more than the stream holds must not allocate the claimed size
    /// up front: a client could otherwise make the master allocate 64 MiB per connection with a 10-byte body.</summary>
    [Fact]
    public async Task A_RecordIO_header_claiming_more_than_arrives_does_not_allocate_it()
    {
        var reader = new RecordIOReader(new MemoryStream("60000000\nabc"u8.ToArray()));
        var before = GC.GetAllocatedBytesForCurrentThread();

        var read = async () => await reader.ReadAsync();

        (await read.Should().ThrowAsync<RecordIOException>()).WithMessage("Stream ended after 3 of 60000000 bytes of a RecordIO record");
        (GC.GetAllocatedBytesForCurrentThread() - before).Should().BeLessThan(8 * 1024 * 1024);
    }

    [Fact]
    public async Task A_RecordIO_record_larger_than_the_read_buffer_reads_back_whole()
    {
        var record = new byte[3 * 1024 * 1024 + 17];
        new Random(7).NextBytes(record);
        var reader = new RecordIOReader(new MemoryStream(RecordIOFraming.Frame(record)));

        (await reader.ReadAsync()).Should().Equal(record);
        (await reader.ReadAsync()).Should().BeNull();
    }

    private static void ReadAll(byte[] input)
    {
        var reader = new RecordIOReader(new MemoryStream(input), maxRecordBytes: 64 * 1024 * 1024);
        while (reader.ReadAsync().AsTask().GetAwaiter().GetResult() is not null)
        {
        }
    }

    private static Task Json<T>(string parser, CancellationToken ct)
        where T : class => Task.Run(() =>
    {
        var corpus = Fuzzer.Corpus(parser);
        Fuzzer.Run(parser, corpus, Mutations.Of(corpus), body => RoundTrip<T>(WireFormat.Json, body), ex => ex is JsonException);
    }, ct);

    private static Task Protobuf<T>(string parser, CancellationToken ct)
        where T : class => Task.Run(() =>
    {
        // The protobuf seeds are the JSON corpus encoded, plus any protobuf crashers kept on their own.
        List<byte[]> corpus =
        [
            .. Fuzzer.Corpus(parser).Select(json => MesosProtobuf.Serialize(MesosJson.Deserialize<T>(json)!)),
            .. Fuzzer.Corpus(parser + "-protobuf", optional: true),
        ];
        Fuzzer.Run(parser + "-protobuf", corpus, Mutations.OfBytes(corpus, Mutations.ProtobufTokens), body => RoundTrip<T>(WireFormat.Protobuf, body), ex => ex is ProtobufFormatException);
    }, ct);

    private static void RoundTrip<T>(WireFormat format, byte[] body)
        where T : class
    {
        if (MesosWire.Deserialize<T>(format, body) is { } value)
        {
            // Whatever a client could send must be writable again: the master echoes calls into /state and events.
            MesosJson.SerializeToUtf8Bytes(value);
            MesosProtobuf.Serialize(value);
        }
    }
}
