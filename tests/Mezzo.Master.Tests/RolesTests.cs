using Mezzo.Core.Allocation;
using Mezzo.Core.Resources;
using Mezzo.Master.Actor;
using Mezzo.Master.Scheduler;
using Mezzo.Protocol.V1;
using WireQuota = Mezzo.Protocol.V1.QuotaConfig;

namespace Mezzo.Master.Tests;

/// <summary>Weights, quota and roles on the actor: validated, all or nothing, persisted, fed to the allocator.</summary>
public sealed class RolesTests
{
    [Fact]
    public async Task The_metrics_snapshot_reports_each_roles_dominant_share()
    {
        await using var harness = new MasterHarness();
        var (agentId, agent) = await harness.AddAgentAsync("cpus:4;mem:4096");
        var (eng, engScheduler) = await harness.SubscribeMultiRoleAsync(["eng"]);
        await harness.SubscribeMultiRoleAsync(["idle"]);

        await harness.LaunchAsync(eng, engScheduler, agentId, agent, "t1", task => task.Resources = null, cpus: 1);

        var metrics = (await harness.Actor.GetSnapshotAsync()).Metrics;
        metrics["allocator/mesos/roles/eng/shares/dominant"].Should().BeApproximately(0.25, 1e-9, "one of four cpus, no memory");
        metrics["allocator/mesos/roles/idle/shares/dominant"].Should().Be(0, "a role holding nothing has no share");
    }

    [Fact]
    public async Task Weights_are_applied_persisted_and_given_to_the_allocator()
    {
        var allocator = new RecordingAllocator();
        await using var harness = new MasterHarness(allocator: allocator);
        await harness.AddAgentAsync();
        await SubscribeAsync(harness, "dev");

        var result = await harness.Actor.Ask(() => harness.Actor.UpdateWeights([Weight("dev", 2.5), Weight("eng/backend", 0.5)]));

        result.StatusCode.Should().Be(200);
        (await Weights(harness)).Should().BeEquivalentTo(new Dictionary<string, double> { ["dev"] = 2.5, ["eng/backend"] = 0.5 });
        harness.Registry.GetValue(MasterActor.WeightsRegistryKey).Should().Contain("\"role\":\"dev\"");
        await harness.AdvanceAsync(TimeSpan.FromMilliseconds(100));
        allocator.Last!.Weights.Should().Contain("dev", 2.5);
    }

    [Theory]
    [InlineData("a//b", 1.0, "Invalid role 'a//b'")]
    [InlineData("-x", 1.0, "Invalid role '-x'")]
    [InlineData("*", 1.0, "Invalid role '*'")]
    [InlineData("..", 1.0, "Invalid role '..'")]
    [InlineData("qa", -1.0, "Invalid weight '-1' for role 'qa'")]
    [InlineData("qa", double.NaN, "Invalid weight 'NaN' for role 'qa'")]
    [InlineData("dev", 7.0, "'dev' appears more than once")]
    public async Task A_weight_update_with_one_bad_entry_changes_nothing(string role, double weight, string reason)
    {
        await using var harness = new MasterHarness();
        (await harness.Actor.Ask(() => harness.Actor.UpdateWeights([Weight("dev", 2)]))).IsSuccess.Should().BeTrue();
        var stored = harness.Registry.GetValue(MasterActor.WeightsRegistryKey);

        var result = await harness.Actor.Ask(() => harness.Actor.UpdateWeights([Weight("ok", 3), Weight("dev", 4), Weight(role, weight)]));

        result.StatusCode.Should().Be(400);
        result.Error.Should().Contain(reason);
        (await Weights(harness)).Should().BeEquivalentTo(new Dictionary<string, double> { ["dev"] = 2 });
        harness.Registry.GetValue(MasterActor.WeightsRegistryKey).Should().Be(stored);
    }

    [Fact]
    public async Task Weights_and_quota_survive_a_restart_on_the_same_registry()
    {
        var dir = Path.Combine(Path.GetTempPath(), "mezzo-roles-test-" + Guid.NewGuid().ToString("N")[..10]);
        try
        {
            await using (var first = new MasterHarness(workDir: dir))
            {
                await first.AddAgentAsync("cpus:8;mem:8192");
                (await first.Actor.Ask(() => first.Actor.UpdateWeights([Weight("dev", 3)]))).IsSuccess.Should().BeTrue();
                var update = await first.Actor.Ask(() => first.Actor.UpdateQuota([Quota("dev", "cpus:1", "cpus:2;mem:1024")], force: false));
                update.IsSuccess.Should().BeTrue(update.Error);
            }

            var allocator = new RecordingAllocator();
            await using var second = new MasterHarness(workDir: dir, allocator: allocator);
            (await Weights(second)).Should().BeEquivalentTo(new Dictionary<string, double> { ["dev"] = 3 });
            var status = await second.Actor.Ask(second.Actor.GetQuotaStatus);
            var config = status.Configs.Should().ContainSingle().Subject;
            config.Role.Should().Be("dev");
            config.Guarantees!["cpus"].Value.Should().Be(1);
            config.Limits!["mem"].Value.Should().Be(1024);

            await second.AddAgentAsync();
            await SubscribeAsync(second, "dev");
            await second.AdvanceAsync(TimeSpan.FromMilliseconds(100));
            allocator.Last!.Quotas["dev"].Limits.Should().BeEquivalentTo(ResourceQuantities.Parse("cpus:2;mem:1024"));
            allocator.Last.Weights.Should().Contain("dev", 3);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task Weights_flag_is_stored_on_first_start_and_the_registry_wins_afterwards()
    {
        var dir = Path.Combine(Path.GetTempPath(), "mezzo-roles-test-" + Guid.NewGuid().ToString("N")[..10]);
        try
        {
            await using (var first = new MasterHarness(o => o.Weights = "dev=2,prod=4", workDir: dir))
            {
                (await Weights(first)).Should().BeEquivalentTo(new Dictionary<string, double> { ["dev"] = 2, ["prod"] = 4 });
                first.Registry.GetValue(MasterActor.WeightsRegistryKey).Should().NotBeNull("Mesos stores the flag's weights at bootstrap");
            }

            await using (var second = new MasterHarness(o => o.Weights = "dev=9", workDir: dir))
            {
                (await Weights(second)).Should().BeEquivalentTo(new Dictionary<string, double> { ["dev"] = 2, ["prod"] = 4 });
                (await second.Actor.Ask(() => second.Actor.UpdateWeights([Weight("qa", 0.5)]))).IsSuccess.Should().BeTrue();
            }

            await using var third = new MasterHarness(o => o.Weights = "dev=9", workDir: dir);
            (await Weights(third)).Should().BeEquivalentTo(new Dictionary<string, double> { ["dev"] = 2, ["prod"] = 4, ["qa"] = 0.5 });
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task Quota_rules_are_checked_over_the_whole_set_and_a_refusal_changes_nothing()
    {
        await using var harness = new MasterHarness();
        await harness.AddAgentAsync("cpus:4;mem:4096");
        var actor = harness.Actor;
        (await actor.Ask(() => actor.UpdateQuota([Quota("eng", "cpus:2", "cpus:3;mem:2048")], force: false))).IsSuccess.Should().BeTrue();
        var stored = harness.Registry.GetValue(MasterActor.QuotaRegistryKey);
        string[] roles = ["eng"];

        async Task Refused(WireQuota[] configs, string reason, bool force = false)
        {
            var result = await actor.Ask(() => actor.UpdateQuota(configs, force));
            result.StatusCode.Should().Be(400);
            result.Error.Should().StartWith("Invalid QuotaConfig: ").And.Contain(reason);
            (await actor.Ask(actor.GetQuotaStatus)).Configs!.Select(c => c.Role).Should().Equal(roles);
            harness.Registry.GetValue(MasterActor.QuotaRegistryKey).Should().Be(stored);
        }

        await Refused([Quota("ok", "", "cpus:1"), Quota("eng/a", "", "mem:4096")], "role 'eng/a' has limit mem:4096 above the limit mem:2048 of its ancestor 'eng'");
        await Refused([Quota("eng/a", "cpus:1", ""), Quota("eng/b", "cpus:1.5", "")], "parent role 'eng' with guarantees (cpus:2)");
        await Refused([Quota("dev", "cpus:3", "cpus:2")], "Role 'dev': guarantee cpus:3 is above its limit cpus:2");
        await Refused([Quota("dev", "cpus:-1", "")], "{'cpus': -1} for role 'dev'");
        await Refused([Quota("*", "", "cpus:1")], "default '*' role");
        await Refused([Quota("a//b", "", "cpus:1")], "'a//b'");
        await Refused([Quota("dev", "", "ports:1")], "only scalar resources");
        await Refused([Quota("dev", "cpus:3", "")], "Total quota guarantees (cpus:5) exceed the cluster capacity (cpus:4; mem:4096)");

        // Force skips only the capacity check; the rules of the tree still hold.
        (await actor.Ask(() => actor.UpdateQuota([Quota("dev", "cpus:3", "")], force: true))).IsSuccess.Should().BeTrue();
        stored = harness.Registry.GetValue(MasterActor.QuotaRegistryKey);
        roles = ["dev", "eng"];
        await Refused([Quota("eng/a", "cpus:3", "")], "parent role 'eng'", force: true);

        // An empty config removes a role's quota.
        (await actor.Ask(() => actor.UpdateQuota([Quota("dev", "", "")], force: false))).IsSuccess.Should().BeTrue();
        (await actor.Ask(actor.GetQuotaStatus)).Configs!.Select(c => c.Role).Should().Equal("eng");
    }

    [Fact]
    public async Task A_limit_below_what_the_role_consumes_needs_force()
    {
        await using var harness = new MasterHarness();
        await harness.AddAgentAsync("cpus(dev):2;cpus:2;mem:1024");
        var actor = harness.Actor;

        var refused = await actor.Ask(() => actor.UpdateQuota([Quota("dev", "", "cpus:1")], force: false));
        refused.StatusCode.Should().Be(400);
        refused.Error.Should().Contain("Role 'dev' is already consuming cpus:2, more than the requested limit cpus:1");
        (await actor.Ask(() => actor.UpdateQuota([Quota("dev", "", "cpus:1")], force: true))).IsSuccess.Should().BeTrue();
    }

    [Fact]
    public async Task Legacy_set_and_remove_quota_follow_Mesos()
    {
        await using var harness = new MasterHarness();
        await harness.AddAgentAsync("cpus:4;mem:4096");
        var actor = harness.Actor;

        var overcommit = await actor.Ask(() => actor.SetQuota(Request("dev", ("cpus", 8))));
        overcommit.StatusCode.Should().Be(409);
        overcommit.Error.Should().Contain("overcommit");
        (await actor.Ask(() => actor.SetQuota(Request("dev", ("cpus", 1))))).StatusCode.Should().Be(200);
        var again = await actor.Ask(() => actor.SetQuota(Request("dev", ("cpus", 1))));
        again.StatusCode.Should().Be(400);
        again.Error.Should().Contain("Cannot set quota for role 'dev' which already has quota");

        var config = (await actor.Ask(actor.GetQuotaStatus)).Configs!.Single();
        config.Limits!["cpus"].Value.Should().Be(1, "a legacy guarantee is also the limit");

        (await actor.Ask(() => actor.RemoveQuota("dev"))).StatusCode.Should().Be(200);
        var missing = await actor.Ask(() => actor.RemoveQuota("dev"));
        missing.StatusCode.Should().Be(400);
        missing.Error.Should().Contain("Role 'dev' has no quota set");
    }

    [Fact]
    public async Task Removing_a_parents_quota_that_its_children_need_is_refused()
    {
        await using var harness = new MasterHarness();
        await harness.AddAgentAsync("cpus:4;mem:4096");
        var actor = harness.Actor;
        (await actor.Ask(() => actor.UpdateQuota([Quota("eng", "cpus:2", ""), Quota("eng/a", "cpus:1", "")], force: false))).IsSuccess.Should().BeTrue();

        var result = await actor.Ask(() => actor.RemoveQuota("eng"));

        result.StatusCode.Should().Be(400);
        result.Error.Should().Contain("parent role 'eng'");
        (await actor.Ask(actor.GetQuotaStatus)).Configs!.Select(c => c.Role).Should().Equal("eng", "eng/a");
    }

    [Fact]
    public async Task Roles_report_frameworks_weights_quota_reservations_and_ancestors()
    {
        await using var harness = new MasterHarness();
        await harness.AddAgentAsync("cpus(eng/backend):1;cpus:3;mem:1024");
        var (frameworkId, scheduler) = await SubscribeAsync(harness, "dev");
        var actor = harness.Actor;
        (await actor.Ask(() => actor.UpdateWeights([Weight("qa", 2)]))).IsSuccess.Should().BeTrue();
        (await actor.Ask(() => actor.UpdateQuota([Quota("dev", "", "cpus:10")], force: false))).IsSuccess.Should().BeTrue();
        await harness.AdvanceAsync(TimeSpan.FromMilliseconds(100));
        await MasterHarness.NextAsync(scheduler, e => e.Type == EventType.OFFERS);

        var roles = (await actor.Ask(actor.GetRoles)).ToDictionary(r => r.Name);

        roles.Keys.Should().Equal("dev", "eng", "eng/backend", "qa");
        roles["dev"].Frameworks.Should().Equal(frameworkId);
        roles["dev"].Offered.Should().BeEquivalentTo(ResourceQuantities.Parse("cpus:3;mem:1024"));
        roles["dev"].Quota!.Limits.Should().BeEquivalentTo(ResourceQuantities.Parse("cpus:10"));
        roles["eng/backend"].Reserved.Should().BeEquivalentTo(ResourceQuantities.Parse("cpus:1"));
        roles["eng"].Reserved.Should().BeEquivalentTo(ResourceQuantities.Parse("cpus:1"), "a parent counts its subroles' reservations");
        roles["eng"].Consumed.Should().BeEquivalentTo(ResourceQuantities.Parse("cpus:1"));
        roles["qa"].Weight.Should().Be(2);
        roles["eng"].Weight.Should().Be(1);
    }

    [Fact]
    public async Task Lowering_a_limit_below_what_is_offered_rescinds_the_roles_offers()
    {
        await using var harness = new MasterHarness();
        await harness.AddAgentAsync("cpus:4;mem:4096");
        var (_, scheduler) = await SubscribeAsync(harness, "dev");
        await harness.AdvanceAsync(TimeSpan.FromMilliseconds(100));
        var offer = (await MasterHarness.NextAsync(scheduler, e => e.Type == EventType.OFFERS)).Offers!.Offers![0];

        var result = await harness.Actor.Ask(() => harness.Actor.UpdateQuota([Quota("dev", "", "cpus:1")], force: false));

        result.IsSuccess.Should().BeTrue(result.Error, "offered resources are not consumption");
        var rescind = await MasterHarness.NextAsync(scheduler, e => e.Type == EventType.RESCIND);
        rescind.Rescind!.OfferId!.Value.Should().Be(offer.Id!.Value);
    }

    private static async Task<(string FrameworkId, SchedulerConnection Connection)> SubscribeAsync(MasterHarness harness, string role)
    {
        var connection = new SchedulerConnection();
        var info = new FrameworkInfo { User = "u", Name = "f-" + role, Role = role };
        var (result, id) = await harness.Actor.Ask(() => harness.Actor.Subscribe(
            new Call { Type = CallType.SUBSCRIBE, Subscribe = new CallSubscribe { FrameworkInfo = info } }, connection));
        result.IsSuccess.Should().BeTrue(result.Error);
        return (id!, connection);
    }

    private static async Task<Dictionary<string, double>> Weights(MasterHarness harness) =>
        (await harness.Actor.Ask(harness.Actor.GetWeights)).ToDictionary(w => w.Role!, w => w.Weight!.Value);

    private static WeightInfo Weight(string role, double weight) => new() { Role = role, Weight = weight };

    private static WireQuota Quota(string role, string guarantees, string limits) => new()
    {
        Role = role,
        Guarantees = Scalars(guarantees),
        Limits = Scalars(limits),
    };

    private static Dictionary<string, ValueScalar> Scalars(string text) =>
        text.Split(';', StringSplitOptions.RemoveEmptyEntries).Select(e => e.Split(':'))
            .ToDictionary(p => p[0], p => new ValueScalar { Value = double.Parse(p[1], System.Globalization.CultureInfo.InvariantCulture) });

    private static QuotaRequest Request(string role, params (string Name, double Value)[] guarantee) => new()
    {
        Role = role,
        Guarantee = [.. guarantee.Select(g => new Protocol.V1.Resource { Name = g.Name, Type = Protocol.V1.ValueType.SCALAR, Scalar = new ValueScalar { Value = g.Value } })],
    };

    /// <summary>The real allocator, remembering what it was last asked.</summary>
    private sealed class RecordingAllocator : IAllocator
    {
        private readonly HierarchicalAllocator _inner = new();

        public AllocationInput? Last { get; private set; }

        public IReadOnlyList<OfferDecision> Allocate(AllocationInput input)
        {
            Last = input;
            return _inner.Allocate(input);
        }
    }
}
