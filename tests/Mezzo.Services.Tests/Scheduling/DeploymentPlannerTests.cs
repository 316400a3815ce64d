using Mezzo.Core.Tasks;
using Mezzo.Services.Scheduling;
using Mezzo.Services.State;
using static Mezzo.Services.Tests.Scheduling.Apps;

namespace Mezzo.Services.Tests.Scheduling;

public sealed class DeploymentPlannerTests
{
    [Fact]
    public void A_new_app_launches_all_its_instances()
    {
        var plan = DeploymentPlanner.Plan(App().With(a => a.Instances = 3), [], T0);
        plan.Should().BeEquivalentTo(new AppPlan(3, [], false));
    }

    [Fact]
    public void Scaling_down_kills_the_youngest_first_unless_told_oldest()
    {
        var tasks = new[] { Task("a", stagedSecond: 1), Task("b", stagedSecond: 3), Task("c", stagedSecond: 2) };

        DeploymentPlanner.Plan(App().With(a => a.Instances = 1), tasks, T0).Kill.Should().Equal("b", "c");
        DeploymentPlanner.Plan(App().With(a => { a.Instances = 1; a.KillSelection = "OLDEST_FIRST"; }), tasks, T0).Kill.Should().Equal("a", "c");
    }

    [Fact]
    public void Scaling_down_kills_tasks_not_yet_running_before_running_ones()
    {
        var tasks = new[] { Task("running", stagedSecond: 5), Task("staging", "v1", TaskState.TASK_STAGING, stagedSecond: 1) };
        DeploymentPlanner.Plan(App(), tasks, T0).Kill.Should().Equal("staging");
    }

    [Fact]
    public void Complete_only_when_every_instance_of_the_new_config_runs_and_is_healthy()
    {
        var app = App().With(a => a.Instances = 2);
        DeploymentPlanner.Plan(app, [Task("a"), Task("b", state: TaskState.TASK_STAGING)], T0).Complete.Should().BeFalse();
        DeploymentPlanner.Plan(app, [Task("a"), Task("b")], T0).Complete.Should().BeTrue();

        var checkedApp = App("""{"id":"/web","cmd":"x","healthChecks":[{"protocol":"MESOS_TCP"}]}""").With(a => a.Instances = 2);
        DeploymentPlanner.Plan(checkedApp, [Task("a", healthy: true), Task("b")], T0).Complete.Should().BeFalse();
        DeploymentPlanner.Plan(checkedApp, [Task("a", healthy: true), Task("b", healthy: true)], T0).Complete.Should().BeTrue();
    }

    [Fact]
    public void Failed_tasks_are_ignored_and_replaced()
    {
        var plan = DeploymentPlanner.Plan(App().With(a => a.Instances = 2), [Task("a"), Task("b", state: TaskState.TASK_FAILED)], T0);
        plan.Launch.Should().Be(1);
    }

    [Fact]
    public void Tasks_being_killed_are_not_killed_again_and_hold_completion_back()
    {
        var plan = DeploymentPlanner.Plan(App(), [Task("a"), Task("b", killing: true)], T0);
        plan.Kill.Should().BeEmpty();
        plan.Launch.Should().Be(0);
        plan.Complete.Should().BeFalse();
    }

    [Fact]
    public void A_removed_app_kills_everything_and_completes_when_nothing_is_left()
    {
        DeploymentPlanner.Plan(null, [Task("a"), Task("b", killing: true)], T0).Should().BeEquivalentTo(new AppPlan(0, ["a"], false));
        DeploymentPlanner.Plan(null, [Task("a", state: TaskState.TASK_KILLED)], T0).Complete.Should().BeTrue();
    }

    [Fact]
    public void Default_strategy_starts_all_new_tasks_first_and_kills_old_ones_only_as_new_ones_become_healthy()
    {
        // minimumHealthCapacity 1, maximumOverCapacity 1: floor 3, capacity 6.
        var app = App(version: "v2").With(a => a.Instances = 3);
        var old = new[] { Task("o1"), Task("o2"), Task("o3") };

        var start = DeploymentPlanner.Plan(app, old, T0);
        start.Launch.Should().Be(3);
        start.Kill.Should().BeEmpty();

        var oneUp = DeploymentPlanner.Plan(app, [.. old, Task("n1", "v2"), Task("n2", "v2", TaskState.TASK_STAGING), Task("n3", "v2", TaskState.TASK_STAGING)], T0);
        oneUp.Kill.Should().HaveCount(1, "one new task is healthy, so one old one may go without dropping below 3");
        oneUp.Launch.Should().Be(0);
    }

    [Fact]
    public void Half_health_capacity_without_over_capacity_replaces_in_batches_without_going_below_the_floor()
    {
        // 4 instances, minimumHealthCapacity 0.5, maximumOverCapacity 0: floor 2, capacity 4.
        var app = App(version: "v2").With(a =>
        {
            a.Instances = 4;
            a.UpgradeStrategy!.MinimumHealthCapacity = 0.5;
            a.UpgradeStrategy.MaximumOverCapacity = 0;
        });
        var old = new List<Instance> { Task("o1", stagedSecond: 1), Task("o2", stagedSecond: 2), Task("o3", stagedSecond: 3), Task("o4", stagedSecond: 4) };

        var first = DeploymentPlanner.Plan(app, old, T0);
        first.Kill.Should().HaveCount(2);
        first.Launch.Should().Be(2);
        var afterKills = old.Select(t => first.Kill.Contains(t.TaskId) ? t with { Killing = true } : t).ToList();
        HealthyAfter(afterKills).Should().BeGreaterThanOrEqualTo(2);

        // The two killed are gone and two new run: the other two old ones may go now.
        var second = DeploymentPlanner.Plan(app, [.. afterKills.Where(t => !t.Killing), Task("n1", "v2"), Task("n2", "v2")], T0);
        second.Kill.Should().HaveCount(2);
        second.Launch.Should().Be(2);
    }

    [Fact]
    public void Floor_equal_to_capacity_allows_one_old_task_to_go_first()
    {
        var app = App(version: "v2").With(a =>
        {
            a.Instances = 2;
            a.UpgradeStrategy!.MaximumOverCapacity = 0;
        });
        var plan = DeploymentPlanner.Plan(app, [Task("o1"), Task("o2")], T0);
        plan.Kill.Should().HaveCount(1);
    }

    [Fact]
    public void Unhealthy_old_tasks_go_regardless_of_the_floor()
    {
        var app = App("""{"id":"/web","cmd":"x","healthChecks":[{"protocol":"MESOS_TCP"}]}""", "v2").With(a => a.Instances = 2);
        var plan = DeploymentPlanner.Plan(app, [Task("o1", healthy: false), Task("o2", healthy: true)], T0);
        plan.Kill.Should().Equal("o1");
    }

    [Fact]
    public void A_new_version_that_never_gets_healthy_keeps_the_old_tasks_serving()
    {
        var app = App("""{"id":"/web","cmd":"x","healthChecks":[{"protocol":"MESOS_TCP"}]}""", "v2").With(a => a.Instances = 2);
        var plan = DeploymentPlanner.Plan(app, [Task("o1", healthy: true), Task("o2", healthy: true), Task("n1", "v2", healthy: false), Task("n2", "v2", healthy: false)], T0);
        plan.Kill.Should().BeEmpty();
        plan.Complete.Should().BeFalse();
    }

    private static int HealthyAfter(List<Instance> tasks) => tasks.Count(t => !t.Killing && t.IsHealthy(false));

    [Fact]
    public void An_unreachable_task_is_replaced_after_inactiveAfterSeconds_and_forgotten_after_expungeAfterSeconds()
    {
        var app = App("""{"id":"/web","cmd":"x","unreachableStrategy":{"inactiveAfterSeconds":60,"expungeAfterSeconds":120}}""");
        var lost = Task("u", state: TaskState.TASK_UNREACHABLE) with { UnreachableSince = T0 };

        DeploymentPlanner.Plan(app, [lost], T0.AddSeconds(59)).Launch.Should().Be(0, "it may still come back");
        var inactive = DeploymentPlanner.Plan(app, [lost], T0.AddSeconds(60));
        inactive.Launch.Should().Be(1);
        inactive.Kill.Should().BeEmpty();
        DeploymentPlanner.IsExpunged(lost, app, T0.AddSeconds(119)).Should().BeFalse();
        DeploymentPlanner.IsExpunged(lost, app, T0.AddSeconds(120)).Should().BeTrue();

        // Back before it was expunged, next to its replacement: one of the two goes.
        var back = lost with { State = TaskState.TASK_RUNNING, UnreachableSince = null };
        DeploymentPlanner.Plan(app, [back, Task("replacement", stagedSecond: 90)], T0.AddSeconds(100)).Kill.Should().Equal("replacement");
    }

    [Fact]
    public void With_the_unreachable_strategy_disabled_an_unreachable_task_is_waited_for()
    {
        var app = App("""{"id":"/web","cmd":"x","unreachableStrategy":"disabled"}""");
        var lost = Task("u", state: TaskState.TASK_UNREACHABLE) with { UnreachableSince = T0 };
        DeploymentPlanner.Plan(app, [lost], T0.AddDays(1)).Launch.Should().Be(0);
        DeploymentPlanner.IsExpunged(lost, app, T0.AddDays(1)).Should().BeFalse();
    }

    [Fact]
    public void With_readiness_checks_new_tasks_count_only_once_ready_and_old_ones_are_not_asked()
    {
        var app = App("""{"id":"/web","cmd":"x","portDefinitions":[{"port":0,"name":"http-api"}],"readinessChecks":[{}]}""", "v2").With(a => a.Instances = 1);

        DeploymentPlanner.Plan(app, [Task("n1", "v2")], T0).Complete.Should().BeFalse("running is not ready");
        DeploymentPlanner.Plan(app, [Task("n1", "v2") with { Ready = true }], T0).Complete.Should().BeTrue();

        var rolling = DeploymentPlanner.Plan(app, [Task("o1", "v1"), Task("n1", "v2")], T0);
        rolling.Kill.Should().BeEmpty("the old task stays until the new one is ready");
        DeploymentPlanner.Plan(app, [Task("o1", "v1"), Task("n1", "v2") with { Ready = true }], T0).Kill.Should().Equal("o1");
    }
}
