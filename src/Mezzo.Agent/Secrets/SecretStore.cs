using System.Text;
using System.Text.Json;
using Mezzo.Protocol.V1;

namespace Mezzo.Agent.Secrets;

/// <summary>
/// Resolves the secrets of a task's environment when the agent launches it (docs/secrets.md): a VALUE secret is its
/// data; a REFERENCE secret is read from the agent's store, <c>--secrets-dir</c>, in which the reference's name is a
/// file path. Without a key the whole file is the secret (one trailing newline dropped, as editors and <c>echo</c>
/// add one); with a key the file is a JSON object and the key picks one of its members. Mesos leaves REFERENCE
/// resolution to a module; a directory of protected files is the store that needs no other service.
/// Errors name the variable and the reference, never the secret, because they become the task's TASK_FAILED message.
/// </summary>
public sealed class SecretStore(string? directory)
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>A store with no directory: VALUE secrets resolve, REFERENCE secrets fail.</summary>
    public static SecretStore None { get; } = new(null);

    private readonly string? _root = directory is null ? null : Path.GetFullPath(directory);

    /// <summary>
    /// The environment variables of <paramref name="command"/>, secrets resolved. <paramref name="resolveSecrets"/>
    /// false leaves SECRET variables out (a view rebuilt after an agent restart, where nothing is launched).
    /// </summary>
    public IEnumerable<(string Name, string Value)> Variables(CommandInfo? command, bool resolveSecrets = true)
    {
        foreach (var variable in command?.Environment?.Variables ?? [])
        {
            if (string.IsNullOrEmpty(variable.Name))
            {
                continue;
            }

            if (variable.Type == EnvironmentVariableType.SECRET || (variable.Type is null && variable.Secret is not null))
            {
                if (resolveSecrets)
                {
                    yield return (variable.Name, Resolve(variable.Name, variable.Secret));
                }
            }
            else
            {
                yield return (variable.Name, variable.Value ?? "");
            }
        }
    }

    /// <summary>The text of one secret. Throws <see cref="SecretResolutionException"/>.</summary>
    public string Resolve(string variable, Secret? secret)
    {
        if (secret is null)
        {
            throw new SecretResolutionException($"environment variable '{variable}' is of type SECRET but has no secret");
        }

        var type = secret.Type ?? (secret.Reference is not null ? SecretType.REFERENCE : SecretType.VALUE);
        return type switch
        {
            SecretType.VALUE => Text(variable, "the VALUE secret", secret.Value?.Data
                ?? throw new SecretResolutionException($"the VALUE secret of environment variable '{variable}' has no data")),
            SecretType.REFERENCE => Referenced(variable, secret.Reference
                ?? throw new SecretResolutionException($"the REFERENCE secret of environment variable '{variable}' has no reference")),
            _ => throw new SecretResolutionException($"the secret of environment variable '{variable}' has type {type}: only VALUE and REFERENCE are supported"),
        };
    }

    private string Referenced(string variable, SecretReference reference)
    {
        var name = reference.Name ?? "";
        var what = reference.Key is null ? $"secret reference '{name}'" : $"secret reference '{name}' (key '{reference.Key}')";
        var prefix = $"{what} of environment variable '{variable}'";
        if (_root is null)
        {
            throw new SecretResolutionException($"{prefix} cannot be resolved: the agent has no secret store (--secrets-dir)");
        }

        if (name.Length == 0 || Path.IsPathRooted(name) || name.Split('/').Any(part => part is ".." or ""))
        {
            throw new SecretResolutionException($"{prefix}: the name must be a relative path inside the secret store, without '..' or empty segments");
        }

        var path = Path.GetFullPath(Path.Combine(_root, name));
        byte[] bytes;
        try
        {
            // A link out of the store would let a framework read any file the agent can; links inside it are fine.
            if (new FileInfo(path).ResolveLinkTarget(returnFinalTarget: true) is { } target
                && !target.FullName.StartsWith(_root + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            {
                throw new SecretResolutionException($"{prefix}: the file is a link out of the secret store");
            }

            if (!OperatingSystem.IsWindows()
                && (File.GetUnixFileMode(path) & (UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute)) != 0)
            {
                throw new SecretResolutionException($"{prefix}: the file is readable or writable by every user; the agent refuses it until it is 'chmod 600'");
            }

            bytes = File.ReadAllBytes(path);
        }
        catch (FileNotFoundException)
        {
            throw new SecretResolutionException($"{prefix}: no such secret in the secret store");
        }
        catch (DirectoryNotFoundException)
        {
            throw new SecretResolutionException($"{prefix}: no such secret in the secret store");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new SecretResolutionException($"{prefix}: the secret cannot be read ({ex.GetType().Name})");
        }

        if (reference.Key is null)
        {
            var text = Text(variable, what, bytes);
            return text.EndsWith("\r\n", StringComparison.Ordinal) ? text[..^2] : text.EndsWith('\n') ? text[..^1] : text;
        }

        return Keyed(prefix, reference.Key, bytes);
    }

    private static string Keyed(string prefix, string key, byte[] bytes)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(bytes);
        }
        catch (JsonException)
        {
            // The parser's message quotes the offending text, which is part of the secret.
            throw new SecretResolutionException($"{prefix}: the secret is not valid JSON, so it has no keys");
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new SecretResolutionException($"{prefix}: the secret is not a JSON object, so it has no keys");
            }

            if (!document.RootElement.TryGetProperty(key, out var value))
            {
                throw new SecretResolutionException($"{prefix}: the secret has no key '{key}'");
            }

            var text = value.ValueKind == JsonValueKind.String ? value.GetString()! : value.GetRawText();
            return text.Contains('\0', StringComparison.Ordinal)
                ? throw new SecretResolutionException($"{prefix}: the value contains a NUL character, which an environment variable cannot hold")
                : text;
        }
    }

    private static string Text(string variable, string what, byte[] bytes)
    {
        string text;
        try
        {
            text = StrictUtf8.GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            throw new SecretResolutionException($"{what} of environment variable '{variable}' is not UTF-8 text, which an environment variable needs");
        }

        return text.Contains('\0', StringComparison.Ordinal)
            ? throw new SecretResolutionException($"{what} of environment variable '{variable}' contains a NUL character, which an environment variable cannot hold")
            : text;
    }
}

/// <summary>A secret of a task or executor that cannot be resolved; the message names the reference, never a value.</summary>
public sealed class SecretResolutionException : Exception
{
    public SecretResolutionException(string message)
        : base(message)
    {
    }

    public SecretResolutionException()
    {
    }

    public SecretResolutionException(string message, Exception inner)
        : base(message, inner)
    {
    }
}
