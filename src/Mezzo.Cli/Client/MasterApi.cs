using System.Globalization;
using System.Text.Json.Nodes;

namespace Mezzo.Cli.Client;

/// <summary>The master's operator API (<c>POST /api/v1</c>, JSON) and <c>/master/state</c>, as the client verbs use them.</summary>
public sealed class MasterApi : IDisposable
{
    public const string DefaultMaster = "http://127.0.0.1:5050";

    private MasterApi(HttpApi http) => Http = http;

    public HttpApi Http { get; }

    public static MasterApi Create(string? flag, ClientCredentials.Resolved? credential = null, string? tlsCa = null) =>
        new(new HttpApi(ClientConfig.Resolve(flag, "master", DefaultMaster), "master", credential: credential, tls: ClientTls.Resolve(tlsCa)));

    /// <summary>One operator call; answers the response object (empty for calls Mesos answers with a bare 200).</summary>
    public async Task<JsonObject> CallAsync(JsonObject call, CancellationToken token) =>
        await Http.JsonAsync(HttpMethod.Post, "api/v1", call.ToJsonString(), token) as JsonObject ?? [];

    public static JsonObject Call(string type, string? field = null, JsonNode? body = null)
    {
        var call = new JsonObject { ["type"] = type };
        if (field is not null)
        {
            call[field] = body;
        }

        return call;
    }

    /// <summary>GET_STATE's <c>get_state</c>: agents, frameworks, executors and tasks in one consistent answer.</summary>
    public async Task<JsonObject> GetStateAsync(CancellationToken token) =>
        (await CallAsync(Call("GET_STATE"), token))["get_state"] as JsonObject
        ?? throw new CliException(ExitCodes.Refused, $"The master at {Http.BaseUri} answered GET_STATE without 'get_state'");

    /// <summary>
    /// <c>/master/state</c> of the leading master. A standby serves its own small state there instead of redirecting
    /// (as Mesos's does), naming the leader; the leader's is fetched then.
    /// </summary>
    public async Task<JsonNode> MasterStateAsync(CancellationToken token)
    {
        var state = await Http.GetJsonAsync("master/state", token) ?? throw new CliException(ExitCodes.Refused, $"The master at {Http.BaseUri} answered /master/state with nothing");
        if (state["leader"]?.GetValue<string>() is { } leader && state["pid"]?.GetValue<string>() is { } pid && leader != pid
            && state["leader_info"] is JsonObject info && LeaderUri(info, Http.BaseUri.Scheme) is { } leaderUri)
        {
            using var direct = Http.Sibling(new ClientConfig.Endpoint(leaderUri, $"the leader named by {Http.BaseUri}", true), "leading master");
            return await direct.GetJsonAsync("master/state", token) ?? state;
        }

        return state;
    }

    private static string? LeaderUri(JsonObject info, string scheme)
    {
        var address = info["address"];
        var host = address?["hostname"]?.GetValue<string>() ?? info["hostname"]?.GetValue<string>() ?? address?["ip"]?.GetValue<string>();
        var port = address?["port"]?.GetValue<int>() ?? info["port"]?.GetValue<int>();
        return host is null || port is null ? null : string.Create(CultureInfo.InvariantCulture, $"{scheme}://{host}:{port}");
    }

    public void Dispose() => Http.Dispose();
}
