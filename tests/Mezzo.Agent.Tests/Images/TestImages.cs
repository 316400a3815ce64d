using System.Formats.Tar;
using System.IO.Compression;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Mezzo.Agent.Tests.Images;

/// <summary>Builds layer tars in memory: entries are written in the order they are added.</summary>
internal sealed class LayerBuilder
{
    private static readonly DateTimeOffset Epoch = new(2024, 1, 2, 3, 4, 5, TimeSpan.Zero);
    private readonly List<TarEntry> _entries = [];

    public LayerBuilder Dir(string path, UnixFileMode mode = (UnixFileMode)0x1ED)
    {
        _entries.Add(new PaxTarEntry(TarEntryType.Directory, path) { Mode = mode, ModificationTime = Epoch });
        return this;
    }

    public LayerBuilder File(string path, byte[] content, UnixFileMode mode = (UnixFileMode)0x1A4)
    {
        _entries.Add(new PaxTarEntry(TarEntryType.RegularFile, path) { Mode = mode, ModificationTime = Epoch, DataStream = new MemoryStream(content) });
        return this;
    }

    public LayerBuilder File(string path, string content, UnixFileMode mode = (UnixFileMode)0x1A4) => File(path, Encoding.UTF8.GetBytes(content), mode);

    public LayerBuilder Symlink(string path, string target)
    {
        _entries.Add(new PaxTarEntry(TarEntryType.SymbolicLink, path) { LinkName = target, ModificationTime = Epoch });
        return this;
    }

    public LayerBuilder HardLink(string path, string target)
    {
        _entries.Add(new PaxTarEntry(TarEntryType.HardLink, path) { LinkName = target, ModificationTime = Epoch });
        return this;
    }

    public LayerBuilder CharDevice(string path, int major, int minor)
    {
        _entries.Add(new PaxTarEntry(TarEntryType.CharacterDevice, path) { DeviceMajor = major, DeviceMinor = minor, Mode = (UnixFileMode)0x1B6, ModificationTime = Epoch });
        return this;
    }

    /// <summary>busybox-static as /bin/busybox with a few applet symlinks, plus /etc, /tmp and a hardlinked copy.</summary>
    public static LayerBuilder Busybox() => new LayerBuilder()
        .Dir("bin/")
        .File("bin/busybox", System.IO.File.ReadAllBytes(BusyboxPath), (UnixFileMode)0x1ED)
        .Symlink("bin/sh", "busybox")
        .Symlink("bin/echo", "/bin/busybox")
        .Symlink("bin/cat", "busybox")
        .HardLink("bin/ls", "bin/busybox")
        .Dir("etc/")
        .File("etc/passwd", "root:x:0:0:root:/root:/bin/sh\n")
        .Dir("tmp/", (UnixFileMode)0x3FF | UnixFileMode.StickyBit);

    public const string BusyboxPath = "/bin/busybox";

    public byte[] Tar()
    {
        using var buffer = new MemoryStream();
        using (var writer = new TarWriter(buffer, TarEntryFormat.Pax, leaveOpen: true))
        {
            foreach (var entry in _entries)
            {
                entry.DataStream?.Seek(0, SeekOrigin.Begin);
                writer.WriteEntry(entry);
            }
        }

        return buffer.ToArray();
    }

    public byte[] Gzip() => Compress(Tar());

    public static byte[] Compress(byte[] data)
    {
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Fastest, leaveOpen: true))
        {
            gzip.Write(data);
        }

        return buffer.ToArray();
    }
}

/// <summary>One image: layer blobs as stored (gzip or plain tar), a config and a manifest.</summary>
internal sealed class TestImage
{
    public const string DockerManifest = "application/vnd.docker.distribution.manifest.v2+json";
    public const string DockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json";
    public const string OciManifest = "application/vnd.oci.image.manifest.v1+json";
    public const string OciIndex = "application/vnd.oci.image.index.v1+json";

    private TestImage(List<byte[]> layers, List<byte[]> diffTars, byte[] config, byte[] manifest, string manifestType)
    {
        Layers = layers;
        LayerTars = diffTars;
        Config = config;
        Manifest = manifest;
        ManifestType = manifestType;
    }

    public List<byte[]> Layers { get; }

    /// <summary>The uncompressed tars (what a docker-archive holds).</summary>
    public List<byte[]> LayerTars { get; }

    public byte[] Config { get; }

    public byte[] Manifest { get; }

    public string ManifestType { get; }

    public string ManifestDigest => Digest(Manifest);

    public string ConfigDigest => Digest(Config);

    public IEnumerable<string> LayerDigests => Layers.Select(Digest);

    public static string Digest(byte[] data) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(data));

    public static TestImage Create(IReadOnlyList<LayerBuilder> layers, bool oci = false, bool gzip = true, string architecture = "amd64",
        string[]? entrypoint = null, string[]? cmd = null, string[]? env = null, string? workingDir = null, string? user = null, string[]? ports = null)
    {
        var tars = layers.Select(l => l.Tar()).ToList();
        var blobs = tars.Select(t => gzip ? LayerBuilder.Compress(t) : t).ToList();
        var containerConfig = new JsonObject();
        if (entrypoint is not null)
        {
            containerConfig["Entrypoint"] = new JsonArray([.. entrypoint.Select(e => (JsonNode)e)]);
        }

        if (cmd is not null)
        {
            containerConfig["Cmd"] = new JsonArray([.. cmd.Select(e => (JsonNode)e)]);
        }

        containerConfig["Env"] = new JsonArray([.. (env ?? ["PATH=/bin"]).Select(e => (JsonNode)e)]);
        if (workingDir is not null)
        {
            containerConfig["WorkingDir"] = workingDir;
        }

        if (user is not null)
        {
            containerConfig["User"] = user;
        }

        if (ports is not null)
        {
            var exposed = new JsonObject();
            foreach (var port in ports)
            {
                exposed[port] = new JsonObject();
            }

            containerConfig["ExposedPorts"] = exposed;
        }

        var config = new JsonObject
        {
            ["architecture"] = architecture,
            ["os"] = "linux",
            ["config"] = containerConfig,
            ["rootfs"] = new JsonObject { ["type"] = "layers", ["diff_ids"] = new JsonArray([.. tars.Select(t => (JsonNode)Digest(t))]) },
        };
        var configBytes = Encoding.UTF8.GetBytes(config.ToJsonString());
        var layerType = oci
            ? (gzip ? "application/vnd.oci.image.layer.v1.tar+gzip" : "application/vnd.oci.image.layer.v1.tar")
            : (gzip ? "application/vnd.docker.image.rootfs.diff.tar.gzip" : "application/vnd.docker.image.rootfs.diff.tar");
        var manifestType = oci ? OciManifest : DockerManifest;
        var manifest = new JsonObject
        {
            ["schemaVersion"] = 2,
            ["mediaType"] = manifestType,
            ["config"] = Descriptor(oci ? "application/vnd.oci.image.config.v1+json" : "application/vnd.docker.container.image.v1+json", configBytes),
            ["layers"] = new JsonArray([.. blobs.Select(b => (JsonNode)Descriptor(layerType, b))]),
        };
        return new TestImage(blobs, tars, configBytes, Encoding.UTF8.GetBytes(manifest.ToJsonString()), manifestType);
    }

    public static JsonObject Descriptor(string mediaType, byte[] content, string? architecture = null, string? refName = null)
    {
        var descriptor = new JsonObject { ["mediaType"] = mediaType, ["digest"] = Digest(content), ["size"] = content.Length };
        if (architecture is not null)
        {
            descriptor["platform"] = new JsonObject { ["architecture"] = architecture, ["os"] = "linux" };
        }

        if (refName is not null)
        {
            descriptor["annotations"] = new JsonObject { ["org.opencontainers.image.ref.name"] = refName };
        }

        return descriptor;
    }

    /// <summary>An index / manifest list over (image, architecture) pairs.</summary>
    public static (byte[] Body, string MediaType) Index(bool oci, params (TestImage Image, string Architecture)[] entries)
    {
        var type = oci ? OciIndex : DockerManifestList;
        var index = new JsonObject
        {
            ["schemaVersion"] = 2,
            ["mediaType"] = type,
            ["manifests"] = new JsonArray([.. entries.Select(e => (JsonNode)Descriptor(e.Image.ManifestType, e.Image.Manifest, e.Architecture))]),
        };
        return (Encoding.UTF8.GetBytes(index.ToJsonString()), type);
    }

    /// <summary>Writes a <c>docker save</c>-style archive: manifest.json, the config, and each layer as &lt;n&gt;/layer.tar.</summary>
    public void WriteDockerArchive(string path, string repoTag)
    {
        using var file = System.IO.File.Create(path);
        using var writer = new TarWriter(file, TarEntryFormat.Pax);
        var configName = ConfigDigest["sha256:".Length..] + ".json";
        var layerNames = LayerTars.Select((_, i) => $"layer{i}/layer.tar").ToList();
        var manifest = new JsonArray(new JsonObject
        {
            ["Config"] = configName,
            ["RepoTags"] = new JsonArray(repoTag),
            ["Layers"] = new JsonArray([.. layerNames.Select(n => (JsonNode)n)]),
        });
        Add(writer, "manifest.json", Encoding.UTF8.GetBytes(manifest.ToJsonString()));
        Add(writer, configName, Config);
        for (var i = 0; i < LayerTars.Count; i++)
        {
            writer.WriteEntry(new PaxTarEntry(TarEntryType.Directory, $"layer{i}/"));
            Add(writer, layerNames[i], LayerTars[i]);
        }
    }

    /// <summary>Writes an OCI image layout directory holding this image (annotated <paramref name="refName"/>).</summary>
    public void WriteOciLayout(string dir, string? refName = null)
    {
        var blobs = Path.Join(dir, "blobs", "sha256");
        Directory.CreateDirectory(blobs);
        foreach (var blob in Layers.Append(Config).Append(Manifest))
        {
            System.IO.File.WriteAllBytes(Path.Join(blobs, Digest(blob)["sha256:".Length..]), blob);
        }

        System.IO.File.WriteAllText(Path.Join(dir, "oci-layout"), """{"imageLayoutVersion":"1.0.0"}""");
        var index = new JsonObject
        {
            ["schemaVersion"] = 2,
            ["mediaType"] = OciIndex,
            ["manifests"] = new JsonArray(Descriptor(ManifestType, Manifest, refName: refName)),
        };
        System.IO.File.WriteAllText(Path.Join(dir, "index.json"), index.ToJsonString());
    }

    /// <summary>Tars a directory (e.g. an OCI layout) into <paramref name="path"/>.</summary>
    public static void TarDirectory(string dir, string path)
    {
        using var file = System.IO.File.Create(path);
        TarFile.CreateFromDirectory(dir, file, includeBaseDirectory: false);
    }

    private static void Add(TarWriter writer, string name, byte[] content) =>
        writer.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(content), Mode = (UnixFileMode)0x1A4 });
}

/// <summary>Pushes with the registry API itself: blob upload (POST, then PUT with the digest) and manifest PUT.</summary>
internal static class RegistryPush
{
    public static async Task PushAsync(HttpClient http, Uri registry, string repository, string tag, TestImage image)
    {
        foreach (var blob in image.Layers.Append(image.Config))
        {
            await PushBlobAsync(http, registry, repository, blob);
        }

        await PushManifestAsync(http, registry, repository, tag, image.Manifest, image.ManifestType);
    }

    public static async Task PushBlobAsync(HttpClient http, Uri registry, string repository, byte[] blob)
    {
        using var start = await http.PostAsync(new Uri(registry, $"/v2/{repository}/blobs/uploads/"), null);
        Assert.Equal(System.Net.HttpStatusCode.Accepted, start.StatusCode);
        var location = new Uri(registry, start.Headers.Location!);
        var separator = location.Query.Length > 0 ? "&" : "?";
        using var content = new ByteArrayContent(blob);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        using var put = await http.PutAsync(new Uri(location + separator + "digest=" + Uri.EscapeDataString(TestImage.Digest(blob))), content);
        Assert.True(put.IsSuccessStatusCode, $"blob upload: {put.StatusCode} {await put.Content.ReadAsStringAsync()}");
    }

    public static async Task PushManifestAsync(HttpClient http, Uri registry, string repository, string reference, byte[] manifest, string mediaType)
    {
        using var content = new ByteArrayContent(manifest);
        content.Headers.ContentType = new MediaTypeHeaderValue(mediaType);
        using var put = await http.PutAsync(new Uri(registry, $"/v2/{repository}/manifests/{reference}"), content);
        Assert.True(put.IsSuccessStatusCode, $"manifest PUT: {put.StatusCode} {await put.Content.ReadAsStringAsync()}");
    }
}
