namespace Mezzo.Agent.Images;

/// <summary>Image store flags. Names and defaults follow Mesos's where Mesos has the flag.</summary>
public sealed class ImageOptions
{
    public const string DefaultDockerRegistry = "https://registry-1.docker.io";

    /// <summary>
    /// --docker-registry: the registry that names without a registry host are pulled from (<c>https://host[:port]</c>,
    /// <c>http://host[:port]</c> for a plain-http registry), or, as in Mesos, a local directory holding
    /// <c>docker save</c> archives named <c>&lt;repository&gt;:&lt;tag&gt;.tar</c>.
    /// </summary>
    public string DockerRegistry { get; set; } = DefaultDockerRegistry;

    /// <summary>--image-store-dir: layer cache, image records and container rootfses. Null: <c>&lt;work_dir&gt;/images</c>.</summary>
    public string? StoreDir { get; set; }

    /// <summary>--docker-config: a Docker <c>config.json</c> whose <c>auths</c> give Basic credentials per registry host.</summary>
    public string? DockerConfig { get; set; }

    /// <summary>
    /// --image-store-max-bytes: when the unpacked layers exceed this, images no container uses are removed, least
    /// recently used first, until the store fits again. 0: no bound (unused images stay until an explicit prune).
    /// </summary>
    public long StoreMaxBytes { get; set; }

    /// <summary>Platform picked from a manifest list or OCI index; defaults to the agent's own.</summary>
    public string Architecture { get; set; } = HostArchitecture();

    public string ResolveStoreDir(string workDir) => StoreDir ?? Path.Combine(workDir, "images");

    internal static string HostArchitecture() => System.Runtime.InteropServices.RuntimeInformation.OSArchitecture switch
    {
        System.Runtime.InteropServices.Architecture.X64 => "amd64",
        System.Runtime.InteropServices.Architecture.Arm64 => "arm64",
        System.Runtime.InteropServices.Architecture.X86 => "386",
        System.Runtime.InteropServices.Architecture.Arm => "arm",
        var other => other.ToString().ToLowerInvariant(),
    };
}
