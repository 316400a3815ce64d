using System.Globalization;

namespace Mezzo.Agent.Containers;

/// <summary>The uid, gid and supplementary groups a container process runs with.</summary>
public sealed record ContainerUser(uint Uid, uint Gid, IReadOnlyList<uint> AdditionalGids);

/// <summary>
/// Resolves a Docker-style user ("name", "uid", "name:group", "uid:gid") against the image's own /etc/passwd and
/// /etc/group, never the host's: names inside an image need not exist on the host, or may mean someone else there.
/// </summary>
public static class ImageUsers
{
    public static ContainerUser Resolve(string? user, string? passwd, string? group)
    {
        if (string.IsNullOrEmpty(user))
        {
            return new ContainerUser(0, 0, []);
        }

        var colon = user.IndexOf(':', StringComparison.Ordinal);
        var userPart = colon < 0 ? user : user[..colon];
        var groupPart = colon < 0 ? null : user[(colon + 1)..];
        var users = Parse(passwd);
        var groups = Parse(group);

        uint uid;
        uint gid = 0;
        string? name = null;
        if (uint.TryParse(userPart, NumberStyles.None, CultureInfo.InvariantCulture, out uid))
        {
            // A numeric uid needs no entry (as in Docker); when there is one, its primary group applies.
            var entry = users.FirstOrDefault(u => u.Length > 3 && u[2] == userPart);
            if (entry is not null)
            {
                name = entry[0];
                gid = ParseId(entry[3], user);
            }
        }
        else if (userPart == "root" && !users.Any(u => u.Length > 3 && u[0] == "root"))
        {
            // Images without a user database (scratch-based ones) still run as root when asked by name.
            uid = 0;
        }
        else
        {
            var entry = users.FirstOrDefault(u => u.Length > 3 && u[0] == userPart)
                ?? throw new ContainerLaunchException($"User '{userPart}' (from '{user}') is not in the image's /etc/passwd");
            name = userPart;
            uid = ParseId(entry[2], user);
            gid = ParseId(entry[3], user);
        }

        if (!string.IsNullOrEmpty(groupPart))
        {
            if (!uint.TryParse(groupPart, NumberStyles.None, CultureInfo.InvariantCulture, out gid))
            {
                var entry = groups.FirstOrDefault(g => g.Length > 2 && g[0] == groupPart)
                    ?? throw new ContainerLaunchException($"Group '{groupPart}' (from '{user}') is not in the image's /etc/group");
                gid = ParseId(entry[2], user);
            }
        }

        var additional = name is null
            ? []
            : groups.Where(g => g.Length > 3 && g[3].Split(',').Contains(name, StringComparer.Ordinal))
                .Select(g => ParseId(g[2], user))
                .Where(id => id != gid)
                .Distinct()
                .ToList();
        return new ContainerUser(uid, gid, additional);
    }

    private static uint ParseId(string text, string user) =>
        uint.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var id)
            ? id
            : throw new ContainerLaunchException($"The image's user database has a bad id '{text}' for '{user}'");

    private static List<string[]> Parse(string? text) =>
        text is null
            ? []
            : [.. text.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#')).Select(l => l.Split(':'))];
}
