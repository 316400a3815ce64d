using System.Buffers;
using System.Net.Sockets;
using Mezzo.Agent.Launcher;
using Mezzo.Agent.Sandbox;
using Mezzo.Protocol.V1;
using Microsoft.Extensions.Logging;

namespace Mezzo.Agent.Fetching;

/// <summary>
/// Mesos's fetcher: brings a task's <c>CommandInfo.uris</c> into its sandbox before the task starts. http(s),
/// file:// and absolute paths; optional extraction, executable bit, and a size-bounded cache shared by all tasks.
/// Every file appears under its final name only when complete (written under a temporary name, then renamed), so
/// a failed fetch leaves nothing half-written in the sandbox or the cache. Progress is written to the sandbox's
/// stderr, where Mesos's fetcher output appears too.
/// </summary>
public sealed partial class Fetcher : IDisposable
{
    private const int BufferSize = 81920;

    private readonly FetcherOptions _options;
    private readonly ILogger _log;
    private readonly TimeProvider _time;
    private readonly HttpClient _http;
    private readonly FetchCache? _cache;

    public Fetcher(FetcherOptions options, ILogger log, TimeProvider? time = null, HttpMessageHandler? handler = null)
    {
        _options = options;
        _log = log;
        _time = time ?? TimeProvider.System;
        _http = new HttpClient(handler ?? new SocketsHttpHandler { AllowAutoRedirect = true, MaxAutomaticRedirections = 10 })
        {
            // The stall timeout bounds each wait instead; a large file on a slow link may rightly take hours.
            Timeout = Timeout.InfiniteTimeSpan,
        };
        _cache = options.CacheSize > 0 ? new FetchCache(options.CacheDirectory, options.CacheSize, log) : null;
    }

    /// <summary>Bytes held in the cache now (for tests and diagnostics).</summary>
    internal long CacheUsedBytes => _cache?.UsedBytes ?? 0;

    internal int CacheCount => _cache?.Count ?? 0;

    /// <summary>
    /// Fetches every URI, in order, into <paramref name="sandbox"/> (Mesos fetches a task's URIs one after the
    /// other). When the agent runs as root and <paramref name="user"/> is set, the sandbox is then handed to that
    /// user, as Mesos's fetcher does.
    /// </summary>
    /// <exception cref="FetchException">A URI could not be fetched; the message names it and the cause.</exception>
    public async Task FetchAsync(IReadOnlyList<CommandInfoURI> uris, string sandbox, string? user, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(uris);
        if (uris.Count == 0)
        {
            return;
        }

        var realSandbox = SandboxNative.RealPath(sandbox, out _)
            ?? throw new FetchException($"Failed to fetch URIs: sandbox '{sandbox}' does not exist");
        UserIdentity? owner = null;
        if (user is { Length: > 0 } && FetchNative.geteuid() == 0)
        {
            owner = LookupUser(user);
        }

        var fetchLog = new FetchLog(Path.Join(realSandbox, "stderr"), _time);
        foreach (var uri in uris)
        {
            // Mesos trims leading whitespace from the URI before using it.
            var value = (uri.Value ?? "").TrimStart();
            fetchLog.Info($"Fetching URI '{value}'");
            try
            {
                var fetched = await FetchOneAsync(uri, value, realSandbox, user, fetchLog, ct).ConfigureAwait(false);
                fetchLog.Info($"Fetched '{value}' to '{fetched}'");
                Log.Fetched(_log, value, fetched);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
            {
                var failure = ex as FetchException ?? new FetchException($"Failed to fetch '{value}': {Describe(ex)}", ex) { Uri = value };
                fetchLog.Error(failure.Message);
                Log.FetchFailed(_log, value, failure.Message);
                throw failure;
            }
        }

        if (owner is { } identity)
        {
            ChownRecursive(realSandbox, identity);
        }

        fetchLog.Info($"Successfully fetched all URIs into '{realSandbox}'");
    }

    private static UserIdentity LookupUser(string user)
    {
        try
        {
            return UserDatabase.Lookup(user) ?? throw new FetchException($"Failed to fetch URIs: user '{user}' does not exist on this agent");
        }
        catch (LaunchException ex)
        {
            throw new FetchException($"Failed to fetch URIs: {ex.Message}", ex);
        }
    }

    private async Task<string> FetchOneAsync(CommandInfoURI uri, string value, string sandbox, string? user, FetchLog fetchLog, CancellationToken ct)
    {
        var source = FetchSource.Parse(value);
        var outputName = uri.OutputFile is { } output
            ? FetchSource.ValidateOutputName(output, "output_file")
            : FetchSource.ValidateOutputName(source.BaseName, "the file name taken from the URI");
        var realDirectory = CreateDirectories(sandbox, outputName)
            ?? throw new FetchException($"Failed to fetch '{value}': output '{outputName}' would be written outside the sandbox") { Uri = value };
        var destination = Path.Join(realDirectory, Path.GetFileName(outputName));
        var executable = uri.Executable == true;
        var archive = !executable && uri.Extract != false ? ArchiveExtractor.KindOf(outputName) : null;

        if (_cache is not null && uri.Cache == true)
        {
            fetchLog.Info($"Fetching '{value}' through the cache");
            var entry = await _cache.AcquireAsync(user, value, (temp, expectSize, token) => DownloadAsync(source, temp, _options.CacheDirectory, fetchLog, token, expectSize), ct).ConfigureAwait(false);
            try
            {
                // As Mesos: an extracted cache file leaves only its contents in the sandbox, not the archive.
                if (archive is { } kind)
                {
                    await ExtractAsync(entry.Path, kind, outputName, sandbox, fetchLog, ct).ConfigureAwait(false);
                    return sandbox;
                }

                // A copy rather than a hard link: the task (or a chown to its user) must not be able to change
                // what the next task gets from the cache.
                await WriteAtomicallyAsync(destination, temp => CopyFileAsync(entry.Path, temp, ct)).ConfigureAwait(false);
            }
            finally
            {
                _cache.Release(entry);
            }
        }
        else
        {
            fetchLog.Info($"Fetching '{value}' directly into the sandbox directory");
            await WriteAtomicallyAsync(destination, temp => DownloadAsync(source, temp, destination, fetchLog, ct)).ConfigureAwait(false);
            if (archive is { } kind)
            {
                try
                {
                    await ExtractAsync(destination, kind, outputName, sandbox, fetchLog, ct).ConfigureAwait(false);
                }
                catch
                {
                    // The fetch as a whole failed: the sandbox keeps nothing of it.
                    File.Delete(destination);
                    throw;
                }
            }
        }

        if (executable)
        {
            FetchNative.SetMode(destination, (UnixFileMode)0b111_101_101);
        }
        else if (uri.Extract != false && archive is null)
        {
            fetchLog.Info($"Copying instead of extracting '{value}': it does not look like an archive");
        }

        return destination;
    }

    /// <summary>
    /// Creates the directories of <paramref name="outputName"/> one level at a time and returns the real directory the
    /// file goes in; null when a symlink already in the sandbox would lead out of it. Checked before each mkdir, as
    /// creating "out/sub" through a link "out" to /etc would already have written outside.
    /// </summary>
    private static string? CreateDirectories(string sandbox, string outputName)
    {
        var current = sandbox;
        var parts = outputName.Split('/', StringSplitOptions.RemoveEmptyEntries);
        foreach (var part in parts[..^1].Where(p => p != "."))
        {
            var next = Path.Join(current, part);
            var stat = SandboxNative.Stat(next, followSymlinks: false, out _);
            if (stat is null)
            {
                Directory.CreateDirectory(next);
            }
            else if (stat.Value.IsSymbolicLink)
            {
                if (SandboxNative.RealPath(next, out _) is not { } real || !SandboxPaths.IsWithin(sandbox, real) || !Directory.Exists(real))
                {
                    return null;
                }

                next = real;
            }
            else if (!stat.Value.IsDirectory)
            {
                throw new IOException($"'{Path.GetRelativePath(sandbox, next)}' in the sandbox is a file, not a directory");
            }

            current = next;
        }

        return current;
    }

    private static async Task WriteAtomicallyAsync(string destination, Func<string, Task> write)
    {
        var temp = Path.Join(Path.GetDirectoryName(destination)!, $".{Path.GetFileName(destination)}.{Guid.NewGuid():N}.fetching");
        try
        {
            await write(temp).ConfigureAwait(false);
            File.Move(temp, destination, overwrite: true);
        }
        catch
        {
            FetchCache.TryDelete(temp);
            throw;
        }
    }

    private async Task ExtractAsync(string archive, ArchiveKind kind, string outputName, string sandbox, FetchLog fetchLog, CancellationToken ct)
    {
        // Unpacked beside the sandbox's files first and moved in only when the whole archive was good, so a corrupt
        // or hostile archive leaves nothing behind.
        var staging = Path.Join(sandbox, $".fetch-extract-{Guid.NewGuid():N}");
        Directory.CreateDirectory(staging);
        try
        {
            try
            {
                await ArchiveExtractor.ExtractAsync(archive, kind, outputName, staging, ct).ConfigureAwait(false);
            }
            catch (InvalidDataException ex)
            {
                throw new InvalidDataException($"Failed to extract '{outputName}': {ex.Message}", ex);
            }

            MoveInto(staging, sandbox);
            fetchLog.Info($"Extracted '{archive}' into '{sandbox}'");
        }
        finally
        {
            if (Directory.Exists(staging))
            {
                Directory.Delete(staging, recursive: true);
            }
        }
    }

    /// <summary>Merges a directory tree into another with renames; what already exists is replaced, directories are
    /// merged (tar's behaviour when extracting over existing files). Never follows a symlink at the destination.</summary>
    private static void MoveInto(string from, string to)
    {
        foreach (var source in Directory.EnumerateFileSystemEntries(from))
        {
            var target = Path.Join(to, Path.GetFileName(source));
            var sourceIsDirectory = SandboxNative.Stat(source, followSymlinks: false, out _) is { IsDirectory: true };
            var existing = SandboxNative.Stat(target, followSymlinks: false, out _);
            if (existing is { IsDirectory: true } && sourceIsDirectory)
            {
                MoveInto(source, target);
                continue;
            }

            if (existing is { IsDirectory: true })
            {
                Directory.Delete(target, recursive: true);
            }
            else if (existing is not null)
            {
                File.Delete(target);
            }

            if (sourceIsDirectory)
            {
                Directory.Move(source, target);
            }
            else
            {
                File.Move(source, target);
            }
        }
    }

    private Task DownloadAsync(FetchSource source, string target, string shownTarget, FetchLog fetchLog, CancellationToken ct, Action<long>? expectSize = null)
    {
        fetchLog.Info($"Downloading resource from '{source.Display}' to '{shownTarget}'");
        return source.Http is { } http ? DownloadHttpAsync(http, target, expectSize, ct) : CopyLocalAsync(source.LocalPath!, target, expectSize, ct);
    }

    private async Task DownloadHttpAsync(Uri uri, string target, Action<long>? expectSize, CancellationToken ct)
    {
        var stallTimeout = _options.StallTimeout > TimeSpan.Zero ? _options.StallTimeout : Timeout.InfiniteTimeSpan;
        using var stall = new CancellationTokenSource(stallTimeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, stall.Token);
        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        try
        {
            using var response = await _http.GetAsync(uri, HttpCompletionOption.ResponseHeadersRead, linked.Token).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                var code = (int)response.StatusCode;
                var reason = response.ReasonPhrase is { Length: > 0 } phrase ? phrase : Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(code);
                throw new HttpRequestException($"HTTP {code} {reason}".TrimEnd());
            }

            var expected = response.Content.Headers.ContentLength;
            if (expected is { } announced)
            {
                expectSize?.Invoke(announced);
            }

            await using var body = await response.Content.ReadAsStreamAsync(linked.Token).ConfigureAwait(false);
            await using var file = new FileStream(target, FileMode.CreateNew, FileAccess.Write, FileShare.None, BufferSize, useAsync: true);
            long written = 0;
            stall.CancelAfter(stallTimeout);
            int read;
            while ((read = await body.ReadAsync(buffer.AsMemory(0, BufferSize), linked.Token).ConfigureAwait(false)) > 0)
            {
                stall.CancelAfter(stallTimeout);
                await file.WriteAsync(buffer.AsMemory(0, read), ct).ConfigureAwait(false);
                written += read;
            }

            if (expected is { } length && written != length)
            {
                throw new IOException($"the connection closed after {written} of {length} bytes");
            }
        }
        catch (OperationCanceledException) when (stall.IsCancellationRequested && !ct.IsCancellationRequested)
        {
            throw new TimeoutException($"no data received for {stallTimeout.TotalSeconds:0.###} s (--fetcher-stall-timeout)");
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static async Task CopyLocalAsync(string source, string target, Action<long>? expectSize, CancellationToken ct)
    {
        if (Directory.Exists(source))
        {
            throw new IOException($"'{source}' is a directory");
        }

        if (!File.Exists(source))
        {
            throw new FileNotFoundException($"'{source}' does not exist");
        }

        expectSize?.Invoke(new FileInfo(source).Length);

        await CopyFileAsync(source, target, ct).ConfigureAwait(false);
    }

    private static async Task CopyFileAsync(string source, string target, CancellationToken ct)
    {
        await using var input = new FileStream(source, FileMode.Open, FileAccess.Read, FileShare.Read, BufferSize, useAsync: true);
        await using var output = new FileStream(target, FileMode.CreateNew, FileAccess.Write, FileShare.None, BufferSize, useAsync: true);
        await input.CopyToAsync(output, ct).ConfigureAwait(false);
    }

    /// <summary>lchown on everything under the sandbox, never descending through a symlink.</summary>
    private static void ChownRecursive(string path, UserIdentity owner)
    {
        if (FetchNative.lchown(path, owner.Uid, owner.Gid) != 0)
        {
            var errno = System.Runtime.InteropServices.Marshal.GetLastPInvokeError();
            throw new FetchException($"Failed to chown '{path}' to user '{owner.Name}': {LibC.ErrorText(errno)}");
        }

        if (SandboxNative.Stat(path, followSymlinks: false, out _) is { IsDirectory: true })
        {
            foreach (var child in Directory.EnumerateFileSystemEntries(path))
            {
                ChownRecursive(child, owner);
            }
        }
    }

    /// <summary>The cause alone, in the words a user can act on ("Connection refused", not the exception chain).</summary>
    private static string Describe(Exception ex)
    {
        for (var inner = ex; inner is not null; inner = inner.InnerException)
        {
            if (inner is SocketException socket)
            {
                return socket.Message;
            }

            if (inner is System.Security.Authentication.AuthenticationException tls)
            {
                return $"TLS error: {tls.Message}";
            }
        }

        return ex switch
        {
            FileNotFoundException or DirectoryNotFoundException or UnauthorizedAccessException or IOException
                or HttpRequestException or InvalidDataException or TimeoutException or FormatException => ex.Message,
            _ => $"{ex.GetType().Name}: {ex.Message}",
        };
    }

    public void Dispose()
    {
        _http.Dispose();
        _cache?.Dispose();
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "Fetched '{Uri}' to '{Path}'")]
        public static partial void Fetched(ILogger logger, string uri, string path);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Fetch of '{Uri}' failed: {Message}")]
        public static partial void FetchFailed(ILogger logger, string uri, string message);
    }
}
