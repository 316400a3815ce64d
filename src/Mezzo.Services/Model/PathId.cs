using System.Text.RegularExpressions;

namespace Mezzo.Services.Model;

/// <summary>Marathon's path ids: absolute, '/'-separated, each segment lower-case DNS-like; "." and ".." resolve.</summary>
public static partial class PathId
{
    /// <summary>Marathon's ID_PATH_SEGMENT_PATTERN, quoted in its validation message.</summary>
    public const string SegmentPattern = @"^(([a-z0-9]|[a-z0-9][a-z0-9\-]*[a-z0-9])\.)*([a-z0-9]|[a-z0-9][a-z0-9\-]*[a-z0-9])|(\.|\.\.)$";

    private static readonly string[] ReservedKeywords = ["restart", "tasks", "versions", ".", ".."];

    [GeneratedRegex(@"^(?:(([a-z0-9]|[a-z0-9][a-z0-9\-]*[a-z0-9])\.)*([a-z0-9]|[a-z0-9][a-z0-9\-]*[a-z0-9])|(\.|\.\.))$")]
    private static partial Regex Segment();

    /// <summary>The raw segments of <paramref name="id"/> (relative ids are relative to the root).</summary>
    public static IReadOnlyList<string> RawSegments(string id) => id.Split('/', StringSplitOptions.RemoveEmptyEntries);

    /// <summary>Absolute canonical form: "foo/bar/" → "/foo/bar", "/a/../b" → "/b".</summary>
    public static string Canonical(string id, string parent = "/")
    {
        var parts = id.StartsWith('/') ? new List<string>() : [.. RawSegments(parent)];
        foreach (var part in RawSegments(id))
        {
            if (part == ".")
            {
                continue;
            }

            if (part == "..")
            {
                if (parts.Count > 0)
                {
                    parts.RemoveAt(parts.Count - 1);
                }

                continue;
            }

            parts.Add(part);
        }

        return "/" + string.Join('/', parts);
    }

    /// <summary>Marathon's errors for an id as sent, or none.</summary>
    public static IEnumerable<string> Errors(string id)
    {
        var raw = RawSegments(id);
        if (!raw.All(part => Segment().IsMatch(part)))
        {
            yield return $"must fully match regular expression '{SegmentPattern}'";
        }
        else if (raw.Count > 0 && ReservedKeywords.Contains(raw[^1]))
        {
            yield return $"must not end with any of the following reserved keywords: {string.Join(", ", ReservedKeywords)}";
        }

        if (Canonical(id) == "/")
        {
            yield return "Path must contain at least one path element";
        }
    }

    /// <summary>The Mesos task id prefix Marathon derives from an app id: "/prod/web" → "prod_web".</summary>
    public static string Safe(string id) => id.TrimStart('/').Replace('/', '_');

    public static string Parent(string id)
    {
        var index = id.LastIndexOf('/');
        return index <= 0 ? "/" : id[..index];
    }
}
