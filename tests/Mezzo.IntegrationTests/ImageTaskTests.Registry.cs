using System.Text.Json.Nodes;
using AwesomeAssertions;
using Mezzo.Agent.Tests.Images;
using Mezzo.IntegrationTests.Infrastructure;

namespace Mezzo.IntegrationTests;

/// <summary>Image tasks whose image the agent pulls itself from a real registry (Debian's docker-registry, loopback).</summary>
public sealed partial class ImageTaskTests
{
    private static async Task<RegistryFixture> RegistryWithAsync(string repository, string tag, TestImage image)
    {
        var registry = new RegistryFixture();
        await registry.InitializeAsync();
        registry.SkipIfMissing();
        await RegistryPush.PushAsync(registry.Http, registry.Uri, repository, tag, image);
        return registry;
    }

    private static string MesosImage(string name) =>
        new JsonObject { ["type"] = "MESOS", ["mesos"] = new JsonObject { ["image"] = new JsonObject { ["type"] = "DOCKER", ["docker"] = new JsonObject { ["name"] = name } } } }.ToJsonString();

    [Fact]
    public async Task An_image_pulled_from_a_registry_runs_with_its_entrypoint_and_a_command_health_check_runs_inside_it()
    {
        BusyboxImage.SkipUnlessUsable();
        var image = TestImage.Create(
            [LayerBuilder.Busybox(), new LayerBuilder().Dir("etc").File("etc/only-in-the-image", "yes")],
            entrypoint: ["/bin/sh", "-c"], cmd: ["echo pulled; exec sleep 600"]);
        await using var registry = await RegistryWithAsync("mezzo/pulled", "1", image);
        await using var cluster = await InProcessCluster.StartAsync();
        await using var scheduler = new RawScheduler(cluster.MasterUrl);
        await scheduler.SubscribeAsync(RawScheduler.FrameworkInfo());
        var name = $"{registry.Uri.Authority}/mezzo/pulled:1";

        // The check's file exists only in the image's root file system: it passes only if it runs inside the container.
        await LaunchAsync(scheduler, await scheduler.NextOfferAsync(), "pulled", MesosImage(name), """{"shell":false}""",
            extraTaskFields: ""","health_check":{"type":"COMMAND","command":{"value":"test -f /etc/only-in-the-image"},"delay_seconds":0,"interval_seconds":0.2,"grace_period_seconds":60}""");

        var running = await ExpectAsync(cluster, scheduler, "pulled", "TASK_RUNNING");
        await scheduler.WaitForAsync(
            e => (string?)e["update"]?["status"]?["task_id"]?["value"] == "pulled" && (bool?)e["update"]?["status"]?["healthy"] == true,
            "the task to turn healthy");
        var stdout = Path.Combine(Sandbox(cluster, scheduler, running, "pulled"), "stdout");
        await Poll.UntilAsync(() => Task.FromResult(File.Exists(stdout) && File.ReadAllText(stdout) == "pulled\n"), "the entrypoint's output");

        await scheduler.KillAsync("pulled");
        await ExpectAsync(cluster, scheduler, "pulled", "TASK_KILLED");
        await AssertNothingLeftAsync(cluster);
        Directory.GetDirectories(Path.Combine(cluster.WorkDir, "agent", "images", "containers")).Should().BeEmpty("the container's root file system is released with it");
    }

    [Theory]
    [InlineData("missing", "*Failed to pull image*mezzo/pulled:nope*manifest unknown*")]
    [InlineData("unreachable", "*Failed to pull image*connection refused*")]
    [InlineData("bad-name", "*Invalid image name 'Mezzo/UPPER'*")]
    [InlineData("corrupt", "*Failed to pull image*mezzo/pulled:1*digest mismatch*")]
    public async Task An_image_that_cannot_be_had_fails_the_task_with_a_message_naming_it(string what, string message)
    {
        BusyboxImage.SkipUnlessUsable();
        var image = TestImage.Create([LayerBuilder.Busybox()], cmd: ["true"]);
        await using var registry = await RegistryWithAsync("mezzo/pulled", "1", image);
        if (what == "corrupt")
        {
            // Same length, other bytes: only the digest check can tell.
            var blob = registry.BlobDataPath(image.LayerDigests.Single());
            var bytes = await File.ReadAllBytesAsync(blob);
            bytes[^1] ^= 0xFF;
            await File.WriteAllBytesAsync(blob, bytes);
        }

        await using var cluster = await InProcessCluster.StartAsync();
        await using var scheduler = new RawScheduler(cluster.MasterUrl);
        await scheduler.SubscribeAsync(RawScheduler.FrameworkInfo());
        var name = what switch
        {
            "missing" => $"{registry.Uri.Authority}/mezzo/pulled:nope",
            "unreachable" => $"127.0.0.1:{RegistryFixture.FreePort()}/mezzo/pulled:1",
            "corrupt" => $"{registry.Uri.Authority}/mezzo/pulled:1",
            _ => "Mezzo/UPPER",
        };

        await LaunchAsync(scheduler, await scheduler.NextOfferAsync(), what, MesosImage(name), """{"shell":false}""");

        var failed = await ExpectAsync(cluster, scheduler, what, "TASK_FAILED");
        var status = failed["update"]!["status"]!;
        ((string?)status["reason"]).Should().Be("REASON_CONTAINER_LAUNCH_FAILED");
        ((string?)status["message"]).Should().Match(message);
        await AssertNothingLeftAsync(cluster);
        var layers = Path.Combine(cluster.WorkDir, "agent", "images", "layers");
        (Directory.Exists(layers) ? Directory.GetDirectories(layers) : []).Should().BeEmpty("nothing complete was pulled, so nothing is cached");
        var staging = Path.Combine(cluster.WorkDir, "agent", "images", "staging");
        (Directory.Exists(staging) ? Directory.GetFileSystemEntries(staging) : []).Should().BeEmpty("a failed pull leaves no partial layer behind");
    }
}
