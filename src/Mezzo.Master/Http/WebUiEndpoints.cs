using Mezzo.Core.Security;
using Mezzo.Hosting.Security;
using Mezzo.Hosting.Tls;
using Mezzo.Master.Actor;
using Mezzo.Web.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Mezzo.Master.Http;

/// <summary>
/// The web UI (assets from Mezzo.Web) and the two narrow proxies it needs to stay same-origin: an agent's sandbox
/// files and state (<c>/agent-proxy/{agentId}/files/{browse|read|download}</c>, <c>/agent-proxy/{agentId}/state</c>) and a registered framework's own API
/// (<c>/framework-proxy/{frameworkId}/{**path}</c>, e.g. the services Marathon API and the jobs Chronos API).
/// </summary>
public static class WebUiEndpoints
{
    public const string AgentProxyPrefix = "/agent-proxy";

    public const string FrameworkProxyPrefix = "/framework-proxy";

    /// <summary>The last hour of cluster use for the overview chart; Mezzo's own, under a prefix no Mesos route uses.</summary>
    public const string UsagePath = "/mezzo/usage";

    private static readonly string[] FileOperations = ["browse", "read", "download"];

    private static readonly string[] FrameworkReadMethods = [HttpMethods.Get, HttpMethods.Head];

    private static readonly string[] FrameworkWriteMethods = [HttpMethods.Post, HttpMethods.Put, HttpMethods.Patch, HttpMethods.Delete];

    /// <summary>
    /// The master's client towards agents and frameworks: it trusts the cluster's CA and presents the master's own
    /// certificate (mutual TLS). No overall timeout: the framework proxy carries event streams that live as long as
    /// the page.
    /// </summary>
    public static HttpClient CreateAgentClient(TlsContext tls) => new(tls.ConfigureClient(new SocketsHttpHandler
    {
        AllowAutoRedirect = false,
        ConnectTimeout = TimeSpan.FromSeconds(5),
        PooledConnectionLifetime = TimeSpan.FromMinutes(5),
    }))
    { Timeout = Timeout.InfiniteTimeSpan };

    /// <summary>
    /// The client towards frameworks' own UIs: it connects only to addresses ProxyTargets allows (a framework picks
    /// its own webui_url), trusts the cluster's CA for an https one, and presents no certificate of the master's.
    /// </summary>
    public static HttpClient CreateFrameworkClient(TlsContext tls) => new(tls.ConfigureClient(new SocketsHttpHandler
    {
        AllowAutoRedirect = false,
        ConnectTimeout = TimeSpan.FromSeconds(5),
        PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        ConnectCallback = ProxyTargets.ConnectAsync,
        UseCookies = false,
    }, presentCertificate: false))
    { Timeout = Timeout.InfiniteTimeSpan };

    private static readonly string[] CallerCredentials = ["Authorization", "Proxy-Authorization", "Cookie"];

    public static void Map(IEndpointRouteBuilder routes, MasterActor master, HttpClient client, HttpClient frameworkClient)
    {
        // The shell and its assets: a page for those who may see some of the cluster.
        WebUi.Map(routes.MapGroup("").Access(AccessKind.ReadOnly, StateEndpoints.StateGates));
        routes.MapGet(AgentProxyPrefix + "/{agentId}/files/{operation}", (HttpContext context, string agentId, string operation) =>
            AgentFilesAsync(context, master, client, agentId, operation))
            .Access(AccessKind.ReadOnly, AclAction.AccessSandboxes);
        // The agent's own /state names each task's sandbox directory, as Mesos's UI reads it.
        routes.MapGet(AgentProxyPrefix + "/{agentId}/state", async (HttpContext context, string agentId) =>
        {
            if (await master.Ask(() => master.AgentHttpAddress(agentId)) is { } agent)
            {
                await HttpForwarder.ForwardAsync(context, client, new Uri(agent, "/state"));
            }
            else
            {
                await HttpForwarder.WriteErrorAsync(context, StatusCodes.Status404NotFound, $"No registered agent '{agentId}'");
            }
        }).Access(AccessKind.ReadOnly, AclAction.ViewFrameworks, AclAction.ViewTasks, AclAction.ViewExecutors);
        routes.MapGet(UsagePath, (HttpContext context) => WriteUsageAsync(context, master.UsageHistory))
            .Access(AccessKind.ReadOnly, AclAction.ViewRoles);
        // Reads and changes through a framework's own API: each side as the master's own endpoints of that kind.
        routes.MapMethods(FrameworkProxyPrefix + "/{frameworkId}/{**path}", FrameworkReadMethods, (HttpContext context, string frameworkId, string? path) =>
            FrameworkAsync(context, master, frameworkClient, frameworkId, path ?? ""))
            .Access(AccessKind.ReadOnly, AclAction.ViewFrameworks);
        routes.MapMethods(FrameworkProxyPrefix + "/{frameworkId}/{**path}", FrameworkWriteMethods, (HttpContext context, string frameworkId, string? path) =>
            FrameworkAsync(context, master, frameworkClient, frameworkId, path ?? ""))
            .Access(AccessKind.ReadWrite, AclAction.ViewFrameworks);
    }

    /// <summary><c>{"samples":[{"time":unix seconds,"cpus":[used,total],"mem":[..],"disk":[..]}, ...]}</c>, oldest first.</summary>
    private static async Task WriteUsageAsync(HttpContext context, IReadOnlyList<UsageSample> samples)
    {
        context.Response.ContentType = "application/json";
        context.Response.Headers.CacheControl = "no-cache";
        await using var json = new System.Text.Json.Utf8JsonWriter(context.Response.Body);
        json.WriteStartObject();
        json.WriteStartArray("samples");
        foreach (var sample in samples)
        {
            json.WriteStartObject();
            json.WriteNumber("time", sample.Time.ToUnixTimeMilliseconds() / 1000.0);
            Pair(json, "cpus", sample.CpusUsed, sample.CpusTotal);
            Pair(json, "mem", sample.MemUsed, sample.MemTotal);
            Pair(json, "disk", sample.DiskUsed, sample.DiskTotal);
            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteEndObject();
        await json.FlushAsync(context.RequestAborted);

        static void Pair(System.Text.Json.Utf8JsonWriter json, string name, double used, double total)
        {
            json.WriteStartArray(name);
            json.WriteNumberValue(used);
            json.WriteNumberValue(total);
            json.WriteEndArray();
        }
    }

    private static async Task AgentFilesAsync(HttpContext context, MasterActor master, HttpClient client, string agentId, string operation)
    {
        if (!FileOperations.Contains(operation, StringComparer.Ordinal))
        {
            await HttpForwarder.WriteErrorAsync(context, StatusCodes.Status404NotFound, $"Unknown files operation '{operation}': expected browse, read or download");
            return;
        }

        var path = context.Request.Query["path"].ToString();
        if (PathProblem(path) is { } problem)
        {
            await HttpForwarder.WriteErrorAsync(context, StatusCodes.Status400BadRequest, problem);
            return;
        }

        if (await master.Ask(() => master.AgentHttpAddress(agentId)) is not { } agent)
        {
            await HttpForwarder.WriteErrorAsync(context, StatusCodes.Status404NotFound, $"No registered agent '{agentId}'");
            return;
        }

        // Only the query parameters the agent's /files API knows, re-encoded: nothing else rides along.
        var query = QueryString.Create(context.Request.Query
            .Where(q => q.Key is "path" or "offset" or "length")
            .Select(q => KeyValuePair.Create(q.Key, (string?)q.Value.ToString())));
        await HttpForwarder.ForwardAsync(context, client, new Uri(agent, "/files/" + operation + query.ToUriComponent()));
    }

    /// <summary>The agent confines paths to its sandboxes; this rejects the obviously wrong early with a clear message.</summary>
    internal static string? PathProblem(string path) =>
        string.IsNullOrEmpty(path) ? "Expecting 'path' to be present"
        : path.Contains('\0', StringComparison.Ordinal) ? "Path must not contain NUL"
        : path.Split('/').Contains("..") ? $"Path '{path}' must not contain '..'"
        : null;

    private static async Task FrameworkAsync(HttpContext context, MasterActor master, HttpClient frameworkClient, string frameworkId, string path)
    {
        if (await master.Ask(() => master.FrameworkProxyTarget(frameworkId)) is not { } framework)
        {
            await HttpForwarder.WriteErrorAsync(context, StatusCodes.Status404NotFound, $"No registered framework '{frameworkId}'");
            return;
        }

        if (ViewEndpoints.For(context, master) is { } view && !view.Framework(framework.User))
        {
            var principal = HttpSecurity.Principal(context);
            var who = principal is null ? "an unauthenticated caller" : $"principal '{principal}'";
            await HttpForwarder.WriteErrorAsync(context, StatusCodes.Status403Forbidden,
                $"Forbidden: {who} may not view framework '{frameworkId}' (view_frameworks), so not its web UI either");
            return;
        }

        if (ProxyTargets.Problem(framework.WebUiUrl, out var webui) is { } problem)
        {
            await HttpForwarder.WriteErrorAsync(context, StatusCodes.Status400BadRequest, $"Cannot proxy to framework '{frameworkId}': {problem}");
            return;
        }

        if (path.Split('/').Contains(".."))
        {
            await HttpForwarder.WriteErrorAsync(context, StatusCodes.Status400BadRequest, $"Path '{path}' must not contain '..'");
            return;
        }

        var baseUrl = webui!.AbsoluteUri.EndsWith('/') ? webui : new Uri(webui.AbsoluteUri + "/");
        var target = new Uri(baseUrl, Uri.EscapeDataString(path).Replace("%2F", "/", StringComparison.Ordinal) + context.Request.QueryString.ToUriComponent());
        if (!target.AbsoluteUri.StartsWith(baseUrl.AbsoluteUri, StringComparison.Ordinal))
        {
            await HttpForwarder.WriteErrorAsync(context, StatusCodes.Status400BadRequest, $"Path '{path}' leaves the framework's webui_url");
            return;
        }

        // The caller's credentials are for this master, never for a framework's server: they stay here.
        foreach (var header in CallerCredentials)
        {
            context.Request.Headers.Remove(header);
        }

        await HttpForwarder.ForwardAsync(context, frameworkClient, target);
    }
}
