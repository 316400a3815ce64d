using System.Security.Cryptography;

namespace Mezzo.Agent.Images;

/// <summary>Read-only pass-through that hashes what it reads, so a blob is verified while it streams.</summary>
internal sealed class DigestStream(Stream inner, string expectedDigest, long? expectedSize) : Stream
{
    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);

    public long BytesRead { get; private set; }

    public string ExpectedDigest => expectedDigest;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => BytesRead;
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        var read = inner.Read(buffer);
        Account(buffer[..read]);
        return read;
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var read = await inner.ReadAsync(buffer, cancellationToken);
        Account(buffer.Span[..read]);
        return read;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <summary>Reads whatever is left, then checks size and digest. Returns null when both match, else why not.</summary>
    public async Task<string?> FinishAsync(CancellationToken ct)
    {
        var scratch = new byte[81920];
        while (await ReadAsync(scratch, ct) > 0)
        {
        }

        if (expectedSize is { } size && size > 0 && size != BytesRead)
        {
            return $"size mismatch: expected {size} bytes, got {BytesRead}";
        }

        var actual = "sha256:" + Convert.ToHexStringLower(_hash.GetCurrentHash());
        return actual == expectedDigest ? null : $"digest mismatch: expected {expectedDigest}, got {actual}";
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _hash.Dispose();
            inner.Dispose();
        }

        base.Dispose(disposing);
    }

    private void Account(ReadOnlySpan<byte> data)
    {
        _hash.AppendData(data);
        BytesRead += data.Length;
        if (expectedSize is { } size && size > 0 && BytesRead > size)
        {
            throw new InvalidDataException($"blob {expectedDigest} is longer than its declared {size} bytes");
        }
    }
}
