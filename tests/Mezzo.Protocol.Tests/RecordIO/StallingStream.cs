namespace Mezzo.Protocol.Tests.RecordIO;

/// <summary>
/// Serves <paramref name="prefix"/>, then behaves like a live connection with nothing more to say: a read waits until
/// cancelled. A reader that should have failed on the prefix but waits instead shows up as a cancellation, not a hang.
/// </summary>
internal sealed class StallingStream(byte[] prefix) : ReadOnlyTestStream
{
    private int _position;

    /// <summary>Whether a read went past the prefix, i.e. the reader wanted more data.</summary>
    public bool Stalled { get; private set; }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_position < prefix.Length)
        {
            var take = Math.Min(buffer.Length, prefix.Length - _position);
            prefix.AsMemory(_position, take).CopyTo(buffer);
            _position += take;
            return take;
        }

        Stalled = true;
        await Task.Delay(Timeout.Infinite, cancellationToken);
        return 0;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException("async only");
}
