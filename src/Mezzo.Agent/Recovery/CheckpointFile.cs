using System.Globalization;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using Mezzo.Agent.Launcher;

namespace Mezzo.Agent.Recovery;

/// <summary>
/// One checkpoint file: a header line <c>mezzo-checkpoint 1 &lt;length&gt; &lt;sha256&gt;</c> and the body. Written to a
/// temporary file and renamed over the old one, so a crash (or a full disk) mid-write leaves the previous checkpoint
/// whole; read back only if length and hash match, so a truncated or corrupted file is reported, never half-trusted.
/// </summary>
public static class CheckpointFile
{
    private const string Magic = "mezzo-checkpoint 1";

    /// <param name="durable">fsync the file and its directory: for what must survive a host crash (the agent's
    /// identity). Task checkpoints only have to survive the agent's death, which the page cache does; after a reboot
    /// the agent starts afresh and never reads them, so they skip the cost.</param>
    /// <exception cref="CheckpointWriteException">The file could not be written (the old one is untouched).</exception>
    public static void Write(string path, ReadOnlySpan<byte> body, bool durable = false)
    {
        var temporary = path + ".tmp";
        try
        {
            var header = Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture,
                $"{Magic} {body.Length} {Convert.ToHexStringLower(SHA256.HashData(body))}\n"));
            using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None, 1, FileOptions.None))
            {
                stream.Write(header);
                stream.Write(body);
                if (durable)
                {
                    stream.Flush(flushToDisk: true);
                }
            }

            File.Move(temporary, path, overwrite: true);
            if (durable)
            {
                SyncDirectory(Path.GetDirectoryName(path)!);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            TryDelete(temporary);
            throw new CheckpointWriteException($"Cannot checkpoint '{path}': {ex.Message}", ex);
        }
    }

    /// <summary>The body, if the file is whole. Null if it does not exist.</summary>
    /// <exception cref="CheckpointCorruptException">The file exists but is truncated, corrupted or not a checkpoint.</exception>
    public static byte[]? Read(string path)
    {
        byte[] data;
        try
        {
            data = File.ReadAllBytes(path);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new CheckpointCorruptException(path, ex.Message);
        }

        var newline = Array.IndexOf(data, (byte)'\n');
        var header = newline < 0 ? "" : Encoding.ASCII.GetString(data, 0, newline);
        var parts = header.Split(' ');
        if (!header.StartsWith(Magic + " ", StringComparison.Ordinal) || parts.Length != 4
            || !int.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out var length))
        {
            throw new CheckpointCorruptException(path, data.Length == 0 ? "empty file" : "no valid checkpoint header");
        }

        var body = data.AsSpan(newline + 1);
        if (body.Length != length)
        {
            throw new CheckpointCorruptException(path, $"truncated or extended: {body.Length} bytes where the header says {length}");
        }

        if (!string.Equals(Convert.ToHexStringLower(SHA256.HashData(body)), parts[3], StringComparison.Ordinal))
        {
            throw new CheckpointCorruptException(path, "checksum mismatch (the content was altered)");
        }

        return body.ToArray();
    }

    private static void SyncDirectory(string directory)
    {
        var fd = LibC.open(directory, LibC.O_RDONLY | LibC.O_DIRECTORY | LibC.O_CLOEXEC, 0);
        if (fd < 0)
        {
            throw new IOException($"cannot open directory '{directory}' to sync it: {LibC.ErrorText(Marshal.GetLastPInvokeError())}");
        }

        try
        {
            if (LibC.fsync(fd) != 0)
            {
                throw new IOException($"fsync of '{directory}' failed: {LibC.ErrorText(Marshal.GetLastPInvokeError())}");
            }
        }
        finally
        {
            LibC.close(fd);
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Best effort: a leftover .tmp is overwritten by the next write and never read.
        }
    }
}

/// <summary>A checkpoint could not be written; the previous one (if any) is intact.</summary>
public sealed class CheckpointWriteException(string message, Exception inner) : IOException(message, inner);

/// <summary>A checkpoint file exists but cannot be trusted.</summary>
public sealed class CheckpointCorruptException(string path, string reason)
    : IOException($"Checkpoint '{path}' is corrupt: {reason}")
{
    public string Path { get; } = path;

    public string Reason { get; } = reason;
}
