using System.Formats.Tar;
using System.Security.Cryptography;
using System.Text.Json;

namespace Mezzo.Agent.Images;

/// <summary>An image resolved to its layers (lowest first) and config, before any layer is fetched.</summary>
internal sealed record ResolvedImage(string Digest, ContainerConfigDocument? Config, IReadOnlyList<Descriptor> Layers);

/// <summary>Where an image comes from: a registry, or a local archive / layout.</summary>
internal interface IImageSource : IDisposable
{
    /// <summary>The canonical name the store indexes the image under (also used in messages).</summary>
    string Key { get; }

    Task<ResolvedImage> ResolveAsync(CancellationToken ct);

    /// <summary>The layer blob as stored (compressed or not); the store verifies its digest while unpacking.</summary>
    Task<Stream> OpenLayerAsync(Descriptor layer, CancellationToken ct);
}

internal static class ManifestParsing
{
    public static ManifestDocument Parse(byte[] body, string name, string what)
    {
        try
        {
            return JsonSerializer.Deserialize(body, ImageJsonContext.Default.ManifestDocument)
                ?? throw new ImageException($"Failed to pull image '{name}': {what} is empty");
        }
        catch (JsonException e)
        {
            throw new ImageException($"Failed to pull image '{name}': {what} is not valid JSON: {e.Message}", e);
        }
    }

    public static ImageConfigDocument ParseConfig(byte[] body, string name)
    {
        try
        {
            return JsonSerializer.Deserialize(body, ImageJsonContext.Default.ImageConfigDocument)
                ?? throw new ImageException($"Failed to pull image '{name}': the image config is empty");
        }
        catch (JsonException e)
        {
            throw new ImageException($"Failed to pull image '{name}': the image config is not valid JSON: {e.Message}", e);
        }
    }

    public static bool IsIndex(ManifestDocument document, string? mediaType) =>
        MediaTypes.IsIndex(mediaType) || MediaTypes.IsIndex(document.MediaType) || (document.Manifests is not null && document.Layers is null);

    /// <summary>Picks linux/&lt;arch&gt; from an index or manifest list.</summary>
    public static Descriptor PickPlatform(ManifestDocument index, string architecture, string name)
    {
        var candidates = index.Manifests ?? [];
        return candidates.FirstOrDefault(m => m.Platform is { Os: "linux" } p && p.Architecture == architecture)
            ?? throw new ImageException($"Failed to pull image '{name}': no linux/{architecture} image in its manifest list (has: " +
                string.Join(", ", candidates.Select(m => $"{m.Platform?.Os}/{m.Platform?.Architecture}")) + ")");
    }

    public static void CheckManifest(ManifestDocument manifest, string? mediaType, string name)
    {
        var type = mediaType ?? manifest.MediaType;
        if (type is MediaTypes.DockerSchema1 or MediaTypes.DockerSchema1Signed || manifest.SchemaVersion == 1)
        {
            throw new ImageException($"Failed to pull image '{name}': Docker manifest schema 1 is not supported (push the image again with a current client)");
        }

        if (manifest.Config is null || manifest.Layers is null)
        {
            throw new ImageException($"Failed to pull image '{name}': the manifest ({type ?? "no media type"}) has no config or layers");
        }

        foreach (var layer in manifest.Layers.Append(manifest.Config))
        {
            CheckDigest(layer.Digest, name);
        }
    }

    public static void CheckDigest(string digest, string name)
    {
        if (!digest.StartsWith("sha256:", StringComparison.Ordinal) || digest.Length != 71 || !digest.AsSpan(7).ContainsOnlyLowerHex())
        {
            throw new ImageException($"Failed to pull image '{name}': unsupported or malformed digest '{digest}' (only sha256 is supported)");
        }
    }

    public static string Sha256(ReadOnlySpan<byte> data) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(data));

    public static void Verify(byte[] data, string expected, string name, string what)
    {
        var actual = Sha256(data);
        if (actual != expected)
        {
            throw new ImageException($"Failed to pull image '{name}': {what} digest mismatch: expected {expected}, got {actual}");
        }
    }

    private static bool ContainsOnlyLowerHex(this ReadOnlySpan<char> text)
    {
        foreach (var c in text)
        {
            if (c is not ((>= '0' and <= '9') or (>= 'a' and <= 'f')))
            {
                return false;
            }
        }

        return true;
    }
}

internal sealed class RegistrySource(ImageReference reference, string name, RegistryClient client, string architecture) : IImageSource
{
    public string Key { get; } = reference.ToString();

    public async Task<ResolvedImage> ResolveAsync(CancellationToken ct)
    {
        var (body, mediaType) = await client.GetManifestAsync(reference, reference.ManifestReference, name, ct);
        if (reference.Digest is { } pinned)
        {
            ManifestParsing.Verify(body, pinned, name, "manifest");
        }

        var document = ManifestParsing.Parse(body, name, "the manifest");
        var digest = ManifestParsing.Sha256(body);
        if (ManifestParsing.IsIndex(document, mediaType))
        {
            var chosen = ManifestParsing.PickPlatform(document, architecture, name);
            ManifestParsing.CheckDigest(chosen.Digest, name);
            (body, mediaType) = await client.GetManifestAsync(reference, chosen.Digest, name, ct);
            ManifestParsing.Verify(body, chosen.Digest, name, "manifest");
            document = ManifestParsing.Parse(body, name, $"manifest {chosen.Digest}");
            digest = chosen.Digest;
        }

        ManifestParsing.CheckManifest(document, mediaType, name);
        await using var configStream = new DigestStream(await client.OpenBlobAsync(reference, document.Config!.Digest, name, ct), document.Config.Digest, document.Config.Size);
        using var buffer = new MemoryStream();
        await configStream.CopyToAsync(buffer, ct);
        if (await configStream.FinishAsync(ct) is { } why)
        {
            throw new ImageException($"Failed to pull image '{name}': config {document.Config.Digest}: {why}");
        }

        var config = ManifestParsing.ParseConfig(buffer.ToArray(), name);
        return new ResolvedImage(digest, config.Config, document.Layers!);
    }

    public Task<Stream> OpenLayerAsync(Descriptor layer, CancellationToken ct) =>
        client.OpenBlobAsync(reference, layer.Digest, name, ct);

    public void Dispose()
    {
    }
}

/// <summary>
/// A <c>docker save</c> archive or an OCI image layout, as a directory or a tar. A tar is unpacked (regular files and
/// directories only, names checked) into a staging directory the source deletes when disposed.
/// </summary>
internal sealed class LocalSource : IImageSource
{
    private readonly string _path;
    private readonly string? _ociRef;
    private readonly string? _repoTag;
    private readonly string _name;
    private readonly string _stagingParent;
    private readonly string _architecture;
    private string? _staging;
    private string? _root;

    public LocalSource(string key, string path, string? ociRef, string? repoTag, string name, string stagingParent, string architecture)
    {
        Key = key;
        _path = path;
        _ociRef = ociRef;
        _repoTag = repoTag;
        _name = name;
        _stagingParent = stagingParent;
        _architecture = architecture;
    }

    public string Key { get; }

    public async Task<ResolvedImage> ResolveAsync(CancellationToken ct)
    {
        _root = Directory.Exists(_path) ? _path : await UnpackArchiveAsync(ct);
        if (File.Exists(Path.Join(_root, "manifest.json")))
        {
            return await ResolveDockerArchiveAsync(_root, ct);
        }

        if (File.Exists(Path.Join(_root, "index.json")))
        {
            return await ResolveOciLayoutAsync(_root, ct);
        }

        throw new ImageException($"Failed to load image '{_name}': '{_path}' is neither a docker-archive (no manifest.json) nor an OCI image layout (no index.json)");
    }

    public Task<Stream> OpenLayerAsync(Descriptor layer, CancellationToken ct)
    {
        // Layers of a docker-archive are named by path (kept in the annotations), OCI ones by digest.
        var relative = layer.Annotations?.GetValueOrDefault(PathAnnotation) ?? BlobPath(layer.Digest);
        return Task.FromResult<Stream>(File.OpenRead(Inside(_root!, relative)));
    }

    public void Dispose()
    {
        if (_staging is not null && Directory.Exists(_staging))
        {
            RootfsBuilder.Remove(_staging);
        }
    }

    private const string PathAnnotation = "mezzo.archive.path";

    private static string BlobPath(string digest) => Path.Join("blobs", "sha256", digest["sha256:".Length..]);

    private string Inside(string root, string relative)
    {
        var normalized = LayerUnpacker.NormalizeName(relative, _name, "(archive)")
            ?? throw new ImageException($"Failed to load image '{_name}': empty path in the archive's manifest");
        var full = Path.Join(root, normalized);
        return File.Exists(full) ? full : throw new ImageException($"Failed to load image '{_name}': '{relative}' is missing from '{_path}'");
    }

    private async Task<byte[]> ReadAsync(string relative, CancellationToken ct)
    {
        var full = Inside(_root!, relative);
        if (new FileInfo(full).Length > RegistryClient.MaxManifestBytes)
        {
            throw new ImageException($"Failed to load image '{_name}': '{relative}' in '{_path}' is larger than {RegistryClient.MaxManifestBytes} bytes");
        }

        return await File.ReadAllBytesAsync(full, ct);
    }

    private async Task<ResolvedImage> ResolveDockerArchiveAsync(string root, CancellationToken ct)
    {
        List<DockerArchiveEntry>? entries;
        try
        {
            entries = JsonSerializer.Deserialize(await ReadAsync("manifest.json", ct), ImageJsonContext.Default.ListDockerArchiveEntry);
        }
        catch (JsonException e)
        {
            throw new ImageException($"Failed to load image '{_name}': manifest.json in '{_path}' is not valid: {e.Message}", e);
        }

        if (entries is not { Count: > 0 })
        {
            throw new ImageException($"Failed to load image '{_name}': manifest.json in '{_path}' lists no image");
        }

        var entry = entries.Count == 1 || _repoTag is null
            ? entries[0]
            : entries.FirstOrDefault(e => e.RepoTags?.Contains(_repoTag, StringComparer.Ordinal) == true)
              ?? throw new ImageException($"Failed to load image '{_name}': '{_path}' holds no image tagged '{_repoTag}'");
        if (entry.Config is null || entry.Layers is null)
        {
            throw new ImageException($"Failed to load image '{_name}': manifest.json in '{_path}' has an entry without Config or Layers");
        }

        var configBytes = await ReadAsync(entry.Config, ct);
        var config = ManifestParsing.ParseConfig(configBytes, _name);
        var layers = new List<Descriptor>();
        var diffIds = config.Rootfs?.DiffIds;
        for (var i = 0; i < entry.Layers.Count; i++)
        {
            var layerPath = entry.Layers[i];
            var full = Inside(root, layerPath);
            string digest;
            bool gzipped;
            await using (var file = File.OpenRead(full))
            {
                gzipped = file.ReadByte() == 0x1f && file.ReadByte() == 0x8b;
                file.Position = 0;
                digest = "sha256:" + Convert.ToHexStringLower(await SHA256.HashDataAsync(file, ct));
            }

            // An archive names its layers by path, not digest: the config's diff_ids (digests of the uncompressed
            // tars) are what catches a corrupt one.
            if (!gzipped && diffIds is { } ids && ids.Count == entry.Layers.Count && ids[i] != digest)
            {
                throw new ImageException($"Failed to load image '{_name}': layer '{layerPath}' in '{_path}': digest mismatch: expected {ids[i]} (the config's diff_id), got {digest}");
            }

            layers.Add(new Descriptor { Digest = digest, Size = new FileInfo(full).Length, Annotations = new() { [PathAnnotation] = layerPath } });
        }

        return new ResolvedImage(ManifestParsing.Sha256(configBytes), config.Config, layers);
    }

    private async Task<ResolvedImage> ResolveOciLayoutAsync(string root, CancellationToken ct)
    {
        if (!File.Exists(Path.Join(root, "oci-layout")))
        {
            throw new ImageException($"Failed to load image '{_name}': '{_path}' has index.json but no oci-layout file");
        }

        var index = ManifestParsing.Parse(await ReadAsync("index.json", ct), _name, "index.json");
        var manifests = index.Manifests ?? [];
        Descriptor chosen;
        if (_ociRef is not null)
        {
            chosen = manifests.FirstOrDefault(m => m.Annotations?.GetValueOrDefault("org.opencontainers.image.ref.name") == _ociRef)
                ?? throw new ImageException($"Failed to load image '{_name}': no manifest in '{_path}' is annotated org.opencontainers.image.ref.name={_ociRef}");
        }
        else if (manifests.Count == 1)
        {
            chosen = manifests[0];
        }
        else if (manifests.Count == 0)
        {
            throw new ImageException($"Failed to load image '{_name}': index.json in '{_path}' lists no manifest");
        }
        else
        {
            chosen = manifests.FirstOrDefault(m => m.Platform is { Os: "linux" } p && p.Architecture == _architecture)
                ?? throw new ImageException($"Failed to load image '{_name}': '{_path}' holds {manifests.Count} manifests; name one as oci:<path>:<ref>");
        }

        for (var depth = 0; ; depth++)
        {
            ManifestParsing.CheckDigest(chosen.Digest, _name);
            var body = await ReadAsync(BlobPath(chosen.Digest), ct);
            ManifestParsing.Verify(body, chosen.Digest, _name, "manifest");
            var document = ManifestParsing.Parse(body, _name, $"manifest {chosen.Digest}");
            if (ManifestParsing.IsIndex(document, chosen.MediaType) && depth < 4)
            {
                chosen = ManifestParsing.PickPlatform(document, _architecture, _name);
                continue;
            }

            ManifestParsing.CheckManifest(document, chosen.MediaType, _name);
            var configBytes = await ReadAsync(BlobPath(document.Config!.Digest), ct);
            ManifestParsing.Verify(configBytes, document.Config.Digest, _name, "config");
            return new ResolvedImage(chosen.Digest, ManifestParsing.ParseConfig(configBytes, _name).Config, document.Layers!);
        }
    }

    private async Task<string> UnpackArchiveAsync(CancellationToken ct)
    {
        if (!File.Exists(_path))
        {
            throw new ImageException($"Failed to load image '{_name}': '{_path}' does not exist");
        }

        Directory.CreateDirectory(_stagingParent);
        _staging = Path.Join(_stagingParent, "archive-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_staging);
        try
        {
            await using var file = File.OpenRead(_path);
            await using var reader = new TarReader(file);
            while (await reader.GetNextEntryAsync(copyData: false, ct) is { } entry)
            {
                var relative = LayerUnpacker.NormalizeName(entry.Name, _name, "(archive)");
                if (relative is null || entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile))
                {
                    continue; // Directories come with their files; links and devices have no place in an archive's top level.
                }

                var full = Path.Join(_staging, relative);
                Directory.CreateDirectory(Path.GetDirectoryName(full)!);
                if (ImageNative.LStat(full) is not null)
                {
                    continue;
                }

                await entry.ExtractToFileAsync(full, overwrite: false, ct);
            }
        }
        catch (Exception e) when (e is InvalidDataException or FormatException or EndOfStreamException)
        {
            throw new ImageException($"Failed to load image '{_name}': '{_path}' is not a valid tar: {e.Message}", e);
        }

        return _staging;
    }
}
