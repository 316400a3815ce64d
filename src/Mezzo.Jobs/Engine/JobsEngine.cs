using System.Collections.Immutable;
using System.Globalization;
using System.Text.RegularExpressions;
using Mezzo.Core.Tasks;
using Mezzo.Jobs.Graph;
using Mezzo.Jobs.Schedules;
using Mezzo.Protocol.Chronos;
using Mezzo.Protocol.V1;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using NodaTime;

namespace Mezzo.Jobs.Engine;

/// <summary>
/// The jobs framework's state and decisions: schedules, the run queue, offers, status updates, retries, dependencies.
/// Owned by one actor; every step takes "now" as an argument, records its writes, and <see cref="Flush"/> persists them
/// in one transaction before handing back the effects (launches, kills, acks) to carry out. So a launch is only sent for
/// a run that is already stored as launching, and a restart reconciles it instead of launching it again.
/// </summary>
public sealed partial class JobsEngine
{
    private const string FrameworkIdKey = "framework_id";
    private readonly IJobsStore _store;
    private readonly JobsOptions _options;
    private readonly ILogger _log;
    private readonly Dictionary<string, Entry> _jobs = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Run> _active = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<Run>> _history = new(StringComparer.Ordinal);

    // Scheduled jobs by their next occurrence, so a tick looks only at what is due.
    private readonly SortedSet<(long AtMs, string Name)> _due = [];

    // Children of each job, so a success does not scan every job.
    private readonly Dictionary<string, SortedSet<string>> _children = new(StringComparer.Ordinal);

    // What readers see, kept up to date as the state changes: publishing a snapshot is O(1).
    private readonly ImmutableSortedDictionary<string, Job>.Builder _jobsView = ImmutableSortedDictionary.CreateBuilder<string, Job>(StringComparer.Ordinal);
    private readonly ImmutableSortedDictionary<string, Run>.Builder _activeView = ImmutableSortedDictionary.CreateBuilder<string, Run>(StringComparer.Ordinal);
    private readonly ImmutableDictionary<string, ImmutableArray<Run>>.Builder _historyView = ImmutableDictionary.CreateBuilder<string, ImmutableArray<Run>>(StringComparer.Ordinal);
    private readonly ImmutableDictionary<string, DateTimeOffset>.Builder _nextView = ImmutableDictionary.CreateBuilder<string, DateTimeOffset>(StringComparer.Ordinal);
    private readonly Dictionary<string, StoredJob> _jobWrites = new(StringComparer.Ordinal);
    private readonly HashSet<string> _jobDeletes = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Run> _runWrites = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _metaWrites = new(StringComparer.Ordinal);
    private readonly List<Effect> _effects = [];
    private bool _suppressed;
    private Instant _lastReconcile;
    private JobsCounters _counters = JobsCounters.Empty;

    private sealed class Entry(Job job, long nextIndex, HashSet<string> satisfied, RepeatingSchedule? schedule)
    {
        public Job Job { get; set; } = job;

        public long NextIndex { get; set; } = nextIndex;

        public HashSet<string> Satisfied { get; set; } = satisfied;

        public RepeatingSchedule? Schedule { get; set; } = schedule;

        /// <summary>The next occurrence as filed in the due set; null when none (disabled, dependent, exhausted).</summary>
        public long? NextAtMs { get; set; }

        /// <summary>The parents as filed in the children index.</summary>
        public ImmutableArray<string> IndexedParents { get; set; } = [];
    }

    public JobsEngine(IJobsStore store, JobsOptions options, Instant now, ILogger? log = null)
    {
        _store = store;
        _options = options;
        _log = log ?? NullLogger.Instance;
        _lastReconcile = now;
        foreach (var stored in store.LoadJobs(options.Defaults))
        {
            RepeatingSchedule? schedule = null;
            if (stored.Job.Schedule is { } text)
            {
                RepeatingSchedule.TryParse(text, stored.Job.ScheduleTimeZone, now, out schedule, out _);
            }

            var entry = new Entry(stored.Job, stored.NextIndex, new HashSet<string>(stored.SatisfiedParents, StringComparer.Ordinal), schedule);
            _jobs[stored.Job.Name] = entry;
            Index(entry);
        }

        foreach (var run in store.LoadRuns(options.HistoryLimit))
        {
            if (run.IsActive)
            {
                SetActive(run);
            }
            else
            {
                AddHistory(run);
            }
        }

        FrameworkId = store.GetMeta(FrameworkIdKey);
    }

    public string? FrameworkId { get; private set; }

    /// <summary>Persists this step's writes in one transaction, then returns what to do with the master.</summary>
    public IReadOnlyList<Effect> Flush() => Flush(out _);

    /// <summary>As <see cref="Flush()"/>; <paramref name="changed"/> tells whether any state was written.</summary>
    public IReadOnlyList<Effect> Flush(out bool changed)
    {
        changed = _jobWrites.Count > 0 || _jobDeletes.Count > 0 || _runWrites.Count > 0 || _metaWrites.Count > 0;
        _store.Commit(_jobWrites.Values, _jobDeletes, _runWrites.Values, _metaWrites);
        _jobWrites.Clear();
        _jobDeletes.Clear();
        _runWrites.Clear();
        _metaWrites.Clear();
        var effects = _effects.ToList();
        _effects.Clear();
        return effects;
    }

    public JobsSnapshot Snapshot() =>
        new(_jobsView.ToImmutable(), _activeView.ToImmutable(), _historyView.ToImmutable(), _nextView.ToImmutable(), FrameworkId) { Counters = _counters };

    // ---- API ----

    /// <summary>Creates or replaces a job (POST iso8601 / dependency). Nothing is changed when it is refused.</summary>
    public EngineError? Upsert(Job job, bool dependencyEndpoint, Instant now)
    {
        _jobs.TryGetValue(job.Name, out var existing);
        if (dependencyEndpoint && job.Parents.Length == 0)
        {
            return new EngineError(400, "Error, parent does not exist");
        }

        RepeatingSchedule? schedule = null;
        if (job.Schedule is { } text)
        {
            if (!RepeatingSchedule.TryParse(text, job.ScheduleTimeZone, now, out schedule, out var error))
            {
                return new EngineError(400, error);
            }

            if (existing is null && schedule.StartInstant < now.InUtc().LocalDateTime.PlusYears(-1).InUtc().ToInstant())
            {
                return new EngineError(400, $"Scheduled start date '{schedule.Start.ToString("uuuu-MM-dd'T'HH:mm:ss.fff", CultureInfo.InvariantCulture)}' is more than 1 year in the past!");
            }

            // An empty start means "now": pin it, so a restart does not move the schedule.
            if (text.Split('/')[1].Length == 0)
            {
                var pinned = $"{text.Split('/')[0]}/{schedule.Start.ToString("uuuu-MM-dd'T'HH:mm:ss.fff", CultureInfo.InvariantCulture)}Z/{text.Split('/')[2]}";
                job = job with { Schedule = pinned };
            }
        }
        else
        {
            IReadOnlyDictionary<string, Job> jobs = _jobsView;
            var missing = JobGraph.MissingParents(jobs, job);
            if (missing.Count > 0)
            {
                return new EngineError(400, $"requirement failed: JobSchedule {job.Name} does not have all parents defined! Unknown: {string.Join(", ", missing)}");
            }

            if (JobGraph.FindCycle(jobs, job) is { } cycle)
            {
                return new EngineError(400, $"Adding job '{job.Name}' with parents [{string.Join(", ", job.Parents)}] would create a dependency cycle: {string.Join(" -> ", cycle)}");
            }
        }

        long nextIndex;
        if (existing is not null && existing.Job.Schedule == job.Schedule && existing.Job.ScheduleTimeZone == job.ScheduleTimeZone && !(existing.Job.Disabled && !job.Disabled))
        {
            nextIndex = existing.NextIndex;
        }
        else if (schedule is not null)
        {
            // A new, changed or re-enabled schedule starts at its next occurrence (one just missed still runs within
            // epsilon), and never at or before a time this job already had a run for.
            var from = now - ToDuration(job.Epsilon);
            var lastDue = _active.Values.Concat(_history.GetValueOrDefault(job.Name, []))
                .Where(r => r.JobName == job.Name && r.Attempt == 0)
                .Select(r => (long?)r.DueMs).Max();
            if (lastDue is { } last && Instant.FromUnixTimeMilliseconds(last + 1) > from)
            {
                from = Instant.FromUnixTimeMilliseconds(last + 1);
            }

            nextIndex = SafeFirstAtOrAfter(schedule, from)?.Index ?? schedule.Repetitions ?? 0;
        }
        else
        {
            nextIndex = 0;
        }

        var satisfied = existing is null ? new HashSet<string>(StringComparer.Ordinal) : [.. existing.Satisfied.Where(job.Parents.Contains)];
        // The replacement takes over the old entry's place in the due set and the children index.
        var entry = new Entry(job, nextIndex, satisfied, schedule) { NextAtMs = existing?.NextAtMs, IndexedParents = existing?.IndexedParents ?? [] };
        _jobs[job.Name] = entry;
        Write(entry);
        Log.JobSaved(_log, job.Name, existing is null ? "created" : "replaced", job.Schedule ?? "after " + string.Join(",", job.Parents));
        return null;
    }

    /// <summary>DELETE job/NAME, with Chronos's cascade: a dependent job's children inherit its parents; a scheduled
    /// job's children become scheduled on its schedule.</summary>
    public EngineError? Delete(string name, Instant now)
    {
        if (!_jobs.TryGetValue(name, out var entry))
        {
            return new EngineError(400, $"Job '{name}' not found");
        }

        var job = entry.Job;
        foreach (var childName in _children.GetValueOrDefault(name, []).ToList())
        {
            var child = _jobs[childName];
            if (job.IsDependent)
            {
                child.Job = child.Job with { Parents = [.. child.Job.Parents.Where(p => p != name).Concat(job.Parents).Distinct()] };
                child.Satisfied.Remove(name);
            }
            else
            {
                child.Job = child.Job with { Parents = [], Schedule = job.Schedule, ScheduleTimeZone = job.ScheduleTimeZone };
                child.Schedule = entry.Schedule;
                child.Satisfied.Clear();
                child.NextIndex = entry.Schedule is { } s ? SafeFirstAtOrAfter(s, now)?.Index ?? s.Repetitions ?? 0 : 0;
            }

            Write(child);
        }

        foreach (var run in _active.Values.Where(r => r.JobName == name).ToList())
        {
            if (run.IsInFlight)
            {
                _effects.Add(new KillEffect(run.TaskId, run.AgentId));
            }

            RemoveActive(run.TaskId);
        }

        Unindex(entry);
        _jobs.Remove(name);
        _history.Remove(name);
        _historyView.Remove(name);
        _jobWrites.Remove(name);
        _jobDeletes.Add(name);
        Log.JobDeleted(_log, name);
        foreach (var key in _runWrites.Keys.Where(k => _runWrites[k].JobName == name).ToList())
        {
            _runWrites.Remove(key);
        }

        return null;
    }

    /// <summary>PUT job/NAME: queue a run now (disabled jobs too, as Chronos does).</summary>
    public EngineError? Trigger(string name, string? arguments, Instant now)
    {
        if (!_jobs.TryGetValue(name, out var entry))
        {
            return new EngineError(400, $"Job '{name}' not found");
        }

        Enqueue(entry.Job, now.ToUnixTimeMilliseconds(), 0, now.ToUnixTimeMilliseconds(), arguments ?? "");
        return null;
    }

    /// <summary>PUT job/success/NAME: count a success and run its children as if it had just run.</summary>
    public EngineError? MarkSuccess(string name, Instant now)
    {
        if (!_jobs.TryGetValue(name, out var entry))
        {
            return new EngineError(400, $"Job '{name}' not found");
        }

        RecordSuccess(entry, now);
        return null;
    }

    /// <summary>DELETE task/kill/NAME: drop its queued runs and kill its running tasks.</summary>
    public EngineError? KillTasks(string name, Instant now)
    {
        if (!_jobs.ContainsKey(name))
        {
            return new EngineError(400, $"JobSchedule '{name}' not found");
        }

        foreach (var run in _active.Values.Where(r => r.JobName == name).ToList())
        {
            if (run.State == RunState.Queued)
            {
                Finish(run with { State = RunState.Killed, EndedMs = now.ToUnixTimeMilliseconds(), Message = "removed from the queue by task/kill" });
            }
            else
            {
                _effects.Add(new KillEffect(run.TaskId, run.AgentId));
            }
        }

        return null;
    }

    /// <summary>An async job reporting its end (Chronos's task/TASK_ID with {"statusCode": n}; 0 is success).</summary>
    public EngineError? CompleteAsync(string taskId, int statusCode, Instant now)
    {
        if (!_active.TryGetValue(taskId, out var run) || !run.IsInFlight)
        {
            return new EngineError(400, $"Task '{taskId}' is not a running task");
        }

        if (statusCode == 0)
        {
            Succeed(run, now, "completed (async callback)");
        }
        else
        {
            Fail(run, now, $"failed (async callback statusCode {statusCode})", retry: true);
        }

        return null;
    }

    // ---- Scheduling ----

    /// <summary>Queues the occurrences that are due, records the ones missed beyond epsilon, expires queued runs that
    /// could not start within epsilon, and revives offers when something is waiting.</summary>
    public void Tick(Instant now)
    {
        var nowMs = now.ToUnixTimeMilliseconds();
        while (_due.Count > 0 && _due.Min.AtMs <= nowMs)
        {
            var entry = _jobs[_due.Min.Name];
            if (entry.Job.Disabled || entry.Schedule is not { } schedule)
            {
                _due.Remove(_due.Min);
                entry.NextAtMs = null;
                continue;
            }

            var start = entry.NextIndex;
            var epsilon = ToDuration(entry.Job.Epsilon);
            while (schedule.HasOccurrence(entry.NextIndex) && TryOccurrence(schedule, entry.NextIndex) is { } at && at <= now)
            {
                if (now - at > epsilon)
                {
                    var resume = SafeFirstAtOrAfter(schedule, now - epsilon)?.Index ?? schedule.Repetitions ?? entry.NextIndex + 1;
                    var missed = resume - entry.NextIndex;
                    Finish(new Run(Run.MakeTaskId(entry.Job.Name, at.ToUnixTimeMilliseconds(), 0, ""), entry.Job.Name, at.ToUnixTimeMilliseconds(), 0, RunState.Skipped, at.ToUnixTimeMilliseconds(), EndedMs: nowMs,
                        Message: $"skipped {missed} scheduled run(s) from {Job.FormatTime(at.ToDateTimeOffset())}: not started within epsilon {entry.Job.Epsilon} (the scheduler was not running)"));
                    _counters = _counters.Skipped(JobsCounters.SchedulerDown, missed);
                    entry.NextIndex = resume;
                    continue;
                }

                Enqueue(entry.Job, at.ToUnixTimeMilliseconds(), 0, at.ToUnixTimeMilliseconds(), "");
                entry.NextIndex++;
            }

            if (entry.NextIndex != start)
            {
                Write(entry);
            }
            else
            {
                // Due but nothing could be computed (an occurrence out of range): take it out rather than spin.
                _due.Remove(_due.Min);
                entry.NextAtMs = null;
            }
        }

        foreach (var run in _active.Values.Where(r => r.State == RunState.Queued).ToList())
        {
            if (!_jobs.TryGetValue(run.JobName, out var entry))
            {
                continue;
            }

            if (QueueDecision.IsExpired(run, entry.Job.Epsilon, now))
            {
                var overlapping = !entry.Job.Concurrent && _active.Values.Any(r => r.JobName == run.JobName && r.IsInFlight);
                var reason = overlapping
                    ? "the previous run was still running (concurrent: false)"
                    : $"no offer had cpus {Num(entry.Job.Cpus)}, mem {Num(entry.Job.Mem)}, disk {Num(entry.Job.Disk)}{(entry.Job.Constraints.Length > 0 ? " matching its constraints" : "")}";
                _counters = _counters.Skipped(overlapping ? JobsCounters.NotConcurrent : JobsCounters.NoOffer, 1);
                Finish(run with { State = RunState.Skipped, EndedMs = nowMs, Message = $"skipped: not started within epsilon {entry.Job.Epsilon} of {Job.FormatTime(DateTimeOffset.FromUnixTimeMilliseconds(run.NotBeforeMs))}: {reason}" });
            }
        }

        if (_suppressed && _active.Values.Any(r => r.State == RunState.Queued && r.NotBeforeMs <= nowMs))
        {
            _suppressed = false;
            _effects.Add(new ReviveEffect());
        }

        // Mesos may have no answer yet for a task (its agent not back after a master failover): ask again now and
        // then, so no run stays "launching" for ever (Chronos's --reconciliation_interval).
        if (now - _lastReconcile >= Duration.FromTimeSpan(_options.ReconciliationInterval))
        {
            Reconcile(now);
        }
    }

    private void Reconcile(Instant now)
    {
        _lastReconcile = now;
        var inFlight = _active.Values.Where(r => r.IsInFlight).Select(r => (r.TaskId, r.AgentId)).ToList();
        if (inFlight.Count > 0)
        {
            _effects.Add(new ReconcileEffect(inFlight));
        }
    }

    /// <summary>Places queued runs on offers (high priority first, then oldest), declining what is not used.</summary>
    public void OnOffers(IReadOnlyList<Offer> offers, Instant now)
    {
        var nowMs = now.ToUnixTimeMilliseconds();
        var queue = QueueDecision.Order(
            _active.Values.Where(r => r.State == RunState.Queued && r.NotBeforeMs <= nowMs && _jobs.ContainsKey(r.JobName)),
            r => _jobs[r.JobName].Job.HighPriority).ToList();
        var busy = new HashSet<string>(_active.Values.Where(r => r.IsInFlight).Select(r => r.JobName), StringComparer.Ordinal);
        var placed = new HashSet<string>(StringComparer.Ordinal);
        foreach (var offer in offers)
        {
            var free = OfferResources.Of(offer);
            var tasks = new List<TaskInfo>();
            foreach (var run in queue)
            {
                if (placed.Contains(run.TaskId))
                {
                    continue;
                }

                var job = _jobs[run.JobName].Job;
                if ((!job.Concurrent && busy.Contains(job.Name)) || !free.Fits(job) || !OfferResources.Matches(offer, job.Constraints))
                {
                    continue;
                }

                free = free.Minus(job);
                placed.Add(run.TaskId);
                busy.Add(job.Name);
                var launching = run with { State = RunState.Launching, AgentId = offer.AgentId?.Value, AgentUrl = AgentUrl(offer), Message = $"launching on {offer.Hostname}" };
                _counters = _counters with { Started = _counters.Started + 1 };
                SetActive(launching);
                _runWrites[run.TaskId] = launching;
                tasks.Add(TaskBuilder.Build(job, launching, offer));
            }

            _effects.Add(tasks.Count > 0 ? new LaunchEffect(offer, tasks) : new DeclineEffect([offer.Id!], queue.Count > placed.Count ? 1 : 5));
        }

        if (!_suppressed && !_active.Values.Any(r => r.State == RunState.Queued && r.NotBeforeMs <= nowMs))
        {
            _suppressed = true;
            _effects.Add(new SuppressEffect());
        }
    }

    /// <summary>After (re)subscribing: reconcile every run that may be on an agent, and ask for offers if runs wait.</summary>
    public void OnSubscribed(string frameworkId, Instant now)
    {
        if (FrameworkId != frameworkId)
        {
            FrameworkId = frameworkId;
            _metaWrites[FrameworkIdKey] = frameworkId;
        }

        Reconcile(now);

        _suppressed = false;
        _effects.Add(new ReviveEffect());
    }

    /// <summary>An ACCEPT the master refused: the runs never started.</summary>
    public void OnLaunchFailed(IEnumerable<string> taskIds, string message, Instant now)
    {
        foreach (var id in taskIds)
        {
            if (_active.TryGetValue(id, out var run) && run.State == RunState.Launching)
            {
                Fail(run, now, $"launch failed: {message}", retry: true);
            }
        }
    }

    public void OnUpdate(TaskStatus status, Instant now)
    {
        var id = status.TaskId?.Value ?? "";
        if (_active.TryGetValue(id, out var run) && status.State is { } state)
        {
            var job = _jobs.GetValueOrDefault(run.JobName)?.Job;
            var message = string.IsNullOrEmpty(status.Message) ? state.ToString() : $"{state}: {status.Message}";
            switch (state)
            {
                case TaskState.TASK_STAGING or TaskState.TASK_STARTING or TaskState.TASK_RUNNING or TaskState.TASK_KILLING or TaskState.TASK_UNREACHABLE:
                    var running = run with
                    {
                        State = RunState.Running,
                        AgentId = status.AgentId?.Value ?? run.AgentId,
                        StartedMs = run.StartedMs ?? (state == TaskState.TASK_RUNNING ? now.ToUnixTimeMilliseconds() : null),
                        Message = message,
                    };
                    SetActive(running);
                    _runWrites[id] = running;
                    break;
                case TaskState.TASK_FINISHED when job is { Async: true }:
                    // Chronos: an async job's process ending is not its end; it calls back with its status.
                    var waiting = run with { State = RunState.Running, StartedMs = run.StartedMs ?? now.ToUnixTimeMilliseconds(), Message = "process finished; waiting for the async callback" };
                    SetActive(waiting);
                    _runWrites[id] = waiting;
                    break;
                case TaskState.TASK_FINISHED:
                    Succeed(run, now, message);
                    break;
                case TaskState.TASK_KILLED:
                    Finish(run with { State = RunState.Killed, EndedMs = now.ToUnixTimeMilliseconds(), Message = message });
                    break;
                case TaskState.TASK_LOST or TaskState.TASK_UNKNOWN or TaskState.TASK_GONE or TaskState.TASK_DROPPED
                    when run.State == RunState.Launching && status.Reason == TaskStatusReason.REASON_RECONCILIATION:
                    // The master never saw the launch: we stopped between storing it and sending it. The run never
                    // started, so it is queued again under the same task id (within its epsilon, like any run): were the
                    // lost ACCEPT still to arrive, the master would refuse the duplicate id.
                    var again = run with { State = RunState.Queued, AgentId = null, AgentUrl = null, Message = "the launch never reached the master; queued again" };
                    SetActive(again);
                    _runWrites[id] = again;
                    Log.Requeued(_log, id, run.JobName);
                    break;
                default:
                    Fail(run, now, message, retry: true);
                    break;
            }
        }

        _effects.Add(new AcknowledgeEffect(status));
    }

    // ---- Runs ----

    private void Enqueue(Job job, long dueMs, int attempt, long notBeforeMs, string arguments)
    {
        var id = Run.MakeTaskId(job.Name, dueMs, attempt, arguments);
        if (_active.ContainsKey(id))
        {
            return;
        }

        var run = new Run(id, job.Name, dueMs, attempt, RunState.Queued, notBeforeMs, arguments, Message: "queued");
        SetActive(run);
        _runWrites[id] = run;
        Log.Queued(_log, id, job.Name);
    }

    private void Finish(Run run)
    {
        RemoveActive(run.TaskId);
        _runWrites[run.TaskId] = run;
        AddHistory(run);
        _counters = _counters.Ended(run.State);
        switch (run.State)
        {
            case RunState.Succeeded:
                Log.Succeeded(_log, run.TaskId, run.JobName);
                break;
            case RunState.Skipped:
                Log.Skipped(_log, run.TaskId, run.JobName, run.Message);
                break;
            default:
                Log.Ended(_log, run.TaskId, run.JobName, run.State, run.Message);
                break;
        }
    }

    private void AddHistory(Run run)
    {
        if (!_history.TryGetValue(run.JobName, out var list))
        {
            _history[run.JobName] = list = [];
        }

        list.Add(run);
        if (list.Count > _options.HistoryLimit)
        {
            list.RemoveAt(0);
        }

        _historyView[run.JobName] = [.. list];
    }

    private void SetActive(Run run)
    {
        _active[run.TaskId] = run;
        _activeView[run.TaskId] = run;
    }

    private void RemoveActive(string taskId)
    {
        _active.Remove(taskId);
        _activeView.Remove(taskId);
    }

    /// <summary>Files a job in the views, the due set and the children index after it changed.</summary>
    private void Index(Entry entry)
    {
        var name = entry.Job.Name;
        _jobsView[name] = entry.Job;
        if (entry.NextAtMs is { } previous)
        {
            _due.Remove((previous, name));
        }

        entry.NextAtMs = null;
        _nextView.Remove(name);
        if (!entry.Job.Disabled && entry.Schedule is { } schedule && schedule.HasOccurrence(entry.NextIndex) && TryOccurrence(schedule, entry.NextIndex) is { } at)
        {
            entry.NextAtMs = at.ToUnixTimeMilliseconds();
            _due.Add((entry.NextAtMs.Value, name));
            _nextView[name] = at.ToDateTimeOffset();
        }

        if (!entry.IndexedParents.SequenceEqual(entry.Job.Parents))
        {
            foreach (var parent in entry.IndexedParents)
            {
                if (_children.TryGetValue(parent, out var children))
                {
                    children.Remove(name);
                }
            }

            foreach (var parent in entry.Job.Parents)
            {
                if (!_children.TryGetValue(parent, out var children))
                {
                    _children[parent] = children = new SortedSet<string>(StringComparer.Ordinal);
                }

                children.Add(name);
            }

            entry.IndexedParents = entry.Job.Parents;
        }
    }

    private void Unindex(Entry entry)
    {
        var name = entry.Job.Name;
        _jobsView.Remove(name);
        _nextView.Remove(name);
        if (entry.NextAtMs is { } at)
        {
            _due.Remove((at, name));
        }

        foreach (var parent in entry.IndexedParents)
        {
            if (_children.TryGetValue(parent, out var children))
            {
                children.Remove(name);
            }
        }
    }

    private void Succeed(Run run, Instant now, string message)
    {
        Finish(run with { State = RunState.Succeeded, EndedMs = now.ToUnixTimeMilliseconds(), Message = message });
        if (_jobs.TryGetValue(run.JobName, out var entry))
        {
            RecordSuccess(entry, now);
        }
    }

    private void RecordSuccess(Entry entry, Instant now)
    {
        entry.Job = entry.Job with
        {
            SuccessCount = entry.Job.SuccessCount + 1,
            ErrorsSinceLastSuccess = 0,
            LastSuccess = Job.FormatTime(now.ToDateTimeOffset()),
        };

        // Chronos disables a job whose Rn schedule has run out, once its last run has succeeded.
        if (entry.Schedule is { Repetitions: { } repetitions } && entry.NextIndex >= repetitions && !_active.Values.Any(r => r.JobName == entry.Job.Name))
        {
            entry.Job = entry.Job with { Disabled = true };
        }

        Write(entry);
        TriggerChildren(entry.Job.Name, now);
    }

    private void Fail(Run run, Instant now, string message, bool retry)
    {
        Finish(run with { State = RunState.Failed, EndedMs = now.ToUnixTimeMilliseconds(), Message = message });
        if (!_jobs.TryGetValue(run.JobName, out var entry))
        {
            return;
        }

        var job = entry.Job;
        if (retry && QueueDecision.ShouldRetry(job, run.Attempt))
        {
            var at = now + Duration.FromTimeSpan(_options.FailureRetryDelay);
            Log.Retrying(_log, job.Name, run.Attempt + 1, job.Retries, _options.FailureRetryDelay.TotalSeconds);
            Enqueue(job, at.ToUnixTimeMilliseconds(), run.Attempt + 1, at.ToUnixTimeMilliseconds(), run.Arguments);
            return;
        }

        entry.Job = job with
        {
            ErrorCount = job.ErrorCount + 1,
            ErrorsSinceLastSuccess = job.ErrorsSinceLastSuccess + 1,
            LastError = Job.FormatTime(now.ToDateTimeOffset()),
        };
        Write(entry);
        if (job.SoftError)
        {
            TriggerChildren(job.Name, now);
        }
    }

    /// <summary>A parent succeeded: each child whose parents have all succeeded since its last run is queued.</summary>
    private void TriggerChildren(string parent, Instant now)
    {
        foreach (var child in _children.GetValueOrDefault(parent, []).Select(name => _jobs[name]).Where(e => e.Job.Parents.Contains(parent)).ToList())
        {
            child.Satisfied.Add(parent);
            if (child.Job.Parents.All(child.Satisfied.Contains))
            {
                child.Satisfied.Clear();
                if (!child.Job.Disabled)
                {
                    Enqueue(child.Job, now.ToUnixTimeMilliseconds(), 0, now.ToUnixTimeMilliseconds(), "");
                }
            }

            Write(child);
        }
    }

    private void Write(Entry entry)
    {
        Index(entry);
        _jobWrites[entry.Job.Name] = new StoredJob(entry.Job, entry.NextIndex, [.. entry.Satisfied.Order(StringComparer.Ordinal)]);
    }

    /// <summary>The agent's HTTP address from the offer (Mesos fills <c>url</c> with the agent's address).</summary>
    private static string? AgentUrl(Offer offer) =>
        offer.Url?.Address is { Port: { } port } address && (address.Ip ?? address.Hostname) is { } host
            ? $"{offer.Url.Scheme ?? "http"}://{host}:{port}"
            : null;

    private static Duration ToDuration(IsoPeriod period) => Duration.FromTimeSpan(period.ApproximateLength);

    private static string Num(double value) => value.ToString(CultureInfo.InvariantCulture);

    private static Instant? TryOccurrence(RepeatingSchedule schedule, long k)
    {
        try
        {
            return schedule.Occurrence(k);
        }
        catch (Exception ex) when (ex is OverflowException or ArgumentOutOfRangeException)
        {
            return null;
        }
    }

    private static (long Index, Instant At)? SafeFirstAtOrAfter(RepeatingSchedule schedule, Instant instant)
    {
        try
        {
            return schedule.FirstAtOrAfter(instant);
        }
        catch (Exception ex) when (ex is OverflowException or ArgumentOutOfRangeException)
        {
            return null;
        }
    }
}

public sealed partial class JobsEngine
{
    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "Job {Job} {Change} ({Schedule})")]
        public static partial void JobSaved(ILogger logger, string job, string change, string schedule);

        [LoggerMessage(Level = LogLevel.Information, Message = "Job {Job} deleted")]
        public static partial void JobDeleted(ILogger logger, string job);

        [LoggerMessage(Level = LogLevel.Debug, Message = "Run {TaskId} of {Job} queued")]
        public static partial void Queued(ILogger logger, string taskId, string job);

        [LoggerMessage(Level = LogLevel.Information, Message = "Run {TaskId} of {Job} succeeded")]
        public static partial void Succeeded(ILogger logger, string taskId, string job);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Run {TaskId} of {Job} {State}: {Reason}")]
        public static partial void Ended(ILogger logger, string taskId, string job, RunState state, string reason);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Run {TaskId} of {Job} skipped: {Reason}")]
        public static partial void Skipped(ILogger logger, string taskId, string job, string reason);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Run {TaskId} of {Job} was stored as launching but the master never saw it; queued again")]
        public static partial void Requeued(ILogger logger, string taskId, string job);

        [LoggerMessage(Level = LogLevel.Information, Message = "Job {Job} failed; attempt {Attempt} of {Retries} retries in {DelaySeconds} s")]
        public static partial void Retrying(ILogger logger, string job, int attempt, int retries, double delaySeconds);
    }
}

/// <summary>Pure queue rules: order, epsilon expiry, retries.</summary>
public static class QueueDecision
{
    /// <summary>High-priority runs first, then the oldest due, then by id (stable).</summary>
    public static IEnumerable<Run> Order(IEnumerable<Run> runs, Func<Run, bool> highPriority) =>
        runs.OrderByDescending(highPriority).ThenBy(r => r.DueMs).ThenBy(r => r.TaskId, StringComparer.Ordinal);

    /// <summary>A queued run that could not start within epsilon of its time is skipped, never run late.</summary>
    public static bool IsExpired(Run run, IsoPeriod epsilon, Instant now) =>
        now.ToUnixTimeMilliseconds() - run.NotBeforeMs > (long)epsilon.ApproximateLength.TotalMilliseconds;

    /// <summary>
    /// Chronos's rule: retry while attempts are left, unless the job's last result was already an error (then a
    /// failing job does not retry on every schedule).
    /// </summary>
    public static bool ShouldRetry(Job job, int attempt)
    {
        if (attempt >= job.Retries)
        {
            return false;
        }

        if (job.LastError.Length == 0)
        {
            return true;
        }

        return job.LastSuccess.Length > 0
            && DateTimeOffset.TryParse(job.LastSuccess, CultureInfo.InvariantCulture, DateTimeStyles.None, out var success)
            && DateTimeOffset.TryParse(job.LastError, CultureInfo.InvariantCulture, DateTimeStyles.None, out var error)
            && success >= error;
    }
}

/// <summary>Scalar resources left in an offer, and Chronos's constraints against its attributes.</summary>
public readonly record struct OfferResources(double Cpus, double Mem, double Disk)
{
    public static OfferResources Of(Offer offer)
    {
        double Sum(string name) => offer.Resources?.Where(r => r.Name == name && r.Scalar?.Value is not null).Sum(r => r.Scalar!.Value!.Value) ?? 0;
        return new OfferResources(Sum("cpus"), Sum("mem"), Sum("disk"));
    }

    public bool Fits(Job job) => Cpus + 1e-9 >= job.Cpus && Mem + 1e-9 >= job.Mem && Disk + 1e-9 >= job.Disk;

    public OfferResources Minus(Job job) => new(Cpus - job.Cpus, Mem - job.Mem, Disk - job.Disk);

    /// <summary>EQUALS, LIKE (full regex match) and UNLIKE on an attribute; "hostname" is the agent's when not an attribute.</summary>
    public static bool Matches(Offer offer, ImmutableArray<JobConstraint> constraints)
    {
        foreach (var constraint in constraints)
        {
            var values = AttributeValues(offer, constraint.Attribute);
            var ok = constraint.Operator switch
            {
                "EQUALS" => values.Contains(constraint.Value),
                "LIKE" => values.Any(v => Regex.IsMatch(v, $"^(?:{constraint.Value})$", RegexOptions.None, TimeSpan.FromMilliseconds(100))),
                "UNLIKE" => !values.Any(v => Regex.IsMatch(v, $"^(?:{constraint.Value})$", RegexOptions.None, TimeSpan.FromMilliseconds(100))),
                _ => false,
            };
            if (!ok)
            {
                return false;
            }
        }

        return true;
    }

    private static List<string> AttributeValues(Offer offer, string name)
    {
        var attribute = offer.Attributes?.FirstOrDefault(a => a.Name == name);
        if (attribute is null)
        {
            return name == "hostname" && offer.Hostname is { } host ? [host] : [];
        }

        return attribute switch
        {
            { Text.Value: { } text } => [text],
            { Scalar.Value: { } scalar } => [scalar.ToString(CultureInfo.InvariantCulture)],
            { Set.Item: { } items } => items,
            _ => [],
        };
    }
}
