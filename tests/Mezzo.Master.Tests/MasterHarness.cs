using Mezzo.Core.Allocation;
using Mezzo.Core.Resources;
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

    public MasterHarness(Action<MasterOptions>? configure = null, string? workDir = null)
    {
        WorkDir = workDir ?? _dir;
        Options = new MasterOptions { WorkDir = WorkDir, AllocationInterval = TimeSpan.FromMilliseconds(50) };
        configure?.Invoke(Options);
        Registry = SqliteRegistryStore.InWorkDir(WorkDir);
        Actor = new MasterActor(Options, Registry, new HierarchicalAllocator(), Time, NullLogger<MasterActor>.Instance);
        Actor.Start();
    }

    public string WorkDir { get; }

    public FakeTimeProvider Time { get; } = new(new DateTimeOffset(2026, 11, 23, 12, 0, 0, TimeSpan.Zero));

    public MasterOptions Options { get; }

    public SqliteRegistryStore Registry { get; }

    public MasterActor Actor { get; }

    public async Task<(string AgentId, AgentConnection Connection)> AddAgentAsync(string resources = "cpus:4;mem:4096")
    {
        var connection = new AgentConnection();
        var total = Resources.Parse(resources);
        var subscribe = new AgentSubscribe { Hostname = "h1", Port = 5051, Resources = ResourceConversion.ToWire(total) };
        var (result, agentId) = await Actor.Ask(() => Actor.SubscribeAgent(subscribe, total, [], connection));
        result.IsSuccess.Should().BeTrue();
        return (agentId!, connection);
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

    /// <summary>Advances fake time in allocation-interval steps so the actor's ticks run in between.</summary>
    public async Task AdvanceAsync(TimeSpan by)
    {
        var step = Options.AllocationInterval;
        for (var elapsed = TimeSpan.Zero; elapsed < by; elapsed += step)
        {
            Time.Advance(step);
            await Actor.Ask(() => true); // let the tick that the timer posted run
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
