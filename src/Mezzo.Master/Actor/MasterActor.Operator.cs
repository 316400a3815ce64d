using System.Threading.Channels;
using Mezzo.Core.Tasks;
using Mezzo.Master.State;
using Mezzo.Master.Views;
using Mezzo.Protocol.V1;
using Microsoft.Extensions.Logging;

namespace Mezzo.Master.Actor;

/// <summary>
/// The operator API's read calls (GET_STATE, GET_AGENTS, GET_FRAMEWORKS, GET_EXECUTORS, GET_TASKS, GET_MASTER) in
/// master.proto's shapes, and the SUBSCRIBE event stream. Every wire object is built fresh on the actor, so a stream
/// serializing it later on another thread never sees the actor's state change underneath.
/// </summary>
public sealed partial class MasterActor
{
    // Subscribers in subscription order: when over the limit, the oldest goes first (Mesos's
    // --max_operator_event_stream_subscribers: "older connections will be closed by the master").
    private readonly LinkedList<OperatorSubscriber> _operatorSubscribers = new();
    private DateTimeOffset _lastOperatorHeartbeat;

    /// <summary>One SUBSCRIBE stream: a bounded queue the actor writes and the HTTP response drains.</summary>
    public sealed class OperatorSubscriber
    {
        internal OperatorSubscriber(int capacity, ViewFilter? view)
        {
            View = view;
            Channel = System.Threading.Channels.Channel.CreateBounded<MasterEvent>(new BoundedChannelOptions(capacity)
            {
                SingleReader = true,
                SingleWriter = true,
                FullMode = BoundedChannelFullMode.Wait,
            });
        }

        internal Channel<MasterEvent> Channel { get; }

        /// <summary>What this subscriber may see; null: everything.</summary>
        internal ViewFilter? View { get; }

        public ChannelReader<MasterEvent> Events => Channel.Reader;
    }

    /// <summary>How many SUBSCRIBE streams are open (master/operator_event_stream_subscribers).</summary>
    public int OperatorSubscriberCount => _operatorSubscribers.Count;

    public MasterResponseGetState GetStateResponse() => GetStateResponse(null);

    /// <summary>GET_STATE as <paramref name="view"/> may see it (null: everything).</summary>
    public MasterResponseGetState GetStateResponse(ViewFilter? view) => new()
    {
        GetTasks = GetTasksResponse(view),
        GetExecutors = GetExecutorsResponse(view),
        GetFrameworks = GetFrameworksResponse(view),
        GetAgents = GetAgentsResponse(view),
    };

    public MasterResponseGetAgents GetAgentsResponse() => GetAgentsResponse(null);

    /// <summary>
    /// Registered agents (connected or within their ping timeout) and those recovered from the registry. Every agent
    /// is visible; resources reserved to a role <paramref name="view"/> may not view are left out.
    /// </summary>
    public MasterResponseGetAgents GetAgentsResponse(ViewFilter? view) => new()
    {
        Agents = [.. _agents.Values.Where(IsRegistered).Select(a => FilterResources(AgentWire(a), view))],
        RecoveredAgents = [.. _agents.Values.Where(a => a.Recovered).Select(a => FilterResources(AgentInfoWire(a), view))],
    };

    public MasterResponseGetFrameworks GetFrameworksResponse() => GetFrameworksResponse(null);

    public MasterResponseGetFrameworks GetFrameworksResponse(ViewFilter? view) => new()
    {
        Frameworks = [.. _frameworks.Values.Where(f => Sees(view, f)).Select(f => FrameworkWire(f, forEvent: false))],
        CompletedFrameworks = [.. _completedFrameworks.Where(f => Sees(view, f)).Select(f => FrameworkWire(f, forEvent: false))],
    };

    public MasterResponseGetExecutors GetExecutorsResponse() => GetExecutorsResponse(null);

    public MasterResponseGetExecutors GetExecutorsResponse(ViewFilter? view) => new()
    {
        Executors = [.. _executors.Values.Where(e => view is null || view.Executor(e.Info.Command?.User, FrameworkUser(e.FrameworkId))).Select(e => new MasterResponseGetExecutorsExecutor
        {
            ExecutorInfo = Protocol.Secrets.SecretRedaction.Redact(e.Info),
            AgentId = new AgentID { Value = e.AgentId },
        })],
    };

    public MasterResponseGetTasks GetTasksResponse() => GetTasksResponse(null);

    /// <summary>
    /// Mesos's GET_TASKS: tasks of registered frameworks by where they are; the tasks of completed frameworks are
    /// completed tasks. No task waits on the master (no authorization step), so pending_tasks is always empty. With a
    /// <paramref name="view"/>, only tasks of frameworks it may view that it may view too.
    /// </summary>
    public MasterResponseGetTasks GetTasksResponse(ViewFilter? view) => new()
    {
        PendingTasks = [],
        Tasks = [.. _frameworks.Values.SelectMany(f => Visible(view, f, f.Tasks.Values)).Select(TaskWire)],
        UnreachableTasks = [.. _frameworks.Values.SelectMany(f => Visible(view, f, f.UnreachableTasks.Values)).Select(TaskWire)],
        CompletedTasks =
        [
            .. _frameworks.Values.SelectMany(f => Visible(view, f, f.CompletedTasks)).Select(TaskWire),
            .. _completedFrameworks.SelectMany(f => Visible(view, f, f.Tasks.Values.Concat(f.UnreachableTasks.Values).Concat(f.CompletedTasks))).Select(TaskWire),
        ],
    };

    private static bool Sees(ViewFilter? view, FrameworkEntry framework) => view is null || view.Framework(framework.Info.User);

    private static bool Sees(ViewFilter? view, FrameworkEntry framework, TaskEntry task) =>
        view is null || view.Task(task.User, framework.Info.User);

    private static IEnumerable<TaskEntry> Visible(ViewFilter? view, FrameworkEntry framework, IEnumerable<TaskEntry> tasks) =>
        view is null ? tasks : Sees(view, framework) ? tasks.Where(t => view.Task(t.User, framework.Info.User)) : [];

    /// <summary>The user of a registered or completed framework (null: unknown, seen only by who may see every user).</summary>
    private string? FrameworkUser(string frameworkId) => FrameworkEntryOf(frameworkId)?.Info.User;

    private static MasterResponseGetAgentsAgent FilterResources(MasterResponseGetAgentsAgent agent, ViewFilter? view)
    {
        if (view is null || view.SeesAllRoles)
        {
            return agent;
        }

        // Freshly built for this response: safe to trim in place.
        agent.TotalResources = agent.TotalResources?.Where(view.Resource).ToList();
        agent.AllocatedResources = agent.AllocatedResources?.Where(view.Resource).ToList();
        agent.OfferedResources = agent.OfferedResources?.Where(view.Resource).ToList();
        FilterResources(agent.AgentInfo, view);
        return agent;
    }

    private static AgentInfo FilterResources(AgentInfo? info, ViewFilter? view)
    {
        if (info is not null && view is not null && !view.SeesAllRoles)
        {
            info.Resources = info.Resources?.Where(view.Resource).ToList();
        }

        return info!;
    }

    /// <summary>An actor exists only while its master leads, so it was elected when it was started.</summary>
    public MasterResponseGetMaster GetMasterResponse() => new()
    {
        MasterInfo = MasterInfo(),
        StartTime = StartTime.ToUnixTimeMilliseconds() / 1000.0,
        ElectedTime = StartTime.ToUnixTimeMilliseconds() / 1000.0,
    };

    /// <summary>
    /// Opens an event stream whose first event is SUBSCRIBED with the whole state; every later change is queued
    /// behind it by the same actor, so the stream never misses or reorders one.
    /// </summary>
    public OperatorSubscriber SubscribeOperator() => SubscribeOperator(null);

    /// <summary>
    /// As <see cref="SubscribeOperator()"/>, for a principal that sees only what <paramref name="view"/> lets it
    /// (null: everything; decided once here, so a permissive master pays nothing per event).
    /// </summary>
    public OperatorSubscriber SubscribeOperator(ViewFilter? view)
    {
        var max = Math.Max(1, _options.MaxOperatorEventStreamSubscribers);
        while (_operatorSubscribers.Count >= max)
        {
            var oldest = _operatorSubscribers.First!.Value;
            _operatorSubscribers.RemoveFirst();
            oldest.Channel.Writer.TryComplete();
            Log.OperatorSubscriberEvicted(_log, max);
        }

        var subscriber = new OperatorSubscriber(Math.Max(1, _options.OperatorEventQueueCapacity), view);
        subscriber.Channel.Writer.TryWrite(new MasterEvent
        {
            Type = MasterEventType.SUBSCRIBED,
            Subscribed = new MasterEventSubscribed
            {
                GetState = GetStateResponse(view),
                HeartbeatIntervalSeconds = _options.HeartbeatInterval.TotalSeconds,
            },
        });
        if (_operatorSubscribers.Count == 0)
        {
            // Heartbeats are a period apart from the first subscription on, not due at once.
            _lastOperatorHeartbeat = _time.GetUtcNow();
        }

        _operatorSubscribers.AddLast(subscriber);
        return subscriber;
    }

    private void CloseOperatorSubscribers()
    {
        foreach (var subscriber in _operatorSubscribers)
        {
            subscriber.Channel.Writer.TryComplete();
        }

        _operatorSubscribers.Clear();
    }

    /// <summary>The stream's HTTP response ended.</summary>
    public void UnsubscribeOperator(OperatorSubscriber subscriber)
    {
        _operatorSubscribers.Remove(subscriber);
        subscriber.Channel.Writer.TryComplete();
    }

    private void PublishOperatorHeartbeats(DateTimeOffset now)
    {
        if (_operatorSubscribers.Count > 0 && now - _lastOperatorHeartbeat >= _options.HeartbeatInterval)
        {
            _lastOperatorHeartbeat = now;
            PublishOperatorEvent(new MasterEvent { Type = MasterEventType.HEARTBEAT });
        }
    }

    /// <summary>
    /// Queues an event on every stream. A subscriber whose queue is full is too slow to keep up: it is dropped (its
    /// stream ends; it can subscribe again and get a fresh SUBSCRIBED) rather than ever making the actor wait.
    /// </summary>
    private void PublishOperatorEvent(MasterEvent @event, FrameworkEntry? framework = null, TaskEntry? task = null)
    {
        var node = _operatorSubscribers.First;
        while (node is not null)
        {
            var next = node.Next;
            if (node.Value.View is { } view && (framework is not null || task is not null) && !Visible(view, ref framework, task))
            {
                node = next;
                continue;
            }

            if (!node.Value.Channel.Writer.TryWrite(@event))
            {
                _operatorSubscribers.Remove(node);
                node.Value.Channel.Writer.TryComplete();
                Log.OperatorSubscriberTooSlow(_log, _options.OperatorEventQueueCapacity);
            }

            node = next;
        }
    }

    /// <summary>
    /// Whether a restricted subscriber may see an event about <paramref name="framework"/> (or its
    /// <paramref name="task"/>); the framework is looked up once, on the first restricted subscriber, and an event
    /// whose framework is no longer known is not shown to one.
    /// </summary>
    private bool Visible(ViewFilter view, ref FrameworkEntry? framework, TaskEntry? task)
    {
        framework ??= FrameworkEntryOf(task!.FrameworkId);
        return framework is not null && (task is null ? view.Framework(framework.Info.User) : view.Task(task.User, framework.Info.User));
    }

    private FrameworkEntry? FrameworkEntryOf(string frameworkId) =>
        _frameworks.TryGetValue(frameworkId, out var framework) ? framework
        : _completedFrameworks.FirstOrDefault(f => f.FrameworkId == frameworkId);

    // The hooks below are called where the state changes; each costs nothing while nobody subscribes.

    private void OnTaskAdded(TaskEntry task)
    {
        if (_operatorSubscribers.Count > 0)
        {
            PublishOperatorEvent(new MasterEvent { Type = MasterEventType.TASK_ADDED, TaskAdded = new MasterEventTaskAdded { Task = TaskWire(task) } }, task: task);
        }
    }

    private void OnTaskUpdated(TaskEntry task)
    {
        if (_operatorSubscribers.Count > 0)
        {
            PublishOperatorEvent(new MasterEvent
            {
                Type = MasterEventType.TASK_UPDATED,
                TaskUpdated = new MasterEventTaskUpdated
                {
                    FrameworkId = new FrameworkID { Value = task.FrameworkId },
                    Status = task.LatestStatus ?? new TaskStatus
                    {
                        TaskId = new TaskID { Value = task.TaskId },
                        AgentId = new AgentID { Value = task.AgentId },
                        State = task.State,
                    },
                    State = task.State,
                },
            }, task: task);
        }
    }

    private void OnAgentAdded(AgentEntry agent)
    {
        if (_operatorSubscribers.Count > 0)
        {
            PublishOperatorEvent(new MasterEvent { Type = MasterEventType.AGENT_ADDED, AgentAdded = new MasterEventAgentAdded { Agent = AgentWire(agent) } });
        }
    }

    private void OnAgentRemoved(string agentId)
    {
        if (_operatorSubscribers.Count > 0)
        {
            PublishOperatorEvent(new MasterEvent
            {
                Type = MasterEventType.AGENT_REMOVED,
                AgentRemoved = new MasterEventAgentRemoved { AgentId = new AgentID { Value = agentId } },
            });
        }
    }

    private void OnFrameworkAdded(FrameworkEntry framework)
    {
        if (_operatorSubscribers.Count > 0)
        {
            PublishOperatorEvent(new MasterEvent
            {
                Type = MasterEventType.FRAMEWORK_ADDED,
                FrameworkAdded = new MasterEventFramework { Framework = FrameworkWire(framework, forEvent: true) },
            }, framework);
        }
    }

    /// <summary>Re-subscribed, disconnected or changed by UPDATE_FRAMEWORK.</summary>
    private void OnFrameworkUpdated(FrameworkEntry framework)
    {
        if (_operatorSubscribers.Count > 0)
        {
            PublishOperatorEvent(new MasterEvent
            {
                Type = MasterEventType.FRAMEWORK_UPDATED,
                FrameworkUpdated = new MasterEventFramework { Framework = FrameworkWire(framework, forEvent: true) },
            }, framework);
        }
    }

    private void OnFrameworkRemoved(FrameworkEntry framework)
    {
        if (_operatorSubscribers.Count > 0)
        {
            PublishOperatorEvent(new MasterEvent
            {
                Type = MasterEventType.FRAMEWORK_REMOVED,
                FrameworkRemoved = new MasterEventFrameworkRemoved { FrameworkInfo = FrameworkInfoWire(framework) },
            }, framework);
        }
    }

    private static bool IsRegistered(AgentEntry agent) =>
        agent.Liveness is AgentLiveness.Connected or AgentLiveness.Disconnected && !agent.Recovered;

    private static AgentInfo AgentInfoWire(AgentEntry agent) => new()
    {
        Id = new AgentID { Value = agent.AgentId },
        Hostname = agent.Hostname,
        Port = agent.Port,
        Resources = ResourceConversion.ToWire(agent.Total),
        Attributes = ResourceConversion.ToWire(agent.Attributes),
    };

    private static MasterResponseGetAgentsAgent AgentWire(AgentEntry agent) => new()
    {
        AgentInfo = AgentInfoWire(agent),
        Active = agent.AcceptsOffers,
        Deactivated = agent.Deactivated,
        Version = agent.Version,
        Pid = agent.Pid,
        RegisteredTime = TimeInfoOf(agent.RegisteredAt),
        ReregisteredTime = agent.ReregisteredAt is { } r ? TimeInfoOf(r) : null,
        TotalResources = ResourceConversion.ToWire(agent.Total),
        AllocatedResources = ResourceConversion.ToWire(agent.Used),
        OfferedResources = ResourceConversion.ToWire(agent.Offered),
        DrainInfo = agent.Drain is { } drain ? new DrainInfo
        {
            State = (DrainState)drain.State,
            Config = new DrainConfig
            {
                MaxGracePeriod = drain.MaxGracePeriod is { } grace ? new DurationInfo { Nanoseconds = grace.Ticks * 100 } : null,
                MarkGone = drain.MarkGone,
            },
        } : null,
    };

    private static FrameworkInfo FrameworkInfoWire(FrameworkEntry framework)
    {
        var info = MesosJson.Clone(framework.Info);
        info.Id ??= new FrameworkID { Value = framework.FrameworkId };
        return info;
    }

    /// <summary>
    /// A framework as GET_FRAMEWORKS reports it. Events leave out offers, allocated and offered resources and offer
    /// constraints, as master.proto says they are never reported through events.
    /// </summary>
    private MasterResponseGetFrameworksFramework FrameworkWire(FrameworkEntry framework, bool forEvent) => new()
    {
        FrameworkInfo = FrameworkInfoWire(framework),
        Active = framework.Connected && !framework.Suppressed,
        Connected = framework.Connected,
        Recovered = framework.Recovered,
        RegisteredTime = TimeInfoOf(framework.RegisteredAt),
        ReregisteredTime = framework.ReregisteredAt is { } r ? TimeInfoOf(r) : null,
        UnregisteredTime = framework.UnregisteredAt is { } u ? TimeInfoOf(u) : null,
        Offers = forEvent ? null : [.. framework.OfferIds.Select(id => _offers[id]).Where(o => _agents.ContainsKey(o.AgentId)).Select(o => ToWire(o, _agents[o.AgentId]))],
        InverseOffers = forEvent ? null : FrameworkInverseOffersWire(framework),
        AllocatedResources = forEvent ? null : ResourceConversion.ToWire(framework.Used),
        OfferedResources = forEvent ? null : ResourceConversion.ToWire(framework.Offered),
        OfferConstraints = forEvent || framework.WireConstraints is null ? null : MesosJson.Clone(framework.WireConstraints),
    };

    private static MesosTask TaskWire(TaskEntry task)
    {
        var info = task.Info;
        var latest = task.LatestStatus;
        var forwarded = latest is { State: not null, Uuid: not null };
        return new MesosTask
        {
            Name = info.Name,
            TaskId = new TaskID { Value = task.TaskId },
            FrameworkId = new FrameworkID { Value = task.FrameworkId },
            ExecutorId = info.Executor?.ExecutorId is { Value: { } executorId } ? new ExecutorID { Value = executorId } : null,
            AgentId = new AgentID { Value = task.AgentId },
            State = task.State,
            Resources = ResourceConversion.ToWire(task.Resources),
            // Stored statuses are never changed after they arrive, so they can be shared with the serializer.
            Statuses = [.. task.Statuses],
            // Both or neither, as mesos.proto requires: the state and uuid of the latest update forwarded.
            StatusUpdateState = forwarded ? latest!.State : null,
            StatusUpdateUuid = forwarded ? latest!.Uuid : null,
            Labels = info.Labels,
            Discovery = info.Discovery?.DeepClone(),
            // A view of a task never carries a VALUE secret's data (docs/secrets.md); the agent got it in the TaskInfo.
            Container = Protocol.Secrets.SecretRedaction.Redact(info.Container),
            HealthCheck = Protocol.Secrets.SecretRedaction.Redact(info.HealthCheck),
            // Mesos's Task.user: the task's or its executor's user, as view_tasks reads it.
            User = task.User ?? info.Command?.User,
            KillPolicy = info.KillPolicy,
        };
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Warning, Message = "Operator event stream subscriber dropped: it fell {Capacity} events behind")]
        public static partial void OperatorSubscriberTooSlow(ILogger logger, int capacity);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Oldest operator event stream subscriber closed: at most {Max} may subscribe (--max-operator-event-stream-subscribers)")]
        public static partial void OperatorSubscriberEvicted(ILogger logger, int max);
    }
}
