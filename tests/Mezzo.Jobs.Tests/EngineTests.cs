using Mezzo.Core.Tasks;
using Mezzo.Jobs.Engine;
using Mezzo.Protocol.Chronos;
using Mezzo.Protocol.V1;
using NodaTime;

namespace Mezzo.Jobs.Tests;

/// <summary>The engine on a real SQLite store, driven by explicit instants and fake offers/updates (no network).</summary>
public sealed class EngineTests : IDisposable
{
    private static readonly Instant T0 = Instant.FromUtc(2026, 6, 1, 12, 0);
    private readonly TempDir _dir = new();
    private readonly List<JobsStore> _stores = [];
    private readonly JobsOptions _options;

    public EngineTests() => _options = new JobsOptions { Master = "unused:5050", WorkDir = _dir.Path, FailureRetryDelay = TimeSpan.FromSeconds(10) };

    public void Dispose()
    {
        foreach (var store in _stores)
        {
            store.Dispose();
        }

        _dir.Dispose();
    }

    private JobsEngine Open(Instant now)
    {
        var store = JobsStore.InWorkDir(_dir.Path);
        _stores.Add(store);
        return new JobsEngine(store, _options, now);
    }

    private static Job Job(string json) => JobJson.Parse(System.Text.Encoding.UTF8.GetBytes(json), new JobDefaults());

    private static Offer Offer(string id, double cpus = 4, double mem = 4096, double disk = 10000, string host = "h1") => new()
    {
        Id = new OfferID { Value = id },
        AgentId = new AgentID { Value = "agent-" + host },
        Hostname = host,
        Resources =
        [
            new Resource { Name = "cpus", Type = Protocol.V1.ValueType.SCALAR, Scalar = new ValueScalar { Value = cpus } },
            new Resource { Name = "mem", Type = Protocol.V1.ValueType.SCALAR, Scalar = new ValueScalar { Value = mem } },
            new Resource { Name = "disk", Type = Protocol.V1.ValueType.SCALAR, Scalar = new ValueScalar { Value = disk } },
        ],
    };

    private static TaskStatus Status(string taskId, TaskState state) =>
        new() { TaskId = new TaskID { Value = taskId }, State = state, AgentId = new AgentID { Value = "agent-h1" }, Uuid = [1, 2, 3] };

    private static List<TaskInfo> Launched(IEnumerable<Effect> effects) => [.. effects.OfType<LaunchEffect>().SelectMany(l => l.Tasks)];

    [Fact]
    public void A_due_occurrence_is_queued_persisted_then_launched_with_Chronos_task_id()
    {
        var engine = Open(T0);
        engine.Upsert(Job("""{"name":"hourly","command":"echo hi","schedule":"R/2026-06-01T12:00:10Z/PT1H"}"""), false, T0).Should().BeNull();
        engine.Tick(T0);
        engine.Flush();
        engine.Snapshot().ActiveRuns.Should().BeEmpty("the first occurrence is 10 s ahead");
        var due = T0 + Duration.FromSeconds(10);
        engine.Tick(due);
        engine.Flush();
        var run = engine.Snapshot().ActiveRuns.Should().ContainSingle().Subject;
        run.TaskId.Should().Be($"ct:{due.ToUnixTimeMilliseconds()}:0:hourly:");
        run.State.Should().Be(RunState.Queued);
        engine.OnOffers([Offer("o1")], due);
        var task = Launched(engine.Flush()).Should().ContainSingle().Subject;
        task.TaskId!.Value.Should().Be(run.TaskId);
        task.Command!.Value.Should().Be("echo hi");
        task.Command.Shell.Should().BeTrue();
        task.Resources!.Select(r => (r.Name, r.Scalar!.Value)).Should().Equal(("cpus", 0.1), ("mem", 128.0), ("disk", 256.0));
        task.Command.Environment!.Variables!.Should().Contain(v => v.Name == "mesos_task_id" && v.Value == run.TaskId);
    }

    [Fact]
    public void A_shell_false_job_runs_its_command_with_arguments_as_argv()
    {
        var engine = Open(T0);
        engine.Upsert(Job("""{"name":"argv","command":"/bin/echo","shell":false,"arguments":["-n","x"],"schedule":"R1//PT1H"}"""), false, T0);
        engine.Tick(T0);
        engine.Trigger("argv", "extra arg", T0);
        engine.OnOffers([Offer("o1")], T0);
        var tasks = Launched(engine.Flush());
        tasks.Should().HaveCount(1, "concurrent is false: the manual run waits for the scheduled one");
        tasks[0].Command!.Shell.Should().BeFalse();
        tasks[0].Command!.Arguments.Should().Equal("/bin/echo", "-n", "x");
    }

    [Fact]
    public void A_run_that_cannot_start_within_epsilon_is_skipped_and_recorded_not_run_late()
    {
        var engine = Open(T0);
        engine.Upsert(Job("""{"name":"tight","command":"true","epsilon":"PT30S","schedule":"R/2026-06-01T12:00:00Z/PT1H"}"""), false, T0);
        engine.Tick(T0);
        engine.OnOffers([Offer("small", cpus: 0.01)], T0);
        Launched(engine.Flush()).Should().BeEmpty();
        var late = T0 + Duration.FromSeconds(31);
        engine.Tick(late);
        engine.Flush();
        var snapshot = engine.Snapshot();
        snapshot.ActiveRuns.Should().BeEmpty();
        var skipped = snapshot.History["tight"].Should().ContainSingle().Subject;
        skipped.State.Should().Be(RunState.Skipped);
        skipped.Message.Should().Contain("epsilon PT30S").And.Contain("no offer had cpus 0.1");
        snapshot.Counters.SkippedByReason.Should().Equal(new Dictionary<string, long> { [JobsCounters.NoOffer] = 1 });
        snapshot.Counters.Started.Should().Be(0);
        engine.OnOffers([Offer("big")], late);
        Launched(engine.Flush()).Should().BeEmpty("a skipped run is never started late");
    }

    [Fact]
    public void A_run_skipped_because_the_previous_one_still_runs_is_counted_under_its_own_reason()
    {
        var engine = Open(T0);
        engine.Upsert(Job("""{"name":"slow","command":"sleep 600","epsilon":"PT30S","schedule":"R/2026-06-01T12:00:00Z/PT1M"}"""), false, T0);
        engine.Tick(T0);
        engine.OnOffers([Offer("o1")], T0);
        var first = Launched(engine.Flush()).Should().ContainSingle().Subject;
        engine.OnUpdate(Status(first.TaskId!.Value!, TaskState.TASK_RUNNING), T0);
        engine.Tick(T0 + Duration.FromSeconds(60));
        engine.OnOffers([Offer("o2")], T0 + Duration.FromSeconds(60));
        Launched(engine.Flush()).Should().BeEmpty("concurrent is false by default");
        engine.Tick(T0 + Duration.FromSeconds(91));
        engine.Flush();

        var counters = engine.Snapshot().Counters;
        counters.SkippedByReason.Should().Equal(new Dictionary<string, long> { [JobsCounters.NotConcurrent] = 1 });
        counters.Started.Should().Be(1);
    }

    [Fact]
    public void Occurrences_missed_while_down_are_recorded_as_one_skip_without_a_catch_up_storm()
    {
        var engine = Open(T0);
        engine.Upsert(Job("""{"name":"minutely","command":"true","schedule":"R/2026-06-01T12:00:00Z/PT1M"}"""), false, T0);
        engine.Flush();
        var later = T0 + Duration.FromMinutes(30) + Duration.FromSeconds(90);
        var restarted = Open(later);
        restarted.Tick(later);
        restarted.Flush();
        var snapshot = restarted.Snapshot();
        snapshot.ActiveRuns.Should().ContainSingle("only the occurrence within epsilon (60 s) runs")
            .Which.DueMs.Should().Be((T0 + Duration.FromMinutes(31)).ToUnixTimeMilliseconds());
        snapshot.History["minutely"].Should().ContainSingle().Which.Message.Should().Contain("skipped 31 scheduled run(s)");
        snapshot.Counters.SkippedByReason.Should().Equal(new Dictionary<string, long> { [JobsCounters.SchedulerDown] = 31 }, "each missed run counts");
    }

    [Fact]
    public void R5_runs_exactly_five_times()
    {
        var engine = Open(T0);
        engine.Upsert(Job("""{"name":"five","command":"true","schedule":"R5/2026-06-01T12:00:00Z/PT2S"}"""), false, T0);
        var launched = new List<string>();
        for (var second = 0; second <= 30; second++)
        {
            var now = T0 + Duration.FromSeconds(second);
            engine.Tick(now);
            engine.OnOffers([Offer($"o{second}")], now);
            foreach (var task in Launched(engine.Flush()))
            {
                launched.Add(task.TaskId!.Value!);
                engine.OnUpdate(Status(task.TaskId.Value!, TaskState.TASK_FINISHED), now);
            }
        }

        launched.Should().HaveCount(5).And.OnlyHaveUniqueItems();
        var job = engine.Snapshot().Jobs["five"];
        job.SuccessCount.Should().Be(5);
        job.Disabled.Should().BeTrue("Chronos disables a job whose repetitions have run out");
        engine.Snapshot().Counters.Should().BeEquivalentTo(new { Started = 5, Succeeded = 5, Failed = 0, Killed = 0 });
    }

    [Fact]
    public void A_failing_job_retries_its_retries_then_records_the_error_and_children_do_not_run()
    {
        var engine = Open(T0);
        engine.Upsert(Job("""{"name":"flaky","command":"false","retries":2,"schedule":"R1/2026-06-01T12:00:00Z/PT1H"}"""), false, T0);
        engine.Upsert(Job("""{"name":"child","command":"true","parents":["flaky"]}"""), true, T0).Should().BeNull();
        var attempts = new List<string>();
        var now = T0;
        for (var step = 0; step < 10; step++, now += Duration.FromSeconds(10))
        {
            engine.Tick(now);
            engine.OnOffers([Offer($"o{step}")], now);
            foreach (var task in Launched(engine.Flush()))
            {
                attempts.Add(task.TaskId!.Value!);
                engine.OnUpdate(Status(task.TaskId.Value!, TaskState.TASK_FAILED), now);
            }
        }

        attempts.Select(a => a.Split(':')[2]).Should().Equal("0", "1", "2");
        attempts.Should().AllSatisfy(a => a.Should().EndWith(":flaky:"));
        attempts.Should().NotContain(a => a.Contains("child", StringComparison.Ordinal));
        var job = engine.Snapshot().Jobs["flaky"];
        job.ErrorCount.Should().Be(1);
        job.ErrorsSinceLastSuccess.Should().Be(1);
        job.LastError.Should().NotBeEmpty();
        job.SuccessCount.Should().Be(0);
        engine.Snapshot().Counters.Should().BeEquivalentTo(new { Started = 3, Succeeded = 0, Failed = 3 }, "each attempt started and failed");
    }

    [Fact]
    public void A_dependent_job_runs_once_after_all_its_parents_succeed()
    {
        var engine = Open(T0);
        engine.Upsert(Job("""{"name":"a","command":"true","schedule":"R1/2026-06-01T12:00:00Z/PT1H"}"""), false, T0);
        engine.Upsert(Job("""{"name":"b","command":"true","parents":["a"]}"""), true, T0);
        engine.Upsert(Job("""{"name":"c","command":"true","parents":["a"]}"""), true, T0);
        engine.Upsert(Job("""{"name":"d","command":"true","parents":["b","c"]}"""), true, T0);
        var order = new List<string>();
        var now = T0;
        for (var step = 0; step < 10; step++, now += Duration.FromSeconds(1))
        {
            engine.Tick(now);
            engine.OnOffers([Offer($"o{step}", cpus: 0.1)], now);
            foreach (var task in Launched(engine.Flush()))
            {
                order.Add(task.TaskId!.Value!.Split(':')[3]);
                engine.OnUpdate(Status(task.TaskId.Value!, TaskState.TASK_FINISHED), now);
            }
        }

        order.Should().HaveCount(4);
        order[0].Should().Be("a");
        order[1..3].Should().BeEquivalentTo("b", "c");
        order[3].Should().Be("d");
    }

    [Fact]
    public void Concurrent_false_keeps_the_next_run_queued_while_one_is_in_flight()
    {
        var engine = Open(T0);
        engine.Upsert(Job("""{"name":"slow","command":"sleep 100","schedule":"R/2026-06-01T12:00:00Z/PT1M","epsilon":"PT10M"}"""), false, T0);
        engine.Tick(T0);
        engine.OnOffers([Offer("o1")], T0);
        var first = Launched(engine.Flush()).Should().ContainSingle().Subject;
        engine.OnUpdate(Status(first.TaskId!.Value!, TaskState.TASK_RUNNING), T0);
        var next = T0 + Duration.FromMinutes(1);
        engine.Tick(next);
        engine.OnOffers([Offer("o2")], next);
        Launched(engine.Flush()).Should().BeEmpty();
        engine.OnUpdate(Status(first.TaskId.Value!, TaskState.TASK_FINISHED), next);
        engine.OnOffers([Offer("o3")], next);
        Launched(engine.Flush()).Should().ContainSingle().Which.TaskId!.Value.Should().Be($"ct:{next.ToUnixTimeMilliseconds()}:0:slow:");
    }

    [Fact]
    public void High_priority_runs_take_the_offer_first()
    {
        var engine = Open(T0);
        engine.Upsert(Job("""{"name":"low","command":"true","cpus":1,"schedule":"R1/2026-06-01T11:59:59Z/PT1H"}"""), false, T0);
        engine.Upsert(Job("""{"name":"high","command":"true","cpus":1,"highPriority":true,"schedule":"R1/2026-06-01T12:00:00Z/PT1H"}"""), false, T0);
        engine.Tick(T0);
        engine.OnOffers([Offer("o1", cpus: 1)], T0);
        Launched(engine.Flush()).Should().ContainSingle().Which.TaskId!.Value.Should().Contain(":high:");
    }

    [Fact]
    public void After_a_restart_an_in_flight_run_is_reconciled_not_relaunched_and_not_scheduled_twice()
    {
        var engine = Open(T0);
        engine.Upsert(Job("""{"name":"once","command":"sleep 5","schedule":"R/2026-06-01T12:00:00Z/PT1H"}"""), false, T0);
        engine.Tick(T0);
        engine.OnOffers([Offer("o1")], T0);
        var task = Launched(engine.Flush()).Should().ContainSingle().Subject;

        // "kill -9" between the launch and any status: a new engine over the same store.
        var later = T0 + Duration.FromSeconds(20);
        var restarted = Open(later);
        restarted.Tick(later);
        restarted.OnSubscribed("fw-1", later);
        restarted.OnOffers([Offer("o2")], later);
        var effects = restarted.Flush();
        Launched(effects).Should().BeEmpty("the run is already launching");
        effects.OfType<ReconcileEffect>().Should().ContainSingle().Which.Tasks.Should().Equal((task.TaskId!.Value!, "agent-h1"));
        restarted.OnUpdate(Status(task.TaskId.Value!, TaskState.TASK_FINISHED), later);
        restarted.Flush();
        var snapshot = restarted.Snapshot();
        snapshot.Jobs["once"].SuccessCount.Should().Be(1);
        snapshot.History["once"].Should().ContainSingle(r => r.State == RunState.Succeeded);
        Open(later).FrameworkId.Should().Be("fw-1");
    }

    [Fact]
    public void A_launch_lost_on_restart_becomes_a_new_attempt_not_a_second_run_of_the_same_task()
    {
        var engine = Open(T0);
        engine.Upsert(Job("""{"name":"lost","command":"true","schedule":"R1/2026-06-01T12:00:00Z/PT1H"}"""), false, T0);
        engine.Tick(T0);
        engine.OnOffers([Offer("o1")], T0);
        var task = Launched(engine.Flush()).Single();
        var restarted = Open(T0);
        restarted.OnUpdate(Status(task.TaskId!.Value!, TaskState.TASK_UNKNOWN), T0);
        var later = T0 + Duration.FromSeconds(10);
        restarted.Tick(later);
        restarted.OnOffers([Offer("o2")], later);
        Launched(restarted.Flush()).Should().ContainSingle().Which.TaskId!.Value.Should().StartWith($"ct:{later.ToUnixTimeMilliseconds()}:1:lost");
    }

    [Fact]
    public void In_flight_runs_are_reconciled_again_every_reconciliation_interval()
    {
        var engine = Open(T0);
        engine.Upsert(Job("""{"name":"r","command":"sleep 1000","schedule":"R1/2026-06-01T12:00:00Z/PT1H"}"""), false, T0);
        engine.OnSubscribed("fw", T0);
        engine.Tick(T0);
        engine.OnOffers([Offer("o1")], T0);
        var task = Launched(engine.Flush()).Single();
        engine.Tick(T0 + Duration.FromMinutes(9));
        engine.Flush().OfType<ReconcileEffect>().Should().BeEmpty();
        engine.Tick(T0 + Duration.FromMinutes(10));
        engine.Flush().OfType<ReconcileEffect>().Should().ContainSingle().Which.Tasks.Should().Equal((task.TaskId!.Value!, "agent-h1"));
    }

    [Fact]
    public void A_launch_the_master_never_saw_is_queued_again_under_the_same_task_id()
    {
        var engine = Open(T0);
        engine.Upsert(Job("""{"name":"unsent","command":"true","schedule":"R1/2026-06-01T12:00:00Z/PT1H"}"""), false, T0);
        engine.Tick(T0);
        engine.OnOffers([Offer("o1")], T0);
        var task = Launched(engine.Flush()).Single();

        // Stopped after storing "launching", before the ACCEPT went out: reconciliation says the master has no such task.
        var later = T0 + Duration.FromSeconds(5);
        var restarted = Open(later);
        var answer = Status(task.TaskId!.Value!, TaskState.TASK_LOST);
        answer.Reason = TaskStatusReason.REASON_RECONCILIATION;
        answer.Uuid = null;
        restarted.OnUpdate(answer, later);
        restarted.OnOffers([Offer("o2")], later);
        Launched(restarted.Flush()).Should().ContainSingle().Which.TaskId!.Value.Should().Be(task.TaskId.Value);
        var job = restarted.Snapshot().Jobs["unsent"];
        job.ErrorCount.Should().Be(0);
        restarted.Snapshot().History.ContainsKey("unsent").Should().BeFalse("no run ended");
    }

    [Fact]
    public void Async_jobs_end_on_the_callback_not_on_process_exit()
    {
        var engine = Open(T0);
        engine.Upsert(Job("""{"name":"async","command":"true","async":true,"schedule":"R1/2026-06-01T12:00:00Z/PT1H"}"""), false, T0);
        engine.Tick(T0);
        engine.OnOffers([Offer("o1")], T0);
        var task = Launched(engine.Flush()).Single();
        engine.OnUpdate(Status(task.TaskId!.Value!, TaskState.TASK_FINISHED), T0);
        engine.Snapshot().Jobs["async"].SuccessCount.Should().Be(0);
        engine.CompleteAsync("ct:0:0:nope:", 0, T0).Should().NotBeNull();
        engine.CompleteAsync(task.TaskId.Value!, 0, T0).Should().BeNull();
        engine.Snapshot().Jobs["async"].SuccessCount.Should().Be(1);
    }

    [Fact]
    public void Cycles_unknown_parents_and_bad_schedules_are_refused_and_nothing_is_stored()
    {
        var engine = Open(T0);
        engine.Upsert(Job("""{"name":"a","command":"true","schedule":"R/2026-06-01T12:00:00Z/PT1H"}"""), false, T0);
        engine.Upsert(Job("""{"name":"b","command":"true","parents":["a"]}"""), true, T0);
        engine.Upsert(Job("""{"name":"c","command":"true","parents":["b"]}"""), true, T0);
        engine.Flush();
        engine.Upsert(Job("""{"name":"b","command":"true","parents":["c"]}"""), true, T0)!.Message.Should().Contain("b -> c -> b");
        engine.Upsert(Job("""{"name":"x","command":"true","parents":["ghost"]}"""), true, T0)!.Message.Should().Contain("ghost");
        engine.Upsert(Job("""{"name":"y","command":"true","schedule":"R/2020-01-01T00:00:00Z/PT1H"}"""), false, T0)!.Message.Should().Contain("more than 1 year in the past");
        engine.Upsert(Job("""{"name":"z","command":"true","schedule":"bogus"}"""), false, T0)!.Message.Should().Contain("Cannot parse schedule 'bogus'");
        engine.Flush();
        Open(T0).Snapshot().Jobs.Keys.Should().Equal("a", "b", "c");
    }

    [Fact]
    public void Deleting_a_parent_cascades_as_Chronos_does()
    {
        var engine = Open(T0);
        engine.Upsert(Job("""{"name":"root","command":"true","schedule":"R/2026-06-01T13:00:00Z/PT1H"}"""), false, T0);
        engine.Upsert(Job("""{"name":"mid","command":"true","parents":["root"]}"""), true, T0);
        engine.Upsert(Job("""{"name":"leaf","command":"true","parents":["mid"]}"""), true, T0);
        engine.Delete("mid", T0).Should().BeNull();
        engine.Snapshot().Jobs["leaf"].Parents.Should().Equal("root");
        engine.Delete("root", T0).Should().BeNull();
        var leaf = engine.Snapshot().Jobs["leaf"];
        leaf.Parents.Should().BeEmpty();
        leaf.Schedule.Should().Be("R/2026-06-01T13:00:00Z/PT1H");
        engine.Delete("root", T0)!.Message.Should().Be("Job 'root' not found");
        engine.Flush();
        Open(T0).Snapshot().Jobs.Keys.Should().Equal("leaf");
    }

    [Fact]
    public void Disabled_jobs_do_not_run_on_schedule()
    {
        var engine = Open(T0);
        engine.Upsert(Job("""{"name":"off","command":"true","disabled":true,"schedule":"R/2026-06-01T12:00:00Z/PT1M"}"""), false, T0);
        for (var minute = 0; minute < 5; minute++)
        {
            engine.Tick(T0 + Duration.FromMinutes(minute));
        }

        engine.Flush();
        engine.Snapshot().ActiveRuns.Should().BeEmpty();
    }

    [Fact]
    public void Kill_drops_queued_runs_and_kills_running_tasks()
    {
        var engine = Open(T0);
        engine.Upsert(Job("""{"name":"k","command":"sleep 100","concurrent":true,"schedule":"R/2026-06-01T12:00:00Z/PT1H"}"""), false, T0);
        engine.Tick(T0);
        engine.OnOffers([Offer("o1")], T0);
        var task = Launched(engine.Flush()).Single();
        engine.Trigger("k", null, T0 + Duration.FromMilliseconds(1));
        engine.KillTasks("k", T0).Should().BeNull();
        engine.KillTasks("nope", T0)!.Message.Should().Contain("nope");
        engine.Flush().OfType<KillEffect>().Should().ContainSingle().Which.TaskId.Should().Be(task.TaskId!.Value);
        engine.Snapshot().ActiveRuns.Should().ContainSingle().Which.State.Should().Be(RunState.Launching);
    }
}

public sealed class EngineUpdateTests : IDisposable
{
    private static readonly Instant T0 = Instant.FromUtc(2026, 6, 1, 12, 0);
    private readonly TempDir _dir = new();
    private readonly JobsStore _store;
    private readonly JobsEngine _engine;

    public EngineUpdateTests()
    {
        _store = JobsStore.InWorkDir(_dir.Path);
        _engine = new JobsEngine(_store, new JobsOptions { Master = "unused:1", WorkDir = _dir.Path }, T0);
    }

    public void Dispose()
    {
        _store.Dispose();
        _dir.Dispose();
    }

    private static Job Job(string json) => JobJson.Parse(System.Text.Encoding.UTF8.GetBytes(json), new JobDefaults());

    [Fact]
    public void Changing_a_schedule_never_queues_a_time_that_already_had_a_run()
    {
        _engine.Upsert(Job("""{"name":"j","command":"true","schedule":"R/2026-06-01T12:00:00Z/PT1H"}"""), false, T0);
        _engine.Tick(T0);
        _engine.Upsert(Job("""{"name":"j","command":"true","schedule":"R/2026-06-01T12:00:00Z/PT30M"}"""), false, T0);
        _engine.Tick(T0 + Duration.FromSeconds(1));
        _engine.Flush();
        _engine.Snapshot().ActiveRuns.Should().ContainSingle();
        var next = T0 + Duration.FromMinutes(30);
        _engine.Tick(next);
        _engine.Flush();
        var snapshot = _engine.Snapshot();
        snapshot.ActiveRuns.Select(r => r.DueMs).Should().Equal(next.ToUnixTimeMilliseconds());
        snapshot.History["j"].Select(r => r.DueMs).Should().Equal(T0.ToUnixTimeMilliseconds());
    }

    [Fact]
    public void Re_enabling_a_job_resumes_at_its_next_occurrence_without_recording_skips()
    {
        _engine.Upsert(Job("""{"name":"j","command":"true","disabled":true,"schedule":"R/2026-06-01T12:00:00Z/PT1M"}"""), false, T0);
        var later = T0 + Duration.FromMinutes(10) + Duration.FromSeconds(5);
        _engine.Tick(later);
        _engine.Upsert(Job("""{"name":"j","command":"true","schedule":"R/2026-06-01T12:00:00Z/PT1M"}"""), false, later);
        _engine.Tick(later);
        _engine.Flush();
        var snapshot = _engine.Snapshot();
        snapshot.History.ContainsKey("j").Should().BeFalse();
        snapshot.ActiveRuns.Should().ContainSingle().Which.DueMs.Should().Be((T0 + Duration.FromMinutes(10)).ToUnixTimeMilliseconds());
    }
}

public sealed class EngineIndexTests : IDisposable
{
    private static readonly Instant T0 = Instant.FromUtc(2026, 6, 1, 12, 0);
    private readonly TempDir _dir = new();
    private readonly JobsStore _store;
    private readonly JobsEngine _engine;

    public EngineIndexTests()
    {
        _store = JobsStore.InWorkDir(_dir.Path);
        _engine = new JobsEngine(_store, new JobsOptions { Master = "unused:1", WorkDir = _dir.Path }, T0);
    }

    public void Dispose()
    {
        _store.Dispose();
        _dir.Dispose();
    }

    private static Job Job(string json) => JobJson.Parse(System.Text.Encoding.UTF8.GetBytes(json), new JobDefaults());

    private IReadOnlyList<string> QueuedJobs() => [.. _engine.Snapshot().ActiveRuns.Select(r => r.JobName)];

    [Fact]
    public void A_child_moved_to_another_parent_no_longer_follows_the_old_one()
    {
        _engine.Upsert(Job("""{"name":"p1","command":"true","schedule":"R/2030-01-01T00:00:00Z/PT1H"}"""), false, T0);
        _engine.Upsert(Job("""{"name":"p2","command":"true","schedule":"R/2030-01-01T00:00:00Z/PT1H"}"""), false, T0);
        _engine.Upsert(Job("""{"name":"c","command":"true","parents":["p1"]}"""), true, T0);
        _engine.Upsert(Job("""{"name":"c","command":"true","parents":["p2"]}"""), true, T0);
        _engine.MarkSuccess("p1", T0);
        QueuedJobs().Should().BeEmpty();
        _engine.MarkSuccess("p2", T0);
        QueuedJobs().Should().Equal("c");
    }

    [Fact]
    public void A_rescheduled_job_runs_on_the_new_schedule_only()
    {
        _engine.Upsert(Job("""{"name":"j","command":"true","schedule":"R/2026-06-01T12:10:00Z/PT1H"}"""), false, T0);
        _engine.Upsert(Job("""{"name":"j","command":"true","schedule":"R/2026-06-01T12:20:00Z/PT1H"}"""), false, T0);
        _engine.Tick(T0 + Duration.FromMinutes(10));
        QueuedJobs().Should().BeEmpty();
        _engine.Tick(T0 + Duration.FromMinutes(20));
        _engine.Snapshot().ActiveRuns.Should().ContainSingle().Which.DueMs.Should().Be((T0 + Duration.FromMinutes(20)).ToUnixTimeMilliseconds());
        _engine.Snapshot().NextRuns["j"].Should().Be((T0 + Duration.FromMinutes(80)).ToDateTimeOffset());
    }

    [Fact]
    public void Ten_thousand_jobs_tick_only_what_is_due()
    {
        for (var i = 0; i < 10_000; i++)
        {
            _engine.Upsert(Job($$"""{"name":"j{{i}}","command":"true","schedule":"R/2026-06-01T12:{{i % 60:00}}:00Z/PT1H"}"""), false, T0);
        }

        _engine.Flush();
        _engine.Tick(T0 + Duration.FromSeconds(30));
        _engine.Snapshot().ActiveRuns.Should().HaveCount(167, "minute 0 of 60: 10,000 / 60 jobs rounded up");
        _engine.Tick(T0 + Duration.FromMinutes(1));
        _engine.Snapshot().ActiveRuns.Should().HaveCount(334);
    }
}
