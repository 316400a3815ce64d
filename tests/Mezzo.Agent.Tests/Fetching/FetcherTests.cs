using System.Formats.Tar;
using AwesomeAssertions;
using Mezzo.Agent.Fetching;
using Mezzo.Protocol.V1;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Mezzo.Agent.Tests.Fetching;

public sealed class FetcherTests : IAsyncLifetime
{
    private readonly DirectoryInfo _root = Directory.CreateTempSubdirectory("mezzo-fetch-");
    private TestFileServer _server = null!;
    private Fetcher? _fetcher;

    private string CacheDir => Path.Join(_root.FullName, "cache");

    public async ValueTask InitializeAsync() => _server = await TestFileServer.StartAsync();

    public async ValueTask DisposeAsync()
    {
        _fetcher?.Dispose();
        await _server.DisposeAsync();
        _root.Delete(recursive: true);
    }

    private Fetcher Fetcher(long cacheSize = FetcherOptions.DefaultCacheSize, TimeProvider? time = null) =>
        _fetcher = new Fetcher(new FetcherOptions { CacheDirectory = CacheDir, CacheSize = cacheSize }, NullLogger<Fetcher>.Instance, time);

    private string NewSandbox()
    {
        var sandbox = Path.Join(_root.FullName, "sandbox-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(sandbox);
        return sandbox;
    }

    private static CommandInfoURI Uri(string value, bool? extract = null, bool? executable = null, bool? cache = null, string? outputFile = null) =>
        new() { Value = value, Extract = extract, Executable = executable, Cache = cache, OutputFile = outputFile };

    /// <summary>Every file and directory in the sandbox except the fetcher's stderr log, relative, sorted.</summary>
    private static string[] Contents(string sandbox) =>
        Directory.EnumerateFileSystemEntries(sandbox, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 })
            .Select(p => Path.GetRelativePath(sandbox, p))
            .Where(p => p != "stderr")
            .Order(StringComparer.Ordinal)
            .ToArray();

    private async Task<FetchException> FetchFails(Fetcher fetcher, string sandbox, params CommandInfoURI[] uris) =>
        (await FluentActions.Awaiting(() => fetcher.FetchAsync(uris, sandbox, null, TestContext.Current.CancellationToken))
            .Should().ThrowAsync<FetchException>()).Which;

    private static Task Fetch(Fetcher fetcher, string sandbox, params CommandInfoURI[] uris) =>
        fetcher.FetchAsync(uris, sandbox, null, TestContext.Current.CancellationToken);

    private string[] CacheFiles() =>
        Directory.Exists(CacheDir) ? Directory.GetFiles(CacheDir).Select(f => Path.GetFileName(f)).Order(StringComparer.Ordinal).ToArray() : [];

    private string[] ResidentCacheFiles() =>
        CacheFiles().Where(f => System.Text.RegularExpressions.Regex.IsMatch(f, @"^c\d+$")).ToArray();

    [Fact]
    public async Task Downloads_over_http_into_the_sandbox_under_the_uri_basename()
    {
        _server.Add("/files/payload.txt", "hello from http\n");
        var sandbox = NewSandbox();

        await Fetch(Fetcher(), sandbox, Uri(_server.Url("/files/payload.txt")));

        File.ReadAllText(Path.Join(sandbox, "payload.txt")).Should().Be("hello from http\n");
        Contents(sandbox).Should().Equal("payload.txt");
        var log = File.ReadAllText(Path.Join(sandbox, "stderr"));
        log.Should().Contain($"Fetching URI '{_server.Url("/files/payload.txt")}'").And.Contain("Successfully fetched all URIs");
    }

    [Fact]
    public async Task Follows_redirects()
    {
        _server.Add("/files/payload.txt", "redirected");
        var sandbox = NewSandbox();

        await Fetch(Fetcher(), sandbox, Uri(_server.Url("/redirect/files/payload.txt")));

        File.ReadAllText(Path.Join(sandbox, "payload.txt")).Should().Be("redirected");
        _server.Requests("/redirect/files/payload.txt").Should().Be(1);
        _server.Requests("/files/payload.txt").Should().Be(1);
    }

    [Fact]
    public async Task Output_file_names_the_copy_and_may_have_directories()
    {
        _server.Add("/files/payload.txt", "renamed");
        var sandbox = NewSandbox();

        await Fetch(Fetcher(), sandbox, Uri(_server.Url("/files/payload.txt"), outputFile: "conf/app.conf"));

        File.ReadAllText(Path.Join(sandbox, "conf", "app.conf")).Should().Be("renamed");
        Contents(sandbox).Should().Equal("conf", "conf/app.conf");
    }

    [Fact]
    public async Task The_basename_is_percent_decoded_and_the_query_left_out()
    {
        _server.Add("/files/my file.txt", "spaced");
        var sandbox = NewSandbox();

        await Fetch(Fetcher(), sandbox, Uri(_server.Url("/files/my%20file.txt") + "?token=abc"));

        File.ReadAllText(Path.Join(sandbox, "my file.txt")).Should().Be("spaced");
    }

    [Fact]
    public async Task Extracts_a_tgz_into_the_sandbox_and_keeps_the_archive_as_Mesos_does()
    {
        _server.Add("/app.tgz", Archives.TarGz(
            Archives.Directory("app/"),
            Archives.File("app/run.sh", "#!/bin/sh\necho hi\n", (UnixFileMode)0b111_101_101),
            Archives.File("app/data.txt", "data"),
            Archives.Symlink("app/current", "data.txt"),
            Archives.HardLink("app/copy.txt", "app/data.txt")));
        var sandbox = NewSandbox();

        await Fetch(Fetcher(), sandbox, Uri(_server.Url("/app.tgz")));

        Contents(sandbox).Should().Equal("app", "app.tgz", "app/copy.txt", "app/current", "app/data.txt", "app/run.sh");
        File.ReadAllText(Path.Join(sandbox, "app", "copy.txt")).Should().Be("data");
        File.ReadAllText(Path.Join(sandbox, "app", "data.txt")).Should().Be("data");
        File.ReadAllText(Path.Join(sandbox, "app", "current")).Should().Be("data");
        File.GetUnixFileMode(Path.Join(sandbox, "app", "run.sh")).Should().Be((UnixFileMode)0b111_101_101);
    }

    [Fact]
    public async Task Extracts_zip_tar_and_single_file_gz()
    {
        _server.Add("/bundle.zip", Archives.Zip(("lib/", ""), ("lib/a.txt", "from zip")));
        _server.Add("/plain.tar", Archives.Tar(Archives.File("b.txt", "from tar")));
        _server.Add("/notes.txt.gz", Archives.Gzip("from gz"u8.ToArray()));
        var sandbox = NewSandbox();

        await Fetch(Fetcher(), sandbox, Uri(_server.Url("/bundle.zip")), Uri(_server.Url("/plain.tar")), Uri(_server.Url("/notes.txt.gz")));

        File.ReadAllText(Path.Join(sandbox, "lib", "a.txt")).Should().Be("from zip");
        File.ReadAllText(Path.Join(sandbox, "b.txt")).Should().Be("from tar");
        File.ReadAllText(Path.Join(sandbox, "notes.txt")).Should().Be("from gz");
        Contents(sandbox).Should().Equal("b.txt", "bundle.zip", "lib", "lib/a.txt", "notes.txt", "notes.txt.gz", "plain.tar");
    }

    [Fact]
    public async Task Extract_false_leaves_the_archive_packed()
    {
        _server.Add("/app.tgz", Archives.TarGz(Archives.File("inside.txt", "x")));
        var sandbox = NewSandbox();

        await Fetch(Fetcher(), sandbox, Uri(_server.Url("/app.tgz"), extract: false));

        Contents(sandbox).Should().Equal("app.tgz");
    }

    [Fact]
    public async Task Executable_sets_mode_0755_and_does_not_extract()
    {
        _server.Add("/tool.tgz", Archives.TarGz(Archives.File("inside.txt", "x")));
        _server.Add("/tool", "#!/bin/sh\n");
        var sandbox = NewSandbox();

        await Fetch(Fetcher(), sandbox, Uri(_server.Url("/tool.tgz"), executable: true), Uri(_server.Url("/tool"), executable: true));

        Contents(sandbox).Should().Equal("tool", "tool.tgz");
        File.GetUnixFileMode(Path.Join(sandbox, "tool")).Should().Be((UnixFileMode)0b111_101_101);
        File.GetUnixFileMode(Path.Join(sandbox, "tool.tgz")).Should().Be((UnixFileMode)0b111_101_101);
    }

    [Fact]
    public async Task Copies_file_uris_and_absolute_paths()
    {
        var source = Path.Join(_root.FullName, "source dir");
        Directory.CreateDirectory(source);
        File.WriteAllText(Path.Join(source, "a.txt"), "by file uri");
        File.WriteAllText(Path.Join(source, "b.txt"), "by path");
        var sandbox = NewSandbox();

        await Fetch(Fetcher(), sandbox, Uri(new Uri(Path.Join(source, "a.txt")).AbsoluteUri), Uri(Path.Join(source, "b.txt")));

        File.ReadAllText(Path.Join(sandbox, "a.txt")).Should().Be("by file uri");
        File.ReadAllText(Path.Join(sandbox, "b.txt")).Should().Be("by path");
        File.ReadAllText(Path.Join(source, "a.txt")).Should().Be("by file uri", "the source is copied, not moved");
    }

    [Fact]
    public async Task A_missing_local_file_fails_naming_the_uri()
    {
        var missing = Path.Join(_root.FullName, "nope.txt");
        var sandbox = NewSandbox();

        var error = await FetchFails(Fetcher(), sandbox, Uri(missing));

        error.Message.Should().Be($"Failed to fetch '{missing}': '{missing}' does not exist");
        error.Uri.Should().Be(missing);
        Contents(sandbox).Should().BeEmpty();
    }

    [Fact]
    public async Task Http_404_fails_with_the_uri_and_the_status_and_leaves_no_file()
    {
        var url = _server.Url("/missing.tgz");
        var sandbox = NewSandbox();

        var error = await FetchFails(Fetcher(), sandbox, Uri(url));

        error.Message.Should().Be($"Failed to fetch '{url}': HTTP 404 Not Found");
        Contents(sandbox).Should().BeEmpty();
        File.ReadAllText(Path.Join(sandbox, "stderr")).Should().Contain(error.Message);
    }

    [Fact]
    public async Task Connection_refused_fails_with_the_uri_and_the_cause()
    {
        var sandbox = NewSandbox();

        var error = await FetchFails(Fetcher(), sandbox, Uri("http://127.0.0.1:1/x.tgz"));

        error.Message.Should().Be("Failed to fetch 'http://127.0.0.1:1/x.tgz': Connection refused");
        Contents(sandbox).Should().BeEmpty();
    }

    [Fact]
    public async Task A_body_cut_short_fails_and_leaves_no_partial_file()
    {
        var sandbox = NewSandbox();

        var error = await FetchFails(Fetcher(), sandbox, Uri(_server.Url("/truncated")));

        error.Message.Should().StartWith($"Failed to fetch '{_server.Url("/truncated")}': ");
        Contents(sandbox).Should().BeEmpty();
    }

    [Fact]
    public async Task A_download_that_stalls_fails_after_the_stall_timeout_and_leaves_no_partial_file()
    {
        var time = new FakeTimeProvider();
        var fetcher = Fetcher(time: time);
        var sandbox = NewSandbox();
        var fetch = fetcher.FetchAsync([Uri(_server.Url("/stall"))], sandbox, null, TestContext.Current.CancellationToken);

        (await Eventually.TrueAsync(() => _server.Requests("/stall") == 1)).Should().BeTrue();
        fetch.IsCompleted.Should().BeFalse("the server is still sending");
        (await Eventually.TrueAsync(() =>
        {
            time.Advance(TimeSpan.FromSeconds(61));
            return fetch.IsCompleted;
        })).Should().BeTrue();

        var error = (await FluentActions.Awaiting(() => fetch).Should().ThrowAsync<FetchException>()).Which;
        error.Message.Should().Be($"Failed to fetch '{_server.Url("/stall")}': no data received for 60 s (--fetcher-stall-timeout)");
        Contents(sandbox).Should().BeEmpty();
    }

    [Fact]
    public async Task A_cancelled_fetch_leaves_no_partial_file()
    {
        _server.Add("/slow.txt", "slow");
        _server.HoldResponses = true;
        var sandbox = NewSandbox();
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        var fetch = Fetcher().FetchAsync([Uri(_server.Url("/slow.txt"))], sandbox, null, cancel.Token);

        (await Eventually.TrueAsync(() => _server.Requests("/slow.txt") == 1)).Should().BeTrue();
        await cancel.CancelAsync();

        await FluentActions.Awaiting(() => fetch).Should().ThrowAsync<OperationCanceledException>();
        Contents(sandbox).Should().BeEmpty();
    }

    [Fact]
    public async Task A_corrupt_tgz_fails_clearly_and_leaves_nothing_in_the_sandbox()
    {
        _server.Add("/broken.tgz", "this is not gzip at all");
        var sandbox = NewSandbox();

        var error = await FetchFails(Fetcher(), sandbox, Uri(_server.Url("/broken.tgz")));

        error.Message.Should().Be($"Failed to fetch '{_server.Url("/broken.tgz")}': Failed to extract 'broken.tgz': not a valid gzip archive");
        Contents(sandbox).Should().BeEmpty();
    }

    [Fact]
    public async Task A_tgz_cut_short_fails_and_leaves_none_of_its_files()
    {
        var whole = Archives.TarGz(Archives.File("first.txt", new string('a', 5000)), Archives.File("second.txt", new string('b', 5000)));
        _server.Add("/cut.tgz", whole[..(whole.Length / 2)]);
        var sandbox = NewSandbox();

        var error = await FetchFails(Fetcher(), sandbox, Uri(_server.Url("/cut.tgz")));

        error.Message.Should().StartWith($"Failed to fetch '{_server.Url("/cut.tgz")}': ");
        Contents(sandbox).Should().BeEmpty();
    }

    [Fact]
    public async Task A_multi_member_gz_is_not_mistaken_for_a_truncated_one()
    {
        _server.Add("/joined.txt.gz", [.. Archives.Gzip("first member, the longer one\n"u8.ToArray()), .. Archives.Gzip("second\n"u8.ToArray())]);
        var sandbox = NewSandbox();

        await Fetch(Fetcher(), sandbox, Uri(_server.Url("/joined.txt.gz")));

        File.ReadAllText(Path.Join(sandbox, "joined.txt")).Should().Be("first member, the longer one\nsecond\n");
    }

    [Fact]
    public async Task A_gz_cut_short_fails_and_leaves_nothing()
    {
        var whole = Archives.Gzip(System.Text.Encoding.UTF8.GetBytes(string.Concat(Enumerable.Range(0, 2000).Select(i => $"line {i}\n"))));
        _server.Add("/log.txt.gz", whole[..(whole.Length * 2 / 3)]);
        var sandbox = NewSandbox();

        var error = await FetchFails(Fetcher(), sandbox, Uri(_server.Url("/log.txt.gz")));

        error.Message.Should().StartWith($"Failed to fetch '{_server.Url("/log.txt.gz")}': Failed to extract 'log.txt.gz': ");
        Contents(sandbox).Should().BeEmpty();
    }

    [Fact]
    public async Task A_corrupt_zip_fails_clearly()
    {
        _server.Add("/broken.zip", "PK but not really a zip");
        var sandbox = NewSandbox();

        var error = await FetchFails(Fetcher(), sandbox, Uri(_server.Url("/broken.zip")));

        error.Message.Should().StartWith($"Failed to fetch '{_server.Url("/broken.zip")}': Failed to extract 'broken.zip': not a valid zip archive");
        Contents(sandbox).Should().BeEmpty();
    }

    public static TheoryData<string, TarEntry[]> HostileTars => new()
    {
        { "'..'", [Archives.File("../evil.txt", "x")] },
        { "'..'", [Archives.File("ok/../../evil.txt", "x")] },
        { "an absolute path", [Archives.File("/tmp/evil.txt", "x")] },
        { "a symlink to '/etc/passwd'", [Archives.Symlink("passwd", "/etc/passwd")] },
        { "a symlink to '../../outside'", [Archives.Symlink("out", "../../outside")] },
        { "a path through a symlink", [Archives.Symlink("lib", "."), Archives.File("lib/evil.txt", "x")] },
        { "a symlink to 's/../..'", [Archives.Directory("a/"), Archives.Directory("a/b/"), Archives.Symlink("a/b/s", "../.."), Archives.Symlink("a/b/l", "s/../..")] },
        { "a hard link to '../evil'", [Archives.HardLink("h", "../evil")] },
    };

    [Theory]
    [MemberData(nameof(HostileTars))]
    public async Task An_archive_entry_that_would_escape_the_sandbox_is_rejected(string reason, TarEntry[] entries)
    {
        _server.Add("/evil.tgz", Archives.TarGz([Archives.File("innocent.txt", "fine"), .. entries]));
        var sandbox = NewSandbox();
        var before = Directory.GetFileSystemEntries(_root.FullName).Length;

        var error = await FetchFails(Fetcher(), sandbox, Uri(_server.Url("/evil.tgz")));

        error.Message.Should().StartWith($"Failed to fetch '{_server.Url("/evil.tgz")}': Failed to extract 'evil.tgz': entry '")
            .And.Contain($"has {reason}, which would leave the sandbox");
        Contents(sandbox).Should().BeEmpty("no entry, not even the innocent one, is kept");
        Directory.GetFileSystemEntries(_root.FullName).Length.Should().Be(before, "nothing was written beside the sandbox");
    }

    [Fact]
    public async Task A_zip_entry_with_dot_dot_is_rejected()
    {
        _server.Add("/evil.zip", Archives.Zip(("fine.txt", "ok"), ("../evil.txt", "x")));
        var sandbox = NewSandbox();

        var error = await FetchFails(Fetcher(), sandbox, Uri(_server.Url("/evil.zip")));

        error.Message.Should().Contain("entry '../evil.txt' is rejected");
        Contents(sandbox).Should().BeEmpty();
        File.Exists(Path.Join(_root.FullName, "evil.txt")).Should().BeFalse();
    }

    [Theory]
    [InlineData("../escape.txt", "output_file '../escape.txt' must not contain '..'")]
    [InlineData("a/../../escape.txt", "output_file 'a/../../escape.txt' must not contain '..'")]
    [InlineData("/etc/escape.txt", "output_file '/etc/escape.txt' must be a relative path")]
    [InlineData("dir/", "output_file 'dir/' does not name a file")]
    public async Task An_output_file_outside_the_sandbox_is_rejected(string outputFile, string cause)
    {
        _server.Add("/payload.txt", "x");
        var sandbox = NewSandbox();

        var error = await FetchFails(Fetcher(), sandbox, Uri(_server.Url("/payload.txt"), outputFile: outputFile));

        error.Message.Should().Be($"Failed to fetch '{_server.Url("/payload.txt")}': {cause}");
        _server.Requests("/payload.txt").Should().Be(0);
        Contents(sandbox).Should().BeEmpty();
    }

    [Fact]
    public async Task A_symlink_already_in_the_sandbox_does_not_carry_a_fetch_outside()
    {
        _server.Add("/payload.txt", "x");
        _server.Add("/out.tgz", Archives.TarGz(Archives.Directory("out/"), Archives.File("out/inside.txt", "inside")));
        var outside = Path.Join(_root.FullName, "outside");
        Directory.CreateDirectory(outside);
        var sandbox = NewSandbox();
        Directory.CreateSymbolicLink(Path.Join(sandbox, "out"), outside);
        var fetcher = Fetcher();

        var error = await FetchFails(fetcher, sandbox, Uri(_server.Url("/payload.txt"), outputFile: "out/payload.txt"));
        error.Message.Should().Be($"Failed to fetch '{_server.Url("/payload.txt")}': output 'out/payload.txt' would be written outside the sandbox");
        (await FetchFails(fetcher, sandbox, Uri(_server.Url("/payload.txt"), outputFile: "out/deeper/payload.txt"))).Message
            .Should().EndWith("output 'out/deeper/payload.txt' would be written outside the sandbox");
        Directory.EnumerateFileSystemEntries(outside).Should().BeEmpty("not even a directory was made through the link");

        // Extraction replaces the link rather than writing through it, as tar does.
        await Fetch(fetcher, sandbox, Uri(_server.Url("/out.tgz")));
        File.ReadAllText(Path.Join(sandbox, "out", "inside.txt")).Should().Be("inside");
        new DirectoryInfo(Path.Join(sandbox, "out")).LinkTarget.Should().BeNull();
        Directory.EnumerateFileSystemEntries(outside).Should().BeEmpty();
    }

    [Theory]
    [InlineData("ftp://example.org/x.tgz", "unsupported URI scheme 'ftp' (supported: http, https, file and absolute paths)")]
    [InlineData("relative/x.tgz", "not a URI or an absolute path (relative paths are not supported)")]
    [InlineData("", "the URI is empty")]
    [InlineData("file://otherhost/x.tgz", "file URIs must name a local file, not one on host 'otherhost'")]
    public async Task Unsupported_uris_fail_naming_the_uri(string uri, string cause)
    {
        var sandbox = NewSandbox();

        var error = await FetchFails(Fetcher(), sandbox, Uri(uri));

        error.Message.Should().Be($"Failed to fetch '{uri}': {cause}");
    }

    [Fact]
    public async Task A_uri_without_a_file_name_needs_output_file()
    {
        _server.Add("/", "index");
        var sandbox = NewSandbox();
        var fetcher = Fetcher();

        var error = await FetchFails(fetcher, sandbox, Uri(_server.Url("/")));
        error.Message.Should().Be($"Failed to fetch '{_server.Url("/")}': cannot tell a file name from the URI; set output_file");

        await Fetch(fetcher, sandbox, Uri(_server.Url("/"), outputFile: "index.html"));
        File.ReadAllText(Path.Join(sandbox, "index.html")).Should().Be("index");
    }

    [Fact]
    public async Task A_percent_encoded_slash_in_the_basename_is_rejected()
    {
        var sandbox = NewSandbox();

        var error = await FetchFails(Fetcher(), sandbox, Uri(_server.Url("/x/..%2F..%2Fescape.txt")));

        error.Message.Should().Be($"Failed to fetch '{_server.Url("/x/..%2F..%2Fescape.txt")}': the file name in the URI decodes to '../../escape.txt', which is not a plain file name; set output_file");
        Contents(sandbox).Should().BeEmpty();
    }

    [Fact]
    public async Task A_cache_hit_copies_from_the_cache_without_a_second_request()
    {
        _server.Add("/cached.txt", "cached content");
        var fetcher = Fetcher();
        var first = NewSandbox();
        var second = NewSandbox();

        await Fetch(fetcher, first, Uri(_server.Url("/cached.txt"), cache: true));
        await Fetch(fetcher, second, Uri(_server.Url("/cached.txt"), cache: true, executable: true));

        _server.Requests("/cached.txt").Should().Be(1);
        File.ReadAllText(Path.Join(first, "cached.txt")).Should().Be("cached content");
        File.ReadAllText(Path.Join(second, "cached.txt")).Should().Be("cached content");
        File.GetUnixFileMode(Path.Join(second, "cached.txt")).Should().Be((UnixFileMode)0b111_101_101);
        CacheFiles().Should().ContainSingle();
        File.GetUnixFileMode(Path.Join(CacheDir, CacheFiles()[0])).Should().NotHaveFlag(UnixFileMode.UserExecute, "executable changes the sandbox copy only");

        File.WriteAllText(Path.Join(second, "cached.txt"), "changed by the task");
        var third = NewSandbox();
        await Fetch(fetcher, third, Uri(_server.Url("/cached.txt"), cache: true));
        File.ReadAllText(Path.Join(third, "cached.txt")).Should().Be("cached content", "a task cannot change the cache through its copy");
    }

    [Fact]
    public async Task Without_cache_every_fetch_downloads()
    {
        _server.Add("/fresh.txt", "x");
        var fetcher = Fetcher();

        await Fetch(fetcher, NewSandbox(), Uri(_server.Url("/fresh.txt")));
        await Fetch(fetcher, NewSandbox(), Uri(_server.Url("/fresh.txt")));

        _server.Requests("/fresh.txt").Should().Be(2);
        CacheFiles().Should().BeEmpty();
    }

    [Fact]
    public async Task A_cache_size_of_zero_turns_the_cache_off()
    {
        _server.Add("/fresh.txt", "x");
        var fetcher = Fetcher(cacheSize: 0);

        await Fetch(fetcher, NewSandbox(), Uri(_server.Url("/fresh.txt"), cache: true));
        await Fetch(fetcher, NewSandbox(), Uri(_server.Url("/fresh.txt"), cache: true));

        _server.Requests("/fresh.txt").Should().Be(2);
        CacheFiles().Should().BeEmpty();
    }

    [Fact]
    public async Task A_cached_archive_is_extracted_straight_from_the_cache()
    {
        _server.Add("/app.tgz", Archives.TarGz(Archives.File("app.txt", "app")));
        var fetcher = Fetcher();
        var first = NewSandbox();
        var second = NewSandbox();

        await Fetch(fetcher, first, Uri(_server.Url("/app.tgz"), cache: true));
        await Fetch(fetcher, second, Uri(_server.Url("/app.tgz"), cache: true));

        _server.Requests("/app.tgz").Should().Be(1);
        Contents(first).Should().Equal("app.txt");
        Contents(second).Should().Equal("app.txt");
    }

    [Fact]
    public async Task The_cache_evicts_the_least_recently_used_file_past_its_size_bound()
    {
        foreach (var name in new[] { "a", "b", "c" })
        {
            _server.Add($"/{name}.bin", new byte[100]);
        }

        var fetcher = Fetcher(cacheSize: 250);
        async Task Get(string name) => await Fetch(fetcher, NewSandbox(), Uri(_server.Url($"/{name}.bin"), cache: true));

        await Get("a");
        await Get("b");
        await Get("a"); // a is now more recently used than b
        await Get("c"); // 300 bytes > 250: b goes

        CacheFiles().Should().HaveCount(2);
        await Get("a");
        await Get("c");
        _server.Requests("/a.bin").Should().Be(1);
        _server.Requests("/c.bin").Should().Be(1);

        await Get("b");
        _server.Requests("/b.bin").Should().Be(2, "b was evicted");
        CacheFiles().Should().HaveCount(2);
        Directory.GetFiles(CacheDir).Sum(f => new FileInfo(f).Length).Should().BeLessThanOrEqualTo(250);
    }

    [Fact]
    public async Task Space_for_a_download_of_known_length_is_made_before_it_lands()
    {
        foreach (var name in new[] { "a", "b", "c" })
        {
            _server.Add($"/{name}.bin", new byte[100]);
        }

        var fetcher = Fetcher(cacheSize: 250);
        await Fetch(fetcher, NewSandbox(), Uri(_server.Url("/a.bin"), cache: true));
        await Fetch(fetcher, NewSandbox(), Uri(_server.Url("/b.bin"), cache: true));
        _server.HoldResponses = true;

        var fetch = Fetch(fetcher, NewSandbox(), Uri(_server.Url("/c.bin"), cache: true));

        // c's Content-Length is known, its body is not sent yet: a (least recently used) is already gone.
        (await Eventually.TrueAsync(() => ResidentCacheFiles().Length == 1)).Should().BeTrue();
        fetch.IsCompleted.Should().BeFalse();
        _server.ReleaseResponses();
        await fetch;
        ResidentCacheFiles().Should().HaveCount(2);
        await Fetch(fetcher, NewSandbox(), Uri(_server.Url("/b.bin"), cache: true));
        _server.Requests("/b.bin").Should().Be(1, "b stayed");
        _server.Requests("/a.bin").Should().Be(1);
    }

    [Fact]
    public async Task A_file_larger_than_the_cache_is_delivered_but_not_kept()
    {
        _server.Add("/big.bin", new byte[500]);
        var fetcher = Fetcher(cacheSize: 100);
        var sandbox = NewSandbox();

        await Fetch(fetcher, sandbox, Uri(_server.Url("/big.bin"), cache: true));
        await Fetch(fetcher, NewSandbox(), Uri(_server.Url("/big.bin"), cache: true));

        new FileInfo(Path.Join(sandbox, "big.bin")).Length.Should().Be(500);
        CacheFiles().Should().BeEmpty();
        _server.Requests("/big.bin").Should().Be(2);
    }

    [Fact]
    public async Task Concurrent_fetches_of_the_same_uri_download_once()
    {
        _server.Add("/shared.tgz", Archives.TarGz(Archives.File("shared.txt", "shared")));
        _server.HoldResponses = true;
        var fetcher = Fetcher();
        var sandboxes = Enumerable.Range(0, 4).Select(_ => NewSandbox()).ToArray();

        var fetches = sandboxes.Select(s => Fetch(fetcher, s, Uri(_server.Url("/shared.tgz"), cache: true))).ToArray();
        (await Eventually.TrueAsync(() => _server.Requests("/shared.tgz") >= 1)).Should().BeTrue();
        fetches.Should().OnlyContain(f => !f.IsCompleted, "the only download is held back by the server");
        _server.ReleaseResponses();
        await Task.WhenAll(fetches);

        _server.Requests("/shared.tgz").Should().Be(1);
        foreach (var sandbox in sandboxes)
        {
            File.ReadAllText(Path.Join(sandbox, "shared.txt")).Should().Be("shared");
        }
    }

    [Fact]
    public async Task A_failed_cached_download_leaves_no_cache_file_and_the_next_fetch_tries_again()
    {
        var fetcher = Fetcher();

        await FetchFails(fetcher, NewSandbox(), Uri(_server.Url("/later.txt"), cache: true));
        CacheFiles().Should().BeEmpty();

        _server.Add("/later.txt", "now here");
        var sandbox = NewSandbox();
        await Fetch(fetcher, sandbox, Uri(_server.Url("/later.txt"), cache: true));

        File.ReadAllText(Path.Join(sandbox, "later.txt")).Should().Be("now here");
        _server.Requests("/later.txt").Should().Be(2);
    }

    [Fact]
    public async Task The_cache_is_kept_per_user()
    {
        Assert.SkipUnless(Environment.UserName == "root", "user lookups and chown need root");
        _server.Add("/per-user.txt", "x");
        var fetcher = Fetcher();

        await fetcher.FetchAsync([Uri(_server.Url("/per-user.txt"), cache: true)], NewSandbox(), "root", TestContext.Current.CancellationToken);
        await fetcher.FetchAsync([Uri(_server.Url("/per-user.txt"), cache: true)], NewSandbox(), "nobody", TestContext.Current.CancellationToken);
        await fetcher.FetchAsync([Uri(_server.Url("/per-user.txt"), cache: true)], NewSandbox(), "nobody", TestContext.Current.CancellationToken);

        _server.Requests("/per-user.txt").Should().Be(2);
    }

    [Fact]
    public async Task As_root_the_sandbox_is_handed_to_the_task_user()
    {
        Assert.SkipUnless(Environment.UserName == "root", "chown needs root");
        _server.Add("/app.tgz", Archives.TarGz(Archives.Directory("app/"), Archives.File("app/x.txt", "x"), Archives.Symlink("app/link", "x.txt")));
        var sandbox = NewSandbox();
        var nobody = PasswdEntry("nobody");

        var fetcher = Fetcher();
        await Fetch(fetcher, sandbox, Uri(_server.Url("/app.tgz")));
        await fetcher.FetchAsync([Uri(_server.Url("/app.tgz"), outputFile: "again.tgz")], sandbox, "nobody", TestContext.Current.CancellationToken);

        foreach (var path in new[] { "", "app", "app/x.txt", "app/link", "again.tgz", "stderr" })
        {
            OwnerOf(Path.Join(sandbox, path)).Should().Be(nobody, path);
        }
    }

    [Fact]
    public async Task Handing_the_sandbox_to_the_user_does_not_follow_links_out_of_it()
    {
        Assert.SkipUnless(Environment.UserName == "root", "chown needs root");
        _server.Add("/x.txt", "x");
        var outside = Path.Join(_root.FullName, "outside");
        Directory.CreateDirectory(outside);
        File.WriteAllText(Path.Join(outside, "secret"), "root's");
        var sandbox = NewSandbox();
        Directory.CreateSymbolicLink(Path.Join(sandbox, "escape"), outside);

        await Fetcher().FetchAsync([Uri(_server.Url("/x.txt"))], sandbox, "nobody", TestContext.Current.CancellationToken);

        OwnerOf(Path.Join(sandbox, "x.txt")).Should().Be(PasswdEntry("nobody"));
        OwnerOf(Path.Join(sandbox, "escape")).Should().Be(PasswdEntry("nobody"), "the link itself belongs to the sandbox");
        OwnerOf(outside).Should().Be(0u);
        OwnerOf(Path.Join(outside, "secret")).Should().Be(0u);
    }

    [Fact]
    public async Task An_unknown_user_fails_the_fetch()
    {
        Assert.SkipUnless(Environment.UserName == "root", "user lookups only matter as root");
        _server.Add("/x.txt", "x");

        var error = (await FluentActions.Awaiting(() => Fetcher().FetchAsync([Uri(_server.Url("/x.txt"))], NewSandbox(), "no-such-user-mezzo", TestContext.Current.CancellationToken))
            .Should().ThrowAsync<FetchException>()).Which;

        error.Message.Should().Be("Failed to fetch URIs: user 'no-such-user-mezzo' does not exist on this agent");
        _server.Requests("/x.txt").Should().Be(0);
    }

    [Fact]
    public void Stale_cache_files_are_cleared_at_start_and_nothing_else()
    {
        Directory.CreateDirectory(CacheDir);
        File.WriteAllText(Path.Join(CacheDir, "c7"), "stale");
        File.WriteAllText(Path.Join(CacheDir, "keep.me"), "not ours");

        using var fetcher = new Fetcher(new FetcherOptions { CacheDirectory = CacheDir }, NullLogger<Fetcher>.Instance);

        CacheFiles().Should().Equal("keep.me");
    }

    [Theory]
    [InlineData("2GB", 2L << 30)]
    [InlineData("512MB", 512L << 20)]
    [InlineData("100KB", 102400)]
    [InlineData("10B", 10)]
    [InlineData("0", 0)]
    [InlineData("1.5GB", 3L << 29)]
    public void Cache_sizes_parse_as_Mesos_byte_sizes(string text, long bytes)
    {
        FetcherOptions.TryParseSize(text, out var parsed).Should().BeTrue();
        parsed.Should().Be(bytes);
    }

    [Theory]
    [InlineData("")]
    [InlineData("lots")]
    [InlineData("-1GB")]
    [InlineData("12XB")]
    public void Bad_cache_sizes_do_not_parse(string text) =>
        FetcherOptions.TryParseSize(text, out _).Should().BeFalse();

    private static uint PasswdEntry(string user) =>
        uint.Parse(File.ReadLines("/etc/passwd").Select(l => l.Split(':')).First(f => f[0] == user)[2], System.Globalization.CultureInfo.InvariantCulture);

    private static uint OwnerOf(string path)
    {
        var psi = new System.Diagnostics.ProcessStartInfo("stat", ["-c", "%u", path]) { RedirectStandardOutput = true };
        using var process = System.Diagnostics.Process.Start(psi)!;
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return uint.Parse(output.Trim(), System.Globalization.CultureInfo.InvariantCulture);
    }
}
