using System.Text.Json.Nodes;
using AwesomeAssertions;
using Mezzo.Agent.Containers;

namespace Mezzo.Agent.Tests.Containers;

public sealed class LocalImageResolverTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("mezzo-images-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData("busybox", "busybox_latest")]
    [InlineData("busybox:1.36", "busybox_1.36")]
    [InlineData("library/busybox", "library_busybox_latest")]
    [InlineData("localhost:5000/team/app", "localhost_5000_team_app_latest")]
    [InlineData("localhost:5000/team/app:v2", "localhost_5000_team_app_v2")]
    [InlineData("app@sha256:abcd", "app_sha256_abcd")]
    public void Maps_image_names_to_directory_names(string name, string key) => LocalImageResolver.Key(name).Should().Be(key);

    [Fact]
    public void Reads_the_runtime_config_from_a_config_blob_or_a_bare_config()
    {
        var blob = JsonNode.Parse("""{"architecture":"amd64","config":{"Entrypoint":["/bin/httpd"],"Cmd":["-f"],"Env":["A=1"],"WorkingDir":"/www","User":"app","ExposedPorts":{"80/tcp":{}}}}""");
        var image = LocalImageResolver.ParseConfig("web", blob);
        image.Entrypoint.Should().Equal("/bin/httpd");
        image.Cmd.Should().Equal("-f");
        image.Env.Should().Equal("A=1");
        image.WorkingDir.Should().Be("/www");
        image.User.Should().Be("app");
        image.ExposedPorts.Should().Equal("80/tcp");
        LocalImageResolver.ParseConfig("web", JsonNode.Parse("""{"Cmd":["sh"],"Entrypoint":null}""")).Cmd.Should().Equal("sh");
    }

    [Fact]
    public async Task A_missing_image_or_a_corrupt_config_is_named()
    {
        var resolver = new LocalImageResolver(_dir, Path.Combine(_dir, "work"));
        var missing = () => resolver.ResolveAsync(new ImageRequest("nope:1"), "c1", CancellationToken.None);
        await missing.Should().ThrowAsync<ContainerLaunchException>().WithMessage($"Image 'nope:1' not found: no directory {_dir}/nope_1 (--image-rootfs-dir)");

        Directory.CreateDirectory(Path.Combine(_dir, "bad_latest"));
        await File.WriteAllTextAsync(Path.Combine(_dir, "bad_latest.json"), "{not json");
        var corrupt = () => resolver.ResolveAsync(new ImageRequest("bad"), "c2", CancellationToken.None);
        await corrupt.Should().ThrowAsync<ContainerLaunchException>().WithMessage($"Image 'bad': {_dir}/bad_latest.json is not valid JSON*");
        Directory.Exists(Path.Combine(_dir, "work", "images", "containers", "c2")).Should().BeFalse("nothing is made for an image that cannot be read");
    }

    [Fact]
    public async Task Each_container_gets_its_own_writable_overlay_and_release_removes_it()
    {
        Assert.SkipUnless(Environment.IsPrivilegedProcess, "Needs root to mount overlayfs.");
        var lower = Directory.CreateDirectory(Path.Combine(_dir, "img_latest")).FullName;
        await File.WriteAllTextAsync(Path.Combine(lower, "file"), "from the image");
        var resolver = new LocalImageResolver(_dir, Path.Combine(_dir, "work"));

        var image = await resolver.ResolveAsync(new ImageRequest("img"), "c1", CancellationToken.None);
        (await File.ReadAllTextAsync(Path.Combine(image.RootfsPath, "file"))).Should().Be("from the image");
        await File.WriteAllTextAsync(Path.Combine(image.RootfsPath, "file"), "changed by the container");
        (await File.ReadAllTextAsync(Path.Combine(lower, "file"))).Should().Be("from the image", "the image directory is never modified");

        await resolver.ReleaseAsync("c1");
        Directory.Exists(Path.GetDirectoryName(image.RootfsPath)).Should().BeFalse();
        (await File.ReadAllLinesAsync("/proc/self/mountinfo")).Should().NotContain(l => l.Contains(image.RootfsPath, StringComparison.Ordinal));
    }
}
