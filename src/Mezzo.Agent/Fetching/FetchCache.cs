using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;

namespace Mezzo.Agent.Fetching;

/// <summary>
/// The fetcher cache (Mesos's docs/fetcher-cache-internals.md): one file per (user, URI), downloaded at most once
/// while it stays cached, however many fetches ask for it at the same time. Entries in use are reference counted
/// and never evicted; the least recently used idle ones go when the total passes the size bound. An entry larger
/// than the whole cache is delivered and then dropped, as Mesos drops cache files larger than expected.
/// </summary>
internal sealed partial class FetchCache : IDisposable
{
    private readonly Lock _gate = new();
    private readonly Dictionary<(string User, string Uri), Entry> _entries = [];
    private readonly string _directory;
    private readonly long _capacity;
    private readonly CancellationTokenSource _disposed = new();
    private readonly ILogger _log;
    private long _used;

    // Space promised to downloads in flight that said how big they will be (Content-Length), so that the bound holds
    // while they run and not only once they land, as Mesos reserves before downloading.
    private long _reserved;
    private long _serial;
    private long _clock;

    public FetchCache(string directory, long capacity, ILogger log)
    {
        _log = log;
        _directory = directory;
        _capacity = capacity;

        // Nothing on disk is trusted across agent restarts (Mesos clears the cache at recovery too); only files of
        // this cache's own naming are removed, in case the directory was pointed somewhere shared.
        if (Directory.Exists(directory))
        {
            foreach (var file in Directory.EnumerateFiles(directory).Where(f => CacheFileName().IsMatch(Path.GetFileName(f))))
            {
                File.Delete(file);
            }
        }
    }

    public long UsedBytes
    {
        get
        {
            lock (_gate)
            {
                return _used;
            }
        }
    }

    /// <summary>Number of files resident in the cache.</summary>
    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _entries.Values.Count(e => e.Resident);
            }
        }
    }

    /// <summary>
    /// Returns the entry for (user, uri) once its file is in the cache, starting <paramref name="download"/> if no
    /// fetch has it yet. The download writes the path it is given and may call the size callback once it knows how
    /// big the file will be. The caller must <see cref="Release"/> the entry. The download runs on the cache's own
    /// token: a fetch that gives up waiting does not abort it for the others.
    /// </summary>
    public async Task<Entry> AcquireAsync(string? user, string uri, Func<string, Action<long>, CancellationToken, Task> download, CancellationToken ct)
    {
        Entry entry;
        var start = false;
        lock (_gate)
        {
            var key = (user ?? "", uri);
            if (!_entries.TryGetValue(key, out entry!))
            {
                entry = new Entry(key, Path.Join(_directory, $"c{++_serial}"));
                _entries[key] = entry;
                start = true;
            }

            entry.References++;
            entry.LastUsed = ++_clock;
        }

        if (start)
        {
            _ = DownloadAsync(entry, download);
        }

        try
        {
            await entry.Ready.Task.WaitAsync(ct).ConfigureAwait(false);
        }
        catch
        {
            Release(entry);
            throw;
        }

        return entry;
    }

    public void Release(Entry entry)
    {
        List<string> victims;
        lock (_gate)
        {
            entry.References--;
            victims = EvictLocked();
            if (entry is { Detached: true, References: 0, Resident: true })
            {
                entry.Resident = false;
                victims.Add(entry.Path);
            }
        }

        Delete(victims);
    }

    private async Task DownloadAsync(Entry entry, Func<string, Action<long>, CancellationToken, Task> download)
    {
        var temp = Path.Join(_directory, $".{Path.GetFileName(entry.Path)}.{Guid.NewGuid():N}.tmp");
        long reserved = 0;
        void Reserve(long expected)
        {
            List<string> victims;
            lock (_gate)
            {
                // Larger than the whole cache: it will be delivered and dropped, so it evicts nothing.
                if (expected > _capacity || reserved > 0)
                {
                    return;
                }

                reserved = expected;
                _reserved += expected;
                victims = EvictLocked();
            }

            Delete(victims);
        }

        try
        {
            Directory.CreateDirectory(_directory);
            await download(temp, Reserve, _disposed.Token).ConfigureAwait(false);
            var size = new FileInfo(temp).Length;
            File.Move(temp, entry.Path);
            List<string> victims;
            lock (_gate)
            {
                _reserved -= reserved;
                reserved = 0;
                entry.Size = size;
                entry.Resident = true;
                if (size > _capacity)
                {
                    Log.TooLarge(_log, entry.Key.Uri, size, _capacity);
                    Detach(entry);
                }
                else
                {
                    _used += size;
                }

                victims = EvictLocked();
            }

            Delete(victims);
            entry.Ready.SetResult();
        }
        catch (Exception ex)
        {
            TryDelete(temp);
            lock (_gate)
            {
                _reserved -= reserved;
                Detach(entry);
            }

            entry.Ready.SetException(ex);
        }
    }

    // Out of the table: later fetches of the URI start afresh; the file (if any) goes with the last reference.
    private void Detach(Entry entry)
    {
        if (_entries.TryGetValue(entry.Key, out var current) && ReferenceEquals(current, entry))
        {
            _entries.Remove(entry.Key);
        }

        entry.Detached = true;
    }

    private List<string> EvictLocked()
    {
        var victims = new List<string>();
        while (_used + _reserved > _capacity)
        {
            var victim = _entries.Values
                .Where(e => e is { Resident: true, References: 0 })
                .MinBy(e => e.LastUsed);
            if (victim is null)
            {
                break; // everything left is in use; the next release tries again
            }

            _entries.Remove(victim.Key);
            victim.Resident = false;
            victim.Detached = true;
            _used -= victim.Size;
            victims.Add(victim.Path);
            Log.Evicted(_log, victim.Key.Uri, victim.Key.User, victim.Size);
        }

        return victims;
    }

    private static void Delete(List<string> paths)
    {
        foreach (var path in paths)
        {
            TryDelete(path);
        }
    }

    /// <summary>Best effort: a file that cannot go now is left for the next agent start, which clears the cache.</summary>
    internal static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    public void Dispose()
    {
        _disposed.Cancel();
        _disposed.Dispose();
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "Evicted '{Uri}' (user '{User}', {Bytes} bytes) from the fetcher cache")]
        public static partial void Evicted(ILogger logger, string uri, string user, long bytes);

        [LoggerMessage(Level = LogLevel.Warning, Message = "'{Uri}' ({Bytes} bytes) is larger than the whole fetcher cache ({Capacity} bytes): delivered, not kept")]
        public static partial void TooLarge(ILogger logger, string uri, long bytes, long capacity);
    }

    [GeneratedRegex(@"^(c\d+|\.c\d+\.[0-9a-f]{32}\.tmp)$")]
    private static partial Regex CacheFileName();

    internal sealed class Entry((string User, string Uri) key, string path)
    {
        public (string User, string Uri) Key { get; } = key;

        public string Path { get; } = path;

        public TaskCompletionSource Ready { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public int References { get; set; }

        public long LastUsed { get; set; }

        public long Size { get; set; }

        public bool Resident { get; set; }

        public bool Detached { get; set; }
    }
}
