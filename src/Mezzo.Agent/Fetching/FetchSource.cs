namespace Mezzo.Agent.Fetching;

/// <summary>Where a URI's bytes come from, and the file name Mesos would give them in the sandbox.</summary>
internal sealed record FetchSource(string Display, Uri? Http, string? LocalPath, string BaseName)
{
    /// <exception cref="FormatException">The URI is empty, relative, or of a scheme Mezzo cannot fetch.</exception>
    public static FetchSource Parse(string value)
    {
        if (value.Length == 0)
        {
            throw new FormatException("the URI is empty");
        }

        if (value.Contains('\0', StringComparison.Ordinal))
        {
            throw new FormatException("the URI contains a NUL character");
        }

        if (value.StartsWith('/'))
        {
            return new FetchSource(value, null, value, Path.GetFileName(value));
        }

        if (!Uri.TryCreate(value, UriKind.Absolute, out var uri))
        {
            // Mesos resolves these against --frameworks_home, a flag Mezzo does not have.
            throw new FormatException("not a URI or an absolute path (relative paths are not supported)");
        }

        if (uri.Scheme == Uri.UriSchemeFile)
        {
            if (uri.Host is not ("" or "localhost"))
            {
                throw new FormatException($"file URIs must name a local file, not one on host '{uri.Host}'");
            }

            return new FetchSource(value, null, uri.LocalPath, Path.GetFileName(uri.LocalPath));
        }

        if (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)
        {
            // The last path segment, query left out and percent-escapes decoded ("a%20b.tgz?x=1" -> "a b.tgz").
            var path = uri.AbsolutePath;
            var segment = path[(path.LastIndexOf('/') + 1)..];
            var name = Uri.UnescapeDataString(segment);
            if (name.Contains('/', StringComparison.Ordinal))
            {
                throw new FormatException($"the file name in the URI decodes to '{name}', which is not a plain file name; set output_file");
            }

            return new FetchSource(value, uri, null, name);
        }

        throw new FormatException($"unsupported URI scheme '{uri.Scheme}' (supported: http, https, file and absolute paths)");
    }

    /// <summary>Returns <paramref name="name"/> if it names a file inside the sandbox: relative, no "..", not empty.</summary>
    /// <exception cref="FormatException">It does not.</exception>
    public static string ValidateOutputName(string name, string what)
    {
        if (string.IsNullOrEmpty(name) || name.EndsWith('/'))
        {
            throw new FormatException(what == "output_file"
                ? $"output_file '{name}' does not name a file"
                : "cannot tell a file name from the URI; set output_file");
        }

        if (name.Contains('\0', StringComparison.Ordinal))
        {
            throw new FormatException($"{what} '{name}' contains a NUL character");
        }

        if (name.StartsWith('/'))
        {
            throw new FormatException($"{what} '{name}' must be a relative path");
        }

        var parts = name.Split('/');
        if (parts.Any(p => p == ".."))
        {
            throw new FormatException($"{what} '{name}' must not contain '..'");
        }

        if (parts[^1] == ".")
        {
            throw new FormatException($"{what} '{name}' does not name a file");
        }

        return name;
    }
}
