namespace Mezzo.Protocol.Tests.RecordIO;

/// <summary>
/// A read-only stream that hands out its bytes in chunks of the sizes a function picks, the way a proxy or the TCP
/// stack may re-chunk an HTTP response. Counts reads so a test can check the chunking really happened.
/// </summary>
internal sealed class ChunkedStream(byte[] data, Func<int> nextChunkSize) : ReadOnlyTestStream
{
    private int _position;

    public int Reads { get; private set; }

    public static ChunkedStream OfSize(byte[] data, int chunkSize) => new(data, () => chunkSize);

    public static ChunkedStream Random(byte[] data, int seed, int maxChunk)
    {
        var random = new Random(seed);
        return new(data, () => random.Next(1, maxChunk + 1));
    }

    /// <summary>Exactly the given chunks, then end of stream.</summary>
    public static ChunkedStream Split(byte[] data, params int[] cuts)
    {
        var sizes = new Queue<int>();
        var previous = 0;
        foreach (var cut in cuts.Append(data.Length))
        {
            if (cut > previous)
            {
                sizes.Enqueue(cut - previous);
                previous = cut;
            }
        }

        return new(data, () => sizes.Count > 0 ? sizes.Dequeue() : int.MaxValue);
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        Reads++;
        var take = Math.Min(Math.Min(buffer.Length, nextChunkSize()), data.Length - _position);
        data.AsSpan(_position, take).CopyTo(buffer);
        _position += take;
        return take;
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(Read(buffer.Span));

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        Task.FromResult(Read(buffer.AsSpan(offset, count)));
}
