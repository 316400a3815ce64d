using System.Globalization;

namespace Mezzo.Supervisor;

/// <summary>
/// <para>The logrotate container logger (Mesos's LogrotateContainerLogger, done in the supervisor so it keeps working
/// while the agent is down): the task writes into pipes, and one thread per stream copies them into the sandbox's
/// <c>stdout</c>/<c>stderr</c>. Before a write would take the file past <see cref="MaxSize"/> the file is rotated:
/// <c>stdout.N-1</c> → <c>stdout.N</c> … <c>stdout</c> → <c>stdout.1</c>, the oldest beyond <see cref="MaxFiles"/> dropped,
/// and a fresh <c>stdout</c> opened, so the newest output is always in <c>stdout</c>.</para>
/// <para>The copiers read as fast as the pipe fills: a slow disk delays the task by at most a pipe buffer (made 1 MiB
/// where the kernel allows). The supervisor's own fd 1/2 follow each rotation, so its own messages land in the current
/// file too.</para>
/// </summary>
internal sealed unsafe class LogRotation
{
    private const int BufferSize = 64 * 1024;
    private const int PipeSize = 1024 * 1024;

    private readonly string _path;
    private readonly byte[] _pathBytes;
    private readonly int _target;
    private readonly int _pipe;
    private readonly long _maxSize;
    private readonly int _maxFiles;
    private readonly Thread _thread;
    private long _size;

    private LogRotation(string path, int target, int pipe, long maxSize, int maxFiles)
    {
        _path = path;
        _pathBytes = Native.Z(path);
        _target = target;
        _pipe = pipe;
        _maxSize = maxSize;
        _maxFiles = maxFiles;
        _thread = new Thread(Copy) { IsBackground = true, Name = "log copier " + target.ToString(CultureInfo.InvariantCulture) };
    }

    public long MaxSize => _maxSize;

    public int MaxFiles => _maxFiles;

    /// <summary>
    /// A pipe whose write end the task gets as <paramref name="target"/> (1 or 2), copied into <paramref name="path"/>,
    /// which the supervisor already has open as <paramref name="target"/>. Returns the write end; null with an error.
    /// </summary>
    public static LogRotation? Create(string path, int target, long maxSize, int maxFiles, out int writeEnd, out string? error)
    {
        var fds = stackalloc int[2];
        if (Native.pipe2(fds, Native.O_CLOEXEC) != 0)
        {
            writeEnd = -1;
            error = $"cannot create the {Name(target)} pipe: {Native.ErrorText(Native.LastError)}";
            return null;
        }

        // Best effort: a bigger buffer absorbs bursts while a rotation renames files.
        _ = Native.fcntl(fds[1], Native.F_SETPIPE_SZ, PipeSize);
        writeEnd = fds[1];
        error = null;
        return new LogRotation(path, target, fds[0], maxSize, maxFiles);
    }

    public void Start()
    {
        var end = Native.lseek(_target, 0, Native.SEEK_END);
        _size = end < 0 ? 0 : end;
        _thread.Start();
    }

    /// <summary>Waits until the task's side of the pipe is closed (by it and everything that inherited it) or the time is up.</summary>
    public bool Drain(TimeSpan timeout) => _thread.Join(timeout);

    private static string Name(int target) => target == 1 ? "stdout" : "stderr";

    private void Copy()
    {
        var buffer = new byte[BufferSize];
        fixed (byte* start = buffer)
        {
            while (true)
            {
                var read = Native.read(_pipe, start, BufferSize);
                if (read < 0 && Native.LastError == Native.EINTR)
                {
                    continue;
                }

                if (read <= 0)
                {
                    break;
                }

                Write(start, (int)read);
            }
        }

        Native.close(_pipe);
    }

    private void Write(byte* data, int count)
    {
        while (count > 0)
        {
            if (_size >= _maxSize)
            {
                Rotate();
            }

            var chunk = (int)Math.Min(count, Math.Max(_maxSize - _size, 1));
            WriteAll(data, chunk);
            _size += chunk;
            data += chunk;
            count -= chunk;
        }
    }

    /// <summary>A failed write (a full disk) drops the bytes rather than stopping the copy: the task must never block on it.</summary>
    private void WriteAll(byte* data, int count)
    {
        while (count > 0)
        {
            var written = Native.write(_target, data, count);
            if (written < 0)
            {
                if (Native.LastError == Native.EINTR)
                {
                    continue;
                }

                return;
            }

            data += written;
            count -= (int)written;
        }
    }

    private void Rotate()
    {
        _size = 0;
        if (_maxFiles == 0)
        {
            // No history kept: the file starts over (writes are O_APPEND, so they follow the truncation).
            _ = Native.ftruncate(_target, 0);
            return;
        }

        for (var i = _maxFiles - 1; i >= 1; i--)
        {
            _ = Rename(Numbered(i), Numbered(i + 1));
        }

        if (!Rename(_pathBytes, Numbered(1)))
        {
            // Cannot rotate (the sandbox is gone or read-only): keep writing where we are rather than lose output.
            return;
        }

        fixed (byte* path = _pathBytes)
        {
            var fd = Native.open(path, Native.O_WRONLY | Native.O_CREAT | Native.O_TRUNC | Native.O_APPEND | Native.O_CLOEXEC, 0b110_100_100);
            if (fd < 0)
            {
                return;
            }

            _ = Native.dup2(fd, _target);
            Native.close(fd);
        }
    }

    private byte[] Numbered(int index) => Native.Z(_path + "." + index.ToString(CultureInfo.InvariantCulture));

    private static bool Rename(byte[] from, byte[] to)
    {
        fixed (byte* source = from)
        fixed (byte* target = to)
        {
            return Native.rename(source, target) == 0;
        }
    }

    /// <summary>The value of <c>--log-max-size</c>: a byte count, optionally with B, KB, MB or GB (powers of 1024, as Mesos's Bytes).</summary>
    public static long ParseSize(string text)
    {
        var trimmed = text.Trim().ToUpperInvariant();
        var (digits, unit) = trimmed.EndsWith("GB", StringComparison.Ordinal) ? (trimmed[..^2], 1L << 30)
            : trimmed.EndsWith("MB", StringComparison.Ordinal) ? (trimmed[..^2], 1L << 20)
            : trimmed.EndsWith("KB", StringComparison.Ordinal) ? (trimmed[..^2], 1L << 10)
            : trimmed.EndsWith('B') ? (trimmed[..^1], 1L)
            : (trimmed, 1L);
        return long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value > 0 && value <= long.MaxValue / unit
            ? value * unit
            : throw new FormatException($"--log-max-size must be a positive size in bytes (or with KB, MB, GB), not '{text}'");
    }
}
