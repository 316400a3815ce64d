using System.Collections.Frozen;
using System.Reflection;
using System.Security.Cryptography;

namespace Mezzo.Web.Hosting;

/// <summary>One embedded file of the UI: its bytes, content type and a strong ETag over the bytes.</summary>
public sealed record WebAsset(string Name, byte[] Content, string ContentType, string ETag);

/// <summary>The UI's files, read once from the assembly's embedded resources (wwwroot/...).</summary>
public static class WebAssets
{
    private const string Prefix = "wwwroot/";

    private static readonly FrozenDictionary<string, string> ContentTypes = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
    {
        [".html"] = "text/html; charset=utf-8",
        [".js"] = "text/javascript; charset=utf-8",
        [".css"] = "text/css; charset=utf-8",
        [".svg"] = "image/svg+xml",
        [".json"] = "application/json; charset=utf-8",
        [".png"] = "image/png",
    }.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);

    /// <summary>Every asset by its path under wwwroot (e.g. <c>js/app.js</c>).</summary>
    public static FrozenDictionary<string, WebAsset> All { get; } = Load();

    /// <summary>The SPA shell every client route answers with.</summary>
    public static WebAsset Index => All["index.html"];

    /// <summary>The content type for a file name; an unknown extension is a build mistake, so it throws.</summary>
    public static string ContentTypeOf(string name) =>
        ContentTypes.TryGetValue(Path.GetExtension(name), out var type)
            ? type
            : throw new InvalidOperationException($"No content type known for web asset '{name}': add its extension to WebAssets.ContentTypes");

    private static FrozenDictionary<string, WebAsset> Load()
    {
        var assembly = typeof(WebAssets).Assembly;
        var assets = new Dictionary<string, WebAsset>(StringComparer.Ordinal);
        foreach (var resource in assembly.GetManifestResourceNames().Where(n => n.StartsWith(Prefix, StringComparison.Ordinal)))
        {
            var name = resource[Prefix.Length..];
            var content = Read(assembly, resource);
            var etag = "\"" + Convert.ToHexStringLower(SHA256.HashData(content).AsSpan(0, 16)) + "\"";
            assets[name] = new WebAsset(name, content, ContentTypeOf(name), etag);
        }

        return assets.ToFrozenDictionary(StringComparer.Ordinal);
    }

    private static byte[] Read(Assembly assembly, string resource)
    {
        using var stream = assembly.GetManifestResourceStream(resource)
            ?? throw new InvalidOperationException($"Embedded web asset '{resource}' cannot be opened");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }
}
