using AwesomeAssertions;
using Mezzo.Agent.Images;

namespace Mezzo.Agent.Tests.Images;

/// <summary>Pulls from a real registry (docker-registry on loopback) that the tests push their own images to.</summary>
public sealed class RegistryImageTests(RegistryFixture registry) : StoreHarness, IClassFixture<RegistryFixture>
{
    private readonly CountingHandler _handler = new();

    private static string Repo(string name) => $"{name}-{Guid.NewGuid():N}"[..(name.Length + 9)];

    private ImageStore RegistryStore() => Store(registry: registry.Uri.ToString().TrimEnd('/'), handler: _handler);

    private async Task<(string Repo, TestImage Image)> PushBusyboxAsync(string tag = "1", bool oci = false, params LayerBuilder[] more)
    {
        registry.SkipIfMissing();
        var repo = Repo("busybox");
        var image = TestImage.Create([LayerBuilder.Busybox(), .. more], oci: oci, entrypoint: ["/bin/busybox"], cmd: ["echo", "hello"], env: ["PATH=/bin"], workingDir: "/");
        await RegistryPush.PushAsync(registry.Http, registry.Uri, repo, tag, image);
        return (repo, image);
    }

    [Fact]
    public async Task Pulls_by_tag_into_a_rootfs_with_the_image_config()
    {
        var (repo, image) = await PushBusyboxAsync();
        using var store = RegistryStore();

        var provisioned = await store.ProvisionAsync(new ImageSpec($"{repo}:1"), "c1", TestContext.Current.CancellationToken);

        provisioned.Digest.Should().Be(image.ManifestDigest);
        provisioned.Reference.Should().Be($"{registry.Uri.Authority}/{repo}:1");
        provisioned.Config.Entrypoint.Should().Equal("/bin/busybox");
        provisioned.Config.Cmd.Should().Equal("echo", "hello");
        provisioned.Config.WorkingDir.Should().Be("/");
        File.ReadAllBytes(Path.Join(provisioned.RootfsPath, "bin", "busybox")).Should().Equal(File.ReadAllBytes(LayerBuilder.BusyboxPath));
        AssertNoStaging();
    }

    [Fact]
    public async Task Pulls_by_digest_and_by_registry_qualified_name()
    {
        var (repo, image) = await PushBusyboxAsync(oci: true);
        using var store = RegistryStore();
        var ct = TestContext.Current.CancellationToken;

        var byDigest = await store.ProvisionAsync(new ImageSpec($"{repo}@{image.ManifestDigest}"), "c1", ct);
        var qualified = await store.ProvisionAsync(new ImageSpec($"{registry.Uri.Authority}/{repo}:1"), "c2", ct);

        byDigest.Digest.Should().Be(image.ManifestDigest);
        qualified.Digest.Should().Be(image.ManifestDigest);
        File.Exists(Path.Join(byDigest.RootfsPath, "bin", "busybox")).Should().BeTrue();
        _handler.Requests.Should().Contain($"GET /v2/{repo}/manifests/{image.ManifestDigest}");

        var unknown = "sha256:" + new string('0', 64);
        (await FluentActions.Awaiting(() => store.ProvisionAsync(new ImageSpec($"{repo}@{unknown}"), "c3", ct)).Should().ThrowAsync<ImageException>())
            .Which.Message.Should().Contain($"Failed to pull image '{repo}@{unknown}': manifest unknown");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_manifest_list_or_oci_index_resolves_to_the_linux_amd64_image(bool oci)
    {
        registry.SkipIfMissing();
        var repo = Repo("multi");
        var amd64 = TestImage.Create([LayerBuilder.Busybox(), new LayerBuilder().File("arch", "amd64")], oci: oci);
        var arm64 = TestImage.Create([new LayerBuilder().File("arch", "arm64")], oci: oci, architecture: "arm64");
        await RegistryPush.PushAsync(registry.Http, registry.Uri, repo, "amd64", amd64);
        await RegistryPush.PushAsync(registry.Http, registry.Uri, repo, "arm64", arm64);
        var (index, type) = TestImage.Index(oci, (arm64, "arm64"), (amd64, "amd64"));
        await RegistryPush.PushManifestAsync(registry.Http, registry.Uri, repo, "multi", index, type);
        using var store = RegistryStore();

        var provisioned = await store.ProvisionAsync(new ImageSpec($"{repo}:multi"), "c1", TestContext.Current.CancellationToken);

        provisioned.Digest.Should().Be(amd64.ManifestDigest, "the platform manifest is the image");
        File.ReadAllText(Path.Join(provisioned.RootfsPath, "arch")).Should().Be("amd64");
        _handler.Count(arm64.LayerDigests.Single()).Should().Be(0);
    }

    [Fact]
    public async Task Cached_layers_and_images_are_not_fetched_again()
    {
        var (repo, image) = await PushBusyboxAsync("a", more: new LayerBuilder().File("which", "a"));
        var b = TestImage.Create([LayerBuilder.Busybox(), new LayerBuilder().File("which", "b")]);
        await RegistryPush.PushAsync(registry.Http, registry.Uri, repo, "b", b);
        using var store = RegistryStore();
        var ct = TestContext.Current.CancellationToken;
        var busyboxLayer = image.LayerDigests.First();

        await store.ProvisionAsync(new ImageSpec($"{repo}:a"), "c1", ct);
        var second = await store.ProvisionAsync(new ImageSpec($"{repo}:b"), "c2", ct);

        File.ReadAllText(Path.Join(second.RootfsPath, "which")).Should().Be("b");
        _handler.Count($"/blobs/{busyboxLayer}").Should().Be(1, "image b shares the busybox layer with image a");
        _handler.Count($"/blobs/{b.LayerDigests.Last()}").Should().Be(1);

        // Cached (Mesos's Image.cached, the default): the store does not even ask the registry.
        var before = _handler.Requests.Count;
        await store.ProvisionAsync(new ImageSpec($"{repo}:a"), "c3", ct);
        _handler.Requests.Count.Should().Be(before);

        // Not cached: the manifest is fetched again, the layers are not.
        await store.ProvisionAsync(new ImageSpec($"{repo}:a", Cached: false), "c4", ct);
        _handler.Requests.Skip(before).Should().OnlyContain(r => r.Contains("/manifests/", StringComparison.Ordinal) || r.Contains("/blobs/" + image.ConfigDigest, StringComparison.Ordinal));
        _handler.Count($"/blobs/{busyboxLayer}").Should().Be(1);
    }

    [Fact]
    public async Task Concurrent_provisions_of_one_image_pull_it_once()
    {
        var (repo, image) = await PushBusyboxAsync();
        using var store = RegistryStore();

        var all = await Task.WhenAll(Enumerable.Range(0, 6).Select(i =>
            Task.Run(() => store.ProvisionAsync(new ImageSpec($"{repo}:1"), $"c{i}", TestContext.Current.CancellationToken))));

        all.Select(p => p.RootfsPath).Should().OnlyHaveUniqueItems();
        all.Should().OnlyContain(p => File.Exists(Path.Join(p.RootfsPath, "bin", "busybox")));
        _handler.Count($"/blobs/{image.LayerDigests.Single()}").Should().Be(1);
        _handler.Count("/manifests/").Should().Be(1);
    }

    [Fact]
    public async Task Unknown_repositories_and_tags_are_manifest_unknown()
    {
        var (repo, _) = await PushBusyboxAsync();
        using var store = RegistryStore();
        var ct = TestContext.Current.CancellationToken;

        (await FluentActions.Awaiting(() => store.ProvisionAsync(new ImageSpec($"{repo}:nope"), "c1", ct)).Should().ThrowAsync<ImageException>())
            .Which.Message.Should().Be($"Failed to pull image '{repo}:nope': manifest unknown: 'nope' not found in repository '{repo}' at {registry.Uri.Authority} (MANIFEST_UNKNOWN: manifest unknown)");
        (await FluentActions.Awaiting(() => store.ProvisionAsync(new ImageSpec("no-such-repo"), "c1", ct)).Should().ThrowAsync<ImageException>())
            .Which.Message.Should().StartWith("Failed to pull image 'no-such-repo': manifest unknown: 'latest' not found in repository 'no-such-repo'");
        Directory.Exists(Path.Join(StoreDir, "containers", "c1")).Should().BeFalse();
    }

    [Fact]
    public async Task An_unreachable_registry_names_the_image_and_the_address()
    {
        var port = RegistryFixture.FreePort();
        using var store = Store(registry: $"http://127.0.0.1:{port}");

        var error = await FluentActions.Awaiting(() => store.ProvisionAsync(new ImageSpec("busybox"), "c1", TestContext.Current.CancellationToken))
            .Should().ThrowAsync<ImageException>();

        error.Which.Message.Should().Be($"Failed to pull image 'busybox': connection refused to 127.0.0.1:{port}");
        (await FluentActions.Awaiting(() => store.ProvisionAsync(new ImageSpec($"localhost:{port}/x"), "c1", TestContext.Current.CancellationToken))
            .Should().ThrowAsync<ImageException>()).Which.Message.Should().Contain($"connection refused to localhost:{port}");
        AssertNoStaging();
    }

    [Fact]
    public async Task A_bad_image_name_fails_before_any_request()
    {
        registry.SkipIfMissing();
        using var store = RegistryStore();

        (await FluentActions.Awaiting(() => store.ProvisionAsync(new ImageSpec("Bad/Name"), "c1", TestContext.Current.CancellationToken))
            .Should().ThrowAsync<ImageException>()).Which.Message.Should().Be("Invalid image name 'Bad/Name': repository name must be lowercase");
        _handler.Requests.Should().BeEmpty();
    }

    [Theory]
    [InlineData("flipped")]
    [InlineData("forged")]
    public async Task A_corrupt_layer_fails_with_its_digest_and_is_never_cached(string corruption)
    {
        var (repo, image) = await PushBusyboxAsync(more: new LayerBuilder().File("payload", new string('p', 5000)));
        var layer = image.LayerDigests.Last();
        var data = registry.BlobDataPath(layer);
        var bytes = await File.ReadAllBytesAsync(data, TestContext.Current.CancellationToken);
        if (corruption == "flipped")
        {
            bytes[bytes.Length / 2] ^= 0xFF; // breaks the gzip stream itself
        }
        else
        {
            bytes = TestImage.Create([new LayerBuilder().File("payload", new string('q', 5000))]).Layers[0];
            bytes.Length.Should().Be(image.Layers[1].Length);
        }

        await File.WriteAllBytesAsync(data, bytes, TestContext.Current.CancellationToken);
        using var store = RegistryStore();

        var error = await FluentActions.Awaiting(() => store.ProvisionAsync(new ImageSpec($"{repo}:1"), "c1", TestContext.Current.CancellationToken))
            .Should().ThrowAsync<ImageException>();

        error.Which.Message.Should().StartWith($"Failed to pull image '{repo}:1': layer {layer}").And.Match(m => m.Contains("digest mismatch") || m.Contains("corrupt"));
        if (corruption == "forged")
        {
            error.Which.Message.Should().Contain($"digest mismatch: expected {layer}, got {TestImage.Digest(bytes)}");
        }

        store.CachedLayers().Should().Equal([image.LayerDigests.First()], "the good layer is cached, the corrupt one is not");
        store.CachedImages().Should().BeEmpty();
        Directory.Exists(Path.Join(StoreDir, "containers", "c1")).Should().BeFalse();
        AssertNoStaging();
    }
}
