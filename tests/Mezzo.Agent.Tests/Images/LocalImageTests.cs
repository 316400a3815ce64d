using System.Text;
using AwesomeAssertions;
using Mezzo.Agent.Images;

namespace Mezzo.Agent.Tests.Images;

/// <summary>Local sources (docker-archive tars, OCI layouts), layer stacking and safety, rootfs lifetime and GC.</summary>
public sealed class LocalImageTests : StoreHarness
{
    private static TestImage Busybox(params LayerBuilder[] more) =>
        TestImage.Create([LayerBuilder.Busybox(), .. more], entrypoint: ["/bin/sh", "-c"], cmd: ["echo hi"], env: ["PATH=/bin", "A=1"],
            workingDir: "/tmp", user: "1000:1000", ports: ["8080/tcp", "53/udp"]);

    private string OciLayout(TestImage image, string name = "layout", string? refName = null)
    {
        var dir = TempPath(name);
        image.WriteOciLayout(dir, refName);
        return dir;
    }

    [Fact]
    public async Task Docker_archive_loads_with_its_config_and_a_working_busybox()
    {
        var image = Busybox();
        var archive = TempPath("busybox.tar");
        image.WriteDockerArchive(archive, "busybox:latest");
        using var store = Store();

        var provisioned = await store.ProvisionAsync(new ImageSpec("docker-archive:" + archive), "c1", TestContext.Current.CancellationToken);

        provisioned.RootfsPath.Should().Be(Path.Join(StoreDir, "containers", "c1", "rootfs"));
        provisioned.Digest.Should().Be(image.ConfigDigest, "a docker-archive image is known by its config digest, Docker's image id");
        provisioned.Config.Entrypoint.Should().Equal("/bin/sh", "-c");
        provisioned.Config.Cmd.Should().Equal("echo hi");
        provisioned.Config.Env.Should().Equal("PATH=/bin", "A=1");
        provisioned.Config.WorkingDir.Should().Be("/tmp");
        provisioned.Config.User.Should().Be("1000:1000");
        provisioned.Config.ExposedPorts.Should().Equal("53/udp", "8080/tcp");
        var busybox = Path.Join(provisioned.RootfsPath, "bin", "busybox");
        File.ReadAllBytes(busybox).Should().Equal(File.ReadAllBytes(LayerBuilder.BusyboxPath));
        File.GetUnixFileMode(busybox).Should().HaveFlag(UnixFileMode.UserExecute);
        new FileInfo(Path.Join(provisioned.RootfsPath, "bin", "sh")).LinkTarget.Should().Be("busybox");
        new FileInfo(Path.Join(provisioned.RootfsPath, "bin", "echo")).LinkTarget.Should().Be("/bin/busybox", "absolute symlinks are kept as they are: they resolve inside the container");
        File.GetUnixFileMode(Path.Join(provisioned.RootfsPath, "tmp")).Should().HaveFlag(UnixFileMode.StickyBit);
        Run("/usr/bin/stat", "-c", "%h", Path.Join(provisioned.RootfsPath, "bin", "ls")).Trim().Should().Be("2", "bin/ls is a hardlink of bin/busybox within the rootfs");
        AssertNoStaging();
    }

    [Fact]
    public async Task Docker_registry_directory_serves_name_tag_tars_as_mesos_does()
    {
        var images = TempPath("archives");
        Directory.CreateDirectory(images);
        var image = Busybox();
        image.WriteDockerArchive(Path.Join(images, "busybox:latest.tar"), "busybox:latest");
        using var store = Store(registry: images);

        var provisioned = await store.ProvisionAsync(new ImageSpec("busybox"), "c1", TestContext.Current.CancellationToken);
        File.Exists(Path.Join(provisioned.RootfsPath, "bin", "busybox")).Should().BeTrue();

        var missing = await FluentActions.Awaiting(() => store.ProvisionAsync(new ImageSpec("busybox:2"), "c2", TestContext.Current.CancellationToken))
            .Should().ThrowAsync<ImageException>();
        missing.Which.Message.Should().Be($"Failed to find archive for image 'busybox:2' at '{Path.Join(images, "busybox:2.tar")}'");
        Directory.Exists(Path.Join(StoreDir, "containers", "c2")).Should().BeFalse();
    }

    [Fact]
    public async Task Oci_layout_loads_from_a_directory_a_tar_and_by_ref_name()
    {
        var image = TestImage.Create([LayerBuilder.Busybox()], oci: true, cmd: ["/bin/busybox", "true"]);
        var dir = OciLayout(image, refName: "v1");
        var tar = TempPath("layout.tar");
        TestImage.TarDirectory(dir, tar);
        using var store = Store();
        var ct = TestContext.Current.CancellationToken;

        var fromDir = await store.ProvisionAsync(new ImageSpec("oci:" + dir), "c1", ct);
        var fromTar = await store.ProvisionAsync(new ImageSpec("oci:" + tar), "c2", ct);
        var byRef = await store.ProvisionAsync(new ImageSpec($"oci:{dir}:v1"), "c3", ct);

        foreach (var provisioned in new[] { fromDir, fromTar, byRef })
        {
            provisioned.Digest.Should().Be(image.ManifestDigest);
            provisioned.Config.Cmd.Should().Equal("/bin/busybox", "true");
            provisioned.Config.Entrypoint.Should().BeNull();
            File.Exists(Path.Join(provisioned.RootfsPath, "bin", "busybox")).Should().BeTrue();
        }

        var wrongRef = await FluentActions.Awaiting(() => store.ProvisionAsync(new ImageSpec($"oci:{dir}:v2"), "c4", ct)).Should().ThrowAsync<ImageException>();
        wrongRef.Which.Message.Should().Contain("org.opencontainers.image.ref.name=v2").And.Contain(dir);
        store.CachedLayers().Should().ContainSingle("the three loads share one cached layer");
        AssertNoStaging();
    }

    [Fact]
    public async Task Whiteouts_and_opaque_directories_apply_across_layers()
    {
        var lower = new LayerBuilder()
            .Dir("data/").File("data/a", "a").File("data/b", "b")
            .Dir("data/gone/").File("data/gone/x", "x")
            .Dir("opq/").File("opq/old", "old").Dir("opq/sub/").File("opq/sub/y", "y")
            .Dir("swap/").File("swap/inner", "inner")
            .File("becomes-dir", "file");
        var upper = new LayerBuilder()
            .Dir("data/").File("data/.wh.a", "").File("data/.wh.gone", "").File("data/c", "c")
            .Dir("opq/").File("opq/.wh..wh..opq", "").File("opq/new", "new")
            .File("swap", "now a file")
            .Dir("becomes-dir/").File("becomes-dir/f", "f")
            .File(".wh.never-existed", "");
        var image = TestImage.Create([lower, upper], oci: true);
        using var store = Store();

        var rootfs = (await store.ProvisionAsync(new ImageSpec("oci:" + OciLayout(image)), "c1", TestContext.Current.CancellationToken)).RootfsPath;

        Entries(rootfs).Should().BeEquivalentTo("becomes-dir", "becomes-dir/f", "data", "data/b", "data/c", "opq", "opq/new", "swap");
        File.ReadAllText(Path.Join(rootfs, "swap")).Should().Be("now a file");
        File.ReadAllText(Path.Join(rootfs, "opq", "new")).Should().Be("new");

        // The cache keeps each layer as shipped: whiteouts only take effect in a rootfs.
        var upperLayer = Path.Join(StoreDir, "layers", image.LayerDigests.Last()["sha256:".Length..], "rootfs");
        File.Exists(Path.Join(upperLayer, "data", ".wh.a")).Should().BeTrue();
    }

    [Theory]
    [InlineData("dotdot", "escapes the layer (path traversal)")]
    [InlineData("symlink-escape", "which is not a directory (a layer cannot write through a symlink)")]
    [InlineData("hardlink-dotdot", "escapes the layer (path traversal)")]
    [InlineData("hardlink-absolute", "points to absolute path '/etc/passwd'")]
    [InlineData("whiteout-parent", "entry 'bin/.wh...' is a whiteout of its own directory or its parent")]
    [InlineData("whiteout-self", "entry '.wh..' is a whiteout of its own directory or its parent")]
    [InlineData("hardlink-missing", "refers to 'nothing/here', which does not exist in this layer")]
    [InlineData("hardlink-directory", "points to 'bin', which is not a file of this layer")]
    public async Task A_layer_reaching_outside_its_directory_is_rejected_and_leaves_nothing(string attack, string why)
    {
        var outside = TempPath("outside");
        Directory.CreateDirectory(outside);
        var layer = attack switch
        {
            "dotdot" => new LayerBuilder().File("ok", "ok").File("../../../../../../../outside/evil", "evil"),
            "symlink-escape" => new LayerBuilder().Symlink("link", outside).File("link/evil", "evil"),
            "hardlink-dotdot" => new LayerBuilder().HardLink("stolen", "../../../../../../etc/passwd"),
            "hardlink-absolute" => new LayerBuilder().HardLink("stolen", "/etc/passwd"),
            "whiteout-parent" => new LayerBuilder().Dir("bin/").File("bin/.wh...", ""),
            "whiteout-self" => new LayerBuilder().File(".wh..", ""),
            "hardlink-directory" => new LayerBuilder().Dir("bin/").HardLink("stolen", "bin"),
            _ => new LayerBuilder().HardLink("stolen", "nothing/here"),
        };
        var image = TestImage.Create([LayerBuilder.Busybox(), layer], oci: true);
        using var store = Store();

        var error = await FluentActions.Awaiting(() => store.ProvisionAsync(new ImageSpec("oci:" + OciLayout(image)), "c1", TestContext.Current.CancellationToken))
            .Should().ThrowAsync<ImageException>();

        error.Which.Message.Should().Contain(why).And.Contain(image.LayerDigests.Last()).And.Contain("oci:");
        Directory.EnumerateFileSystemEntries(outside).Should().BeEmpty();
        store.CachedLayers().Should().Equal([image.LayerDigests.First()], "only the good layer made it into the cache");
        Directory.Exists(Path.Join(StoreDir, "containers", "c1")).Should().BeFalse();
        AssertNoStaging();
    }

    [Fact]
    public async Task Corrupt_archives_fail_with_the_path_and_leave_nothing()
    {
        var notTar = TempPath("garbage.tar");
        await File.WriteAllBytesAsync(notTar, Encoding.UTF8.GetBytes(new string('x', 2000)), TestContext.Current.CancellationToken);
        var layout = TempPath("no-layout");
        Directory.CreateDirectory(layout);
        using var store = Store();

        (await FluentActions.Awaiting(() => store.ProvisionAsync(new ImageSpec("docker-archive:" + notTar), "c1", TestContext.Current.CancellationToken))
            .Should().ThrowAsync<ImageException>()).Which.Message.Should().Contain(notTar);
        (await FluentActions.Awaiting(() => store.ProvisionAsync(new ImageSpec("oci:" + layout), "c1", TestContext.Current.CancellationToken))
            .Should().ThrowAsync<ImageException>()).Which.Message.Should().Contain("neither a docker-archive").And.Contain(layout);
        (await FluentActions.Awaiting(() => store.ProvisionAsync(new ImageSpec("docker-archive:relative.tar"), "c1", TestContext.Current.CancellationToken))
            .Should().ThrowAsync<ImageException>()).Which.Message.Should().Contain("not an absolute path");
        (await FluentActions.Awaiting(() => store.ProvisionAsync(new ImageSpec("docker-archive:" + TempPath("missing.tar")), "c1", TestContext.Current.CancellationToken))
            .Should().ThrowAsync<ImageException>()).Which.Message.Should().Contain("does not exist");
        AssertNoStaging();
    }

    [Fact]
    public async Task A_corrupt_layer_in_a_layout_is_a_digest_mismatch_and_never_cached()
    {
        var image = TestImage.Create([LayerBuilder.Busybox(), new LayerBuilder().File("x", "x")], oci: true, gzip: false);
        var dir = OciLayout(image);
        var top = image.LayerDigests.Last();

        // Same length, different but valid content: only the digest can tell.
        var forged = TestImage.Create([new LayerBuilder().File("y", "y")], oci: true, gzip: false).Layers[0];
        forged.Length.Should().Be(image.Layers[1].Length);
        await File.WriteAllBytesAsync(Path.Join(dir, "blobs", "sha256", top["sha256:".Length..]), forged, TestContext.Current.CancellationToken);
        using var store = Store();

        var error = await FluentActions.Awaiting(() => store.ProvisionAsync(new ImageSpec("oci:" + dir), "c1", TestContext.Current.CancellationToken))
            .Should().ThrowAsync<ImageException>();

        error.Which.Message.Should().Contain($"layer {top}: digest mismatch: expected {top}, got {TestImage.Digest(forged)}");
        store.CachedLayers().Should().NotContain(top);
        AssertNoStaging();
    }

    [Fact]
    public async Task A_corrupt_layer_in_a_docker_archive_is_caught_by_its_diff_id()
    {
        var image = TestImage.Create([LayerBuilder.Busybox(), new LayerBuilder().File("x", "x")]);
        var forged = new LayerBuilder().File("y", "y").Tar();
        image.LayerTars[1] = forged;
        var archive = TempPath("forged.tar");
        image.WriteDockerArchive(archive, "forged:latest");
        using var store = Store();

        var error = await FluentActions.Awaiting(() => store.ProvisionAsync(new ImageSpec("docker-archive:" + archive), "c1", TestContext.Current.CancellationToken))
            .Should().ThrowAsync<ImageException>();

        error.Which.Message.Should().Be($"Failed to load image 'docker-archive:{archive}': layer 'layer1/layer.tar' in '{archive}': digest mismatch: " +
            $"expected {TestImage.Digest(new LayerBuilder().File("x", "x").Tar())} (the config's diff_id), got {TestImage.Digest(forged)}");
        store.CachedLayers().Should().BeEmpty();
        AssertNoStaging();
    }

    [Fact]
    public async Task The_rootfs_runs_busybox_under_chroot()
    {
        Assert.SkipUnless(TestNative.geteuid() == 0, "chroot needs root.");
        var image = Busybox();
        var archive = TempPath("busybox.tar");
        image.WriteDockerArchive(archive, "busybox:latest");
        using var store = Store();

        var rootfs = (await store.ProvisionAsync(new ImageSpec("docker-archive:" + archive), "c1", TestContext.Current.CancellationToken)).RootfsPath;

        Run("/usr/sbin/chroot", rootfs, "/bin/busybox", "echo", "ok").Should().Be("ok\n");
        Run("/usr/sbin/chroot", rootfs, "/bin/sh", "-c", "echo via-sh && ls /bin/busybox").Should().Be("via-sh\n/bin/busybox\n");
    }

    [Fact]
    public async Task Containers_writing_into_their_rootfs_never_change_the_cache_or_each_other()
    {
        var image = TestImage.Create([new LayerBuilder().Dir("etc/").File("etc/config", "original").HardLink("etc/config-link", "etc/config")], oci: true);
        var dir = OciLayout(image);
        using var store = Store();
        var ct = TestContext.Current.CancellationToken;

        var first = await store.ProvisionAsync(new ImageSpec("oci:" + dir), "c1", ct);
        await using (var stream = new FileStream(Path.Join(first.RootfsPath, "etc", "config"), FileMode.Open, FileAccess.Write))
        {
            await stream.WriteAsync("MODIFIED"u8.ToArray(), ct); // in place, through the inode
        }

        File.ReadAllText(Path.Join(first.RootfsPath, "etc", "config-link")).Should().Be("MODIFIED", "hardlinks inside one rootfs stay linked");
        var second = await store.ProvisionAsync(new ImageSpec("oci:" + dir), "c2", ct);

        File.ReadAllText(Path.Join(second.RootfsPath, "etc", "config")).Should().Be("original");
        var cached = Path.Join(StoreDir, "layers", image.LayerDigests.Single()["sha256:".Length..], "rootfs", "etc", "config");
        File.ReadAllText(cached).Should().Be("original");
    }

    [Fact]
    public async Task Release_removes_the_rootfs_and_a_container_gets_only_one_rootfs()
    {
        var dir = OciLayout(TestImage.Create([LayerBuilder.Busybox()], oci: true));
        using var store = Store();
        var ct = TestContext.Current.CancellationToken;
        var provisioned = await store.ProvisionAsync(new ImageSpec("oci:" + dir), "c1", ct);

        (await FluentActions.Awaiting(() => store.ProvisionAsync(new ImageSpec("oci:" + dir), "c1", ct)).Should().ThrowAsync<ImageException>())
            .Which.Message.Should().Contain("container 'c1' already has a rootfs");
        await FluentActions.Awaiting(() => store.ProvisionAsync(new ImageSpec("oci:" + dir), "../escape", ct)).Should().ThrowAsync<ArgumentException>();

        await store.ReleaseAsync("c1", ct);
        Directory.Exists(Path.GetDirectoryName(provisioned.RootfsPath)).Should().BeFalse();
        await store.ReleaseAsync("c1", ct); // twice is fine
        (await store.ProvisionAsync(new ImageSpec("oci:" + dir), "c1", ct)).RootfsPath.Should().Be(provisioned.RootfsPath);
    }

    [Fact]
    public async Task Prune_removes_what_no_container_uses_and_keeps_the_rest()
    {
        var shared = LayerBuilder.Busybox();
        var a = TestImage.Create([shared, new LayerBuilder().File("a", "a")], oci: true);
        var b = TestImage.Create([shared, new LayerBuilder().File("b", "b")], oci: true);
        using var store = Store();
        var ct = TestContext.Current.CancellationToken;
        await store.ProvisionAsync(new ImageSpec("oci:" + OciLayout(a, "a")), "ca", ct);
        var kept = await store.ProvisionAsync(new ImageSpec("oci:" + OciLayout(b, "b")), "cb", ct);
        await store.ReleaseAsync("ca", ct);
        store.CachedLayers().Should().HaveCount(3, "without a size bound a released image stays cached");

        var result = await store.PruneAsync(ct: ct);

        result.Should().Be(new PruneResult(ContainersRemoved: 0, ImagesRemoved: 1, LayersRemoved: 1, BytesFreed: 1));
        store.CachedLayers().Should().BeEquivalentTo(b.LayerDigests);
        store.CachedImages().Should().Equal(b.ManifestDigest);
        File.Exists(Path.Join(kept.RootfsPath, "b")).Should().BeTrue();

        // At agent start: containers the agent did not recover lose their rootfs; the images stay cached.
        var restarted = await store.RemoveLeftoverContainersAsync(liveContainers: [], ct);
        restarted.Should().Be(new PruneResult(ContainersRemoved: 1, ImagesRemoved: 0, LayersRemoved: 0, BytesFreed: 0));
        store.CachedImages().Should().Equal(b.ManifestDigest);
        Directory.EnumerateFileSystemEntries(Path.Join(StoreDir, "containers")).Should().BeEmpty();
        var again = await store.ProvisionAsync(new ImageSpec("oci:" + OciLayout(b, "b")), "cb2", ct);
        File.Exists(Path.Join(again.RootfsPath, "b")).Should().BeTrue();
        await store.ReleaseAsync("cb2", ct);
        await store.ProvisionAsync(new ImageSpec("oci:" + OciLayout(b, "b")), "cb", ct);

        // An explicit prune with no live container: the rootfs goes, and then its image.
        var atStart = await store.PruneAsync(liveContainers: [], ct);
        atStart.Should().Be(new PruneResult(1, 1, 2, new FileInfo(LayerBuilder.BusyboxPath).Length + 1 + "root:x:0:0:root:/root:/bin/sh\n".Length));
        store.CachedLayers().Should().BeEmpty();
        Directory.EnumerateFileSystemEntries(Path.Join(StoreDir, "containers")).Should().BeEmpty();
        AssertNoStaging();
    }

    [Fact]
    public async Task A_size_bound_evicts_unused_images_least_recently_used_first_on_release()
    {
        var busyboxBytes = new FileInfo(LayerBuilder.BusyboxPath).Length;
        var images = Enumerable.Range(0, 3).Select(i => TestImage.Create([new LayerBuilder().File($"f{i}", new byte[busyboxBytes])], oci: true)).ToList();
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.UnixEpoch);
        var options = new ImageOptions { StoreMaxBytes = (busyboxBytes * 2) + 10 };
        using var store = new ImageStore(options, WorkDir, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance, time);
        var ct = TestContext.Current.CancellationToken;
        for (var i = 0; i < 3; i++)
        {
            await store.ProvisionAsync(new ImageSpec("oci:" + OciLayout(images[i], $"l{i}")), $"c{i}", ct);
            time.Advance(TimeSpan.FromMinutes(1));
        }

        store.LayerBytes().Should().Be(busyboxBytes * 3, "images in use are never evicted, whatever the bound");
        await store.ReleaseAsync("c1", ct);
        store.CachedImages().Should().BeEquivalentTo([images[0].ManifestDigest, images[2].ManifestDigest]);
        await store.ReleaseAsync("c2", ct);
        store.CachedImages().Should().BeEquivalentTo([images[0].ManifestDigest, images[2].ManifestDigest], "two images fit the bound");
        await store.ReleaseAsync("c0", ct);
        store.CachedImages().Should().BeEquivalentTo([images[0].ManifestDigest, images[2].ManifestDigest]);

        // Least recently used goes first: image 0 (used at minute 0) before image 2 (minute 2).
        time.Advance(TimeSpan.FromMinutes(1));
        await store.ProvisionAsync(new ImageSpec("oci:" + TempPath("l1")), "c1", ct);
        await store.ReleaseAsync("c1", ct);
        store.CachedImages().Should().BeEquivalentTo([images[1].ManifestDigest, images[2].ManifestDigest]);

        // Using an image again makes it the most recent: image 2 is now the oldest.
        time.Advance(TimeSpan.FromMinutes(1));
        await store.ProvisionAsync(new ImageSpec("oci:" + TempPath("l0")), "c0", ct);
        await store.ReleaseAsync("c0", ct);
        store.CachedImages().Should().BeEquivalentTo([images[0].ManifestDigest, images[1].ManifestDigest]);
        store.LayerBytes().Should().BeLessThanOrEqualTo(options.StoreMaxBytes);
    }

    [Fact]
    public async Task Device_nodes_are_created_when_root()
    {
        Assert.SkipUnless(TestNative.geteuid() == 0, "mknod of a device needs root.");
        var image = TestImage.Create([new LayerBuilder().Dir("dev/").CharDevice("dev/null", 1, 3)], oci: true);
        using var store = Store();

        var rootfs = (await store.ProvisionAsync(new ImageSpec("oci:" + OciLayout(image)), "c1", TestContext.Current.CancellationToken)).RootfsPath;

        Run("/usr/bin/stat", "-c", "%F %t:%T", Path.Join(rootfs, "dev", "null")).Trim().Should().Be("character special file 1:3");
    }

    private static IEnumerable<string> Entries(string root) =>
        Directory.EnumerateFileSystemEntries(root, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 })
            .Select(p => Path.GetRelativePath(root, p));
}
