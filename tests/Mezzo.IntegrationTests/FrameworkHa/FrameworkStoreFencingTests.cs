using Etcdserverpb;
using Mezzo.IntegrationTests.Infrastructure;
using Mezzo.Jobs;
using Mezzo.Jobs.Engine;
using Mezzo.Protocol.Chronos;
using Mezzo.Protocol.Marathon;
using Mezzo.Services;
using Mezzo.Services.State;
using Mezzo.Storage.Etcd;
using Microsoft.Extensions.Logging.Abstractions;

namespace Mezzo.IntegrationTests.FrameworkHa;

/// <summary>The services and jobs etcd stores on a real etcd: round trips, and a deposed leader's writes refused.</summary>
public sealed class FrameworkStoreFencingTests
{
    private static readonly TimeSpan LeaseTtl = TimeSpan.FromSeconds(2);

    private static Instance Task(string id, string app) => new()
    {
        TaskId = id,
        AppId = app,
        Version = "2026-01-01T00:00:00.000Z",
        ConfigVersion = "2026-01-01T00:00:00.000Z",
        AgentId = "agent-1",
        Host = "host",
        State = Core.Tasks.TaskState.TASK_RUNNING,
        StagedAt = DateTimeOffset.UnixEpoch,
    };

    private static AppDefinition App(string id, string version) => new() { Id = id, Version = version, Cmd = "sleep 100", Instances = 1 };

    [Fact]
    public async Task A_deposed_services_leaders_writes_are_refused_end_its_term_and_leave_the_successors_state_alone()
    {
        await using var etcd = await EtcdServer.StartAsync();
        var target = ServicesServer.ParseStore(etcd.Url())!;
        target.Prefix.Should().Be("/mezzo/services", "services keep a key space and a leader key of their own beside the master's");
        using var first = EtcdConnection.Open(target);
        using var admin = EtcdConnection.Open(target);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await using var term = await new EtcdLeaderElection(first, LeaseTtl, TimeProvider.System, NullLogger.Instance).CampaignAsync("first:1", timeout.Token);
        var store = new EtcdServicesStore(new EtcdFence(term));
        store.Write(batch =>
        {
            batch.PutFrameworkId("fw-1");
            batch.PutApp(App("/foo", "2026-01-01T00:00:00.000Z"));
            batch.PutApp(App("/foo", "2026-01-02T00:00:00.000Z"));
            batch.PutApp(App("/foo/bar", "2026-01-01T00:00:00.000Z"));
            batch.PutInstance(Task("foo.1", "/foo"));
            batch.PutInstance(Task("foo.2", "/foo"));
            batch.DeleteInstance("foo.2");
            batch.PutDeployment(new Deployment
            {
                Id = "d1",
                Version = "2026-01-02T00:00:00.000Z",
                Original = new Dictionary<string, AppDefinition?> { ["/foo"] = null },
                Target = new Dictionary<string, AppDefinition?> { ["/foo"] = App("/foo", "2026-01-02T00:00:00.000Z") },
                Steps = [[new DeploymentAction("StartApplication", "/foo")]],
            });
        });
        store.FrameworkId.Should().Be("fw-1");
        store.LoadApps().Select(a => (a.Id, a.Version)).Should().Equal(("/foo", "2026-01-02T00:00:00.000Z"), ("/foo/bar", "2026-01-01T00:00:00.000Z"));
        store.Versions("/foo").Should().Equal("2026-01-02T00:00:00.000Z", "2026-01-01T00:00:00.000Z");
        store.Version("/foo", "2026-01-01T00:00:00.000Z")!.Version.Should().Be("2026-01-01T00:00:00.000Z");
        store.LoadInstances().Select(i => i.TaskId).Should().Equal("foo.1");
        store.LoadDeployments().Select(d => d.Id).Should().Equal("d1");
        store.Write(batch => batch.DeleteApp("/foo"));
        store.Versions("/foo").Should().BeEmpty("Marathon forgets an app's versions with it");
        store.Versions("/foo/bar").Should().ContainSingle("an app whose id starts with a deleted one's keeps its versions");

        // Revoked behind its back (as an expired lease would be), and a rival elected at once.
        await admin.Lease.LeaseRevokeAsync(new LeaseRevokeRequest { ID = term.LeaseId });
        await using var successor = await new EtcdLeaderElection(admin, LeaseTtl, TimeProvider.System, NullLogger.Instance).CampaignAsync("second:2", timeout.Token);
        var launch = () => store.Write(batch => batch.PutInstance(Task("foo.3", "/foo")));
        launch.Should().Throw<StoreFencedException>().WithMessage("*no longer held by this term*");
        term.Lost.IsCancellationRequested.Should().BeTrue("a refused write ends the term");
        var again = () => store.Write(batch => batch.PutFrameworkId("fw-stale"));
        again.Should().Throw<StoreFencedException>("nothing is written after the term ended");

        var current = new EtcdServicesStore(new EtcdFence(successor));
        current.LoadInstances().Select(i => i.TaskId).Should().Equal(["foo.1"], "the deposed leader's launch record never landed");
        current.FrameworkId.Should().Be("fw-1", "the new leader subscribes as the same framework");
        current.Write(batch => batch.DeleteDeployment("d1"));
        current.LoadDeployments().Should().BeEmpty();
    }

    [Fact]
    public async Task A_deposed_jobs_leaders_step_is_refused_and_the_successor_loads_runs_in_order_with_history_trimmed()
    {
        await using var etcd = await EtcdServer.StartAsync();
        var target = JobsServer.ParseStore(etcd.Url("/ha"))!;
        target.Prefix.Should().Be("/ha/jobs");
        using var first = EtcdConnection.Open(target);
        using var admin = EtcdConnection.Open(target);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await using var term = await new EtcdLeaderElection(first, LeaseTtl, TimeProvider.System, NullLogger.Instance).CampaignAsync("first:1", timeout.Token);
        var store = new EtcdJobsStore(new EtcdFence(term), historyKept: 2);
        var defaults = new JobDefaults();
        var job = JobJson.Parse("""{"name":"nightly","command":"true","schedule":"R/2026-01-01T00:00:00Z/PT1H"}"""u8, defaults);
        var other = JobJson.Parse("""{"name":"other","command":"true","schedule":"R/2026-01-01T00:00:00Z/PT1H"}"""u8, defaults);
        Run Finished(string job, long due) => new(Run.MakeTaskId(job, due, 0, ""), job, due, 0, RunState.Succeeded, due, EndedMs: due + 1);
        store.Commit([new StoredJob(job, 3, []), new StoredJob(other, 1, [])], [], [Finished("nightly", 1000), Finished("other", 1000)], new Dictionary<string, string> { ["framework_id"] = "fw-9" });
        store.Commit([], [], [Finished("nightly", 2000)], new Dictionary<string, string>());
        var running = new Run(Run.MakeTaskId("nightly", 4000, 0, ""), "nightly", 4000, 0, RunState.Running, 4000, AgentId: "agent-1");
        store.Commit([new StoredJob(job, 4, [])], [], [Finished("nightly", 3000), running], new Dictionary<string, string>());

        store.GetMeta("framework_id").Should().Be("fw-9");
        store.LoadJobs(defaults).Select(j => (j.Job.Name, j.NextIndex)).Should().Equal(("nightly", 4), ("other", 1));
        store.LoadRuns(history: 10).Where(r => r.JobName == "nightly").Select(r => r.DueMs)
            .Should().Equal([2000, 3000, 4000], "two finished runs are kept per job, beside the one in flight, in the order they were written");
        store.LoadRuns(history: 1).Where(r => r.JobName == "nightly").Select(r => r.DueMs).Should().Equal(3000, 4000);

        await admin.Lease.LeaseRevokeAsync(new LeaseRevokeRequest { ID = term.LeaseId });
        await using var successor = await new EtcdLeaderElection(admin, LeaseTtl, TimeProvider.System, NullLogger.Instance).CampaignAsync("second:2", timeout.Token);
        var step = () => store.Commit([new StoredJob(job, 5, [])], [], [new Run(Run.MakeTaskId("nightly", 5000, 0, ""), "nightly", 5000, 0, RunState.Launching, 5000)], new Dictionary<string, string>());
        step.Should().Throw<StoreFencedException>().WithMessage("*no longer held by this term*");
        term.Lost.IsCancellationRequested.Should().BeTrue();

        var current = new EtcdJobsStore(new EtcdFence(successor), historyKept: 2);
        current.LoadJobs(defaults).Single(j => j.Job.Name == "nightly").NextIndex.Should().Be(4, "the deposed leader's step never landed: occurrence 4 is not taken");
        current.LoadRuns(10).Where(r => r.IsActive).Select(r => r.TaskId).Should().Equal([running.TaskId], "the run in flight is reconciled by the new leader, not launched again");
        current.Commit([], ["nightly"], [], new Dictionary<string, string>());
        current.LoadJobs(defaults).Select(j => j.Job.Name).Should().Equal("other");
        current.LoadRuns(10).Select(r => r.JobName).Should().Equal(["other"], "a deleted job's runs go with it");
    }

    [Fact]
    public async Task A_step_bigger_than_one_etcd_transaction_is_committed_whole_in_fenced_chunks()
    {
        await using var etcd = await EtcdServer.StartAsync();
        var target = ServicesServer.ParseStore(etcd.Url())!;
        using var connection = EtcdConnection.Open(target);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var term = await new EtcdLeaderElection(connection, LeaseTtl, TimeProvider.System, NullLogger.Instance).CampaignAsync("only:1", timeout.Token);
        var store = new EtcdServicesStore(new EtcdFence(term, maxOpsPerTxn: 7));
        store.Write(batch => Enumerable.Range(0, 50).ToList().ForEach(i => batch.PutInstance(Task($"t.{i:D2}", "/many"))));
        store.LoadInstances().Should().HaveCount(50);
        await term.DisposeAsync();
        var late = () => store.Write(batch => batch.DeleteInstance("t.00"));
        late.Should().Throw<StoreFencedException>("a resigned term writes nothing");
        store.LoadInstances().Should().HaveCount(50);
    }
}
