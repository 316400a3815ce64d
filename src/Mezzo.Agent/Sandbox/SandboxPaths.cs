namespace Mezzo.Agent.Sandbox;

/// <summary>Confines user-supplied paths to a sandbox directory.</summary>
public static class SandboxPaths
{
    /// <summary>Resolves <paramref name="path"/> (relative to <paramref name="root"/>, or absolute) to an
    /// existing file or directory inside <paramref name="root"/>; null when it does not exist or is not
    /// allowed. Symlinks are followed, so the returned object names the real location.</summary>
    public static FileSystemInfo? Resolve(string root, string path)
    {
        try
        {
            var resolved = ResolveOrThrow(root, path);
            return Directory.Exists(resolved.RealPath) ? new DirectoryInfo(resolved.RealPath) : new FileInfo(resolved.RealPath);
        }
        catch (SandboxFileException)
        {
            return null;
        }
    }

    /// <summary>Like <see cref="Resolve"/>, but only for regular files (what /files/download may serve).</summary>
    public static FileInfo? ResolveFile(string root, string path) =>
        Resolve(root, path) is FileInfo file && SandboxNative.Stat(file.FullName, followSymlinks: true, out _) is { IsRegularFile: true }
            ? file
            : null;

    /// <summary>Like <see cref="Resolve"/>, but only for directories.</summary>
    public static DirectoryInfo? ResolveDirectory(string root, string path) => Resolve(root, path) as DirectoryInfo;

    /// <summary>True when <paramref name="path"/> is <paramref name="root"/> or below it. Both must be
    /// canonical; compares whole components so "/sb2" is not inside "/sb" (the prefix bug Mesos has).</summary>
    public static bool IsWithin(string root, string path)
    {
        if (root == "/")
        {
            return path.StartsWith('/');
        }

        var trimmed = root.TrimEnd('/');
        return path.Length == trimmed.Length
            ? string.Equals(path, trimmed, StringComparison.Ordinal)
            : path.StartsWith(trimmed, StringComparison.Ordinal) && path[trimmed.Length] == '/';
    }

    internal readonly record struct ResolvedPath(string RealRoot, string RealPath);

    internal static ResolvedPath ResolveOrThrow(string root, string path)
    {
        ArgumentNullException.ThrowIfNull(root);
        if (string.IsNullOrEmpty(path))
        {
            throw SandboxFileException.BadRequest("Expecting a non-empty path.");
        }

        if (path.Contains('\0', StringComparison.Ordinal) || root.Contains('\0', StringComparison.Ordinal))
        {
            throw SandboxFileException.BadRequest("Path must not contain NUL characters.");
        }

        var realRoot = SandboxNative.RealPath(root, out _)
            ?? throw SandboxFileException.NotFound($"Sandbox '{root}' does not exist.");

        // realpath (not a lexical normalisation) so that symlinks are resolved before the containment
        // check: "link/../x" must mean what the kernel would make of it.
        var candidate = Path.IsPathRooted(path) ? path : Path.Join(realRoot, path);
        var real = SandboxNative.RealPath(candidate, out var errno);
        if (real is null)
        {
            // Answer "not found" only for paths that would be inside the root, so that the error
            // does not reveal whether some file outside the sandbox exists.
            var lexical = Path.GetFullPath(candidate);
            if (!IsWithin(realRoot, lexical) && !IsWithin(Path.GetFullPath(root), lexical))
            {
                throw Inaccessible(path);
            }

            if (errno is SandboxNative.ENOENT or SandboxNative.ENOTDIR)
            {
                throw SandboxFileException.NotFound($"'{path}' does not exist.");
            }

            throw SandboxFileException.BadRequest(
                $"Failed to determine canonical path of '{path}': {System.Runtime.InteropServices.Marshal.GetPInvokeErrorMessage(errno)}.");
        }

        if (!IsWithin(realRoot, real))
        {
            throw Inaccessible(path);
        }

        return new ResolvedPath(realRoot, real);
    }

    internal static SandboxFileException Inaccessible(string path) =>
        SandboxFileException.BadRequest($"'{path}' is inaccessible.");
}
