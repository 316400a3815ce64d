using Mezzo.Services.State;
using Mezzo.Services.Tests.Scheduling;

namespace Mezzo.Services.Tests.State;

public sealed class ServicesStoreTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("mezzo-services-store-").FullName;

    [Fact]
    public void Everything_written_is_there_after_reopening()
    {
        var app = Apps.App();
        var deployment = new Deployment
        {
            Id = "d1",
            Version = "v1",
            Original = new Dictionary<string, Mezzo.Protocol.Marathon.AppDefinition?> { ["/web"] = null },
            Target = new Dictionary<string, Mezzo.Protocol.Marathon.AppDefinition?> { ["/web"] = app },
            Steps = [[new DeploymentAction("StartApplication", "/web")]],
        };
        using (var store = ServicesStore.InWorkDir(_dir))
        {
            store.Write(batch =>
            {
                batch.PutApp(app);
                batch.PutDeployment(deployment);
                batch.PutInstance(Apps.Task("t1") with { Ports = [31000], Attributes = new Dictionary<string, string> { ["rack"] = "r1" } });
                batch.PutFrameworkId("fw-1");
            });
        }

        using var reopened = ServicesStore.InWorkDir(_dir);
        reopened.FrameworkId.Should().Be("fw-1");
        reopened.LoadApps().Should().ContainSingle().Which.Id.Should().Be("/web");
        var loaded = reopened.LoadDeployments().Should().ContainSingle().Subject;
        loaded.Target["/web"]!.Cmd.Should().Be("x");
        loaded.Original["/web"].Should().BeNull();
        loaded.Steps[0][0].Should().Be(new DeploymentAction("StartApplication", "/web"));
        var task = reopened.LoadInstances().Should().ContainSingle().Subject;
        task.Ports.Should().Equal(31000);
        task.Attributes["rack"].Should().Be("r1");
        reopened.Versions("/web").Should().Equal("v1");
        reopened.Version("/web", "v1")!.Mem.Should().Be(64);
    }

    [Fact]
    public void A_failing_batch_leaves_nothing_behind()
    {
        using var store = ServicesStore.InWorkDir(_dir);
        var act = () => store.Write(batch =>
        {
            batch.PutApp(Apps.App());
            throw new InvalidOperationException("disk full");
        });

        act.Should().Throw<InvalidOperationException>();
        store.LoadApps().Should().BeEmpty();
        store.Versions("/web").Should().BeEmpty();
    }

    [Fact]
    public void Deleting_an_app_deletes_its_versions()
    {
        using var store = ServicesStore.InWorkDir(_dir);
        store.Write(batch =>
        {
            batch.PutApp(Apps.App(version: "v1"));
            batch.PutApp(Apps.App(version: "v2"));
        });
        store.Versions("/web").Should().Equal("v2", "v1");

        store.Write(batch => batch.DeleteApp("/web"));

        store.LoadApps().Should().BeEmpty();
        store.Versions("/web").Should().BeEmpty();
    }

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, recursive: true);
    }
}
