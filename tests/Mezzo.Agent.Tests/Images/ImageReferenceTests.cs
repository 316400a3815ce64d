using AwesomeAssertions;
using Mezzo.Agent.Images;

namespace Mezzo.Agent.Tests.Images;

public sealed class ImageReferenceTests
{
    private static readonly Uri Hub = new(ImageOptions.DefaultDockerRegistry);
    private static readonly Uri Local = new("http://127.0.0.1:5000");
    private const string Hex = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    [Theory]
    [InlineData("busybox", "https://registry-1.docker.io/", "library/busybox", "latest", null)]
    [InlineData("busybox:1.36", "https://registry-1.docker.io/", "library/busybox", "1.36", null)]
    [InlineData("user/app", "https://registry-1.docker.io/", "user/app", "latest", null)]
    [InlineData("docker.io/busybox", "https://registry-1.docker.io/", "library/busybox", "latest", null)]
    [InlineData("index.docker.io/library/busybox:musl", "https://registry-1.docker.io/", "library/busybox", "musl", null)]
    [InlineData("quay.io/org/app:v1", "https://quay.io/", "org/app", "v1", null)]
    [InlineData("localhost/app", "http://localhost/", "app", "latest", null)]
    [InlineData("localhost:5000/a/b/c:t", "http://localhost:5000/", "a/b/c", "t", null)]
    [InlineData("127.0.0.1:5999/app", "http://127.0.0.1:5999/", "app", "latest", null)]
    [InlineData("registry.example.com:8443/team/app-name_x.y", "https://registry.example.com:8443/", "team/app-name_x.y", "latest", null)]
    [InlineData("busybox@sha256:" + Hex, "https://registry-1.docker.io/", "library/busybox", null, "sha256:" + Hex)]
    [InlineData("busybox:1@sha256:" + Hex, "https://registry-1.docker.io/", "library/busybox", "1", "sha256:" + Hex)]
    public void Parses_with_dockers_rules(string name, string registry, string repository, string? tag, string? digest)
    {
        var reference = ImageReference.Parse(name, Hub);

        reference.RegistryUri.ToString().Should().Be(registry);
        reference.Repository.Should().Be(repository);
        reference.Tag.Should().Be(tag);
        reference.Digest.Should().Be(digest);
        reference.ManifestReference.Should().Be(digest ?? tag);
    }

    [Fact]
    public void A_private_default_registry_gets_no_library_prefix_and_keeps_its_scheme()
    {
        var reference = ImageReference.Parse("busybox", Local);
        reference.RegistryUri.ToString().Should().Be("http://127.0.0.1:5000/");
        reference.Repository.Should().Be("busybox");
        reference.ToString().Should().Be("127.0.0.1:5000/busybox:latest");

        ImageReference.Parse("127.0.0.1:5000/x", Local).RegistryUri.Scheme.Should().Be("http");
        ImageReference.Parse("reg.internal:5000/x", new Uri("http://reg.internal:5000")).RegistryUri.Scheme.Should().Be("http", "the default registry's own host:port keeps its http scheme");
        ImageReference.Parse("other.internal:5000/x", new Uri("http://reg.internal:5000")).RegistryUri.Scheme.Should().Be("https");
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("Busybox", "must be lowercase")]
    [InlineData("busybox:", "tag '' is invalid")]
    [InlineData("busybox:-x", "tag '-x' is invalid")]
    [InlineData("busybox@sha256:abc", "digest 'sha256:abc'")]
    [InlineData("busybox@md5:" + Hex, "digest 'md5:")]
    [InlineData("bad_/name", "component 'bad_'")]
    [InlineData("a//b", "component ''")]
    [InlineData("busy box", "invalid reference format")]
    [InlineData("quay.io/", "repository is empty")]
    [InlineData("-bad.host-/x", "registry '-bad.host-'")]
    public void Rejects_invalid_names_naming_the_input(string name, string why)
    {
        var error = FluentActions.Invoking(() => ImageReference.Parse(name, Hub)).Should().Throw<ImageException>().Which;
        error.Message.Should().StartWith($"Invalid image name '{name}'").And.Contain(why);
    }

    [Theory]
    [InlineData("https://registry-1.docker.io", "https://registry-1.docker.io/", null)]
    [InlineData("http://127.0.0.1:5000", "http://127.0.0.1:5000/", null)]
    [InlineData("localhost:5000", "http://localhost:5000/", null)]
    [InlineData("reg.example.com", "https://reg.example.com/", null)]
    [InlineData("/var/lib/images", null, "/var/lib/images")]
    [InlineData("file:///var/lib/images", null, "/var/lib/images")]
    public void Docker_registry_flag_is_a_url_a_host_or_a_directory(string flag, string? uri, string? directory)
    {
        var (registry, local) = ImageStore.ParseRegistryFlag(flag);
        registry?.ToString().Should().Be(uri);
        local.Should().Be(directory);
    }

    [Fact]
    public void Docker_registry_flag_rejects_other_schemes()
    {
        FluentActions.Invoking(() => ImageStore.ParseRegistryFlag("ftp://x/y")).Should().Throw<ArgumentException>().WithMessage("*ftp://x/y*");
    }
}
