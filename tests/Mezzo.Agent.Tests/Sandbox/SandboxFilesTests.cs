using System.Text;
using System.Text.Json;
using AwesomeAssertions;
using Mezzo.Agent.Sandbox;

namespace Mezzo.Agent.Tests.Sandbox;

public sealed class SandboxFilesTests : IDisposable
{
    private const string Content = "hello world\n";
    private static readonly DateTime FixedTime = new(2024, 5, 6, 7, 8, 9, DateTimeKind.Utc);

    private readonly DirectoryInfo _parent = Directory.CreateTempSubdirectory("mezzo-sandbox-");
    private readonly string _root;
    private readonly string _sibling;

    public SandboxFilesTests()
    {
        _root = Path.Join(_parent.FullName, "sandbox");
        _sibling = Path.Join(_parent.FullName, "sandbox2");
        Directory.CreateDirectory(Path.Join(_root, "dir"));
        Directory.CreateDirectory(_sibling);

        var stdout = Path.Join(_root, "stdout");
        File.WriteAllText(stdout, Content);
        File.SetUnixFileMode(stdout, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        File.SetLastWriteTimeUtc(stdout, FixedTime);
        File.WriteAllText(Path.Join(_root, "dir", "nested.txt"), "nested");
        File.WriteAllText(Path.Join(_sibling, "secret"), "secret");
        File.WriteAllText(Path.Join(_parent.FullName, "outside.txt"), "outside");

        File.CreateSymbolicLink(Path.Join(_root, "link-in"), "stdout");
        File.CreateSymbolicLink(Path.Join(_root, "link-passwd"), "/etc/passwd");
        Directory.CreateSymbolicLink(Path.Join(_root, "link-etc"), "/etc");
        File.CreateSymbolicLink(Path.Join(_root, "dangling"), Path.Join(_root, "missing"));
    }

    public void Dispose() => _parent.Delete(recursive: true);

    private static SandboxFileException ReadFails(string root, string path, long offset = 0, long? length = null) =>
        FluentActions.Invoking(() => SandboxFiles.Read(root, path, offset, length))
            .Should().Throw<SandboxFileException>().Which;

    [Fact]
    public void Reads_the_whole_file_by_default()
    {
        SandboxFiles.Read(_root, "stdout", 0, null).Should().Be(new FileReadResult(0, Content));
    }

    [Fact]
    public void Reads_a_slice_at_an_offset()
    {
        SandboxFiles.Read(_root, "stdout", 6, 5).Should().Be(new FileReadResult(6, "world"));
        SandboxFiles.Read(_root, "stdout", 6, 1000).Should().Be(new FileReadResult(6, "world\n"));
    }

    [Fact]
    public void Offset_minus_one_returns_the_file_size_and_no_data()
    {
        SandboxFiles.Read(_root, "stdout", -1, null).Should().Be(new FileReadResult(Content.Length, ""));
        SandboxFiles.Read(_root, "stdout", -1, 5).Should().Be(new FileReadResult(Content.Length, ""));
    }

    [Fact]
    public void Offset_past_the_end_returns_no_data_and_echoes_the_offset()
    {
        SandboxFiles.Read(_root, "stdout", Content.Length, null).Should().Be(new FileReadResult(Content.Length, ""));
        SandboxFiles.Read(_root, "stdout", 1000, 10).Should().Be(new FileReadResult(1000, ""));
    }

    [Fact]
    public void Length_zero_returns_no_data_and_length_minus_one_means_everything()
    {
        SandboxFiles.Read(_root, "stdout", 3, 0).Should().Be(new FileReadResult(3, ""));
        SandboxFiles.Read(_root, "stdout", 0, -1).Should().Be(new FileReadResult(0, Content));
    }

    [Fact]
    public void Negative_offsets_and_lengths_are_bad_requests()
    {
        ReadFails(_root, "stdout", offset: -2).Kind.Should().Be(SandboxFileErrorKind.BadRequest);
        ReadFails(_root, "stdout", length: -2).Kind.Should().Be(SandboxFileErrorKind.BadRequest);
    }

    [Fact]
    public void Reads_are_capped_at_one_mebibyte()
    {
        var big = Path.Join(_root, "big");
        File.WriteAllBytes(big, Enumerable.Repeat((byte)'x', 3 * SandboxFiles.MaxReadLength).ToArray());

        SandboxFiles.Read(_root, "big", 0, null).Data.Length.Should().Be(SandboxFiles.MaxReadLength);
        SandboxFiles.Read(_root, "big", SandboxFiles.MaxReadLength * 2L + 10, null).Data.Length
            .Should().Be(SandboxFiles.MaxReadLength - 10);
    }

    [Fact]
    public void Invalid_utf8_is_replaced_not_rejected()
    {
        File.WriteAllBytes(Path.Join(_root, "binary"), [0x61, 0xFF, 0x62]);

        SandboxFiles.Read(_root, "binary", 0, null).Data.Should().Be("a\uFFFDb");
    }

    [Fact]
    public void Absolute_paths_inside_the_root_are_allowed()
    {
        SandboxFiles.Read(_root, Path.Join(_root, "dir", "nested.txt"), 0, null).Data.Should().Be("nested");
    }

    [Fact]
    public void Symlinks_that_stay_inside_the_root_are_followed()
    {
        SandboxFiles.Read(_root, "link-in", 0, null).Data.Should().Be(Content);
        SandboxFiles.Read(_root, "dir/../stdout", 0, null).Data.Should().Be(Content);
    }

    [Theory]
    [InlineData("../../etc/passwd")]
    [InlineData("../../../etc/passwd")]
    [InlineData("../outside.txt")]
    [InlineData("dir/../../outside.txt")]
    [InlineData("../no-such-file")]
    [InlineData("/etc/passwd")]
    [InlineData("link-passwd")]
    [InlineData("link-etc/passwd")]
    [InlineData("stdout\0.txt")]
    public void Escapes_from_the_root_are_bad_requests(string path)
    {
        ReadFails(_root, path).Kind.Should().Be(SandboxFileErrorKind.BadRequest);
        SandboxPaths.Resolve(_root, path).Should().BeNull();
    }

    [Fact]
    public void A_sibling_directory_sharing_the_root_prefix_is_outside()
    {
        var secret = Path.Join(_sibling, "secret");

        ReadFails(_root, secret).Kind.Should().Be(SandboxFileErrorKind.BadRequest);
        ReadFails(_root, "../sandbox2/secret").Kind.Should().Be(SandboxFileErrorKind.BadRequest);
    }

    [Fact]
    public void Missing_files_are_not_found()
    {
        ReadFails(_root, "missing").Kind.Should().Be(SandboxFileErrorKind.NotFound);
        ReadFails(_root, "dangling").Kind.Should().Be(SandboxFileErrorKind.NotFound);
        ReadFails(Path.Join(_parent.FullName, "no-sandbox"), "stdout").Kind.Should().Be(SandboxFileErrorKind.NotFound);
    }

    [Fact]
    public void Directories_cannot_be_read()
    {
        var error = ReadFails(_root, "dir");

        error.Kind.Should().Be(SandboxFileErrorKind.BadRequest);
        error.Message.Should().Be("Cannot read a directory.");
    }

    [Fact]
    public async Task A_fifo_is_rejected_without_blocking()
    {
        TestNative.mkfifo(Path.Join(_root, "fifo"), 0b110_100_100).Should().Be(0);

        var read = Task.Run(() => ReadFails(_root, "fifo"));

        (await read.WaitAsync(Eventually.DefaultTimeout, TestContext.Current.CancellationToken)).Kind
            .Should().Be(SandboxFileErrorKind.BadRequest);
    }

    [Fact]
    public void Resolve_returns_the_real_location()
    {
        SandboxPaths.Resolve(_root, "link-in").Should().BeOfType<FileInfo>()
            .Which.FullName.Should().Be(Path.Join(_root, "stdout"));
        SandboxPaths.Resolve(_root, "dir").Should().BeOfType<DirectoryInfo>();
        SandboxPaths.Resolve(_root, ".").Should().BeOfType<DirectoryInfo>().Which.FullName.Should().Be(_root);
        SandboxPaths.Resolve(_root, "missing").Should().BeNull();

        SandboxPaths.ResolveFile(_root, "link-in").Should().NotBeNull();
        SandboxPaths.ResolveFile(_root, "dir").Should().BeNull();
        SandboxPaths.ResolveFile(_root, "link-passwd").Should().BeNull();
        SandboxPaths.ResolveDirectory(_root, "dir").Should().NotBeNull();
        SandboxPaths.ResolveDirectory(_root, "stdout").Should().BeNull();
    }

    [Fact]
    public void Browse_lists_entries_sorted_with_Mesos_fields()
    {
        var listing = SandboxFiles.Browse(_root, "/" + Path.GetRelativePath("/", _root) + "/");

        listing.Select(e => Path.GetFileName(e.Path)).Should().Equal("dir", "link-etc", "link-in", "link-passwd", "stdout");
        listing.Select(e => e.Path).Should().AllSatisfy(p => p.Should().StartWith(_root + "/").And.NotContain("//"));

        var stdout = listing.Single(e => e.Path.EndsWith("/stdout", StringComparison.Ordinal));
        stdout.Size.Should().Be(Content.Length);
        stdout.Nlink.Should().Be(1);
        stdout.Mode.Should().Be("-rw-r--r--");
        stdout.Mtime.Should().Be(new DateTimeOffset(FixedTime).ToUnixTimeSeconds());
        if (TestNative.geteuid() == 0)
        {
            stdout.Uid.Should().Be("root");
            stdout.Gid.Should().Be("root");
        }

        listing.Single(e => e.Path.EndsWith("/dir", StringComparison.Ordinal)).Mode.Should().StartWith("d");
        listing.Single(e => e.Path.EndsWith("/link-in", StringComparison.Ordinal)).Should()
            .BeEquivalentTo(stdout with { Path = stdout.Path.Replace("stdout", "link-in", StringComparison.Ordinal) });
    }

    [Fact]
    public void Browse_describes_symlinks_leading_outside_as_links()
    {
        var listing = SandboxFiles.Browse(_root, ".");

        listing.Single(e => e.Path == "./link-passwd").Mode.Should().StartWith("l");
        listing.Single(e => e.Path == "./link-etc").Mode.Should().StartWith("l");
    }

    [Fact]
    public void Browse_a_subdirectory_uses_the_requested_path()
    {
        SandboxFiles.Browse(_root, "dir").Select(e => e.Path).Should().Equal("dir/nested.txt");
    }

    [Fact]
    public void Browse_errors()
    {
        FluentActions.Invoking(() => SandboxFiles.Browse(_root, "missing"))
            .Should().Throw<SandboxFileException>().Which.Kind.Should().Be(SandboxFileErrorKind.NotFound);
        FluentActions.Invoking(() => SandboxFiles.Browse(_root, ".."))
            .Should().Throw<SandboxFileException>().Which.Kind.Should().Be(SandboxFileErrorKind.BadRequest);
        FluentActions.Invoking(() => SandboxFiles.Browse(_root, "link-etc"))
            .Should().Throw<SandboxFileException>().Which.Kind.Should().Be(SandboxFileErrorKind.BadRequest);
        SandboxFiles.Browse(_root, "stdout").Should().BeEmpty();
    }

    [Fact]
    public void Json_shape_matches_Mesos()
    {
        var entry = SandboxFiles.Browse(_root, "dir").Single();

        using var json = JsonDocument.Parse(JsonSerializer.Serialize(entry));
        json.RootElement.EnumerateObject().Select(p => p.Name).Should()
            .BeEquivalentTo("path", "nlink", "size", "mtime", "mode", "uid", "gid");
        using var read = JsonDocument.Parse(JsonSerializer.Serialize(SandboxFiles.Read(_root, "stdout", 0, 5)));
        read.RootElement.GetProperty("offset").GetInt64().Should().Be(0);
        read.RootElement.GetProperty("data").GetString().Should().Be("hello");
    }

    [Theory]
    [InlineData(0x81A4u, "-rw-r--r--")]
    [InlineData(0x41EDu, "drwxr-xr-x")]
    [InlineData(0xA1FFu, "lrwxrwxrwx")]
    [InlineData(0x81C0u, "-rwx------")]
    [InlineData(0x11B6u, "prw-rw-rw-")]
    [InlineData(0x89EDu, "-rwxr-xr-x")]
    public void Mode_strings_are_formatted_like_ls(uint mode, string expected) =>
        SandboxFiles.FormatMode(mode).Should().Be(expected);

    [Fact]
    public void Data_is_decoded_as_utf8()
    {
        File.WriteAllBytes(Path.Join(_root, "utf8"), Encoding.UTF8.GetBytes("héllo"));

        SandboxFiles.Read(_root, "utf8", 0, null).Data.Should().Be("héllo");
    }
}
