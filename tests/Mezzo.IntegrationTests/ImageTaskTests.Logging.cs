using Mezzo.Agent.Sandbox;
using Mezzo.IntegrationTests.Infrastructure;

namespace Mezzo.IntegrationTests;

/// <summary>An image task's process is runc under the supervisor: its stdout/stderr follow --container-logger too.</summary>
public sealed partial class ImageTaskTests
{
    [Fact]
    public async Task An_image_tasks_output_is_rotated_under_logrotate()
    {
        BusyboxImage.SkipUnlessUsable();
        using var images = new TempDir();
        BusyboxImage.Create(images.Path, "busybox", """{"config":{"Cmd":["sh"]}}""");
        await using var cluster = await InProcessCluster.StartAsync(configureAgent: o =>
        {
            o.ImageRootfsDir = images.Path;
            o.ContainerLogger = new ContainerLoggerOptions { Kind = ContainerLoggerKind.Logrotate, MaxSize = 64 * 1024, MaxFiles = 2 };
        });
        await using var scheduler = new RawScheduler(cluster.MasterUrl);
        await scheduler.SubscribeAsync(RawScheduler.FrameworkInfo());

        await LaunchAsync(scheduler, await scheduler.NextOfferAsync(), "seq", Docker("busybox"), """{"shell":true,"value":"seq 1 100000; echo done >&2"}""");

        var finished = await ExpectAsync(cluster, scheduler, "seq", "TASK_FINISHED");
        var sandbox = Sandbox(cluster, scheduler, finished, "seq");
        Directory.GetFiles(sandbox, "stdout*").Select(Path.GetFileName).Order(StringComparer.Ordinal).Should().Equal("stdout", "stdout.1", "stdout.2");
        new FileInfo(Path.Combine(sandbox, "stdout.1")).Length.Should().Be(64 * 1024);
        (await File.ReadAllTextAsync(Path.Combine(sandbox, "stdout"))).Should().EndWith("\n100000\n");
        (await File.ReadAllTextAsync(Path.Combine(sandbox, "stderr"))).Should().EndWith("done\n");
        await AssertNothingLeftAsync(cluster);
    }
}
