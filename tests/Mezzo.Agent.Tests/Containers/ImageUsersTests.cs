using AwesomeAssertions;
using Mezzo.Agent.Containers;

namespace Mezzo.Agent.Tests.Containers;

public sealed class ImageUsersTests
{
    private const string Passwd = "root:x:0:0:root:/root:/bin/sh\n# comment\nnobody:x:65534:65534:nobody:/:/bin/false\napp:x:1000:100:app:/home/app:/bin/sh\n";
    private const string Group = "root:x:0:\nusers:x:100:\ndocker:x:999:app,other\nwheel:x:10:app\nnogroup:x:65534:\n";

    [Theory]
    [InlineData(null, 0u, 0u)]
    [InlineData("", 0u, 0u)]
    [InlineData("app", 1000u, 100u)]
    [InlineData("1000", 1000u, 100u)]
    [InlineData("4242", 4242u, 0u)]
    [InlineData("app:docker", 1000u, 999u)]
    [InlineData("nobody:10", 65534u, 10u)]
    [InlineData("4242:4343", 4242u, 4343u)]
    [InlineData("root", 0u, 0u)]
    public void Resolves_names_and_ids_from_the_image(string? user, uint uid, uint gid)
    {
        var resolved = ImageUsers.Resolve(user, Passwd, Group);
        resolved.Uid.Should().Be(uid);
        resolved.Gid.Should().Be(gid);
    }

    [Fact]
    public void Supplementary_groups_come_from_the_image_group_file()
    {
        ImageUsers.Resolve("app", Passwd, Group).AdditionalGids.Should().BeEquivalentTo([999u, 10u]);
    }

    [Fact]
    public void Unknown_names_are_named()
    {
        var user = () => ImageUsers.Resolve("ghost", Passwd, Group);
        user.Should().Throw<ContainerLaunchException>().WithMessage("User 'ghost' (from 'ghost') is not in the image's /etc/passwd");
        var group = () => ImageUsers.Resolve("app:ghosts", Passwd, Group);
        group.Should().Throw<ContainerLaunchException>().WithMessage("Group 'ghosts' (from 'app:ghosts') is not in the image's /etc/group");
        var noFile = () => ImageUsers.Resolve("app", null, null);
        noFile.Should().Throw<ContainerLaunchException>().WithMessage("*not in the image's /etc/passwd");
        ImageUsers.Resolve("root", null, null).Should().BeEquivalentTo(new ContainerUser(0, 0, []), "root needs no user database");
    }
}
