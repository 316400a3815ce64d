using System.Text.Json;
using System.Text.Json.Nodes;

namespace Mezzo.Cli.Client;

/// <summary>
/// Where the client verbs find the cluster: a flag (<c>--master</c>, <c>--services</c>, <c>--jobs</c>), else the
/// environment (<c>MEZZO_MASTER</c>, <c>MEZZO_SERVICES</c>, <c>MEZZO_JOBS</c>), else the config file
/// (<c>$MEZZO_CONFIG</c>, else <c>$XDG_CONFIG_HOME/mezzo/config.json</c> or <c>~/.config/mezzo/config.json</c>, keys
/// <c>master</c>, <c>services</c>, <c>jobs</c>), else the local default. Credentials resolve the same way
/// (<see cref="ClientCredentials"/>; config keys <c>principal</c> and <c>secret_file</c>).
/// </summary>
public static class ClientConfig
{
    public const string ConfigVariable = "MEZZO_CONFIG";

    /// <summary>One endpoint, where it came from (named in error messages so a stale config is easy to spot).</summary>
    public sealed record Endpoint(string Value, string Source, bool Explicit);

    public static Endpoint Resolve(string? flag, string key, string fallback)
    {
        if (!string.IsNullOrWhiteSpace(flag))
        {
            return new Endpoint(flag, $"--{key}", true);
        }

        var variable = "MEZZO_" + key.ToUpperInvariant();
        if (Environment.GetEnvironmentVariable(variable) is { Length: > 0 } fromEnvironment)
        {
            return new Endpoint(fromEnvironment, variable, true);
        }

        return ConfigString(key, "\"http://host:5050\"") is { } configured
            ? new Endpoint(configured.Value, configured.Path, true)
            : new Endpoint(fallback, "default", false);
    }

    /// <summary>A string key of the config file and the file's path, or null when there is no file or no such key.</summary>
    public static (string Value, string Path)? ConfigString(string key, string example)
    {
        var (path, config) = Load();
        if (config?[key] is not { } node)
        {
            return null;
        }

        if (node is not JsonValue value || !value.TryGetValue<string>(out var text) || text.Length == 0)
        {
            throw new CliException(ExitCodes.Usage, $"{path}: '{key}' must be a non-empty string, e.g. {example}");
        }

        return (text, path);
    }

    public static string DefaultPath()
    {
        var home = Environment.GetEnvironmentVariable("XDG_CONFIG_HOME") is { Length: > 0 } xdg
            ? xdg
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".config");
        return Path.Combine(home, "mezzo", "config.json");
    }

    private static (string Path, JsonObject? Config) Load()
    {
        var named = Environment.GetEnvironmentVariable(ConfigVariable);
        var path = string.IsNullOrEmpty(named) ? DefaultPath() : named;
        if (!File.Exists(path))
        {
            // Only a file the user named explicitly must exist; the default location is optional.
            return string.IsNullOrEmpty(named)
                ? (path, null)
                : throw new CliException(ExitCodes.Usage, $"{ConfigVariable}: '{path}' does not exist");
        }

        try
        {
            return JsonNode.Parse(File.ReadAllText(path), documentOptions: new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip }) is JsonObject config
                ? (path, config)
                : throw new CliException(ExitCodes.Usage, $"{path}: expected a JSON object like {{\"master\": \"http://host:5050\"}}");
        }
        catch (JsonException ex)
        {
            throw new CliException(ExitCodes.Usage, $"{path}: not valid JSON: {ex.Message}");
        }
        catch (IOException ex)
        {
            throw new CliException(ExitCodes.Usage, $"{path}: cannot be read: {ex.Message}");
        }
    }

    /// <summary>
    /// The base URLs of an endpoint: <c>host:port</c> gains <c>http://</c>, and a comma-separated list (as the agent's
    /// <c>MEZZO_MASTER</c> may hold) is tried in order.
    /// </summary>
    public static IReadOnlyList<Uri> BaseUris(Endpoint endpoint)
    {
        var uris = new List<Uri>();
        foreach (var entry in endpoint.Value.Split(',', StringSplitOptions.TrimEntries))
        {
            if (entry.StartsWith("etcd://", StringComparison.OrdinalIgnoreCase) || entry.StartsWith("zk://", StringComparison.OrdinalIgnoreCase))
            {
                throw new CliException(ExitCodes.Usage, $"{endpoint.Source}: '{endpoint.Value}': the CLI needs a master URL (http://host:5050); any master will do, a standby redirects to the leader");
            }

            var text = entry.Contains("://", StringComparison.Ordinal) ? entry : "http://" + entry;
            if (entry.Length == 0 || !Uri.TryCreate(text, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || uri.Host.Length == 0)
            {
                throw new CliException(ExitCodes.Usage, $"{endpoint.Source}: '{endpoint.Value}' is not a URL (expected e.g. http://127.0.0.1:5050 or 127.0.0.1:5050)");
            }

            uris.Add(new Uri(uri.GetLeftPart(UriPartial.Path).TrimEnd('/') + "/"));
        }

        return uris;
    }
}
