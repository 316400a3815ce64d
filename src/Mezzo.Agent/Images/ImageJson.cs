using System.Text.Json;
using System.Text.Json.Serialization;

namespace Mezzo.Agent.Images;

// OCI image-spec / Docker image formats. Field names are the specs' own (camelCase in manifests, PascalCase in the
// config's "config" object and in docker-archive manifest.json), so every property is named explicitly.

internal static class MediaTypes
{
    public const string DockerManifest = "application/vnd.docker.distribution.manifest.v2+json";
    public const string DockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json";
    public const string OciManifest = "application/vnd.oci.image.manifest.v1+json";
    public const string OciIndex = "application/vnd.oci.image.index.v1+json";
    public const string DockerSchema1 = "application/vnd.docker.distribution.manifest.v1+json";
    public const string DockerSchema1Signed = "application/vnd.docker.distribution.manifest.v1+prettyjws";

    public static bool IsIndex(string? mediaType) => mediaType is DockerManifestList or OciIndex;

    public static bool IsManifest(string? mediaType) => mediaType is DockerManifest or OciManifest;
}

internal sealed class Descriptor
{
    [JsonPropertyName("mediaType")]
    public string? MediaType { get; set; }

    [JsonPropertyName("digest")]
    public string Digest { get; set; } = "";

    [JsonPropertyName("size")]
    public long Size { get; set; }

    [JsonPropertyName("platform")]
    public Platform? Platform { get; set; }

    [JsonPropertyName("annotations")]
    public Dictionary<string, string>? Annotations { get; set; }
}

internal sealed class Platform
{
    [JsonPropertyName("architecture")]
    public string? Architecture { get; set; }

    [JsonPropertyName("os")]
    public string? Os { get; set; }

    [JsonPropertyName("variant")]
    public string? Variant { get; set; }
}

/// <summary>Either an image manifest or an index / manifest list: which one is told by mediaType or by which list is set.</summary>
internal sealed class ManifestDocument
{
    [JsonPropertyName("schemaVersion")]
    public int SchemaVersion { get; set; }

    [JsonPropertyName("mediaType")]
    public string? MediaType { get; set; }

    [JsonPropertyName("config")]
    public Descriptor? Config { get; set; }

    [JsonPropertyName("layers")]
    public List<Descriptor>? Layers { get; set; }

    [JsonPropertyName("manifests")]
    public List<Descriptor>? Manifests { get; set; }
}

internal sealed class ImageConfigDocument
{
    [JsonPropertyName("architecture")]
    public string? Architecture { get; set; }

    [JsonPropertyName("os")]
    public string? Os { get; set; }

    [JsonPropertyName("config")]
    public ContainerConfigDocument? Config { get; set; }

    [JsonPropertyName("rootfs")]
    public RootfsDocument? Rootfs { get; set; }
}

internal sealed class ContainerConfigDocument
{
    [JsonPropertyName("User")]
    public string? User { get; set; }

    [JsonPropertyName("Env")]
    public List<string>? Env { get; set; }

    [JsonPropertyName("Entrypoint")]
    public List<string>? Entrypoint { get; set; }

    [JsonPropertyName("Cmd")]
    public List<string>? Cmd { get; set; }

    [JsonPropertyName("WorkingDir")]
    public string? WorkingDir { get; set; }

    [JsonPropertyName("ExposedPorts")]
    public Dictionary<string, JsonElement>? ExposedPorts { get; set; }

    [JsonPropertyName("Labels")]
    public Dictionary<string, string>? Labels { get; set; }

    [JsonPropertyName("StopSignal")]
    public string? StopSignal { get; set; }
}

internal sealed class RootfsDocument
{
    [JsonPropertyName("type")]
    public string? Type { get; set; }

    [JsonPropertyName("diff_ids")]
    public List<string>? DiffIds { get; set; }
}

/// <summary>One entry of a <c>docker save</c> archive's manifest.json.</summary>
internal sealed class DockerArchiveEntry
{
    [JsonPropertyName("Config")]
    public string? Config { get; set; }

    [JsonPropertyName("RepoTags")]
    public List<string>? RepoTags { get; set; }

    [JsonPropertyName("Layers")]
    public List<string>? Layers { get; set; }
}

internal sealed class OciLayoutDocument
{
    [JsonPropertyName("imageLayoutVersion")]
    public string? ImageLayoutVersion { get; set; }
}

internal sealed class TokenResponse
{
    [JsonPropertyName("token")]
    public string? Token { get; set; }

    [JsonPropertyName("access_token")]
    public string? AccessToken { get; set; }

    [JsonPropertyName("expires_in")]
    public int? ExpiresIn { get; set; }
}

internal sealed class RegistryErrors
{
    [JsonPropertyName("errors")]
    public List<RegistryError>? Errors { get; set; }
}

internal sealed class RegistryError
{
    [JsonPropertyName("code")]
    public string? Code { get; set; }

    [JsonPropertyName("message")]
    public string? Message { get; set; }
}

internal sealed class DockerConfigFile
{
    [JsonPropertyName("auths")]
    public Dictionary<string, DockerAuthEntry>? Auths { get; set; }
}

internal sealed class DockerAuthEntry
{
    [JsonPropertyName("auth")]
    public string? Auth { get; set; }

    [JsonPropertyName("username")]
    public string? Username { get; set; }

    [JsonPropertyName("password")]
    public string? Password { get; set; }
}

/// <summary>What the store keeps per image: everything needed to build a rootfs without the source.</summary>
internal sealed class ImageRecord
{
    [JsonPropertyName("digest")]
    public string Digest { get; set; } = "";

    [JsonPropertyName("source")]
    public string Source { get; set; } = "";

    [JsonPropertyName("layers")]
    public List<string> Layers { get; set; } = [];

    [JsonPropertyName("config")]
    public ContainerConfigDocument? Config { get; set; }

    [JsonPropertyName("last_used")]
    public DateTimeOffset LastUsed { get; set; }
}

[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull, AllowTrailingCommas = true)]
[JsonSerializable(typeof(ManifestDocument))]
[JsonSerializable(typeof(ImageConfigDocument))]
[JsonSerializable(typeof(List<DockerArchiveEntry>))]
[JsonSerializable(typeof(OciLayoutDocument))]
[JsonSerializable(typeof(TokenResponse))]
[JsonSerializable(typeof(RegistryErrors))]
[JsonSerializable(typeof(DockerConfigFile))]
[JsonSerializable(typeof(ImageRecord))]
internal sealed partial class ImageJsonContext : JsonSerializerContext;
