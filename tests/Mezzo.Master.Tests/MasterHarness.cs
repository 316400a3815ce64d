using Mezzo.Core.Allocation;
using Mezzo.Core.Resources;
using Mezzo.Core.Tasks;
using Mezzo.Master;
using Mezzo.Master.Actor;
using Mezzo.Master.Agents;
using Mezzo.Master.Scheduler;
using Mezzo.Protocol.Agents;
using Mezzo.Protocol.V1;
using Mezzo.Storage.Registry;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Mezzo.Master.Tests;

/// <summary>
/// The master actor with no network: real SQLite registry in a temp dir, time driven by FakeTimeProvider, and
/// connections read directly from their channels.
/// </summary>
public sealed class MasterHarness : IAsyncDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "mezzo-master-test-" + Guid.NewGuid().ToString("N")[..10]);

    public MasterHarness(
        Action<MasterOptions>? configure = null, string? workDir = null, IAllocator? allocator = null,
        Func<SqliteRegistryStore, IRegistryStore>? wrapRegistry = null)
    {
        WorkDir = workDir ?? _dir;
        Options = new MasterOptions { WorkDir = WorkDir, AllocationInterval = TimeSpan.FromMilliseconds(50) };
        configure?.Invoke(Options);
        Registry = SqliteRegistryStore.InWorkDir(WorkDir);
        Actor = new MasterActor(Options, wrapRegistry?.Invoke(Registry) ?? Registry, allocator ?? new HierarchicalAllocator(), Time, NullLogger<MasterActor>.Instance);
        Actor.Start();
    }

    public string WorkDir { get; }

    public FakeTimeProvider Time { get; } = new(new DateTimeOffset(2026, 11, 23, 12, 0, 0, TimeSpan.Zero));

    public MasterOptions Options { get; }

    public SqliteRegistryStore Registry { get; }

    public MasterActor Actor { get; }

    public async Task<(string AgentId, AgentConnection Connection)> AddAgentAsync(
        string resources = "cpus:4;mem:4096", string hostname = "h1", string attributes = "", string? agentId = null)
    {
        var connection = new AgentConnection();
        var total = Resources.Parse(resources);
        var parsed = AttributeParser.Parse(attributes);
        var subscribe = new AgentSubscribe
        {
            AgentId = agentId is null ? null : new AgentID { Value = agentId },
            Hostname = hostname,
            Port = 5051,
            Resources = ResourceConversion.ToWire(total),
            Attributes = ResourceConversion.ToWire(parsed),
        };
        var (result, assigned) = await Actor.Ask(() => Actor.SubscribeAgent(subscribe, total, parsed, connection));
        result.IsSuccess.Should().BeTrue();
        return (assigned!, connection);
    }

    public async Task<(string FrameworkId, SchedulerConnection Connection)> SubscribeAsync(double failoverTimeout = 0, bool partitionAware = false)
    {
        var connection = new SchedulerConnection();
        var info = new FrameworkInfo { User = "u", Name = "f", FailoverTimeout = failoverTimeout };
        if (partitionAware)
        {
            info.Capabilities = [new FrameworkInfoCapability { Type = FrameworkInfoCapabilityType.PARTITION_AWARE }];
        }

        var (result, id) = await Actor.Ask(() => Actor.Subscribe(new Call { Type = CallType.SUBSCRIBE, Subscribe = new CallSubscribe { FrameworkInfo = info } }, connection));
        result.IsSuccess.Should().BeTrue();
        return (id!, connection);
    }

    /// <summary>A MULTI_ROLE framework subscribed with <paramref name="roles"/>; the call is validated as the HTTP layer does.</summary>
    public async Task<(string FrameworkId, SchedulerConnection Connection)> SubscribeMultiRoleAsync(
        IReadOnlyList<string> roles, IReadOnlyList<string>? suppressed = null, OfferConstraints? constraints = null, string? principal = null,
        bool refinement = false)
    {
        var connection = new SchedulerConnection();
        var info = new FrameworkInfo
        {
            User = "u",
            Name = "f",
            Roles = [.. roles],
            Principal = principal,
            Capabilities =
            [
                new FrameworkInfoCapability { Type = FrameworkInfoCapabilityType.MULTI_ROLE },
                .. refinement ? [new FrameworkInfoCapability { Type = FrameworkInfoCapabilityType.RESERVATION_REFINEMENT }] : Array.Empty<FrameworkInfoCapability>(),
            ],
        };
        var call = new Call
        {
            Type = CallType.SUBSCRIBE,
            Subscribe = new CallSubscribe { FrameworkInfo = info, SuppressedRoles = suppressed?.ToList(), OfferConstraints = constraints },
        };
        SchedulerCallValidation.Validate(call).Should().BeNull();
        var (result, id) = await Actor.Ask(() => Actor.Subscribe(call, connection));
        result.IsSuccess.Should().BeTrue();
        return (id!, connection);
    }

    public Task<CallResult> CallAsync(string frameworkId, SchedulerConnection connection, Call call)
    {
        call.FrameworkId = new FrameworkID { Value = frameworkId };
        return SchedulerCallValidation.Validate(call) is { } invalid
            ? Task.FromResult(CallResult.BadRequest(invalid))
            : Actor.Ask(() => Actor.HandleCall(call, connection.StreamId));
    }

    /// <summary>Accepts the next offer to launch one command task using its cpus; returns once the agent got RUN_TASK.</summary>
    public async Task LaunchAsync(
        string frameworkId, SchedulerConnection scheduler, string agentId, AgentConnection agent, string taskId, Action<TaskInfo>? customize = null, double? cpus = null)
    {
        var task = new TaskInfo
        {
            Name = taskId,
            TaskId = new TaskID { Value = taskId },
            AgentId = new AgentID { Value = agentId },
            Command = new CommandInfo { Value = "sleep 100" },
        };
        customize?.Invoke(task);
        await AdvanceAsync(TimeSpan.FromMilliseconds(100));
        var offer = (await NextAsync(scheduler, e => e.Type == EventType.OFFERS && e.Offers!.Offers!.Any(o => o.AgentId!.Value == agentId)))
            .Offers!.Offers!.First(o => o.AgentId!.Value == agentId);
        task.Resources ??= [.. offer.Resources!.Where(r => r.Name == "cpus")];
        if (cpus is { } amount)
        {
            task.Resources.Single(r => r.Name == "cpus").Scalar = new ValueScalar { Value = amount };
        }

        var result = await CallAsync(frameworkId, scheduler, new Call
        {
            Type = CallType.ACCEPT,
            Accept = new CallAccept
            {
                OfferIds = [offer.Id!],
                Operations = [new OfferOperation
                {
                    Type = OfferOperationType.LAUNCH,
                    Launch = new OfferOperationLaunch
                    {
                        TaskInfos = [task],
                    },
                }],
            },
        });
        result.StatusCode.Should().Be(202);
        (await NextAsync(agent, e => e.Type == AgentEventType.RUN_TASK)).RunTask!.Task!.TaskId!.Value.Should().Be(taskId);
    }

    /// <summary>The agent reports a task state (with a uuid, as a real agent does).</summary>
    public async Task<byte[]> AgentUpdateAsync(string agentId, AgentConnection agent, string frameworkId, string taskId, TaskState state)
    {
        var uuid = Guid.NewGuid().ToByteArray();
        var result = await Actor.Ask(() => Actor.AgentStatusUpdates(agentId, agent.StreamId, [new AgentUpdate
        {
            FrameworkId = new FrameworkID { Value = frameworkId },
            Status = new TaskStatus
            {
                TaskId = new TaskID { Value = taskId },
                AgentId = new AgentID { Value = agentId },
                State = state,
                Source = TaskStatusSource.SOURCE_EXECUTOR,
                Uuid = uuid,
            },
        }]));
        result.IsSuccess.Should().BeTrue(result.Error);
        return uuid;
    }

    /// <summary>An agent (known by id) subscribes again on a new connection, reporting its tasks as running.</summary>
    public async Task<AgentConnection> ReturnAgentAsync(string agentId, IReadOnlyList<(string FrameworkId, string TaskId, TaskState State)> tasks,
        string resources = "cpus:4;mem:4096", string hostname = "h1")
    {
        var connection = new AgentConnection();
        var total = Resources.Parse(resources);
        var subscribe = new AgentSubscribe
        {
            AgentId = new AgentID { Value = agentId },
            Hostname = hostname,
            Port = 5051,
            Resources = ResourceConversion.ToWire(total),
            Tasks = [.. tasks.Select(t => new AgentTaskReport
            {
                FrameworkId = new FrameworkID { Value = t.FrameworkId },
                Task = new TaskInfo { Name = t.TaskId, TaskId = new TaskID { Value = t.TaskId }, AgentId = new AgentID { Value = agentId } },
                LatestStatus = new TaskStatus { TaskId = new TaskID { Value = t.TaskId }, AgentId = new AgentID { Value = agentId }, State = t.State },
            })],
        };
        var (result, _) = await Actor.Ask(() => Actor.SubscribeAgent(subscribe, total, [], connection));
        result.IsSuccess.Should().BeTrue();
        return connection;
    }

    /// <summary>Advances fake time while the given agents keep pinging, so only the others fall silent.</summary>
    public async Task AdvanceKeepingAliveAsync(TimeSpan by, params (string AgentId, AgentConnection Connection)[] alive)
    {
        var step = TimeSpan.FromMilliseconds(250);
        for (var elapsed = TimeSpan.Zero; elapsed < by; elapsed += step)
        {
            await AdvanceAsync(step);
            foreach (var (agentId, connection) in alive)
            {
                (await Actor.Ask(() => Actor.AgentPing(agentId, connection.StreamId))).StatusCode.Should().Be(202);
            }
        }
    }

    /// <summary>Scheduler events of one type that are already queued, in order (others are dropped).</summary>
    public static List<Event> Drain(SchedulerConnection connection, EventType type)
    {
        var events = new List<Event>();
        while (connection.Reader.TryRead(out var item))
        {
            if (item.Type == type)
            {
                events.Add(item);
            }
        }

        return events;
    }

    /// <summary>All offers that arrive within the next allocation rounds (the stream is drained of other events).</summary>
    public async Task<List<Offer>> OffersAfterAsync(SchedulerConnection connection, TimeSpan? wait = null)
    {
        await AdvanceAsync(wait ?? TimeSpan.FromMilliseconds(100));
        var offers = new List<Offer>();
        while (connection.Reader.TryRead(out var item))
        {
            if (item.Type == EventType.OFFERS)
            {
                offers.AddRange(item.Offers!.Offers!);
            }
        }

        return offers;
    }

    /// <summary>Advances fake time in allocation-interval steps so the actor's ticks run in between.</summary>
    public async Task AdvanceAsync(TimeSpan by)
    {
        var step = Options.AllocationInterval;
        for (var elapsed = TimeSpan.Zero; elapsed < by; elapsed += step)
        {
            // One period, then wait for its tick to have run: the timer posts it from the thread pool, so under load an
            // Ask sent right away could overtake it, and two periods advanced before it runs would make a single tick.
            var before = Actor.TicksRun;
            Time.Advance(step);
            var waited = System.Diagnostics.Stopwatch.StartNew();
            while (Actor.TicksRun == before)
            {
                if (waited.Elapsed > TimeSpan.FromSeconds(10))
                {
                    throw new TimeoutException("The master's tick did not run after the clock passed its period (was the actor started?)");
                }

                await Task.Delay(1);
            }
        }

        await Actor.Ask(() => true);
    }

    public static async Task<T> NextAsync<T>(Mezzo.Master.Streams.OutboundStream<T> stream, Func<T, bool> match)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (true)
        {
            var item = await stream.Reader.ReadAsync(timeout.Token);
            if (match(item))
            {
                return item;
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Actor.DisposeAsync();
        Registry.Dispose();
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }
}
