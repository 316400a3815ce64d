using System.Text;
using System.Text.Json.Nodes;
using Mezzo.IntegrationTests.Infrastructure;
using Mezzo.Services;

namespace Mezzo.IntegrationTests.Services;

/// <summary>A real master and agent (in process, loopback HTTP) with `mezzo services` in front, as `mezzo dev` runs them.</summary>
internal sealed class ServicesCluster : IAsyncDisposable
{
    private ServicesCluster(InProcessCluster cluster)
    {
        Cluster = cluster;
    }

    public InProcessCluster Cluster { get; }

    public ServicesServer? Services { get; private set; }

    public HttpClient Http { get; } = new() { Timeout = TimeSpan.FromSeconds(30) };

    public string WorkDir => Path.Combine(Cluster.WorkDir, "services");

    public static async Task<ServicesCluster> StartAsync()
    {
        var ports = PortRanges.Next();
        var cluster = new ServicesCluster(await InProcessCluster.StartAsync(configureAgent: agent => agent.Resources = $"cpus:4;mem:4096;disk:10000;ports:{ports}"));
        await cluster.StartServicesAsync();
        return cluster;
    }

    public async Task StartServicesAsync()
    {
        Services = ServicesServer.Create(
            new ServicesOptions { Master = Cluster.MasterAddress, Port = 0, Ip = "127.0.0.1", Hostname = "127.0.0.1", WorkDir = WorkDir },
            TestLogging.Configure);
        await Services.StartAsync();
    }

    /// <summary>Stops the services process without tearing the framework down, as a crash or an upgrade would.</summary>
    public async Task StopServicesAsync()
    {
        await Services!.DisposeAsync();
        Services = null;
    }

    public async Task<(int Status, JsonNode? Body)> SendAsync(HttpMethod method, string path, string? json = null)
    {
        using var request = new HttpRequestMessage(method, new Uri(Services!.Url, path));
        if (json is not null)
        {
            request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        }

        using var response = await Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return ((int)response.StatusCode, text.Length == 0 ? null : JsonNode.Parse(text));
    }

    public async Task<JsonNode> AppAsync(string id) => (await SendAsync(HttpMethod.Get, "/v2/apps" + id)).Body!["app"]!;

    /// <summary>Task id → state of every task the master knows for any framework.</summary>
    public async Task<Dictionary<string, string>> MasterTasksAsync()
    {
        var state = await Cluster.StateAsync();
        return state["frameworks"]!.AsArray()
            .SelectMany(f => f!["tasks"]!.AsArray())
            .ToDictionary(t => t!["id"]!.GetValue<string>(), t => t!["state"]!.GetValue<string>());
    }

    public async Task<HashSet<string>> MasterRunningAsync() =>
        [.. (await MasterTasksAsync()).Where(t => t.Value == "TASK_RUNNING").Select(t => t.Key)];

    public async Task WaitForNoDeploymentsAsync(string what) =>
        await Poll.UntilAsync(async () => (await SendAsync(HttpMethod.Get, "/v2/deployments")).Body!.AsArray().Count == 0, what, TimeSpan.FromSeconds(60));

    public async ValueTask DisposeAsync()
    {
        if (Services is not null)
        {
            await Services.DisposeAsync();
        }

        Http.Dispose();
        await Cluster.DisposeAsync();
    }
}
