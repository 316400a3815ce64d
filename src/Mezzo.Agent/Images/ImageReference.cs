using System.Text.RegularExpressions;

namespace Mezzo.Agent.Images;

/// <summary>
/// A Docker image reference, <c>[registry[:port]/]repository[:tag][@sha256:hex]</c>, parsed with Docker's rules: the
/// first component is a registry only if it has a '.' or ':' or is <c>localhost</c>; single-component names on Docker
/// Hub get <c>library/</c>; no tag and no digest means <c>latest</c>.
/// </summary>
public sealed partial record ImageReference
{
    public const string DockerHubHost = "registry-1.docker.io";
    private const int MaxNameLength = 255;

    private ImageReference(Uri registryUri, string repository, string? tag, string? digest)
    {
        RegistryUri = registryUri;
        Repository = repository;
        Tag = tag;
        Digest = digest;
    }

    /// <summary>Base URI of the registry (scheme, host, port).</summary>
    public Uri RegistryUri { get; }

    /// <summary>host[:port] of the registry.</summary>
    public string Registry => RegistryUri.IsDefaultPort ? RegistryUri.Host : $"{RegistryUri.Host}:{RegistryUri.Port}";

    /// <summary>Repository path inside the registry, e.g. <c>library/busybox</c>.</summary>
    public string Repository { get; }

    /// <summary>The tag; <c>latest</c> when neither tag nor digest was given, null when only a digest was.</summary>
    public string? Tag { get; }

    /// <summary><c>sha256:&lt;64 hex&gt;</c> when the reference pins a digest.</summary>
    public string? Digest { get; }

    /// <summary>What to ask the registry's manifest endpoint for: the digest when pinned, else the tag.</summary>
    public string ManifestReference => Digest ?? Tag!;

    public bool IsDockerHub => string.Equals(RegistryUri.Host, DockerHubHost, StringComparison.OrdinalIgnoreCase);

    public override string ToString() =>
        $"{Registry}/{Repository}" + (Tag is null ? "" : ":" + Tag) + (Digest is null ? "" : "@" + Digest);

    /// <summary>
    /// Parses <paramref name="name"/>. Names without a registry use <paramref name="defaultRegistry"/> (an http or
    /// https URI). A registry named in the reference is reached over https, except loopback hosts and the default
    /// registry's own host:port, which keep the default's scheme (so <c>--docker-registry=http://host:5000</c> also
    /// covers <c>host:5000/repo</c>).
    /// </summary>
    /// <exception cref="ImageException">The name is not a valid reference.</exception>
    public static ImageReference Parse(string name, Uri defaultRegistry)
    {
        ArgumentNullException.ThrowIfNull(defaultRegistry);
        if (string.IsNullOrWhiteSpace(name))
        {
            throw Invalid(name, "the name is empty");
        }

        if (name.Length > MaxNameLength + 200 || name.Any(char.IsWhiteSpace))
        {
            throw Invalid(name, "invalid reference format");
        }

        var remainder = name;
        string? digest = null;
        var at = remainder.IndexOf('@', StringComparison.Ordinal);
        if (at >= 0)
        {
            digest = remainder[(at + 1)..];
            remainder = remainder[..at];
            if (!DigestPattern().IsMatch(digest))
            {
                throw Invalid(name, $"digest '{digest}' is not sha256:<64 lowercase hex digits>");
            }
        }

        string? tag = null;
        var lastSlash = remainder.LastIndexOf('/');
        var colon = remainder.LastIndexOf(':');
        if (colon > lastSlash)
        {
            tag = remainder[(colon + 1)..];
            remainder = remainder[..colon];
            if (!TagPattern().IsMatch(tag))
            {
                throw Invalid(name, $"tag '{tag}' is invalid (letters, digits, '_', '.', '-', at most 128, not starting with '.' or '-')");
            }
        }

        string? domain = null;
        var slash = remainder.IndexOf('/', StringComparison.Ordinal);
        if (slash > 0)
        {
            var first = remainder[..slash];
            if (first.Contains('.', StringComparison.Ordinal) || first.Contains(':', StringComparison.Ordinal) ||
                first == "localhost" || !first.Equals(first.ToLowerInvariant(), StringComparison.Ordinal))
            {
                domain = first;
                remainder = remainder[(slash + 1)..];
            }
        }

        if (domain is not null && !DomainPattern().IsMatch(domain))
        {
            throw Invalid(name, $"registry '{domain}' is not a valid host[:port]");
        }

        if (remainder.Length == 0)
        {
            throw Invalid(name, "the repository is empty");
        }

        if (!remainder.Equals(remainder.ToLowerInvariant(), StringComparison.Ordinal))
        {
            throw Invalid(name, "repository name must be lowercase");
        }

        foreach (var component in remainder.Split('/'))
        {
            if (!PathComponentPattern().IsMatch(component))
            {
                throw Invalid(name, $"repository component '{component}' is invalid (lowercase letters and digits, separated by '.', '_', '__' or '-')");
            }
        }

        var registry = RegistryFor(domain, defaultRegistry);
        var repository = remainder;
        if (string.Equals(registry.Host, DockerHubHost, StringComparison.OrdinalIgnoreCase) && !repository.Contains('/', StringComparison.Ordinal))
        {
            repository = "library/" + repository;
        }

        if (repository.Length + (domain?.Length ?? 0) > MaxNameLength)
        {
            throw Invalid(name, $"the name is longer than {MaxNameLength} characters");
        }

        return new ImageReference(registry, repository, tag ?? (digest is null ? "latest" : null), digest);
    }

    private static Uri RegistryFor(string? domain, Uri defaultRegistry)
    {
        if (domain is null)
        {
            return new Uri(defaultRegistry.GetLeftPart(UriPartial.Authority));
        }

        if (domain is "docker.io" or "index.docker.io" or DockerHubHost)
        {
            return new Uri("https://" + DockerHubHost);
        }

        var defaultAuthority = defaultRegistry.IsDefaultPort ? defaultRegistry.Host : $"{defaultRegistry.Host}:{defaultRegistry.Port}";
        if (string.Equals(domain, defaultAuthority, StringComparison.OrdinalIgnoreCase))
        {
            return new Uri(defaultRegistry.GetLeftPart(UriPartial.Authority));
        }

        var uri = new Uri("https://" + domain);
        return IsLoopback(uri.Host) ? new Uri("http://" + domain) : uri;
    }

    internal static bool IsLoopback(string host) =>
        host is "localhost" or "[::1]" or "::1" || (System.Net.IPAddress.TryParse(host, out var ip) && System.Net.IPAddress.IsLoopback(ip));

    private static ImageException Invalid(string name, string why) => new($"Invalid image name '{name}': {why}");

    [GeneratedRegex("^sha256:[a-f0-9]{64}$")]
    private static partial Regex DigestPattern();

    [GeneratedRegex("^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")]
    private static partial Regex TagPattern();

    [GeneratedRegex("^[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*$")]
    private static partial Regex PathComponentPattern();

    [GeneratedRegex(@"^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[0-9a-fA-F:.]+\])(?::[0-9]{1,5})?$")]
    private static partial Regex DomainPattern();
}
