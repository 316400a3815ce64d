using System.Text.Json.Nodes;
using Mezzo.Core.Resources;
using Mezzo.Core.Security;
using Mezzo.Core.Tasks;
using Mezzo.Master.Actor;
using Mezzo.Master.Agents;
using Mezzo.Master.Scheduler;
using Mezzo.Master.Views;
using Mezzo.Protocol;
using Mezzo.Protocol.Agents;
using Mezzo.Protocol.V1;

namespace Mezzo.Master.Tests.Security;

/// <summary>
/// Two teams on one master: each principal sees only the frameworks, tasks and executors its view ACLs allow, in every
/// read (GET_* calls, the state JSON, /tasks, /frameworks) and in the operator event stream; the operator sees all.
/// </summary>
public sealed class FilteredViewTests
{
    // register_frameworks and get_endpoints are open so that only the view ACLs decide here.
    internal const string TeamAcls = """
    {
      "permissive": false,
      "register_frameworks": [{"principals": {"type": "ANY"}, "roles": {"type": "ANY"}}],
      "run_tasks": [{"principals": {"type": "ANY"}, "users": {"type": "ANY"}}],
      "get_endpoints": [{"principals": {"type": "ANY"}, "paths": {"type": "ANY"}}],
      "view_frameworks": [
        {"principals": {"values": ["ops"]}, "users": {"type": "ANY"}},
        {"principals": {"values": ["team-a"]}, "users": {"values": ["alice"]}},
        {"principals": {"values": ["team-b"]}, "users": {"values": ["bob"]}}
      ],
      "view_tasks": [
        {"principals": {"values": ["ops"]}, "users": {"type": "ANY"}},
        {"principals": {"values": ["team-a"]}, "users": {"values": ["alice"]}},
        {"principals": {"values": ["team-b"]}, "users": {"values": ["bob"]}}
      ],
      "view_executors": [
        {"principals": {"values": ["ops"]}, "users": {"type": "ANY"}},
        {"principals": {"values": ["team-a"]}, "users": {"values": ["alice"]}},
        {"principals": {"values": ["team-b"]}, "users": {"values": ["bob"]}}
      ],
      "view_roles": [
        {"principals": {"values": ["ops"]}, "roles": {"type": "ANY"}},
        {"principals": {"values": ["team-a"]}, "roles": {"values": ["a"]}},
        {"principals": {"values": ["team-b"]}, "roles": {"values": ["b"]}}
      ],
      "get_quotas": [
        {"principals": {"values": ["ops"]}, "roles": {"type": "ANY"}},
        {"principals": {"values": ["team-a"]}, "roles": {"values": ["a"]}}
      ]
    }
    """;

    private static readonly Acls Parsed = Acls.Parse(TeamAcls);

    private static MasterHarness Harness() => new(o => o.Security.Acls = Acls.Parse(TeamAcls));

    private static ViewFilter View(string? principal) => ViewFilter.For(Parsed, principal)!;

    private static async Task<(string FrameworkId, SchedulerConnection Connection)> SubscribeAsync(MasterHarness harness, string user, string principal, string role = "*")
    {
        var connection = new SchedulerConnection();
        var info = new FrameworkInfo { User = user, Name = $"{principal}-framework", Principal = principal, Role = role };
        var (result, id) = await harness.Actor.Ask(() => harness.Actor.Subscribe(new Call { Type = CallType.SUBSCRIBE, Subscribe = new CallSubscribe { FrameworkInfo = info } }, connection));
        result.IsSuccess.Should().BeTrue(result.Error);
        return (id!, connection);
    }

    private static async Task<Offer> OfferAsync(MasterHarness harness, SchedulerConnection scheduler)
    {
        await harness.AdvanceAsync(TimeSpan.FromMilliseconds(100));
        return (await MasterHarness.NextAsync(scheduler, e => e.Type == EventType.OFFERS)).Offers!.Offers![0];
    }

    private static TaskInfo Task(string id, Offer offer, string? user = null, ExecutorInfo? executor = null) => new()
    {
        Name = id,
        TaskId = new TaskID { Value = id },
        AgentId = offer.AgentId,
        Resources = ResourceConversion.ToWire(Resources.Parse("cpus:0.1;mem:10")),
        Executor = executor,
        Command = executor is null ? new CommandInfo { Value = "sleep 100", User = user } : null,
    };

    private static async Task AcceptAsync(MasterHarness harness, string frameworkId, SchedulerConnection scheduler, Offer offer, params OfferOperation[] operations)
    {
        var result = await harness.CallAsync(frameworkId, scheduler, new Call
        {
            Type = CallType.ACCEPT,
            Accept = new CallAccept { OfferIds = [offer.Id!], Operations = [.. operations], Filters = new Filters { RefuseSeconds = 0 } },
        });
        result.StatusCode.Should().Be(202, result.Error);
    }

    private static OfferOperation Launch(params TaskInfo[] tasks) =>
        new() { Type = OfferOperationType.LAUNCH, Launch = new OfferOperationLaunch { TaskInfos = [.. tasks] } };

    /// <summary>Two teams' frameworks with one task each, and the agents (by id) they run on.</summary>
    private sealed record Teams(string A, string B, Dictionary<string, AgentConnection> Agents, string AgentOfA, string AgentOfB);

    /// <summary>Both teams subscribe (a second agent comes for the second, so it gets an offer) and each launches one task.</summary>
    private static async Task<Teams> TwoTeamsAsync(MasterHarness harness)
    {
        var agents = new Dictionary<string, AgentConnection>();
        var (h1, c1) = await harness.AddAgentAsync(hostname: "h1");
        agents[h1] = c1;
        var (frameworkA, schedulerA) = await SubscribeAsync(harness, "alice", "team-a");
        var offerA = await OfferAsync(harness, schedulerA);
        await AcceptAsync(harness, frameworkA, schedulerA, offerA, Launch(Task("a-task", offerA)));
        var (h2, c2) = await harness.AddAgentAsync(hostname: "h2");
        agents[h2] = c2;
        var (frameworkB, schedulerB) = await SubscribeAsync(harness, "bob", "team-b");
        var offerB = await OfferAsync(harness, schedulerB);
        await AcceptAsync(harness, frameworkB, schedulerB, offerB, Launch(Task("b-task", offerB)));
        return new Teams(frameworkA, frameworkB, agents, offerA.AgentId!.Value!, offerB.AgentId!.Value!);
    }

    [Fact]
    public void No_acls_or_acls_that_allow_everything_need_no_filter()
    {
        ViewFilter.For(Acls.AllowAll, null).Should().BeNull();
        ViewFilter.For(Acls.AllowAll, "team-a").Should().BeNull();
        ViewFilter.For(Acls.Parse("""{"permissive": true}"""), "team-a").Should().BeNull();
        ViewFilter.For(Parsed, "ops").Should().BeNull("ops may view every framework, task, executor, role and quota");
        ViewFilter.For(Parsed, "team-a").Should().NotBeNull();
        ViewFilter.For(Parsed, null).Should().NotBeNull("an unauthenticated caller matches no ACL and permissive is false");
    }

    [Fact]
    public async Task GET_STATE_and_its_parts_show_a_team_only_its_own_frameworks_tasks_and_executors()
    {
        await using var harness = Harness();
        var (a, b, _, _, _) = await TwoTeamsAsync(harness);

        var stateA = await harness.Actor.Ask(() => harness.Actor.GetStateResponse(View("team-a")));
        stateA.GetFrameworks!.Frameworks!.Select(f => f.FrameworkInfo!.Id!.Value).Should().Equal(a);
        stateA.GetTasks!.Tasks!.Select(t => t.TaskId!.Value).Should().Equal("a-task");
        stateA.GetAgents!.Agents.Should().HaveCount(2, "agents are visible to all; only their tasks are filtered");

        var stateB = await harness.Actor.Ask(() => harness.Actor.GetStateResponse(View("team-b")));
        stateB.GetFrameworks!.Frameworks!.Select(f => f.FrameworkInfo!.Id!.Value).Should().Equal(b);
        stateB.GetTasks!.Tasks!.Select(t => t.TaskId!.Value).Should().Equal("b-task");

        var nobody = await harness.Actor.Ask(() => harness.Actor.GetTasksResponse(View(null)));
        nobody.Tasks.Should().BeEmpty();

        var all = await harness.Actor.Ask(harness.Actor.GetStateResponse);
        all.GetTasks!.Tasks!.Select(t => t.TaskId!.Value).Should().BeEquivalentTo(["a-task", "b-task"]);
        all.GetFrameworks!.Frameworks.Should().HaveCount(2);
    }

    [Fact]
    public async Task A_task_is_judged_by_its_own_user_not_only_its_frameworks()
    {
        await using var harness = Harness();
        await harness.AddAgentAsync();
        var (frameworkA, schedulerA) = await SubscribeAsync(harness, "alice", "team-a");
        var offer = await OfferAsync(harness, schedulerA);
        await AcceptAsync(harness, frameworkA, schedulerA, offer, Launch(Task("as-alice", offer), Task("as-bob", offer, user: "bob")));

        var tasksA = await harness.Actor.Ask(() => harness.Actor.GetTasksResponse(View("team-a")));
        tasksA.Tasks!.Select(t => t.TaskId!.Value).Should().Equal("as-alice");
        var tasksB = await harness.Actor.Ask(() => harness.Actor.GetTasksResponse(View("team-b")));
        tasksB.Tasks.Should().BeEmpty("team-b may view bob's tasks, but only in frameworks it may view");
        var all = await harness.Actor.Ask(harness.Actor.GetTasksResponse);
        all.Tasks!.Single(t => t.TaskId!.Value == "as-bob").User.Should().Be("bob");
    }

    [Fact]
    public async Task Executors_are_filtered_by_their_command_user_else_the_frameworks()
    {
        await using var harness = Harness();
        await harness.AddAgentAsync();
        var (frameworkA, schedulerA) = await SubscribeAsync(harness, "alice", "team-a");
        var offer = await OfferAsync(harness, schedulerA);
        ExecutorInfo Executor(string id, string? user) => new()
        {
            Type = ExecutorInfoType.CUSTOM,
            ExecutorId = new ExecutorID { Value = id },
            Command = new CommandInfo { Value = "exec", User = user },
            Resources = ResourceConversion.ToWire(Resources.Parse("cpus:0.1;mem:10")),
        };
        await AcceptAsync(harness, frameworkA, schedulerA, offer,
            Launch(Task("t1", offer, executor: Executor("mine", null)), Task("t2", offer, executor: Executor("bobs", "bob"))));

        var executors = await harness.Actor.Ask(() => harness.Actor.GetExecutorsResponse(View("team-a")));
        executors.Executors!.Select(e => e.ExecutorInfo!.ExecutorId!.Value).Should().Equal("mine");
        var tasks = await harness.Actor.Ask(() => harness.Actor.GetTasksResponse(View("team-a")));
        tasks.Tasks!.Select(t => t.TaskId!.Value).Should().Equal(["t1"], "t2 runs as its executor's user, bob");
        (await harness.Actor.Ask(harness.Actor.GetExecutorsResponse)).Executors.Should().HaveCount(2);

        var json = JsonNode.Parse(StateViews.State((await harness.Actor.GetSnapshotAsync()).StateJson, View("team-a")))!;
        json["frameworks"]![0]!["executors"]!.AsArray().Select(e => (string?)e!["executor_id"]).Should().Equal("mine");
        json["frameworks"]![0]!["tasks"]!.AsArray().Select(t => (string?)t!["id"]).Should().Equal("t1");
    }

    [Fact]
    public async Task The_state_json_frameworks_and_tasks_views_are_cut_from_the_snapshot_per_principal()
    {
        await using var harness = Harness();
        var (a, b, _, _, _) = await TwoTeamsAsync(harness);
        var snapshot = (await harness.Actor.GetSnapshotAsync()).StateJson;

        var stateA = JsonNode.Parse(StateViews.State(snapshot, View("team-a")))!;
        stateA["frameworks"]!.AsArray().Select(f => (string?)f!["id"]).Should().Equal(a);
        stateA["frameworks"]![0]!["tasks"]!.AsArray().Select(t => (string?)t!["id"]).Should().Equal("a-task");
        stateA["slaves"]!.AsArray().Should().HaveCount(2);

        var frameworksB = JsonNode.Parse(StateViews.Frameworks(snapshot, View("team-b"), null))!;
        frameworksB["frameworks"]!.AsArray().Select(f => (string?)f!["id"]).Should().Equal(b);
        JsonNode.Parse(StateViews.Frameworks(snapshot, View("team-b"), a))!["frameworks"]!.AsArray().Should().BeEmpty();
        JsonNode.Parse(StateViews.Frameworks(snapshot, null, a))!["frameworks"]!.AsArray().Should().HaveCount(1);

        var (tasksA, error) = StateViews.Tasks(snapshot, View("team-a"), null, null, null);
        error.Should().BeNull();
        JsonNode.Parse(tasksA!)!["tasks"]!.AsArray().Select(t => (string?)t!["id"]).Should().Equal("a-task");
        var (allTasks, _) = StateViews.Tasks(snapshot, null, "1", null, "asc");
        JsonNode.Parse(allTasks!)!["tasks"]!.AsArray().Should().HaveCount(1, "limit=1");

        var summaryA = JsonNode.Parse(StateViews.Summary(snapshot, View("team-a")))!;
        summaryA["frameworks"]!.AsArray().Select(f => (string?)f!["id"]).Should().Equal(a);
        summaryA["frameworks"]![0]!["TASK_STAGING"]!.GetValue<int>().Should().Be(1);
        summaryA["frameworks"]![0]!["tasks"].Should().BeNull("a summary carries counts, not tasks");
        summaryA["slaves"]!.AsArray().Should().HaveCount(2);
        summaryA["slaves"]!.AsArray().SelectMany(agent => agent!["framework_ids"]!.AsArray().Select(id => (string?)id)).Should().Equal(a);
        summaryA["slaves"]!.AsArray().Sum(agent => agent!["TASK_STAGING"]!.GetValue<int>()).Should().Be(1, "b-task is not counted for team a");
        var summaryAll = JsonNode.Parse(StateViews.Summary(snapshot, null))!;
        summaryAll["slaves"]!.AsArray().Sum(agent => agent!["TASK_STAGING"]!.GetValue<int>()).Should().Be(2);
        summaryAll["frameworks"]!.AsArray().Should().HaveCount(2);

        // The snapshot itself is untouched: a principal that sees everything is served it as is.
        JsonNode.Parse(snapshot)!["frameworks"]!.AsArray().Should().HaveCount(2);
    }

    [Theory]
    [InlineData("-1", null, null, "'limit'")]
    [InlineData("ten", null, null, "'limit'")]
    [InlineData(null, "1.5", null, "'offset'")]
    [InlineData(null, null, "sideways", "'order'")]
    public void Bad_tasks_parameters_are_refused_naming_the_parameter(string? limit, string? offset, string? order, string named)
    {
        var (json, error) = StateViews.Tasks("""{"frameworks":[]}"""u8.ToArray(), null, limit, offset, order);
        json.Should().BeNull();
        error.Should().Contain(named);
    }

    [Fact]
    public async Task The_event_stream_shows_a_team_only_its_frameworks_and_tasks()
    {
        await using var harness = Harness();
        var teamA = await harness.Actor.Ask(() => harness.Actor.SubscribeOperator(View("team-a")));
        var ops = await harness.Actor.Ask(() => harness.Actor.SubscribeOperator(ViewFilter.For(Parsed, "ops")));
        var (a, b, _, _, _) = await TwoTeamsAsync(harness);
        var events = Drain(teamA);
        events.Select(e => e.Type).Should().Equal(MasterEventType.SUBSCRIBED, MasterEventType.AGENT_ADDED, MasterEventType.FRAMEWORK_ADDED,
            MasterEventType.TASK_ADDED, MasterEventType.AGENT_ADDED);
        events.Single(e => e.Type == MasterEventType.FRAMEWORK_ADDED).FrameworkAdded!.Framework!.FrameworkInfo!.Id!.Value.Should().Be(a);
        events.Single(e => e.Type == MasterEventType.TASK_ADDED).TaskAdded!.Task!.TaskId!.Value.Should().Be("a-task");
        var all = Drain(ops);
        all.Where(e => e.Type == MasterEventType.TASK_ADDED).Select(e => e.TaskAdded!.Task!.TaskId!.Value).Should().Equal("a-task", "b-task");
        all.Where(e => e.Type == MasterEventType.FRAMEWORK_ADDED).Select(e => e.FrameworkAdded!.Framework!.FrameworkInfo!.Id!.Value).Should().Equal(a, b);
    }

    [Fact]
    public async Task A_late_subscriber_gets_a_filtered_SUBSCRIBED_and_no_updates_of_other_teams_tasks()
    {
        await using var harness = Harness();
        var teams = await TwoTeamsAsync(harness);
        var (a, b) = (teams.A, teams.B);
        var teamA = await harness.Actor.Ask(() => harness.Actor.SubscribeOperator(View("team-a")));

        await harness.AgentUpdateAsync(teams.AgentOfB, teams.Agents[teams.AgentOfB], b, "b-task", TaskState.TASK_RUNNING);
        await harness.AgentUpdateAsync(teams.AgentOfA, teams.Agents[teams.AgentOfA], a, "a-task", TaskState.TASK_RUNNING);

        var events = Drain(teamA);
        var subscribed = events[0].Subscribed!.GetState!;
        subscribed.GetFrameworks!.Frameworks!.Select(f => f.FrameworkInfo!.Id!.Value).Should().Equal(a);
        subscribed.GetTasks!.Tasks!.Select(t => t.TaskId!.Value).Should().Equal("a-task");
        events.Skip(1).Select(e => (e.Type, e.TaskUpdated?.Status?.TaskId?.Value)).Should().Equal((MasterEventType.TASK_UPDATED, "a-task"));
    }

    [Fact]
    public void Roles_weights_and_quotas_are_filtered_by_view_roles_and_get_quotas()
    {
        var roles = new List<RoleReport>
        {
            new("a", 1, [], ResourceQuantities.Empty, ResourceQuantities.Empty, ResourceQuantities.Empty, ResourceQuantities.Empty, null),
            new("b", 1, [], ResourceQuantities.Empty, ResourceQuantities.Empty, ResourceQuantities.Empty, ResourceQuantities.Empty, null),
        };
        RoleViews.Roles(roles, View("team-a")).Select(r => r.Name).Should().Equal("a");
        RoleViews.Roles(roles, null).Should().HaveCount(2);
        RoleViews.Weights([new WeightInfo { Role = "a", Weight = 2 }, new WeightInfo { Role = "b", Weight = 3 }], View("team-b"))
            .Select(w => w.Role).Should().Equal("b");
        var quota = new QuotaStatus
        {
            Infos = [new QuotaInfo { Role = "a" }, new QuotaInfo { Role = "b" }],
            Configs = [new QuotaConfig { Role = "a" }, new QuotaConfig { Role = "b" }],
        };
        RoleViews.Quota(quota, View("team-a")).Configs!.Select(c => c.Role).Should().Equal("a");
        RoleViews.Quota(new QuotaStatus { Configs = [new QuotaConfig { Role = "a" }] }, View("team-b")).Configs.Should().BeEmpty("team-b has no get_quotas ACL");
    }

    private static List<MasterEvent> Drain(MasterActor.OperatorSubscriber subscriber)
    {
        var events = new List<MasterEvent>();
        while (subscriber.Events.TryRead(out var e))
        {
            events.Add(e);
        }

        return events;
    }
}
