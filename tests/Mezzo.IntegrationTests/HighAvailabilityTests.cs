using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using Etcdserverpb;
using Mezzo.Agent.Tasks;
using Mezzo.Core.Resources;
using Mezzo.Framework;
using Mezzo.IntegrationTests.Infrastructure;
using Mezzo.Master;
using Mezzo.Protocol.V1;
using Mezzo.Storage.Etcd;
using Mezzo.Storage.Registry;
using Microsoft.Extensions.Logging.Abstractions;
using CoreTaskState = Mezzo.Core.Tasks.TaskState;

namespace Mezzo.IntegrationTests;

/// <summary>Several masters on a real etcd: one leads, the others redirect to it, and a dead leader is replaced.</summary>
public sealed class HighAvailabilityTests
{
    private static readonly TimeSpan LeaseTtl = TimeSpan.FromSeconds(2);

    [Fact]
    public async Task Two_masters_on_one_etcd_elect_one_leader_and_the_standby_redirects_to_it_and_names_it()
    {
        await using var etcd = await EtcdServer.StartAsync();
        using var dir = new TempDir();
        await using var first = StartMaster(etcd, dir, "m1");
        await using var second = StartMaster(etcd, dir, "m2");
        var urls = new[] { await first.WaitForUrlAsync(), await second.WaitForUrlAsync() };
        using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false });

        var leader = await LeaderAsync(http, urls);
        var standby = urls.Single(u => u != leader);
        (await ElectedAsync(http, standby)).Should().Be(0, "exactly one master leads");

        using (var subscribe = await http.PostAsync(new Uri(standby, "api/v1/scheduler"), new StringContent(RawScheduler.FrameworkInfo())))
        {
            subscribe.StatusCode.Should().Be(HttpStatusCode.TemporaryRedirect);
            subscribe.Headers.Location!.OriginalString.Should().Be($"//127.0.0.1:{leader.Port}/api/v1/scheduler");
        }

        using (var operatorCall = await http.PostAsync(new Uri(standby, "api/v1"), new StringContent("""{"type":"GET_AGENTS"}""")))
        {
            operatorCall.StatusCode.Should().Be(HttpStatusCode.TemporaryRedirect);
            operatorCall.Headers.Location!.OriginalString.Should().Be($"//127.0.0.1:{leader.Port}/api/v1");
        }

        using (var redirect = await http.GetAsync(new Uri(standby, "master/redirect")))
        {
            redirect.StatusCode.Should().Be(HttpStatusCode.TemporaryRedirect);
            redirect.Headers.Location!.OriginalString.Should().Be($"//127.0.0.1:{leader.Port}");
        }

        using (var health = await http.GetAsync(new Uri(standby, "health")))
        {
            health.StatusCode.Should().Be(HttpStatusCode.OK, "a standby is alive");
        }

        var standbyState = JsonNode.Parse(await http.GetStringAsync(new Uri(standby, "master/state")))!;
        ((string?)standbyState["leader"]).Should().Be($"master@127.0.0.1:{leader.Port}");
        ((int?)standbyState["leader_info"]!["port"]).Should().Be(leader.Port);
        standbyState["elected_time"].Should().BeNull("Mesos reports elected_time only on the leader");

        var leaderState = JsonNode.Parse(await http.GetStringAsync(new Uri(leader, "master/state")))!;
        ((string?)leaderState["leader"]).Should().Be($"master@127.0.0.1:{leader.Port}");
        ((string?)leaderState["leader_info"]!["id"]).Should().Be((string?)leaderState["id"]);
        // The leader announces its term's id just after it wins; a standby sees it on its next look (every 200 ms here).
        await Poll.UntilAsync(
            async () => (string?)JsonNode.Parse(await http.GetStringAsync(new Uri(standby, "master/state")))!["leader_info"]!["id"] == (string?)leaderState["id"],
            "the standby to name the leader's current id");
        leaderState["elected_time"].Should().NotBeNull();
    }

    [Fact]
    public async Task Killing_the_leader_hands_over_to_the_standby_and_the_agent_and_framework_follow_with_the_task_still_running()
    {
        await using var etcd = await EtcdServer.StartAsync();
        using var dir = new TempDir();
        var masters = new Dictionary<Uri, MezzoProcess>();
        await using var first = StartMaster(etcd, dir, "m1");
        await using var second = StartMaster(etcd, dir, "m2");
        masters[await first.WaitForUrlAsync()] = first;
        masters[await second.WaitForUrlAsync()] = second;
        using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { Timeout = TimeSpan.FromSeconds(10) };
        var leader = await LeaderAsync(http, masters.Keys);
        var standby = masters.Keys.Single(u => u != leader);

        // The agent finds the leader through etcd, the framework through the list of masters.
        var agentDir = Path.Combine(dir.Path, "agent");
        await using var agent = MezzoProcess.Start("agent", "--master", etcd.Url(), "--port", "0", "--ip", "127.0.0.1", "--hostname", "127.0.0.1",
            "--work-dir", agentDir, "--resources", "cpus:2;mem:1024", "--allow-root-tasks");
        await agent.WaitForUrlAsync();
        var agentId = await Poll.UntilAsync(() => ActiveAgentIdAsync(http, leader), "the agent to register with the leader");

        await using var client = new SchedulerClient(new SchedulerOptions
        {
            Master = string.Join(',', masters.Keys.Select(u => u.Authority)),
            FrameworkInfo = new FrameworkInfo { User = "root", Name = "ha-test", FailoverTimeout = 60 },
        });
        var events = new EventLog(client);
        var frameworkId = await client.SubscribeAsync();
        var offer = (await events.WaitAsync(e => e.Type == EventType.OFFERS, "an offer")).Offers!.Offers![0];
        await client.LaunchAsync(offer, [new TaskInfo
        {
            Name = "survivor",
            TaskId = new TaskID { Value = "survivor" },
            AgentId = offer.AgentId,
            Resources = ResourceConversion.ToWire(Resources.Parse("cpus:0.1;mem:32")),
            Command = new CommandInfo { Shell = true, Value = "sleep 1000" },
        }]);
        await events.WaitAsync(IsRunning, "the task to run");
        // Offers this framework would sit on go to mezzo execute below instead (the SDK re-suppresses on failover).
        await client.SuppressAsync();
        var taskPids = await TaskPids.WhenRunningAsync(agentDir);
        taskPids.Should().NotBeEmpty();
        var subscriptions = events.Count(e => e.Type == EventType.SUBSCRIBED);

        var clock = Stopwatch.StartNew();
        masters[leader].Kill9();
        await Poll.UntilAsync(async () => await ElectedAsync(http, standby) == 1, "the standby to take over", LeaseTtl + TimeSpan.FromSeconds(10));
        var serving = clock.Elapsed;
        await events.WaitAsync(e => e.Type == EventType.SUBSCRIBED && events.IndexOf(e) >= subscriptions, "the framework to resubscribe to the new leader");
        var resubscribed = clock.Elapsed;
        (await Poll.UntilAsync(() => ActiveAgentIdAsync(http, standby), "the agent to re-register with the new leader")).Should().Be(agentId);
        var reregistered = clock.Elapsed;
        TestContext.Current.TestOutputHelper?.WriteLine(
            $"lease TTL {LeaseTtl.TotalSeconds}s: new leader serving after {serving.TotalSeconds:F2}s, framework back after {resubscribed.TotalSeconds:F2}s, agent back after {reregistered.TotalSeconds:F2}s");

        client.FrameworkId.Should().Be(frameworkId, "the framework fails over to the new leader as itself");
        client.Master.Port.Should().Be(standby.Port);
        var mark = events.Total;
        await client.ReconcileAsync([("survivor", null)]);
        await events.WaitAsync(e => IsRunning(e) && events.IndexOf(e) >= mark, "the new leader to report the task running");
        OrphanReaper.FindTaskProcesses(agentDir).Should().BeEquivalentTo(taskPids, "the task kept running through the failover");

        // The old leader comes back as a standby of the new one and leaves the registry alone.
        await using var revived = StartMaster(etcd, dir, "m1-again");
        var revivedUrl = await revived.WaitForUrlAsync();
        var revivedState = JsonNode.Parse(await http.GetStringAsync(new Uri(revivedUrl, "master/state")))!;
        (await ElectedAsync(http, revivedUrl)).Should().Be(0);
        ((string?)revivedState["leader"]).Should().Be($"master@127.0.0.1:{standby.Port}");

        // mezzo execute finds the leader through etcd too.
        await using (var execute = MezzoProcess.Start("execute", "--master", etcd.Url(), "--name", "via-etcd", "--command", "echo found-the-leader"))
        {
            (await execute.WaitForExitAsync(TimeSpan.FromSeconds(60))).Should().Be(0, execute.Output);
            execute.Output.Should().Contain("found-the-leader");
        }

        await client.KillAsync("survivor");
        await events.WaitAsync(e => e.Type == EventType.UPDATE && e.Update!.Status!.State == CoreTaskState.TASK_KILLED, "the kill");
        await client.TeardownAsync();
    }

    [Fact]
    public async Task A_deposed_leaders_registry_writes_are_refused_and_end_its_term()
    {
        await using var etcd = await EtcdServer.StartAsync();
        using var first = EtcdConnection.Open(EtcdTarget.Parse(etcd.Url()));
        using var admin = EtcdConnection.Open(EtcdTarget.Parse(etcd.Url()));
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await using var term = await new EtcdLeaderElection(first, LeaseTtl, TimeProvider.System, NullLogger.Instance).CampaignAsync("first", timeout.Token);
        var store = new EtcdRegistryStore(term);
        var now = DateTimeOffset.UtcNow;
        store.UpsertFramework(new FrameworkRecord("f1", "{}", false, now));
        store.SetValue("weights", "[]");

        // Revoked behind its back (as an operator or an expired lease would), and a rival elected at once.
        await admin.Lease.LeaseRevokeAsync(new LeaseRevokeRequest { ID = term.LeaseId });
        await using var successor = await new EtcdLeaderElection(admin, LeaseTtl, TimeProvider.System, NullLogger.Instance).CampaignAsync("second", timeout.Token);

        var write = () => store.UpsertAgent(new AgentRecord("a1", "host", 5051, "{}", AgentRegistryState.Admitted, now));
        write.Should().Throw<RegistryFencedException>().WithMessage("*no longer held by this term*");
        term.Lost.IsCancellationRequested.Should().BeTrue("a refused write ends the term");
        var overwrite = () => store.SetValue("weights", "[\"stale\"]");
        overwrite.Should().Throw<RegistryFencedException>();
        var forget = () => store.RemoveAgents(["a2"]);
        forget.Should().Throw<RegistryFencedException>("registry GC is a write like any other");

        var current = new EtcdRegistryStore(successor);
        current.LoadAgents().Should().BeEmpty("the deposed leader's write never landed");
        current.LoadFrameworks().Select(f => f.FrameworkId).Should().Equal("f1");
        current.GetValue("weights").Should().Be("[]");
        current.SetAgentState("a1", AgentRegistryState.Gone, now);
        current.LoadAgents().Should().BeEmpty("changing the state of an agent the registry does not know creates nothing");
        current.UpsertAgent(new AgentRecord("a2", "host", 5051, "{}", AgentRegistryState.Admitted, now));
        current.SetAgentState("a2", AgentRegistryState.Unreachable, now);
        current.LoadAgents().Single().State.Should().Be(AgentRegistryState.Unreachable);
        current.UpsertAgent(new AgentRecord("a3", "host", 5051, "{}", AgentRegistryState.Unreachable, now));
        current.RemoveAgents(["a2", "a3", "never-known"]);
        current.LoadAgents().Should().BeEmpty("registry GC forgets the agents it names");
    }

    [Fact]
    public async Task A_leader_whose_lease_is_revoked_stops_acting_closes_its_streams_and_serves_again_only_as_a_new_term()
    {
        await using var etcd = await EtcdServer.StartAsync();
        using var dir = new TempDir();
        await using var master = await StartEtcdMasterAsync(etcd, dir);
        await Poll.UntilAsync(() => master.IsLeading, "the only master to be elected");
        var firstId = master.Actor.MasterId;
        await using var scheduler = new RawScheduler(master.Url);
        await scheduler.SubscribeAsync(RawScheduler.FrameworkInfo(failoverTimeout: 60));

        using var admin = EtcdConnection.Open(EtcdTarget.Parse(etcd.Url()));
        var leaderKey = await admin.Kv.RangeAsync(new RangeRequest { Key = Google.Protobuf.ByteString.CopyFromUtf8(EtcdTarget.Parse(etcd.Url()).LeaderKey) });
        await admin.Lease.LeaseRevokeAsync(new LeaseRevokeRequest { ID = leaderKey.Kvs.Single().Lease });

        await Poll.UntilAsync(() => scheduler.StreamEnded, "the deposed leader to close the scheduler's stream", TimeSpan.FromSeconds(10));
        // Alone on etcd it is elected again, but as a new master (new id) that recovered from the registry.
        await Poll.UntilAsync(() => master.IsLeading && master.Actor.MasterId != firstId, "a new term", TimeSpan.FromSeconds(10));
        master.Candidate!.TermsLed.Should().Be(2);
        await using var again = new RawScheduler(master.Url);
        await again.SubscribeAsync(RawScheduler.FrameworkInfo(failoverTimeout: 60, id: scheduler.FrameworkId), scheduler.FrameworkId);
        again.FrameworkId.Should().Be(scheduler.FrameworkId, "the framework id survived in the etcd registry");
    }

    [Fact]
    public async Task A_leader_that_loses_etcd_steps_down_within_its_lease_and_then_answers_503_naming_etcd()
    {
        var etcd = await EtcdServer.StartAsync();
        await using var _ = etcd;
        using var dir = new TempDir();
        await using var master = await StartEtcdMasterAsync(etcd, dir);
        await Poll.UntilAsync(() => master.IsLeading, "the only master to be elected");
        await using var scheduler = new RawScheduler(master.Url);
        await scheduler.SubscribeAsync(RawScheduler.FrameworkInfo());

        await etcd.KillAsync();

        // It cannot renew its lease, so it must assume a successor may exist and stop before the lease could expire.
        await Poll.UntilAsync(() => scheduler.StreamEnded && !master.IsLeading, "the leader to step down", LeaseTtl + TimeSpan.FromSeconds(5));
        using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false });
        var answer = await Poll.UntilAsync(
            async () =>
            {
                var response = await http.GetAsync(new Uri(master.Url, "master/redirect"));
                return response.StatusCode == HttpStatusCode.ServiceUnavailable ? await response.Content.ReadAsStringAsync() : null;
            },
            "the standby to answer 503");
        answer.Should().Contain($"etcd at etcd://127.0.0.1:{etcd.ClientPort} is unreachable");
        (await http.GetAsync(new Uri(master.Url, "health"))).StatusCode.Should().Be(HttpStatusCode.OK, "the process is alive");
    }

    [Fact]
    public async Task A_corrupt_registry_entry_in_etcd_is_reported_and_the_master_resigns_until_it_is_repaired()
    {
        await using var etcd = await EtcdServer.StartAsync();
        using var admin = EtcdConnection.Open(EtcdTarget.Parse(etcd.Url()));
        var badKey = EtcdTarget.Parse(etcd.Url()).RegistryPrefix + "agents/broken";
        await admin.Kv.PutAsync(new PutRequest { Key = Google.Protobuf.ByteString.CopyFromUtf8(badKey), Value = Google.Protobuf.ByteString.CopyFromUtf8("{not json") });
        using var dir = new TempDir();
        await using var master = await StartEtcdMasterAsync(etcd, dir);

        await Poll.UntilAsync(() => master.Candidate!.LastTermError is not null, "the failed term to be reported");
        master.Candidate!.LastTermError.Should().Contain(badKey).And.Contain("not a valid AgentRecord");
        master.IsLeading.Should().BeFalse("a master that cannot read its registry must not serve");

        await admin.Kv.DeleteRangeAsync(new DeleteRangeRequest { Key = Google.Protobuf.ByteString.CopyFromUtf8(badKey) });
        await Poll.UntilAsync(() => master.IsLeading, "the master to be elected once the registry is readable");
    }

    [Fact]
    public async Task A_master_whose_etcd_is_unreachable_fails_to_start_naming_it()
    {
        using var dir = new TempDir();
        var port = UnusedPort();
        await using var master = MezzoProcess.Start("master", "--port", "0", "--ip", "127.0.0.1", "--work-dir", dir.Path, "--store", $"etcd://127.0.0.1:{port}");
        (await master.WaitForExitAsync(TimeSpan.FromSeconds(30))).Should().NotBe(0);
        master.Output.Should().Contain($"Cannot reach etcd at etcd://127.0.0.1:{port}");
    }

    [Theory]
    [InlineData("etcd://127.0.0.1:2379", "/mezzo", new[] { "127.0.0.1:2379" })]
    [InlineData("etcd://a:1, b:2/clusters/one/", "/clusters/one", new[] { "a:1", "b:2" })]
    [InlineData("ETCD://host", "/mezzo", new[] { "host:2379" })]
    public void Etcd_addresses_parse_to_endpoints_and_a_key_prefix(string text, string prefix, string[] endpoints)
    {
        var target = EtcdTarget.Parse(text);
        target.Prefix.Should().Be(prefix);
        target.Endpoints.Select(e => e.Authority).Should().Equal(endpoints);
        target.LeaderKey.Should().Be(prefix + "/leader");
    }

    [Theory]
    [InlineData("etcd://", "empty etcd endpoint")]
    [InlineData("etcd://a:1,,b:2", "empty etcd endpoint")]
    [InlineData("etcd://a:99999", "bad etcd endpoint 'a:99999'")]
    [InlineData("http://a:1", "not an etcd address")]
    public void Bad_etcd_addresses_are_refused_naming_the_part(string text, string message)
    {
        var parse = () => EtcdTarget.Parse(text);
        parse.Should().Throw<FormatException>().WithMessage($"*{message}*");
    }

    [Fact]
    public void Master_lists_parse_and_bad_entries_are_named()
    {
        using var list = Mezzo.Framework.Detection.MasterDetector.Create("127.0.0.1:1, 127.0.0.1:2", Mezzo.Agent.Link.MasterAddress.Parse);
        list.IsHighlyAvailable.Should().BeTrue();
        list.CandidateCount.Should().Be(2);
        list.Current.Port.Should().Be(1);
        list.Failed(list.Current);
        list.Current.Port.Should().Be(2, "a master that cannot be reached makes way for the next");
        list.Follow(list.Current, new Uri("//127.0.0.1:7/api/v1/scheduler", UriKind.Relative)).Port.Should().Be(7);
        list.Current.Port.Should().Be(7, "a redirect names the leader");

        var empty = () => Mezzo.Framework.Detection.MasterDetector.Create("127.0.0.1:1,,127.0.0.1:2", Mezzo.Agent.Link.MasterAddress.Parse);
        empty.Should().Throw<ArgumentException>().WithMessage("*empty entry*");
        var badEtcd = () => Mezzo.Framework.Detection.MasterDetector.Create("etcd://x:0", Mezzo.Agent.Link.MasterAddress.Parse);
        badEtcd.Should().Throw<ArgumentException>().WithMessage("*bad etcd endpoint 'x:0'*");

        Mezzo.Framework.Detection.MasterDetector.Parse("""{"hostname":"m1","port":5050,"address":{"hostname":"m1","ip":"10.0.0.1","port":5050}}""")
            .Should().Be(new Uri("http://m1:5050/"));
        Mezzo.Framework.Detection.MasterDetector.Parse("not json").Should().BeNull();
        Mezzo.Framework.Detection.MasterDetector.Parse("{}").Should().BeNull();
    }

    [Fact]
    public async Task An_sdk_pointed_at_etcd_with_no_leader_keeps_looking_and_subscribes_once_one_is_elected()
    {
        await using var etcd = await EtcdServer.StartAsync();
        using var dir = new TempDir();
        await using var client = new SchedulerClient(new SchedulerOptions
        {
            Master = etcd.Url(),
            FrameworkInfo = new FrameworkInfo { User = "root", Name = "early" },
            MaxBackoff = TimeSpan.FromMilliseconds(200),
        });
        var subscribing = client.SubscribeAsync();
        await Task.WhenAny(subscribing, Task.Delay(TimeSpan.FromMilliseconds(500), TestContext.Current.CancellationToken));
        subscribing.IsCompleted.Should().BeFalse("nobody leads yet");

        await using var master = StartMaster(etcd, dir, "late");
        var url = await master.WaitForUrlAsync();
        (await subscribing.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken)).Should().NotBeNullOrEmpty();
        client.Master.Port.Should().Be(url.Port);
    }

    private static MezzoProcess StartMaster(EtcdServer etcd, TempDir dir, string name) =>
        MezzoProcess.Start("master", "--port", "0", "--ip", "127.0.0.1", "--hostname", "127.0.0.1",
            "--work-dir", Path.Combine(dir.Path, name), "--store", etcd.Url(), "--leader-lease-ttl", $"{LeaseTtl.TotalSeconds}secs",
            "--allocation-interval", "20ms");

    private static async Task<Uri> LeaderAsync(HttpClient http, IEnumerable<Uri> masters) =>
        await Poll.UntilAsync(
            async () =>
            {
                foreach (var url in masters)
                {
                    if (await ElectedAsync(http, url) == 1)
                    {
                        return url;
                    }
                }

                return null;
            },
            "a leader to be elected");

    private static async Task<int> ElectedAsync(HttpClient http, Uri master)
    {
        var metrics = JsonNode.Parse(await http.GetStringAsync(new Uri(master, "metrics/snapshot")))!;
        return (int)(double)metrics["master/elected"]!;
    }

    private static async Task<string?> ActiveAgentIdAsync(HttpClient http, Uri master)
    {
        var state = JsonNode.Parse(await http.GetStringAsync(new Uri(master, "master/state")))!;
        return state["slaves"]!.AsArray().Where(s => (bool?)s!["active"] == true).Select(s => (string?)s!["id"]).SingleOrDefault();
    }

    private static bool IsRunning(Event e) => e.Type == EventType.UPDATE && e.Update!.Status!.State == CoreTaskState.TASK_RUNNING;

    private static int UnusedPort()
    {
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Every event the SDK hands out, kept for the test to wait on.</summary>
    private sealed class EventLog
    {
        private readonly List<Event> _events = [];

        public EventLog(SchedulerClient client) => _ = Task.Run(async () =>
        {
            await foreach (var ev in client.Events.ReadAllAsync())
            {
                lock (_events)
                {
                    _events.Add(ev);
                }
            }
        });

        public int Total
        {
            get
            {
                lock (_events)
                {
                    return _events.Count;
                }
            }
        }

        public int Count(Func<Event, bool> match)
        {
            lock (_events)
            {
                return _events.Count(match);
            }
        }

        public int IndexOf(Event ev)
        {
            lock (_events)
            {
                return _events.IndexOf(ev);
            }
        }

        public Task<Event> WaitAsync(Func<Event, bool> match, string what) =>
            Poll.UntilAsync(() =>
            {
                lock (_events)
                {
                    return Task.FromResult(_events.FirstOrDefault(match));
                }
            }, what);
    }

    /// <summary>An in-process master on port 0 whose registry and election are in <paramref name="etcd"/>.</summary>
    private static async Task<MasterServer> StartEtcdMasterAsync(EtcdServer etcd, TempDir dir)
    {
        var master = MasterServer.Create(new MasterOptions
        {
            Port = 0,
            Ip = "127.0.0.1",
            Hostname = "127.0.0.1",
            WorkDir = dir.Path,
            Store = etcd.Url(),
            LeaderLeaseTtl = LeaseTtl,
        }, TestLogging.Configure);
        await master.StartAsync();
        return master;
    }
}
