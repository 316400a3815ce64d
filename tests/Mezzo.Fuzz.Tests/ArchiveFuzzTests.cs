using System.Formats.Tar;
using System.IO.Compression;
using System.Text;
using AwesomeAssertions;
using FsCheck;
using FsCheck.Fluent;
using Mezzo.Agent.Fetching;
using Mezzo.Agent.Images;
using Mezzo.Fuzz.Tests.Harness;
using Microsoft.Extensions.Logging.Abstractions;

namespace Mezzo.Fuzz.Tests;

/// <summary>
/// Image layers and the fetcher's archives, the parsers that write to disk as root. Inputs are hostile archives built
/// from a grammar of entries ("..", absolute names, symlinks and hardlinks whose targets leave the destination,
/// chains of links, device nodes, deep and long names) and mutated corpus archives. Whatever happens, nothing may be
/// created outside the destination and no file from outside may be read into it; a refused archive is refused with
/// the documented exception.
/// </summary>
public abstract class ArchiveFuzzTests : IDisposable
{
    protected const int Timeout = 300_000;

    private const string Secret = "TOP-SECRET-OUTSIDE-THE-SANDBOX";

    private readonly string _root = Directory.CreateTempSubdirectory("mezzo-fuzz-").FullName;

    private int _case;

    public void Dispose()
    {
        Directory.Delete(_root, recursive: true);
        GC.SuppressFinalize(this);
    }

    protected static bool IsGzip(byte[] input) => input.Length >= 2 && input[0] == 0x1f && input[1] == 0x8b;

    /// <summary>
    /// Extracts <paramref name="input"/> into base/a/b/c/dest, with a secret file in base, and checks afterwards
    /// (whether it threw or not) that base holds nothing new, the secret is intact and not copied in, and, for the
    /// fetcher, that no symlink inside resolves outside.
    /// </summary>
    protected async Task Contained(byte[] input, string fileName, bool layer, Func<string, string, Task> extract)
    {
        var caseDirectory = Path.Join(_root, Interlocked.Increment(ref _case).ToString(System.Globalization.CultureInfo.InvariantCulture));
        var destination = Path.Join(caseDirectory, "a", "b", "c", "dest");
        Directory.CreateDirectory(destination);
        var secret = Path.Join(caseDirectory, "secret");
        await File.WriteAllTextAsync(secret, Secret);
        var archive = Path.Join(caseDirectory, fileName);
        await File.WriteAllBytesAsync(archive, input);
        string[] expected = [.. new[] { "a", "a/b", "a/b/c", "a/b/c/dest", "secret", fileName }.Order(StringComparer.Ordinal)];
        try
        {
            await extract(archive, destination);
            CheckInside(input, destination, layer);
        }
        finally
        {
            var present = Outside(caseDirectory, caseDirectory, destination).Order(StringComparer.Ordinal).ToArray();
            var escaped = Directory.Exists(Path.Join(_root, "abs")) || File.Exists("/etc/mezzo-fuzz-never") || !present.SequenceEqual(expected) || File.ReadAllText(secret) != Secret;
            Delete(caseDirectory);
            if (escaped)
            {
                throw Fuzzer.Failure(layer ? "archive-tar" : Path.GetExtension(fileName)[1..], "property", input,
                    $"wrote outside the destination: [{string.Join(", ", present)}]");
            }
        }
    }

    private static void CheckInside(byte[] input, string destination, bool layer)
    {
        // Walked by hand: .NET's recursive enumeration descends into symlinked directories, and a hostile archive's
        // link loops would send it round until the path is too long.
        foreach (var path in Outside(destination, destination, "").Select(relative => Path.Join(destination, relative)))
        {
            var info = new FileInfo(path);
            if (info.LinkTarget is not null)
            {
                // A layer's symlinks are resolved inside the container's root at run time; the fetcher's on the host.
                if (!layer && info.ResolveLinkTarget(returnFinalTarget: true) is { Exists: true } final
                    && !Path.GetFullPath(final.FullName).StartsWith(destination + "/", StringComparison.Ordinal) && Path.GetFullPath(final.FullName) != destination)
                {
                    throw Fuzzer.Failure("archive", "property", input, $"'{path}' resolves outside the destination, to '{final.FullName}'");
                }

                continue;
            }

            if (info.Attributes.HasFlag(FileAttributes.Directory) || !info.Exists || info.Length != Secret.Length)
            {
                continue;
            }

            if (File.ReadAllText(path) == Secret)
            {
                throw Fuzzer.Failure("archive", "property", input, $"'{path}' holds the content of a file outside the destination");
            }
        }
    }

    /// <summary>Every entry under <paramref name="directory"/>, relative to <paramref name="top"/>, without descending
    /// into <paramref name="destination"/> or following links.</summary>
    private static IEnumerable<string> Outside(string top, string directory, string destination)
    {
        foreach (var entry in Directory.EnumerateFileSystemEntries(directory))
        {
            yield return Path.GetRelativePath(top, entry);
            if (entry != destination && new FileInfo(entry) is { LinkTarget: null } info && info.Attributes.HasFlag(FileAttributes.Directory))
            {
                foreach (var nested in Outside(top, entry, destination))
                {
                    yield return nested;
                }
            }
        }
    }

    private static void Delete(string directory)
    {
        // A layer may have made directories read-only or immutable-looking; root deletes them anyway.
        Directory.Delete(directory, recursive: true);
    }

    protected static readonly byte[][] TarTokens =
    [
        .. new[] { "../", "../../../../", "/", "..", "\0", "ustar\0", "ustar  \0", "77777777777", "-1", "99999999999" }.Select(Encoding.UTF8.GetBytes),
        [0xff, 0xff, 0xff, 0xff], [0x80, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff],
    ];

    /// <summary>Entry names: plain, nested, through links, escaping, absolute (into the run's root, never the host's).</summary>
    private Gen<string> Names => Gen.Elements(
        "a", "a/b", "a/b/c", "d", "d/x", "l", "l/x", "l/y/z", "s", "s/evil", "up", "up/evil/file", "x", "x/y",
        "..", "../x", "../../x", "a/../../x", "./a", "a//b", "./", ".", "a/./b", "../../../../abs/x",
        _root + "/abs/x", "/" + "etc/mezzo-fuzz-never", ".wh.x", "a/.wh..wh..opq", ".wh..", "a/.wh.",
        new string('n', 300), string.Join("/", Enumerable.Repeat("deep", 200)), "é/𝄞");

    private Gen<string> LinkTargets => Gen.Elements(
        "a", "a/b", "d", "x", "..", "../..", "../../..", "../../../..", "/", _root, _root + "/abs", "/etc/passwd", "l/..",
        "s/../..", "a/b/../../..", ".", "", "d/x", "up/secret", "../../../../secret", "l/../../../../secret", "x/../../..");

    protected Gen<byte[]> TarArchive()
    {
        var kind = Gen.Frequency(
            (5, Gen.Constant(TarEntryType.RegularFile)),
            (3, Gen.Constant(TarEntryType.Directory)),
            (5, Gen.Constant(TarEntryType.SymbolicLink)),
            (4, Gen.Constant(TarEntryType.HardLink)),
            (1, Gen.Constant(TarEntryType.CharacterDevice)),
            (1, Gen.Constant(TarEntryType.Fifo)));
        var entry = Gens.Zip(kind, Names, LinkTargets);
        var format = Gen.Elements(TarEntryFormat.Pax, TarEntryFormat.Gnu, TarEntryFormat.Ustar);
        return Gens.Zip(entry.ListOf(), format, Gen.Elements(false, true)).Select(t => BuildTar(t.Item1, t.Item2, t.Item3));
    }

    private static byte[] BuildTar(IEnumerable<(TarEntryType Kind, string Name, string Link)> entries, TarEntryFormat format, bool gzip)
    {
        using var buffer = new MemoryStream();
        using (var writer = new TarWriter(buffer, format, leaveOpen: true))
        {
            foreach (var (kind, name, link) in entries)
            {
                try
                {
                    TarEntry entry = format switch
                    {
                        TarEntryFormat.Pax => new PaxTarEntry(kind, name),
                        TarEntryFormat.Gnu => new GnuTarEntry(kind, name),
                        _ => new UstarTarEntry(kind, name),
                    };
                    entry.Mode = (UnixFileMode)0b111_101_101;
                    if (kind is TarEntryType.SymbolicLink or TarEntryType.HardLink)
                    {
                        entry.LinkName = link;
                    }
                    else if (kind == TarEntryType.RegularFile)
                    {
                        entry.DataStream = new MemoryStream(Encoding.UTF8.GetBytes("content of " + name));
                    }
                    else if (kind == TarEntryType.CharacterDevice && entry is PosixTarEntry device)
                    {
                        device.DeviceMajor = 1;
                        device.DeviceMinor = 3;
                    }

                    writer.WriteEntry(entry);
                }
                catch (ArgumentException)
                {
                    // A name this format cannot hold: the entry is left out.
                }
            }
        }

        var bytes = buffer.ToArray();
        if (!gzip)
        {
            return bytes;
        }

        using var compressed = new MemoryStream();
        using (var stream = new GZipStream(compressed, CompressionLevel.Fastest, leaveOpen: true))
        {
            stream.Write(bytes);
        }

        return compressed.ToArray();
    }

    protected Gen<byte[]> ZipArchiveGen
    {
        get
        {
            var entry = Gens.Zip(Gen.Elements(0, 1, 2), Names, LinkTargets);
            return entry.ListOf().Select(entries =>
            {
                using var buffer = new MemoryStream();
                using (var zip = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
                {
                    foreach (var (kind, name, link) in entries)
                    {
                        var created = zip.CreateEntry(kind == 1 ? name.TrimEnd('/') + "/" : name);
                        if (kind == 2)
                        {
                            created.ExternalAttributes = unchecked((int)(0xA1FFu << 16));
                        }

                        using var data = created.Open();
                        if (kind != 1)
                        {
                            data.Write(Encoding.UTF8.GetBytes(kind == 2 ? link : "content of " + name));
                        }
                    }
                }

                return buffer.ToArray();
            });
        }
    }
}

/// <summary>Layers, tarballs and zips each in their own class, so xunit runs them side by side: they wait on the disk
/// far more than they compute.</summary>
public sealed class LayerFuzzTests : ArchiveFuzzTests
{
    [Fact(Timeout = Timeout)]
    public Task Image_layers() => Task.Run(async () =>
    {
        var corpus = Fuzzer.Corpus("archive-tar");
        var gen = Gen.OneOf(TarArchive(), Mutations.OfBytes(corpus, TarTokens));
        await Fuzzer.RunAsync("archive-tar", gen, input => Contained(input, "layer.tar", layer: true, async (archive, destination) =>
        {
            await using var blob = File.OpenRead(archive);
            await LayerUnpacker.UnpackAsync(blob, destination, "fuzz", "sha256:fuzz", NullLogger.Instance, CancellationToken.None);
        }), ex => ex is ImageException or InvalidDataException || (ex is IOException && ex is not FileNotFoundException));
    }, TestContext.Current.CancellationToken);
}

public sealed class FetchedTarFuzzTests : ArchiveFuzzTests
{
    [Fact(Timeout = Timeout)]
    public Task Fetched_tarballs() => Task.Run(async () =>
    {
        var corpus = Fuzzer.Corpus("archive-tar");
        var gen = Gen.OneOf(TarArchive(), Mutations.OfBytes(corpus, TarTokens));
        await Fuzzer.RunAsync("archive-tar", gen, input => Contained(input, "fetched.tar", layer: false, (archive, destination) =>
            ArchiveExtractor.ExtractAsync(archive, IsGzip(input) ? ArchiveKind.TarGzip : ArchiveKind.Tar, "fetched.tar", destination, CancellationToken.None)),
            ex => ex is InvalidDataException);
    }, TestContext.Current.CancellationToken);
}

public sealed class FetchedZipFuzzTests : ArchiveFuzzTests
{
    [Fact(Timeout = Timeout)]
    public Task Fetched_zips() => Task.Run(async () =>
    {
        var corpus = Fuzzer.Corpus("archive-zip");
        var gen = Gen.OneOf(ZipArchiveGen, Mutations.OfBytes(corpus, TarTokens));
        await Fuzzer.RunAsync("archive-zip", gen, input => Contained(input, "fetched.zip", layer: false, (archive, destination) =>
            ArchiveExtractor.ExtractAsync(archive, ArchiveKind.Zip, "fetched.zip", destination, CancellationToken.None)),
            ex => ex is InvalidDataException);
    }, TestContext.Current.CancellationToken);
}

public sealed class HostileArchiveTests : ArchiveFuzzTests
{
    /// <summary>The hostile archives of the corpus, each refused with an error naming the entry, nothing left outside.</summary>
    [Theory]
    [InlineData("archive-tar/dotdot.tar", "entry '../escape' is rejected: it has '..'")]
    [InlineData("archive-tar/absolute.tar", "entry '/tmp/escape' is rejected: it has an absolute path")]
    [InlineData("archive-tar/symlink-out.tar", "entry 'out' is rejected: it has a symlink to '../../outside'")]
    [InlineData("archive-tar/symlink-dir.tar", "entry 'lib' is rejected: it has a symlink to '/'")]
    [InlineData("archive-tar/hardlink-out.tar", "entry 'passwd' is rejected: it has a hard link to '../../etc/passwd'")]
    [InlineData("archive-tar/hardlink-abs.tar", "entry 'passwd' is rejected: it has a hard link to '/etc/passwd'")]
    [InlineData("archive-tar/chain.tar", "entry 'l2/evil/file' is rejected: it has a path through a symlink")]
    [InlineData("archive-tar/crasher-mkdir-through-symlink.tar", "entry 'l2/evil/file' is rejected: it has a path through a symlink")]
    [InlineData("archive-tar/hardlink-through-symlink.tar", "entry 'stolen' is rejected: it has a hard link to 'up/secret'")]
    [InlineData("archive-tar/crasher-path-too-long.tar", "could not be extracted: The path")]
    [InlineData("archive-zip/zip-slip.zip", "entry '../../zip-slip.txt' is rejected: it has '..'")]
    [InlineData("archive-zip/symlink-slip.zip", "entry 'link' is rejected: it has a symlink to '../../etc'")]
    [InlineData("archive-zip/crasher-path-too-long.zip", "could not be extracted: The path")]
    public async Task Hostile_fetched_archives_are_refused_naming_the_entry(string file, string expected)
    {
        var input = await File.ReadAllBytesAsync(Path.Join(AppContext.BaseDirectory, "corpus", file), TestContext.Current.CancellationToken);
        var zip = file.EndsWith(".zip", StringComparison.Ordinal);
        string? message = null;

        await Contained(input, zip ? "fetched.zip" : "fetched.tar", layer: false, async (archive, destination) =>
        {
            var kind = zip ? ArchiveKind.Zip : IsGzip(input) ? ArchiveKind.TarGzip : ArchiveKind.Tar;
            var extract = () => ArchiveExtractor.ExtractAsync(archive, kind, Path.GetFileName(archive), destination, CancellationToken.None);
            message = (await extract.Should().ThrowAsync<InvalidDataException>()).Which.Message;
        });

        message.Should().Contain(expected);
    }

    /// <summary>A layer may hold absolute symlinks (they resolve inside the container), but never writes through one.</summary>
    [Theory]
    [InlineData("archive-tar/dotdot.tar", "entry '../escape' escapes the layer (path traversal)")]
    [InlineData("archive-tar/symlink-out.tar", "entry 'out/x' lies under 'out', which is not a directory (a layer cannot write through a symlink)")]
    [InlineData("archive-tar/symlink-dir.tar", "entry 'lib/etc/evil' lies under 'lib', which is not a directory")]
    [InlineData("archive-tar/hardlink-out.tar", "entry '../../etc/passwd' escapes the layer (path traversal)")]
    [InlineData("archive-tar/hardlink-abs.tar", "hardlink 'passwd' points to absolute path '/etc/passwd'")]
    [InlineData("archive-tar/crasher-mkdir-through-symlink.tar", "entry 'l2/evil/file' lies under 'l2', which is not a directory")]
    [InlineData("archive-tar/hardlink-through-symlink.tar", "entry 'stolen' lies under 'up', which is not a directory")]
    [InlineData("archive-tar/crasher-v7-device.tar", "is a device node without device numbers (a V7 tar header)")]
    public async Task Hostile_layers_are_refused_naming_the_entry(string file, string expected)
    {
        var input = await File.ReadAllBytesAsync(Path.Join(AppContext.BaseDirectory, "corpus", file), TestContext.Current.CancellationToken);
        string? message = null;

        await Contained(input, "layer.tar", layer: true, async (archive, destination) =>
        {
            await using var blob = File.OpenRead(archive);
            var unpack = () => LayerUnpacker.UnpackAsync(blob, destination, "fuzz", "sha256:fuzz", NullLogger.Instance, CancellationToken.None);
            message = (await unpack.Should().ThrowAsync<ImageException>()).Which.Message;
        });

        message.Should().Contain(expected);
    }
}
