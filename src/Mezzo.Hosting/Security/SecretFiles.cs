using Mezzo.Core.Security;

namespace Mezzo.Hosting.Security;

/// <summary>
/// Reads files that hold secrets (credentials, ACLs are not secret but load the same way). A secret file that other
/// users may read is refused, naming the file and the fix, before the server starts: a leaked secret lets anyone act
/// as that principal.
/// </summary>
public static class SecretFiles
{
    /// <summary>Reads <c>--credentials</c>: several credentials. Throws <see cref="InvalidSecretFileException"/>.</summary>
    public static IReadOnlyList<Credential> ReadCredentials(string path, string flag = "--credentials") =>
        Parse(path, flag, Core.Security.Credentials.ParseMany);

    /// <summary>Reads a single credential (<c>--credential</c> of an agent or framework).</summary>
    public static Credential ReadCredential(string path, string flag = "--credential") =>
        Parse(path, flag, Core.Security.Credentials.ParseOne);

    /// <summary>Reads a file holding only a secret (Marathon's <c>--mesos_authentication_secret_file</c>), trimmed.</summary>
    public static string ReadSecret(string path, string flag)
    {
        var text = ReadProtected(path, flag).Trim();
        return text.Length > 0 ? text : throw new InvalidSecretFileException($"{flag} {path}: the file is empty");
    }

    /// <summary>Reads <c>--acls</c>: a path to a JSON file, or the JSON itself (Mesos accepts both).</summary>
    public static Acls ReadAcls(string pathOrJson, string flag = "--acls")
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(pathOrJson);
        string json;
        var inline = pathOrJson.TrimStart().StartsWith('{');
        var source = inline ? "(inline JSON)" : pathOrJson;
        if (inline)
        {
            json = pathOrJson;
        }
        else
        {
            var path = pathOrJson.StartsWith("file://", StringComparison.Ordinal) ? pathOrJson["file://".Length..] : pathOrJson;
            try
            {
                json = File.ReadAllText(path);
            }
            catch (Exception error) when (error is IOException or UnauthorizedAccessException)
            {
                throw new InvalidSecretFileException($"{flag} {path}: {error.Message}", error);
            }
        }

        try
        {
            return Acls.Parse(json);
        }
        catch (FormatException error)
        {
            throw new InvalidSecretFileException($"{flag} {source}: {error.Message}", error);
        }
    }

    /// <summary>The file's text, after checking that no other user may read or write it.</summary>
    public static string ReadProtected(string path, string flag)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (path.StartsWith("file://", StringComparison.Ordinal))
        {
            path = path["file://".Length..];
        }

        try
        {
            if (!OperatingSystem.IsWindows())
            {
                var mode = File.GetUnixFileMode(path);
                const UnixFileMode others = UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;
                if ((mode & others) != 0)
                {
                    throw new InvalidSecretFileException(
                        $"{flag} {path}: the file is readable or writable by every user (mode {Convert.ToString((int)mode, 8)}); "
                        + $"it holds secrets: run 'chmod 600 {path}'");
                }
            }

            return File.ReadAllText(path);
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            throw new InvalidSecretFileException($"{flag} {path}: {error.Message}", error);
        }
    }

    private static T Parse<T>(string path, string flag, Func<string, T> parse)
    {
        var text = ReadProtected(path, flag);
        try
        {
            return parse(text);
        }
        catch (FormatException error)
        {
            throw new InvalidSecretFileException($"{flag} {path}: {error.Message}", error);
        }
    }
}

/// <summary>A credentials, secret or ACL file that cannot be used; the message names the flag, the file and why.</summary>
public sealed class InvalidSecretFileException : Exception
{
    public InvalidSecretFileException(string message)
        : base(message)
    {
    }

    public InvalidSecretFileException(string message, Exception inner)
        : base(message, inner)
    {
    }

    public InvalidSecretFileException()
    {
    }
}
