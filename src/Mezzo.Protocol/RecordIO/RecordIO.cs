using System.Buffers;
using System.Globalization;
using System.Runtime.CompilerServices;

namespace Mezzo.Protocol.RecordIO;

/// <summary>Mesos's RecordIO framing (docs/recordio.md): each record is its length in ASCII decimal, '\n', then the bytes.</summary>
public static class RecordIOFraming
{
    public static void Write(IBufferWriter<byte> writer, ReadOnlySpan<byte> record)
    {
        // The header formatted straight into the writer: no string and no array per record.
        var header = writer.GetSpan(12);
        record.Length.TryFormat(header, out var digits, default, CultureInfo.InvariantCulture);
        header[digits] = (byte)'\n';
        writer.Advance(digits + 1);
        writer.Write(record);
    }

    public static byte[] Frame(ReadOnlySpan<byte> record)
    {
        var buffer = new ArrayBufferWriter<byte>(record.Length + 12);
        Write(buffer, record);
        return buffer.WrittenSpan.ToArray();
    }
}

/// <summary>A RecordIO stream ended inside a record, or its header is not a length.</summary>
public sealed class RecordIOException(string message) : IOException(message);

/// <summary>Reads RecordIO records from a stream; ends cleanly when the stream ends between records.</summary>
public sealed class RecordIOReader(Stream stream, int maxRecordBytes = RecordIOReader.DefaultMaxRecordBytes)
{
    public const int DefaultMaxRecordBytes = 64 * 1024 * 1024;

    private const int InitialRecordBytes = 1024 * 1024;

    private readonly byte[] _buffer = new byte[64 * 1024];
    private int _start;
    private int _end;

    public async IAsyncEnumerable<ReadOnlyMemory<byte>> ReadAllAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        while (await ReadAsync(cancellationToken).ConfigureAwait(false) is { } record)
        {
            yield return record;
        }
    }

    /// <summary>The next record, or null at a clean end of stream.</summary>
    public async ValueTask<byte[]?> ReadAsync(CancellationToken cancellationToken = default)
    {
        long length = 0;
        var digits = 0;
        while (true)
        {
            if (_start == _end && !await FillAsync(cancellationToken).ConfigureAwait(false))
            {
                if (digits == 0)
                {
                    return null;
                }

                throw new RecordIOException("Stream ended inside a RecordIO header");
            }

            var b = _buffer[_start++];
            if (b == (byte)'\n')
            {
                if (digits == 0)
                {
                    throw new RecordIOException("Empty RecordIO length header");
                }

                break;
            }

            if (b < (byte)'0' || b > (byte)'9')
            {
                throw new RecordIOException($"Invalid byte 0x{b:x2} in a RecordIO length header");
            }

            length = (length * 10) + (b - '0');
            digits++;
            if (length > maxRecordBytes)
            {
                throw new RecordIOException($"RecordIO record larger than {maxRecordBytes} bytes");
            }
        }

        // The header is only a claim: the record grows as its bytes arrive (doubling), so a peer that announces
        // 64 MiB and sends three bytes costs three bytes, not a 64 MiB allocation per connection.
        var record = new byte[Math.Min(length, InitialRecordBytes)];
        var copied = 0;
        while (copied < length)
        {
            if (_start == _end && !await FillAsync(cancellationToken).ConfigureAwait(false))
            {
                throw new RecordIOException($"Stream ended after {copied} of {length} bytes of a RecordIO record");
            }

            if (copied == record.Length)
            {
                Array.Resize(ref record, (int)Math.Min(length, (long)record.Length * 2));
            }

            var take = (int)Math.Min(record.Length - copied, _end - _start);
            Buffer.BlockCopy(_buffer, _start, record, copied, take);
            _start += take;
            copied += take;
        }

        return record;
    }

    private async ValueTask<bool> FillAsync(CancellationToken cancellationToken)
    {
        _start = 0;
        _end = await stream.ReadAsync(_buffer, cancellationToken).ConfigureAwait(false);
        return _end > 0;
    }
}
