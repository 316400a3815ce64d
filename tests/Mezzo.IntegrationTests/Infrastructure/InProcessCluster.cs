using Mezzo.Agent;
using Mezzo.Agent.Tasks;
using Mezzo.Master;

namespace Mezzo.IntegrationTests.Infrastructure;

/// <summary>A master and an agent in this test process, on real loopback sockets with ports picked by the OS.</summary>
public sealed class InProcessCluster : IAsyncDisposable
{
    private readonly TempDir _dir = new();
    private Action<Microsoft.Extensions.Logging.ILoggingBuilder> _logging = TestLogging.Configure;

    private InProcessCluster()
    {
    }

    public MasterServer Master { get; private set; } = null!;

    public AgentServer? Agent { get; private set; }

    public string WorkDir => _dir.Path;

    public Uri MasterUrl => Master.Url;

    public string MasterAddress => $"{Master.Url.Host}:{Master.Url.Port}";

    /// <summary>The test's client of the cluster (one that trusts the cluster's CA when it serves HTTPS).</summary>
    public HttpClient Http { get; private init; } = new() { Timeout = TimeSpan.FromSeconds(30) };

    /// <param name="http">The client the cluster is watched with; disposed with the cluster.</param>
    public static async Task<InProcessCluster> StartAsync(
        Action<MasterOptions>? configureMaster = null,
        Action<AgentOptions>? configureAgent = null,
        bool withAgent = true,
        HttpClient? http = null,
        Action<Microsoft.Extensions.Logging.ILoggingBuilder>? logging = null)
    {
        var cluster = http is null
            ? new InProcessCluster { _logging = logging ?? TestLogging.Configure }
            : new InProcessCluster { _logging = logging ?? TestLogging.Configure, Http = http };
        var masterOptions = new MasterOptions
        {
            Port = 0,
            Ip = "127.0.0.1",
            Hostname = "127.0.0.1",
            WorkDir = Path.Combine(cluster.WorkDir, "master"),
            AllocationInterval = TimeSpan.FromMilliseconds(20),
        };
        configureMaster?.Invoke(masterOptions);
        cluster.Master = MasterServer.Create(masterOptions, cluster._logging);
        await cluster.Master.StartAsync();
        if (withAgent)
        {
            await cluster.StartAgentAsync(configureAgent);
        }

        return cluster;
    }

    /// <summary>
    /// Stops the master (its connections drop, as in a crash) and starts a new one on the same port and work dir,
    /// so agents and schedulers must reconnect to it.
    /// </summary>
    public async Task RestartMasterAsync()
    {
        var options = Master.Actor.Options;
        await Master.DisposeAsync();
        options.Port = Master.Url.Port;
        Master = MasterServer.Create(options, _logging);
        await Master.StartAsync();
    }

    public async Task<AgentServer> StartAgentAsync(Action<AgentOptions>? configure = null)
    {
        var options = new AgentOptions
        {
            Master = MasterAddress,
            Port = 0,
            Ip = "127.0.0.1",
            Hostname = "127.0.0.1",
            WorkDir = Path.Combine(WorkDir, "agent"),
            Resources = "cpus:4;mem:4096;disk:10000;ports:[31000-31100]",
            StatusUpdateRetryInterval = TimeSpan.FromSeconds(1),
            // Tests run as root and most of their tasks name no user; the refusal itself is tested with this off.
            AllowRootTasks = true,
        };
        configure?.Invoke(options);
        Agent = AgentServer.Create(options, _logging);
        await Agent.StartAsync();
        await Poll.UntilAsync(async () => (await Http.GetStringAsync(new Uri(MasterUrl, "metrics/snapshot"))).Contains("\"master/slaves_active\":1", StringComparison.Ordinal), "the agent to register");
        return Agent;
    }

    /// <summary>The master's <c>/master/state</c>, parsed.</summary>
    public async Task<System.Text.Json.Nodes.JsonNode> StateAsync() =>
        System.Text.Json.Nodes.JsonNode.Parse(await Http.GetStringAsync(new Uri(MasterUrl, "master/state")))!;

    /// <summary>POSTs <paramref name="json"/> as application/json to the master (the operator API by default).</summary>
    public async Task<(System.Net.HttpStatusCode Status, string Body)> PostJsonAsync(string json, string path = "api/v1")
    {
        using var content = new StringContent(json, System.Text.Encoding.UTF8, "application/json");
        using var response = await Http.PostAsync(new Uri(MasterUrl, path), content);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    public string SandboxRoot => Path.Combine(WorkDir, "agent", "slaves");

    public async ValueTask DisposeAsync()
    {
        if (Agent is not null)
        {
            await Agent.DisposeAsync();
        }

        await Master.DisposeAsync();
        Http.Dispose();
        // Nothing a test started may outlive it.
        var leftovers = OrphanReaper.FindTaskProcesses(WorkDir);
        OrphanReaper.KillTasksUnder(WorkDir);
        var cgroups = await Mezzo.Agent.Isolation.CgroupIsolator.RemoveAgentCgroupsAsync(new AgentOptions { WorkDir = Path.Combine(WorkDir, "agent") });
        _dir.Dispose();
        if (leftovers.Count > 0)
        {
            throw new InvalidOperationException($"Task processes left behind: {string.Join(",", leftovers)}");
        }

        if (cgroups > 0 && Agent is not null)
        {
            throw new InvalidOperationException($"The agent left {cgroups} cgroup hierarchies behind");
        }
    }
}
