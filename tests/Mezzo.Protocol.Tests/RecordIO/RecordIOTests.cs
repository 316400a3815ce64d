using System.Buffers;
using System.Text;
using Mezzo.Protocol.RecordIO;
using Mezzo.Protocol.V1;

namespace Mezzo.Protocol.Tests.RecordIO;

/// <summary>Mesos RecordIO (docs/recordio.md): <c>record = record-size LF record-data</c>, record-size in ASCII decimal.</summary>
public sealed class RecordIOTests
{
    private static readonly byte[][] Records =
    [
        Encoding.UTF8.GetBytes("""{"type":"HEARTBEAT"}"""),
        [],
        Encoding.UTF8.GetBytes("x"),
        Encoding.UTF8.GetBytes("""{"type":"ERROR","error":{"message":"naïve ✓"}}"""),
        Enumerable.Range(0, 1234).Select(i => (byte)(i * 7)).ToArray(),
        Encoding.UTF8.GetBytes("ends with a newline\n"),
        Encoding.UTF8.GetBytes("12\n"),
    ];

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public void Frame_is_the_decimal_byte_length_a_newline_and_the_bytes()
    {
        Encoding.ASCII.GetString(RecordIOFraming.Frame("hello"u8)).Should().Be("5\nhello");
        Encoding.ASCII.GetString(RecordIOFraming.Frame([])).Should().Be("0\n");

        // The length counts bytes, not characters: "é" is two bytes of UTF-8.
        RecordIOFraming.Frame("é"u8).Should().Equal([(byte)'2', (byte)'\n', 0xC3, 0xA9]);

        var big = new byte[123_456];
        RecordIOFraming.Frame(big).AsSpan(0, 7).ToArray().Should().Equal("123456\n"u8.ToArray());
        RecordIOFraming.Frame(big).Should().HaveCount(7 + big.Length);
    }

    [Fact]
    public void Write_appends_records_one_after_another()
    {
        var buffer = new ArrayBufferWriter<byte>();
        RecordIOFraming.Write(buffer, "abc"u8);
        RecordIOFraming.Write(buffer, []);
        RecordIOFraming.Write(buffer, "0123456789"u8);

        Encoding.ASCII.GetString(buffer.WrittenSpan).Should().Be("3\nabc0\n10\n0123456789");
    }

    [Fact]
    public async Task The_example_stream_of_the_Mesos_docs_decodes_to_events()
    {
        // docs/recordio.md shows "128\n{...SUBSCRIBED...}20\n{"type":"HEARTBEAT"}"; its SUBSCRIBED record is cut short
        // (no closing brace, and 121 bytes rather than 128), so it is completed here and given its real length.
        const string subscribed = """{"type": "SUBSCRIBED","subscribed": {"framework_id": {"value":"12220-3440-12532-2345"},"heartbeat_interval_seconds":15.0}}""";
        var stream = new MemoryStream(Encoding.ASCII.GetBytes("122\n" + subscribed + "20\n" + """{"type":"HEARTBEAT"}"""));

        var records = await ReadAllAsync(new RecordIOReader(stream));

        records.Should().HaveCount(2);
        var first = MesosJson.Deserialize<Event>(records[0])!;
        first.Type.Should().Be(EventType.SUBSCRIBED);
        first.Subscribed!.FrameworkId!.Value.Should().Be("12220-3440-12532-2345");
        first.Subscribed.HeartbeatIntervalSeconds.Should().Be(15.0);
        MesosJson.Deserialize<Event>(records[1])!.Type.Should().Be(EventType.HEARTBEAT);
    }

    [Fact]
    public async Task Written_records_read_back_in_order_including_an_empty_one()
    {
        var records = await ReadAllAsync(new RecordIOReader(new MemoryStream(FrameAll(Records))));

        records.Should().HaveCount(Records.Length);
        for (var i = 0; i < Records.Length; i++)
        {
            records[i].Should().Equal(Records[i], $"record {i} must survive the round trip");
        }
    }

    [Fact]
    public async Task An_empty_record_is_a_record_not_the_end_of_the_stream()
    {
        var reader = new RecordIOReader(new MemoryStream("0\n0\n2\nok"u8.ToArray()));

        (await reader.ReadAsync(Ct)).Should().NotBeNull().And.BeEmpty();
        (await reader.ReadAsync(Ct)).Should().NotBeNull().And.BeEmpty();
        (await reader.ReadAsync(Ct)).Should().Equal("ok"u8.ToArray());
        (await reader.ReadAsync(Ct)).Should().BeNull();
    }

    [Fact]
    public async Task A_stream_that_ends_between_records_ends_cleanly_and_stays_ended()
    {
        (await new RecordIOReader(new MemoryStream()).ReadAsync(Ct)).Should().BeNull();

        var reader = new RecordIOReader(new MemoryStream("1\na"u8.ToArray()));
        (await reader.ReadAsync(Ct)).Should().Equal((byte)'a');
        (await reader.ReadAsync(Ct)).Should().BeNull();
        (await reader.ReadAsync(Ct)).Should().BeNull();
    }

    [Fact]
    public async Task Records_larger_than_the_read_buffer_are_reassembled()
    {
        // The reader buffers 64 KiB at a time; these records straddle several refills.
        var large = Enumerable.Range(0, 200_000).Select(i => (byte)(i % 251)).ToArray();
        var records = new[] { large, "tail"u8.ToArray(), large[..65_536] };

        var read = await ReadAllAsync(new RecordIOReader(ChunkedStream.OfSize(FrameAll(records), 50_000)));

        read.Should().HaveCount(3);
        read[0].Should().Equal(large);
        read[1].Should().Equal("tail"u8.ToArray());
        read[2].Should().Equal(large[..65_536]);
    }

    [Fact]
    public async Task Fed_one_byte_at_a_time_every_record_comes_out_whole()
    {
        var bytes = FrameAll(Records);
        var stream = ChunkedStream.OfSize(bytes, 1);

        var read = await ReadAllAsync(new RecordIOReader(stream));

        stream.Reads.Should().BeGreaterThanOrEqualTo(bytes.Length, "each read must have delivered a single byte");
        read.Should().HaveCount(Records.Length);
        for (var i = 0; i < Records.Length; i++)
        {
            read[i].Should().Equal(Records[i]);
        }
    }

    [Fact]
    public async Task A_cut_at_any_position_does_not_change_the_records()
    {
        // Two chunks, cut at every possible byte: inside a length, right before or after the LF, inside the data.
        var records = new[] { "hello"u8.ToArray(), Array.Empty<byte>(), "{\"type\":\"HEARTBEAT\"}"u8.ToArray(), "0123456789AB"u8.ToArray() };
        var bytes = FrameAll(records);

        for (var cut = 0; cut <= bytes.Length; cut++)
        {
            var read = await ReadAllAsync(new RecordIOReader(ChunkedStream.Split(bytes, cut)));

            read.Should().HaveCount(records.Length, $"cut at byte {cut}");
            for (var i = 0; i < records.Length; i++)
            {
                read[i].Should().Equal(records[i], $"record {i} with a cut at byte {cut}");
            }
        }
    }

    [Theory]
    [InlineData(1, 3)]
    [InlineData(2, 16)]
    [InlineData(3, 100)]
    [InlineData(4, 1500)]
    [InlineData(5, 70_000)]
    public async Task Random_chunk_boundaries_do_not_change_the_records(int seed, int maxChunk)
    {
        var random = new Random(seed);
        var records = Enumerable.Range(0, 60)
            .Select(_ => Enumerable.Range(0, random.Next(0, random.Next(2) == 0 ? 20 : 5000)).Select(_ => (byte)random.Next(256)).ToArray())
            .ToArray();

        var read = await ReadAllAsync(new RecordIOReader(ChunkedStream.Random(FrameAll(records), seed, maxChunk)));

        read.Should().HaveCount(records.Length);
        for (var i = 0; i < records.Length; i++)
        {
            read[i].Should().Equal(records[i], $"record {i} (seed {seed})");
        }
    }

    [Theory]
    [InlineData("abc\nxyz", "Invalid byte 0x61")]
    [InlineData("-5\nhello", "Invalid byte 0x2d")]
    [InlineData("+5\nhello", "Invalid byte 0x2b")]
    [InlineData(" 5\nhello", "Invalid byte 0x20")]
    [InlineData("5 \nhello", "Invalid byte 0x20")]
    [InlineData("5\r\nhello", "Invalid byte 0x0d")]
    [InlineData("0x10\n0123456789abcdef", "Invalid byte 0x78")]
    [InlineData("1e3\n", "Invalid byte 0x65")]
    [InlineData("\nhello", "Empty RecordIO length header")]
    [InlineData("2\nok\n", "Empty RecordIO length header")]
    [InlineData("5", "Stream ended inside a RecordIO header")]
    [InlineData("2\nok12", "Stream ended inside a RecordIO header")]
    [InlineData("10\nhello", "Stream ended after 5 of 10 bytes")]
    [InlineData("3\n", "Stream ended after 0 of 3 bytes")]
    [InlineData("99999999999999999999999999999999\n", "larger than 67108864 bytes")]
    [InlineData("67108865\n", "larger than 67108864 bytes")]
    public async Task A_malformed_or_truncated_stream_is_a_RecordIOException(string input, string message)
    {
        // Whatever the reader managed before the fault, it must then fail with a message, not return garbage.
        var reader = new RecordIOReader(new MemoryStream(Encoding.ASCII.GetBytes(input)));

        var act = async () =>
        {
            while (await reader.ReadAsync(Ct) is not null)
            {
            }
        };

        (await act.Should().ThrowAsync<RecordIOException>()).WithMessage($"*{message}*");
    }

    [Fact]
    public async Task The_record_size_limit_is_inclusive_and_configurable()
    {
        var exactly = new RecordIOReader(new MemoryStream(RecordIOFraming.Frame(new byte[100])), maxRecordBytes: 100);
        (await exactly.ReadAsync(Ct)).Should().HaveCount(100);

        var over = new RecordIOReader(new MemoryStream(RecordIOFraming.Frame(new byte[101])), maxRecordBytes: 100);
        var act = async () => await over.ReadAsync(Ct);
        (await act.Should().ThrowAsync<RecordIOException>()).WithMessage("*larger than 100 bytes*");
    }

    [Theory]
    [InlineData("1000000000000000000000")]
    [InlineData("68000000")]
    [InlineData("12x")]
    [InlineData("\n")]
    public async Task A_bad_header_fails_at_once_without_waiting_for_more_data(string header)
    {
        // On a live connection that sends nothing more, the reader must not sit waiting for a newline or for
        // gigabytes of record data: it fails from what it has. The timeout only turns a regression into a failure.
        var stream = new StallingStream(Encoding.ASCII.GetBytes(header));
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(10));

        var act = async () => await new RecordIOReader(stream).ReadAsync(timeout.Token);

        await act.Should().ThrowAsync<RecordIOException>();
        stream.Stalled.Should().BeFalse("the reader must not ask for more data after a bad header");
    }

    [Fact]
    public async Task A_read_waiting_on_a_silent_connection_can_be_cancelled()
    {
        var stream = new StallingStream("5\nhel"u8.ToArray());
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var reader = new RecordIOReader(stream);

        var pending = reader.ReadAsync(cancel.Token).AsTask();
        await cancel.CancelAsync();

        var act = async () => await pending;
        await act.Should().ThrowAsync<OperationCanceledException>();
        stream.Stalled.Should().BeTrue();
    }

    [Fact]
    public async Task ReadAllAsync_yields_every_record_then_completes()
    {
        var reader = new RecordIOReader(ChunkedStream.OfSize(FrameAll(Records), 7));
        var read = new List<byte[]>();

        await foreach (var record in reader.ReadAllAsync(Ct))
        {
            read.Add(record.ToArray());
        }

        read.Should().HaveCount(Records.Length);
        read[3].Should().Equal(Records[3]);
    }

    private static byte[] FrameAll(IEnumerable<byte[]> records)
    {
        var buffer = new ArrayBufferWriter<byte>();
        foreach (var record in records)
        {
            RecordIOFraming.Write(buffer, record);
        }

        return buffer.WrittenSpan.ToArray();
    }

    private static async Task<List<byte[]>> ReadAllAsync(RecordIOReader reader)
    {
        var records = new List<byte[]>();
        while (await reader.ReadAsync(Ct) is { } record)
        {
            records.Add(record);
        }

        return records;
    }
}
