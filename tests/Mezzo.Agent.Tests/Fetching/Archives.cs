using System.Formats.Tar;
using System.IO.Compression;
using System.Text;

namespace Mezzo.Agent.Tests.Fetching;

/// <summary>Archives built in memory by the tests, including hostile ones a real tar would never write.</summary>
internal static class Archives
{
    public static byte[] Tar(params TarEntry[] entries)
    {
        using var buffer = new MemoryStream();
        using (var writer = new TarWriter(buffer, TarEntryFormat.Pax, leaveOpen: true))
        {
            foreach (var entry in entries)
            {
                writer.WriteEntry(entry);
            }
        }

        return buffer.ToArray();
    }

    public static byte[] TarGz(params TarEntry[] entries) => Gzip(Tar(entries));

    public static byte[] Gzip(byte[] content)
    {
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Fastest, leaveOpen: true))
        {
            gzip.Write(content);
        }

        return buffer.ToArray();
    }

    public static TarEntry File(string name, string content, UnixFileMode mode = (UnixFileMode)0b110_100_100) =>
        new PaxTarEntry(TarEntryType.RegularFile, name)
        {
            DataStream = new MemoryStream(Encoding.UTF8.GetBytes(content)),
            Mode = mode,
        };

    public static TarEntry Directory(string name) =>
        new PaxTarEntry(TarEntryType.Directory, name) { Mode = (UnixFileMode)0b111_101_101 };

    public static TarEntry Symlink(string name, string target) =>
        new PaxTarEntry(TarEntryType.SymbolicLink, name) { LinkName = target };

    public static TarEntry HardLink(string name, string target) =>
        new PaxTarEntry(TarEntryType.HardLink, name) { LinkName = target };

    public static byte[] Zip(params (string Name, string Content)[] entries)
    {
        using var buffer = new MemoryStream();
        using (var zip = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var (name, content) in entries)
            {
                var entry = zip.CreateEntry(name);
                if (name.EndsWith('/'))
                {
                    continue;
                }

                // rwxr-xr-x regular file, the way Info-ZIP on Unix records it.
                entry.ExternalAttributes = unchecked((int)(0x81ED_0000u));
                using var stream = entry.Open();
                stream.Write(Encoding.UTF8.GetBytes(content));
            }
        }

        return buffer.ToArray();
    }
}
