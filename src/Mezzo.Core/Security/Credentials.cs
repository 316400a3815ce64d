using System.Text.Json;

namespace Mezzo.Core.Security;

/// <summary>A principal and its secret, as Mesos's <c>Credential</c>.</summary>
public sealed record Credential(string Principal, string Secret)
{
    // The secret must never reach a log line or an exception message through a record's generated ToString.
    public override string ToString() => $"Credential {{ Principal = {Principal} }}";

    /// <summary>The parameter of an <c>Authorization: Basic</c> header logging in as this credential (RFC 7617).</summary>
    public string BasicParameter() => Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"{Principal}:{Secret}"));
}

/// <summary>
/// The credentials a process accepts (<c>--credentials</c>) or presents (<c>--credential</c>), in Mesos's two formats:
/// JSON <c>{"credentials": [{"principal": "p", "secret": "s"}]}</c> (a single credential file is
/// <c>{"principal": "p", "secret": "s"}</c>), or text with one <c>principal secret</c> pair per line.
/// </summary>
public static class Credentials
{
    /// <summary>Parses a credentials file's text; throws <see cref="FormatException"/> naming the bad entry (never a secret).</summary>
    public static IReadOnlyList<Credential> ParseMany(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var trimmed = text.TrimStart();
        var list = trimmed.StartsWith('{') ? ParseJson(trimmed) : ParseText(text);
        if (list.Count == 0)
        {
            throw new FormatException("The credentials file names no credentials");
        }

        var duplicate = list.GroupBy(credential => credential.Principal, StringComparer.Ordinal).FirstOrDefault(group => group.Count() > 1);
        if (duplicate is not null)
        {
            throw new FormatException($"The credentials file names principal '{duplicate.Key}' more than once");
        }

        return list;
    }

    /// <summary>Parses a single credential (an agent's or framework's <c>--credential</c>); a file of several is refused.</summary>
    public static Credential ParseOne(string text)
    {
        var all = ParseMany(text);
        return all.Count == 1 ? all[0] : throw new FormatException($"A credential file must hold exactly one credential, not {all.Count}");
    }

    private static List<Credential> ParseJson(string json)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 8 });
        }
        catch (JsonException error)
        {
            // JsonException's message quotes no input, only a position.
            throw new FormatException($"The credentials file is not valid JSON: {error.Message}", error);
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new FormatException("The credentials file must be a JSON object");
            }

            if (root.TryGetProperty("principal", out _))
            {
                return [ParseEntry(root, "the credential")];
            }

            if (!root.TryGetProperty("credentials", out var array) || array.ValueKind != JsonValueKind.Array)
            {
                throw new FormatException("The credentials file must have a 'credentials' array (or be one {\"principal\", \"secret\"} object)");
            }

            var list = new List<Credential>();
            var index = 0;
            foreach (var entry in array.EnumerateArray())
            {
                list.Add(ParseEntry(entry, $"credentials[{index}]"));
                index++;
            }

            return list;
        }
    }

    private static Credential ParseEntry(JsonElement entry, string where)
    {
        if (entry.ValueKind != JsonValueKind.Object)
        {
            throw new FormatException($"{where} must be an object with 'principal' and 'secret'");
        }

        string? principal = null;
        string? secret = null;
        foreach (var field in entry.EnumerateObject())
        {
            switch (field.Name)
            {
                case "principal":
                    principal = field.Value.ValueKind == JsonValueKind.String ? field.Value.GetString() : throw new FormatException($"{where}.principal must be a string");
                    break;
                case "secret":
                    secret = field.Value.ValueKind == JsonValueKind.String ? field.Value.GetString() : throw new FormatException($"{where}.secret must be a string");
                    break;
                default:
                    throw new FormatException($"{where} has an unknown field '{field.Name}'");
            }
        }

        return Validate(principal, secret, where);
    }

    private static List<Credential> ParseText(string text)
    {
        var list = new List<Credential>();
        var lineNumber = 0;
        foreach (var raw in text.Split('\n'))
        {
            lineNumber++;
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }

            var parts = line.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length != 2)
            {
                throw new FormatException($"Line {lineNumber} of the credentials file must be 'principal secret' ({parts.Length} words found)");
            }

            list.Add(Validate(parts[0], parts[1], $"line {lineNumber}"));
        }

        return list;
    }

    private static Credential Validate(string? principal, string? secret, string where)
    {
        if (string.IsNullOrEmpty(principal))
        {
            throw new FormatException($"{where} has no principal");
        }

        if (principal.Contains(':', StringComparison.Ordinal) || principal.Any(char.IsControl))
        {
            // HTTP Basic splits user and password at the first colon.
            throw new FormatException($"{where}: principal '{principal}' may not contain ':' or control characters");
        }

        if (string.IsNullOrEmpty(secret))
        {
            throw new FormatException($"{where} (principal '{principal}') has no secret");
        }

        return new Credential(principal, secret);
    }
}
