using System.Text.Json;
using System.Text.Json.Nodes;
using Mezzo.Master.Http;
using Mezzo.Protocol.V1;
using Microsoft.AspNetCore.Http;

namespace Mezzo.Master.HighAvailability;

/// <summary>
/// What a master that is not leading answers, as a Mesos standby does: liveness, version, its own small state and
/// metrics (naming the leader; <c>master/elected</c> 0) locally, and everything else — scheduler, operator and agent
/// APIs, /master/redirect — a <c>307 Temporary Redirect</c> to the leader, or <c>503</c> while nobody leads.
/// </summary>
public static class StandbyEndpoints
{
    private static readonly HashSet<string> StatePaths = ["/state", "/state.json", "/master/state", "/master/state.json"];
    private static readonly HashSet<string> MetricsPaths = ["/metrics/snapshot", "/master/metrics/snapshot"];

    public static Task HandleAsync(HttpContext context, MasterCandidate candidate, MasterOptions options)
    {
        var path = context.Request.Path.Value ?? "/";
        if (path is "/health" or "/master/health")
        {
            context.Response.StatusCode = StatusCodes.Status200OK;
            return Task.CompletedTask;
        }

        if (path == "/version")
        {
            return Results.Json(StateEndpoints.VersionJson(), contentType: HttpBodies.Json).ExecuteAsync(context);
        }

        var observed = candidate.ObservedLeader;
        var leader = Leader(observed.Leader);
        if (StatePaths.Contains(path))
        {
            return Results.Text(StateJson(candidate, options, leader).ToJsonString(), HttpBodies.Json).ExecuteAsync(context);
        }

        if (MetricsPaths.Contains(path))
        {
            var metrics = new JsonObject
            {
                ["master/elected"] = 0,
                ["master/uptime_secs"] = candidate.Uptime.TotalSeconds,
            };
            return Results.Text(metrics.ToJsonString(), HttpBodies.Json).ExecuteAsync(context);
        }

        if (leader?.Id == candidate.StandbyId)
        {
            // Elected a moment ago and still loading the registry: pointing at ourselves would loop.
            return Results.Text("This master was just elected and is recovering its registry; retry shortly", "text/plain",
                statusCode: StatusCodes.Status503ServiceUnavailable).ExecuteAsync(context);
        }

        if (leader is null)
        {
            var why = observed.EtcdReachable
                ? "No master is currently leading; retry shortly"
                : $"No leading master known: etcd at {candidate.Target} is unreachable";
            return Results.Text(why, "text/plain", statusCode: StatusCodes.Status503ServiceUnavailable).ExecuteAsync(context);
        }

        // Mesos's form: a scheme-relative URL of the leader, with the request's path and query for API calls.
        var location = $"//{LeaderAuthority(leader)}";
        if (path != "/master/redirect")
        {
            location += path + context.Request.QueryString;
        }

        context.Response.StatusCode = StatusCodes.Status307TemporaryRedirect;
        context.Response.Headers.Location = location;
        return Task.CompletedTask;
    }

    public static MasterInfo? Leader(string? value)
    {
        if (value is null)
        {
            return null;
        }

        try
        {
            return MesosJson.Deserialize<MasterInfo>(value);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>host:port to reach the leader at: its advertised hostname as Mesos redirects, else its IP.</summary>
    public static string LeaderAuthority(MasterInfo leader)
    {
        var host = leader.Address?.Hostname ?? leader.Hostname;
        if (string.IsNullOrEmpty(host))
        {
            host = leader.Address?.Ip ?? "127.0.0.1";
        }

        return $"{host}:{leader.Address?.Port ?? (int)(leader.Port ?? 5050)}";
    }

    private static JsonObject StateJson(MasterCandidate candidate, MasterOptions options, MasterInfo? leader)
    {
        var state = new JsonObject
        {
            ["version"] = MezzoVersion.MesosCompatible,
            ["mezzo_version"] = MezzoVersion.Mezzo,
            ["start_time"] = candidate.StartTime.ToUnixTimeMilliseconds() / 1000.0,
            ["id"] = candidate.StandbyId,
            ["pid"] = $"master@{options.Ip}:{options.Port}",
            ["hostname"] = options.Hostname,
            ["cluster"] = options.Cluster,
            ["activated_slaves"] = 0,
            ["deactivated_slaves"] = 0,
            ["unreachable_slaves"] = 0,
            ["flags"] = new JsonObject
            {
                ["port"] = options.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["hostname"] = options.Hostname,
                ["registry"] = "etcd",
                ["store"] = candidate.Target.ToString(),
                ["leader_lease_ttl"] = $"{candidate.LeaseTtl.TotalSeconds}secs",
            },
            ["slaves"] = new JsonArray(),
            ["frameworks"] = new JsonArray(),
            ["completed_frameworks"] = new JsonArray(),
            ["orphan_tasks"] = new JsonArray(),
            ["unregistered_frameworks"] = new JsonArray(),
        };

        // Mesos leaves the leader out while none is elected, and elected_time out on every non-leader.
        if (leader is not null)
        {
            state["leader"] = leader.Pid;
            state["leader_info"] = JsonSerializer.SerializeToNode(leader, MesosJson.Options);
        }

        return state;
    }
}
