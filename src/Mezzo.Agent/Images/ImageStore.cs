using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace Mezzo.Agent.Images;

/// <summary>
/// Gets images onto disk without a Docker daemon and builds container root file systems from them.
/// <para>Layout under the store directory:</para>
/// <list type="bullet">
/// <item><c>layers/&lt;hex&gt;/rootfs</c>: one unpacked layer per blob digest (whiteout markers kept), and <c>size</c>.
/// A layer is unpacked into <c>staging/</c> and renamed into place only after its digest checked out, so a corrupt or
/// partial layer never becomes a cache entry.</item>
/// <item><c>images/&lt;hex&gt;.json</c>: per image, its layers and runtime config; <c>refs/&lt;hash of name&gt;</c>:
/// which image a name last resolved to (what <see cref="ImageSpec.Cached"/> reuses).</item>
/// <item><c>containers/&lt;container id&gt;/rootfs</c> (a private copy of the stacked layers) and <c>image</c>
/// (the digest it came from, which keeps the image's layers from garbage collection).</item>
/// </list>
/// Thread-safe: provisions of the same image share one pull, and of the same layer one download.
/// </summary>
public sealed partial class ImageStore : IDisposable
{
    private readonly ImageOptions _options;
    private readonly ILogger _log;
    private readonly TimeProvider _time;
    private readonly HttpClient _http;
    private readonly RegistryClient _registry;
    private readonly Uri? _defaultRegistry;
    private readonly string? _localArchives;
    private readonly ConcurrentDictionary<string, Lazy<Task<ImageRecord>>> _pulls = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Lazy<Task>> _layerPulls = new(StringComparer.Ordinal);

    // Layers a provision is about to stack: garbage collection must not take them. Only touched under _gate.
    private readonly Dictionary<string, int> _pinned = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _gate = new(1, 1);

    /// <param name="handler">HTTP handler for registry traffic (tests count requests with it); null: a default one.</param>
    /// <exception cref="ArgumentException">--docker-registry is neither an http(s) URL nor an absolute directory.</exception>
    public ImageStore(ImageOptions options, string workDir, ILogger log, TimeProvider? time = null, HttpMessageHandler? handler = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _log = log;
        _time = time ?? TimeProvider.System;
        StoreDir = Path.GetFullPath(options.ResolveStoreDir(workDir));
        (_defaultRegistry, _localArchives) = ParseRegistryFlag(options.DockerRegistry);
        _http = new HttpClient(handler ?? new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(30) }, disposeHandler: true)
        {
            Timeout = TimeSpan.FromMinutes(5),
        };
        _http.DefaultRequestHeaders.UserAgent.ParseAdd("mezzo-agent");
        _registry = new RegistryClient(_http, _time, LoadCredentials(options.DockerConfig), log);
        foreach (var dir in new[] { LayersDir, ImagesDir, RefsDir, ContainersDir })
        {
            Directory.CreateDirectory(dir);
        }

        // A crash mid-unpack leaves its staging directory behind; nothing in it was ever part of the cache.
        if (Directory.Exists(StagingDir))
        {
            RootfsBuilder.Remove(StagingDir);
        }
    }

    public string StoreDir { get; }

    private string LayersDir => Path.Join(StoreDir, "layers");

    private string ImagesDir => Path.Join(StoreDir, "images");

    private string RefsDir => Path.Join(StoreDir, "refs");

    private string ContainersDir => Path.Join(StoreDir, "containers");

    private string StagingDir => Path.Join(StoreDir, "staging");

    /// <summary>
    /// Resolves <paramref name="spec"/> (pulling or loading what the cache lacks) and builds a private rootfs for
    /// <paramref name="containerId"/> at <c>containers/&lt;id&gt;/rootfs</c>.
    /// </summary>
    /// <exception cref="ImageException">Bad name, unreachable registry, unknown image, corrupt layer, or the container
    /// already has a rootfs. Nothing partial is left behind.</exception>
    public async Task<ProvisionedImage> ProvisionAsync(ImageSpec spec, string containerId, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var containerDir = ContainerDir(containerId);
        var started = _time.GetTimestamp();
        using var source = CreateSource(spec.Name);
        if (Directory.Exists(containerDir))
        {
            throw new ImageException($"Failed to provision image '{spec.Name}': container '{containerId}' already has a rootfs");
        }

        var record = spec.Cached ? TryCachedImage(source.Key) : null;
        for (var attempt = 0; ; attempt++)
        {
            record ??= await PullOnceAsync(source.Key, spec.Name, ct);
            var pinned = record.Layers;
            await PinAsync(pinned, +1, ct);
            try
            {
                var missing = record.Layers.Where(l => !Directory.Exists(LayerDir(l))).ToList();
                if (missing.Count > 0 && attempt == 0)
                {
                    // Garbage collection took a layer between the pull and the pin: pull again.
                    record = null;
                    continue;
                }

                if (missing.Count > 0)
                {
                    throw new ImageException($"Failed to provision image '{spec.Name}': layers {string.Join(", ", missing)} vanished from the cache");
                }

                var result = await Task.Run(() => Assemble(record, spec.Name, source.Key, containerId, containerDir), ct);
                Log.Provisioned(_log, spec.Name, record.Digest, containerId, _time.GetElapsedTime(started).TotalMilliseconds);
                return result;
            }
            finally
            {
                await PinAsync(pinned, -1, CancellationToken.None);
            }
        }
    }

    /// <summary>Removes the container's rootfs; a container without one is fine. Then enforces the size bound.</summary>
    public async Task ReleaseAsync(string containerId, CancellationToken ct = default)
    {
        var dir = ContainerDir(containerId);
        if (Directory.Exists(dir))
        {
            await Task.Run(() => RootfsBuilder.Remove(dir), ct);
            Log.Released(_log, containerId);
        }

        if (_options.StoreMaxBytes > 0)
        {
            await CollectAsync(keepContainers: null, boundBytes: _options.StoreMaxBytes, ct);
        }
    }

    /// <summary>
    /// Explicit garbage collection (e.g. at agent start, with the containers it recovered): removes the rootfs of
    /// every container not in <paramref name="liveContainers"/> (null: keep all), then every image no remaining
    /// container uses, then every layer no remaining image needs.
    /// </summary>
    public Task<PruneResult> PruneAsync(IReadOnlyCollection<string>? liveContainers = null, CancellationToken ct = default) =>
        CollectAsync(liveContainers ?? (IReadOnlyCollection<string>)ContainerIds().ToList(), boundBytes: 0, ct);

    /// <summary>
    /// At agent start: removes the rootfs of every container not in <paramref name="liveContainers"/> (a previous run's
    /// leftovers) but keeps the cached images and layers, so a restart does not turn every next launch into a cold pull;
    /// only the store's size bound, if any, is applied.
    /// </summary>
    public Task<PruneResult> RemoveLeftoverContainersAsync(IReadOnlyCollection<string> liveContainers, CancellationToken ct = default) =>
        CollectAsync(liveContainers, boundBytes: _options.StoreMaxBytes > 0 ? _options.StoreMaxBytes : long.MaxValue, ct);

    /// <summary>Bytes of unpacked layer content in the cache.</summary>
    public long LayerBytes() => LayerDigests().Sum(LayerSize);

    /// <summary>Digests (<c>sha256:hex</c>) of the layers in the cache.</summary>
    public IReadOnlyList<string> CachedLayers() => [.. LayerDigests()];

    /// <summary>Digests of the images in the cache.</summary>
    public IReadOnlyList<string> CachedImages() =>
        [.. Directory.EnumerateFiles(ImagesDir, "*.json").Select(f => "sha256:" + Path.GetFileNameWithoutExtension(f))];

    public void Dispose()
    {
        _http.Dispose();
        _gate.Dispose();
    }

    private ImageRecord? TryCachedImage(string key)
    {
        var refFile = RefFile(key);
        if (!File.Exists(refFile))
        {
            return null;
        }

        var digest = File.ReadAllText(refFile).Trim();
        return ReadRecord(digest);
    }

    private Task<ImageRecord> PullOnceAsync(string key, string name, CancellationToken ct)
    {
        // Shared by every concurrent provision of the name, with a source of its own: it runs to completion even if
        // the provision that started it gives up.
        var pull = _pulls.GetOrAdd(key, key => new Lazy<Task<ImageRecord>>(async () =>
        {
            try
            {
                using var source = CreateSource(name);
                return await PullAsync(source, name);
            }
            finally
            {
                _pulls.TryRemove(key, out _);
            }
        }));
        return pull.Value.WaitAsync(ct);
    }

    private async Task<ImageRecord> PullAsync(IImageSource source, string name)
    {
        var started = _time.GetTimestamp();
        Log.Pulling(_log, name, source.Key);
        var resolved = await source.ResolveAsync(CancellationToken.None);
        var digests = resolved.Layers.Select(l => l.Digest).ToList();
        await PinAsync(digests, +1, CancellationToken.None);
        try
        {
            // One layer at a time: layers are large and the agent shares its machine with tasks.
            foreach (var layer in resolved.Layers)
            {
                await EnsureLayerAsync(source, layer, name);
            }

            var record = new ImageRecord
            {
                Digest = resolved.Digest,
                Source = source.Key,
                Layers = digests,
                Config = resolved.Config,
                LastUsed = _time.GetUtcNow(),
            };
            WriteAtomically(RecordFile(record.Digest), JsonSerializer.SerializeToUtf8Bytes(record, ImageJsonContext.Default.ImageRecord));
            WriteAtomically(RefFile(source.Key), Encoding.UTF8.GetBytes(record.Digest));
            Log.Pulled(_log, name, record.Digest, digests.Count, _time.GetElapsedTime(started).TotalMilliseconds);
            return record;
        }
        finally
        {
            await PinAsync(digests, -1, CancellationToken.None);
        }
    }

    private Task EnsureLayerAsync(IImageSource source, Descriptor layer, string name)
    {
        ManifestParsing.CheckDigest(layer.Digest, name);
        if (Directory.Exists(LayerDir(layer.Digest)))
        {
            Log.LayerCached(_log, layer.Digest);
            return Task.CompletedTask;
        }

        var pull = _layerPulls.GetOrAdd(layer.Digest, digest => new Lazy<Task>(async () =>
        {
            try
            {
                await UnpackLayerAsync(source, layer, name);
            }
            finally
            {
                _layerPulls.TryRemove(digest, out _);
            }
        }));
        return pull.Value;
    }

    private async Task UnpackLayerAsync(IImageSource source, Descriptor layer, string name)
    {
        var final = LayerDir(layer.Digest);
        if (Directory.Exists(final))
        {
            return;
        }

        var started = _time.GetTimestamp();
        var staging = Path.Join(StagingDir, "layer-" + Hex(layer.Digest)[..12] + "-" + Guid.NewGuid().ToString("N"));
        var rootfs = Path.Join(staging, "rootfs");
        Directory.CreateDirectory(rootfs);
        try
        {
            long bytes;
            await using (var blob = new DigestStream(await source.OpenLayerAsync(layer, CancellationToken.None), layer.Digest, layer.Size))
            {
                try
                {
                    bytes = await Task.Run(() => LayerUnpacker.UnpackAsync(blob, rootfs, name, layer.Digest, _log, CancellationToken.None));
                }
                catch (Exception e) when (e is InvalidDataException or IOException or ImageException && e is not FileNotFoundException)
                {
                    // A corrupt blob usually breaks gzip or tar before its end: when the digest is wrong too, that is the cause.
                    if (await TryFinishAsync(blob) is { } corrupt)
                    {
                        throw new ImageException($"{Verb(source)} image '{name}': layer {layer.Digest}: {corrupt}", e);
                    }

                    throw e as ImageException ?? new ImageException($"{Verb(source)} image '{name}': layer {layer.Digest} is corrupt: {e.Message}", e);
                }

                if (await blob.FinishAsync(CancellationToken.None) is { } mismatch)
                {
                    throw new ImageException($"{Verb(source)} image '{name}': layer {layer.Digest}: {mismatch}");
                }
            }

            await File.WriteAllTextAsync(Path.Join(staging, "size"), bytes.ToString(System.Globalization.CultureInfo.InvariantCulture));
            try
            {
                Directory.Move(staging, final);
            }
            catch (IOException) when (Directory.Exists(final))
            {
                // Another agent process sharing the store got there first; its copy is as good as ours.
            }

            Log.LayerUnpacked(_log, layer.Digest, bytes, _time.GetElapsedTime(started).TotalMilliseconds);
        }
        catch (HttpRequestException e)
        {
            throw new ImageException($"{Verb(source)} image '{name}': layer {layer.Digest}: {e.Message}", e);
        }
        finally
        {
            if (Directory.Exists(staging))
            {
                RootfsBuilder.Remove(staging);
            }
        }
    }

    private static string Verb(IImageSource source) => source is RegistrySource ? "Failed to pull" : "Failed to load";

    private static async Task<string?> TryFinishAsync(DigestStream blob)
    {
        try
        {
            return await blob.FinishAsync(CancellationToken.None);
        }
        catch (Exception e) when (e is IOException or InvalidDataException or HttpRequestException)
        {
            return null;
        }
    }

    private ProvisionedImage Assemble(ImageRecord record, string name, string key, string containerId, string containerDir)
    {
        var staging = containerDir + ".tmp";
        try
        {
            if (Directory.Exists(staging))
            {
                RootfsBuilder.Remove(staging);
            }

            Directory.CreateDirectory(staging);
            RootfsBuilder.Build([.. record.Layers.Select(l => Path.Join(LayerDir(l), "rootfs"))], Path.Join(staging, "rootfs"));
            File.WriteAllText(Path.Join(staging, "image"), record.Digest);
            Directory.Move(staging, containerDir);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ImageException($"Failed to provision image '{name}' for container '{containerId}': {e.Message}", e);
        }
        finally
        {
            if (Directory.Exists(staging))
            {
                RootfsBuilder.Remove(staging);
            }
        }

        record.LastUsed = _time.GetUtcNow();
        WriteAtomically(RecordFile(record.Digest), JsonSerializer.SerializeToUtf8Bytes(record, ImageJsonContext.Default.ImageRecord));
        return new ProvisionedImage(Path.Join(containerDir, "rootfs"), ImageConfig.From(record.Config), record.Digest, key);
    }

    private async Task<PruneResult> CollectAsync(IReadOnlyCollection<string>? keepContainers, long boundBytes, CancellationToken ct)
    {
        await _gate.WaitAsync(ct);
        var trash = new List<string>();
        var result = new PruneResult(0, 0, 0, 0);
        try
        {
            if (keepContainers is not null)
            {
                var keep = keepContainers.ToHashSet(StringComparer.Ordinal);
                foreach (var id in ContainerIds().Where(id => !keep.Contains(id)))
                {
                    trash.Add(ContainerDir(id));
                    result = result with { ContainersRemoved = result.ContainersRemoved + 1 };
                }
            }

            var trashed = trash.ToHashSet(StringComparer.Ordinal);
            var usedImages = ContainerIds()
                .Where(id => !trashed.Contains(ContainerDir(id)))
                .Select(id => Path.Join(ContainerDir(id), "image"))
                .Where(File.Exists)
                .Select(f => File.ReadAllText(f).Trim())
                .ToHashSet(StringComparer.Ordinal);
            var records = CachedImages().Select(ReadRecord).OfType<ImageRecord>().ToList();
            var unused = records.Where(r => !usedImages.Contains(r.Digest) && !r.Layers.Any(_pinned.ContainsKey))
                .OrderBy(r => r.LastUsed).ToList();
            var sizes = LayerDigests().ToDictionary(d => d, LayerSize, StringComparer.Ordinal);
            var total = sizes.Values.Sum();
            var kept = records.ToList();
            foreach (var image in unused)
            {
                if (boundBytes > 0 && total <= boundBytes)
                {
                    break;
                }

                kept.Remove(image);
                File.Delete(RecordFile(image.Digest));
                result = result with { ImagesRemoved = result.ImagesRemoved + 1 };
                var needed = kept.SelectMany(r => r.Layers).Concat(_pinned.Keys).ToHashSet(StringComparer.Ordinal);
                foreach (var layer in image.Layers.Where(l => !needed.Contains(l) && sizes.ContainsKey(l)))
                {
                    trash.Add(MoveToTrash(LayerDir(layer)));
                    total -= sizes[layer];
                    result = result with { LayersRemoved = result.LayersRemoved + 1, BytesFreed = result.BytesFreed + sizes[layer] };
                    sizes.Remove(layer);
                }
            }

            if (boundBytes == 0)
            {
                // Layers no image record names (a pull that died between unpacking and writing its record).
                var needed = kept.SelectMany(r => r.Layers).Concat(_pinned.Keys).ToHashSet(StringComparer.Ordinal);
                foreach (var layer in sizes.Keys.Where(l => !needed.Contains(l)).ToList())
                {
                    trash.Add(MoveToTrash(LayerDir(layer)));
                    result = result with { LayersRemoved = result.LayersRemoved + 1, BytesFreed = result.BytesFreed + sizes[layer] };
                }
            }

            foreach (var refFile in Directory.EnumerateFiles(RefsDir))
            {
                if (!File.Exists(RecordFile(File.ReadAllText(refFile).Trim())))
                {
                    File.Delete(refFile);
                }
            }
        }
        finally
        {
            _gate.Release();
        }

        await Task.Run(() =>
        {
            foreach (var path in trash)
            {
                RootfsBuilder.Remove(path);
            }
        }, CancellationToken.None);
        if (result.ImagesRemoved + result.LayersRemoved + result.ContainersRemoved > 0)
        {
            Log.Collected(_log, result.ContainersRemoved, result.ImagesRemoved, result.LayersRemoved, result.BytesFreed);
        }

        return result;
    }

    private string MoveToTrash(string dir)
    {
        // Renamed under the gate so no provision sees a half-deleted layer; deleted after the gate is released.
        Directory.CreateDirectory(StagingDir);
        var trash = Path.Join(StagingDir, "trash-" + Guid.NewGuid().ToString("N"));
        Directory.Move(dir, trash);
        return trash;
    }

    private async Task PinAsync(IEnumerable<string> layers, int delta, CancellationToken ct)
    {
        await _gate.WaitAsync(ct);
        try
        {
            foreach (var layer in layers)
            {
                var count = _pinned.GetValueOrDefault(layer) + delta;
                if (count > 0)
                {
                    _pinned[layer] = count;
                }
                else
                {
                    _pinned.Remove(layer);
                }
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    private IImageSource CreateSource(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (name.StartsWith("docker-archive:", StringComparison.Ordinal))
        {
            var path = name["docker-archive:".Length..];
            return Local(name, path, ociRef: null, repoTag: null);
        }

        if (name.StartsWith("oci:", StringComparison.Ordinal))
        {
            var rest = name["oci:".Length..];
            var colon = rest.LastIndexOf(':');
            string? ociRef = null;
            if (colon > 0 && !rest[(colon + 1)..].Contains('/', StringComparison.Ordinal) && !File.Exists(rest) && !Directory.Exists(rest))
            {
                ociRef = rest[(colon + 1)..];
                rest = rest[..colon];
            }

            return Local(name, rest, ociRef, repoTag: null);
        }

        if (_localArchives is not null)
        {
            var reference = ImageReference.Parse(name, new Uri("https://" + ImageReference.DockerHubHost));
            var shortRepo = reference.Repository.StartsWith("library/", StringComparison.Ordinal) && !name.Contains("library/", StringComparison.Ordinal)
                ? reference.Repository["library/".Length..]
                : reference.Repository;
            var suffix = reference.Digest is { } digest ? "@" + digest : ":" + reference.Tag;
            var candidates = new[] { shortRepo + suffix + ".tar", name + ".tar", reference.Repository + suffix + ".tar" }
                .Distinct(StringComparer.Ordinal)
                .Select(c => Path.Join(_localArchives, c))
                .ToList();
            var found = candidates.FirstOrDefault(File.Exists)
                ?? throw new ImageException($"Failed to find archive for image '{name}' at '{candidates[0]}'");
            return Local(name, found, ociRef: null, repoTag: shortRepo + suffix);
        }

        var parsed = ImageReference.Parse(name, _defaultRegistry!);
        return new RegistrySource(parsed, name, _registry, _options.Architecture);

        IImageSource Local(string original, string path, string? ociRef, string? repoTag)
        {
            if (!Path.IsPathFullyQualified(path))
            {
                throw new ImageException($"Invalid image name '{original}': '{path}' is not an absolute path");
            }

            var key = (original.StartsWith("oci:", StringComparison.Ordinal) ? "oci:" : "docker-archive:") + Path.GetFullPath(path) + (ociRef is null ? "" : ":" + ociRef);
            return new LocalSource(key, Path.GetFullPath(path), ociRef, repoTag, original, StagingDir, _options.Architecture);
        }
    }

    /// <summary>Reads --docker-registry: an http(s) URL or bare host[:port] (a registry), or an absolute directory /
    /// file:// URL (local docker-archive tars, as Mesos).</summary>
    /// <exception cref="ArgumentException">Neither.</exception>
    public static (Uri? Registry, string? LocalDirectory) ParseRegistryFlag(string value)
    {
        if (value.StartsWith('/'))
        {
            return (null, value);
        }

        if (value.StartsWith("file://", StringComparison.Ordinal))
        {
            return (null, new Uri(value).LocalPath);
        }

        if (Uri.TryCreate(value, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https")
        {
            return (uri, null);
        }

        // Mesos accepts a bare host[:port]: https, or http for loopback as Docker does.
        if (Uri.TryCreate("https://" + value, UriKind.Absolute, out uri) && uri.AbsolutePath == "/")
        {
            return (ImageReference.IsLoopback(uri.Host) ? new Uri("http://" + value) : uri, null);
        }

        throw new ArgumentException($"--docker-registry '{value}' is neither an http(s) URL, a host[:port] nor an absolute directory", nameof(value));
    }

    private static Dictionary<string, string> LoadCredentials(string? dockerConfig)
    {
        var result = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        if (dockerConfig is null)
        {
            return result;
        }

        DockerConfigFile? config;
        try
        {
            config = JsonSerializer.Deserialize(File.ReadAllBytes(dockerConfig), ImageJsonContext.Default.DockerConfigFile);
        }
        catch (Exception e) when (e is IOException or JsonException or UnauthorizedAccessException)
        {
            throw new ArgumentException($"--docker-config '{dockerConfig}' cannot be read: {e.Message}", nameof(dockerConfig), e);
        }

        foreach (var (server, entry) in config?.Auths ?? [])
        {
            var host = Uri.TryCreate(server, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"
                ? (uri.IsDefaultPort ? uri.Host : $"{uri.Host}:{uri.Port}")
                : server.TrimEnd('/');
            if (host is "index.docker.io" or "docker.io")
            {
                host = ImageReference.DockerHubHost;
            }

            var auth = entry.Auth ?? (entry.Username is not null ? Convert.ToBase64String(Encoding.UTF8.GetBytes($"{entry.Username}:{entry.Password}")) : null);
            if (auth is not null)
            {
                result[host] = auth;
            }
        }

        return result;
    }

    private ImageRecord? ReadRecord(string digest)
    {
        if (!digest.StartsWith("sha256:", StringComparison.Ordinal))
        {
            return null;
        }

        var file = RecordFile(digest);
        try
        {
            return File.Exists(file) ? JsonSerializer.Deserialize(File.ReadAllBytes(file), ImageJsonContext.Default.ImageRecord) : null;
        }
        catch (JsonException e)
        {
            Log.BadRecord(_log, file, e.Message);
            return null;
        }
    }

    private IEnumerable<string> ContainerIds() =>
        Directory.EnumerateDirectories(ContainersDir).Select(Path.GetFileName).OfType<string>().Where(n => !n.EndsWith(".tmp", StringComparison.Ordinal));

    private IEnumerable<string> LayerDigests() =>
        Directory.EnumerateDirectories(LayersDir).Select(d => "sha256:" + Path.GetFileName(d));

    private long LayerSize(string digest) =>
        long.TryParse(File.ReadAllText(Path.Join(LayerDir(digest), "size")), System.Globalization.CultureInfo.InvariantCulture, out var size) ? size : 0;

    private string ContainerDir(string containerId)
    {
        if (string.IsNullOrEmpty(containerId) || containerId is "." or ".." || containerId.Contains('/', StringComparison.Ordinal) ||
            containerId.Contains('\0', StringComparison.Ordinal) || containerId.EndsWith(".tmp", StringComparison.Ordinal))
        {
            throw new ArgumentException($"container id '{containerId}' cannot name a directory", nameof(containerId));
        }

        return Path.Join(ContainersDir, containerId);
    }

    private static string Hex(string digest) => digest["sha256:".Length..];

    private string LayerDir(string digest) => Path.Join(LayersDir, Hex(digest));

    private string RecordFile(string digest) => Path.Join(ImagesDir, Hex(digest) + ".json");

    private string RefFile(string key) => Path.Join(RefsDir, Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key))));

    private void WriteAtomically(string path, byte[] content)
    {
        Directory.CreateDirectory(StagingDir);
        var temp = Path.Join(StagingDir, "write-" + Guid.NewGuid().ToString("N"));
        File.WriteAllBytes(temp, content);
        File.Move(temp, path, overwrite: true);
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "Pulling image '{Name}' ({Source})")]
        public static partial void Pulling(ILogger logger, string name, string source);

        [LoggerMessage(Level = LogLevel.Information, Message = "Pulled image '{Name}' ({Digest}, {Layers} layers) in {Milliseconds:F0} ms")]
        public static partial void Pulled(ILogger logger, string name, string digest, int layers, double milliseconds);

        [LoggerMessage(Level = LogLevel.Debug, Message = "Layer {Digest} is already in the cache")]
        public static partial void LayerCached(ILogger logger, string digest);

        [LoggerMessage(Level = LogLevel.Debug, Message = "Unpacked layer {Digest} ({Bytes} bytes) in {Milliseconds:F0} ms")]
        public static partial void LayerUnpacked(ILogger logger, string digest, long bytes, double milliseconds);

        [LoggerMessage(Level = LogLevel.Information, Message = "Provisioned image '{Name}' ({Digest}) for container {ContainerId} in {Milliseconds:F0} ms")]
        public static partial void Provisioned(ILogger logger, string name, string digest, string containerId, double milliseconds);

        [LoggerMessage(Level = LogLevel.Debug, Message = "Removed the rootfs of container {ContainerId}")]
        public static partial void Released(ILogger logger, string containerId);

        [LoggerMessage(Level = LogLevel.Information, Message = "Image store GC removed {Containers} container rootfses, {Images} images, {Layers} layers ({Bytes} bytes)")]
        public static partial void Collected(ILogger logger, int containers, int images, int layers, long bytes);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Ignoring unreadable image record {File}: {Error}")]
        public static partial void BadRecord(ILogger logger, string file, string error);
    }
}

/// <summary>What a garbage collection removed.</summary>
public sealed record PruneResult(int ContainersRemoved, int ImagesRemoved, int LayersRemoved, long BytesFreed);
