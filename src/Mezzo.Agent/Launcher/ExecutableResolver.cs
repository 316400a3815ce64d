namespace Mezzo.Agent.Launcher;

internal static class ExecutableResolver
{
    /// <summary>What a login shell would use; Mesos also falls back to a fixed PATH when the task has none.</summary>
    internal const string DefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    /// <summary>Returns an absolute path. The search uses the task's PATH, not the agent's: the task
    /// must behave the same whatever environment the agent happened to be started with.</summary>
    internal static string Resolve(string executable, string? pathVariable, string workingDirectory)
    {
        if (string.IsNullOrEmpty(executable))
        {
            throw new LaunchException("No executable given");
        }

        if (executable.Contains('/', StringComparison.Ordinal))
        {
            // Relative paths are relative to the task's working directory, as they would be after
            // the chdir in the child; resolving here lets us report a precise error.
            var candidate = Path.IsPathRooted(executable) ? executable : Path.Join(workingDirectory, executable);
            if (!File.Exists(candidate))
            {
                throw new LaunchException($"Failed to execute '{executable}': No such file or directory");
            }

            if (!IsExecutable(candidate))
            {
                throw new LaunchException($"Failed to execute '{executable}': Permission denied");
            }

            return Path.GetFullPath(candidate);
        }

        var path = string.IsNullOrEmpty(pathVariable) ? DefaultPath : pathVariable;
        foreach (var directory in path.Split(':'))
        {
            // An empty PATH entry means the current directory, which for the task is its working directory.
            var baseDirectory = directory.Length == 0 ? workingDirectory
                : Path.IsPathRooted(directory) ? directory
                : Path.Join(workingDirectory, directory);
            var candidate = Path.Join(baseDirectory, executable);
            if (File.Exists(candidate) && IsExecutable(candidate))
            {
                return Path.GetFullPath(candidate);
            }
        }

        throw new LaunchException($"Failed to execute '{executable}': executable not found in PATH '{path}'");
    }

    // access(X_OK) rather than looking at mode bits: it also honours ACLs and read-only/noexec mounts,
    // and for root it still requires at least one execute bit on a regular file.
    private static bool IsExecutable(string path) => LibC.access(path, LibC.X_OK) == 0;
}
