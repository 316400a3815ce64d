using System.Text;
using System.Text.Json.Nodes;

namespace Mezzo.Services.Tests.Http;

/// <summary>
/// A real services server on a loopback port with its SQLite state in a temp dir. Its master is a closed port, so the
/// API answers and records deployments while nothing launches.
/// </summary>
internal sealed class ServicesHost : IAsyncDisposable
{
    private readonly bool _ownsDir;

    private ServicesHost(ServicesServer server, string dir, bool ownsDir)
    {
        Server = server;
        Dir = dir;
        _ownsDir = ownsDir;
        Http = new HttpClient { BaseAddress = server.Url, Timeout = TimeSpan.FromSeconds(30) };
    }

    public ServicesServer Server { get; }

    public string Dir { get; }

    public HttpClient Http { get; }

    public static async Task<ServicesHost> StartAsync(string? dir = null, Action<ServicesOptions>? configure = null)
    {
        var workDir = dir ?? Directory.CreateTempSubdirectory("mezzo-services-http-").FullName;
        var options = new ServicesOptions { Master = "127.0.0.1:1", Port = 0, Ip = "127.0.0.1", Hostname = "127.0.0.1", WorkDir = workDir };
        configure?.Invoke(options);
        var server = ServicesServer.Create(options);
        await server.StartAsync();
        return new ServicesHost(server, workDir, dir is null);
    }

    public async Task<(int Status, JsonNode? Body, HttpResponseMessage Response)> SendAsync(HttpMethod method, string path, string? json = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (json is not null)
        {
            request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        }

        var response = await Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return ((int)response.StatusCode, text.Length == 0 ? null : JsonNode.Parse(text), response);
    }

    public Task<(int Status, JsonNode? Body, HttpResponseMessage Response)> PostAsync(string path, string json) => SendAsync(HttpMethod.Post, path, json);

    public Task<(int Status, JsonNode? Body, HttpResponseMessage Response)> GetAsync(string path) => SendAsync(HttpMethod.Get, path);

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await Server.DisposeAsync();
        if (_ownsDir)
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(Dir, recursive: true);
        }
    }
}
